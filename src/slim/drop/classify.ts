/**
 * Which files of a package the drop rules (rules.ts) and the `slim-keep` /
 * `slim-drop` overrides take out. Paths are "rule paths": relative to the site dir for the
 * importable part of a wheel (`<name>.data/purelib|platlib/` removed), `<name>.data/<key>/…`
 * for its other `.data` files. A candidate has a scope: the directory a `dirs` rule matched
 * (`pkg/tests`) or the file itself; the import scan (drop-imports.ts) keeps a whole scope
 * when non-candidate code imports the module it names.
 */
import { anyGlob, compileGlob, type Glob } from "./glob.ts";
import { DROP_RULES, type DropGroup, type DropRule } from "./rules.ts";

export interface DropOverrides {
  /** Globs of rule paths always kept (they win over every rule and `drop`). */
  keep?: readonly string[];
  /** Globs of rule paths dropped besides what the rules drop. */
  drop?: readonly string[];
}

export interface DropCandidate {
  /** The rule path. */
  path: string;
  /** Rule id, or `slim-drop` for an override. */
  rule: string;
  group: DropGroup | "config";
  /** The directory (or file) the rule matched: kept or dropped as a whole by the import scan. */
  scope: string;
}

interface CompiledRule {
  rule: DropRule;
  dirs: ReadonlySet<string>;
  files: Glob[];
}

const COMPILED: CompiledRule[] = DROP_RULES.map((rule) => ({
  rule,
  dirs: new Set(rule.dirs ?? []),
  files: (rule.files ?? []).map(compileGlob),
}));

/** Paths no rule or override ever drops: .dist-info, top-level .pth files, .data/scripts. */
export function isProtectedPath(rulePath: string): boolean {
  const first = rulePath.split("/", 1)[0] ?? "";
  if (first.endsWith(".dist-info")) return true;
  if (!rulePath.includes("/") && rulePath.endsWith(".pth")) return true;
  return /^[^/]+\.data\/scripts\//.test(rulePath);
}

/**
 * The rule path of a wheel file (`wheelPath` as in the wheel): `.data/purelib|platlib`
 * prefixes removed so the path is relative to the site dir.
 */
export function rulePathOf(wheelPath: string): string {
  const m = /^[^/]+\.data\/(?:purelib|platlib)\/(.+)$/.exec(wheelPath);
  return m === null ? wheelPath : (m[1] as string);
}

function matchRule(c: CompiledRule, rulePath: string): string | undefined {
  if (c.dirs.size > 0) {
    const parts = rulePath.split("/");
    // depth ≥ 2: parts[0] is a top-level package, never matched itself; the last part is
    // the file name.
    for (let i = 1; i < parts.length - 1; i++) {
      if (c.dirs.has(parts[i] as string)) return parts.slice(0, i + 1).join("/");
    }
  }
  if (anyGlob(c.files, rulePath)) return rulePath;
  return undefined;
}

export interface DropClassifier {
  /** The candidate for a rule path, or undefined when it stays. */
  classify(rulePath: string): DropCandidate | undefined;
  /** True when `slim-keep` keeps this path. */
  keptByConfig(rulePath: string): boolean;
}

/** A classifier for the rules of `groups` plus `overrides` (globs checked here). */
export function dropClassifier(
  groups: readonly DropGroup[],
  overrides: DropOverrides = {},
): DropClassifier {
  const wanted = new Set(groups);
  const rules = COMPILED.filter((c) => wanted.has(c.rule.group));
  const keep = (overrides.keep ?? []).map(compileGlob);
  const drop = (overrides.drop ?? []).map(compileGlob);
  const keptByConfig = (p: string) => anyGlob(keep, p);
  return {
    keptByConfig,
    classify(rulePath) {
      if (isProtectedPath(rulePath) || keptByConfig(rulePath)) return undefined;
      for (const c of rules) {
        const scope = matchRule(c, rulePath);
        if (scope !== undefined) {
          return { path: rulePath, rule: c.rule.id, group: c.rule.group, scope };
        }
      }
      if (anyGlob(drop, rulePath)) {
        return { path: rulePath, rule: "slim-drop", group: "config", scope: rulePath };
      }
      return undefined;
    },
  };
}

/** The reason recorded for a rule id. */
export function ruleReason(id: string): string {
  if (id === "slim-drop") return "dropped by the slim-drop setting";
  return DROP_RULES.find((r) => r.id === id)?.reason ?? id;
}
