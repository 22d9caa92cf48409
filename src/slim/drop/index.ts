// Public names of src/slim/drop: drop rules and overrides, and what code imports (kept).

export type { DropCandidate, DropClassifier, DropOverrides } from "./classify.ts";
export { dropClassifier, isProtectedPath, rulePathOf, ruleReason } from "./classify.ts";
export { compileGlob, type Glob } from "./glob.ts";
export { importedModules, keptByImports, moduleOfPath } from "./imports.ts";
export { DROP_GROUPS, DROP_RULES, type DropGroup, type DropRule } from "./rules.ts";
