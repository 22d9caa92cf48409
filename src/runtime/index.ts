// Public names of src/runtime: slim, working copies of an installed CPython.

export type {
  OriginalFacts,
  RuntimeBuildOptions,
  RuntimeBuildResult,
} from "./build.ts";
export { buildRuntime, checkOutDir, originalFacts, RUNTIME_MARKER } from "./build.ts";
export type { CheckExpectations, RuntimeCheck, ScriptResult } from "./check.ts";
export { checkRuntime, extensionModuleName, MODULE_SET, runtimeEnv } from "./check.ts";
export type { SourceLayout } from "./cpython-paths.ts";
export { sourceLayout } from "./cpython-paths.ts";
// Aliased where src/slim has names of its own (both are re-exported from src/index.ts).
export type { DropGroup as StdlibDropGroup } from "./drop-groups.ts";
export {
  compileDropPattern as compileStdlibDropPattern,
  DEFAULT_RUNTIME_DROPS,
  DROP_GROUPS as STDLIB_DROP_GROUPS,
  DropMatcher as StdlibDropMatcher,
  parseDropGroups as parseStdlibDropGroups,
} from "./drop-groups.ts";
export type { StdlibMode, StdlibModeInfo } from "./modes.ts";
export { DEFAULT_STDLIB_MODE, parseStdlibMode, STDLIB_MODES, stdlibModeInfo } from "./modes.ts";
export type {
  NativeResult,
  RuntimeNativeChanges,
  StripMode as RuntimeStripMode,
} from "./native.ts";
export {
  DEFAULT_RUNTIME_STRIP,
  findRuntimeStripTool,
  parseStripMode as parseRuntimeStripMode,
  STRIP_MODES as RUNTIME_STRIP_MODES,
  stripFiles as stripRuntimeFiles,
} from "./native.ts";
export type { PlannedFile as StdlibPlannedFile, StdlibPlan } from "./plan.ts";
export { planStdlib, ZIP_OUTSIDE } from "./plan.ts";
export { SOURCE_ARCHIVE } from "./python-scripts.ts";
export type { RuntimeSize } from "./size.ts";
export { measureRuntime } from "./size.ts";
export type {
  RuntimeTable,
  RuntimeTableOptions,
  RuntimeTableRow,
  TableVariant,
} from "./table.ts";
export { DEFAULT_TABLE_VARIANTS, runtimeTable, tableCells, tableMarkdown } from "./table.ts";
