/**
 * entry_points.txt: INI sections naming entry point groups, `name = module:attr [extras]`
 * lines, read the way importlib.metadata reads it (each line on its own, stripped; `#`
 * starts a comment line). A `;` line is a comment too (configparser's rule). Lines that
 * importlib.metadata would reject or silently drop are errors here, with line numbers.
 */
import { SlimenvError } from "../base/index.ts";

export interface EntryPoint {
  group: string;
  name: string;
  /** The object reference as written, trimmed: `module:attr [extra1,extra2]`. */
  value: string;
  module: string;
  attr?: string;
  extras: string[];
}

/** What {@link formatEntryPoints} needs; `value` is rebuilt from the parts. */
export interface EntryPointSpec {
  group: string;
  name: string;
  module: string;
  attr?: string;
  extras?: readonly string[];
}

/** A console or GUI script: an entry point whose object is a callable `module:attr`. */
export interface ScriptEntryPoint {
  name: string;
  module: string;
  attr: string;
  extras: string[];
}

/** A dotted Python identifier (Unicode letters allowed, as Python allows them). */
const DOTTED =
  /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*(\.[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*)*$/u;
const EXTRA = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const GROUP = /^[^\s[\]=]+$/;

/** The parts of an object reference `module[:attr][ [extras]]`, or a reason it is bad. */
export function parseObjectReference(
  value: string,
): { module: string; attr?: string; extras: string[] } | string {
  let rest = value.trim();
  let extras: string[] = [];
  const open = rest.indexOf("[");
  if (open !== -1) {
    if (!rest.endsWith("]")) return "extras must be a bracketed list at the end: [extra1,extra2]";
    const inner = rest.slice(open + 1, -1);
    if (inner.includes("[") || inner.includes("]")) return "extras hold a stray bracket";
    extras = inner.split(",").map((e) => e.trim());
    if (extras.length === 1 && extras[0] === "") extras = [];
    const bad = extras.find((e) => !EXTRA.test(e));
    if (bad !== undefined) return `${JSON.stringify(bad)} is not a valid extra name`;
    rest = rest.slice(0, open).trimEnd();
  }
  const colon = rest.indexOf(":");
  const module = (colon === -1 ? rest : rest.slice(0, colon)).trim();
  const attr = colon === -1 ? undefined : rest.slice(colon + 1).trim();
  if (module === "") return "the module is empty";
  if (!DOTTED.test(module)) return `${JSON.stringify(module)} is not a dotted Python name`;
  if (attr !== undefined) {
    if (attr === "") return "nothing after ':' (expected an attribute)";
    if (!DOTTED.test(attr)) return `${JSON.stringify(attr)} is not a dotted Python name`;
  }
  return attr === undefined ? { module, extras } : { module, attr, extras };
}

/**
 * Parse entry_points.txt. Throws INVALID_ENTRY_POINTS with the line number for a line that
 * is not a section, a comment, or `name = object reference` inside a section, and for a
 * name given twice in one group. Entries come back in file order.
 */
export function parseEntryPoints(text: string): EntryPoint[] {
  const out: EntryPoint[] = [];
  const seen = new Map<string, number>();
  let group: string | undefined;
  let afterEntry = false;
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    const fail: (message: string, hint?: string) => never = (message, hint) => {
      throw new SlimenvError(
        "INVALID_ENTRY_POINTS",
        `invalid entry_points.txt at line ${lineNo}: ${message}`,
        { detail: raw, ...(hint === undefined ? {} : { hint }) },
      );
    };
    if (line === "" || line.startsWith("#") || line.startsWith(";")) return;
    if (line.startsWith("[")) {
      if (afterEntry && /^\s/.test(raw)) {
        fail(
          "an indented '[...]' line after an entry is ambiguous",
          "importlib.metadata reads it as a new section, configparser as a continuation of the entry; write extras on the entry's line, or the section unindented",
        );
      }
      if (!line.endsWith("]")) fail("a section header must end with ']'");
      const name = line.slice(1, -1);
      if (!GROUP.test(name)) {
        fail(`${JSON.stringify(name)} is not a valid group name (no spaces, brackets or '=')`);
      }
      group = name;
      afterEntry = false;
      return;
    }
    const eq = line.indexOf("=");
    if (eq === -1) {
      fail(
        "expected 'name = module:attr'",
        /^\s/.test(raw)
          ? "continuation lines are not supported: importlib.metadata reads one entry point per line"
          : undefined,
      );
    }
    if (group === undefined) fail("an entry point comes before any [group] section");
    const name = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (name === "") fail("the entry point name is empty");
    const ref = parseObjectReference(value);
    if (typeof ref === "string") fail(`entry point ${JSON.stringify(name)}: ${ref}`);
    const key = `${group}\u0000${name}`;
    const before = seen.get(key);
    if (before !== undefined) {
      fail(`${JSON.stringify(name)} is defined again in [${group}] (first at line ${before})`);
    }
    seen.set(key, lineNo);
    afterEntry = true;
    out.push({ group, name, value, ...ref });
  });
  return out;
}

/** The object reference text for an entry point: `module[:attr][ [extras]]`. */
export function formatObjectReference(ep: {
  module: string;
  attr?: string;
  extras?: readonly string[];
}): string {
  let s = ep.attr === undefined ? ep.module : `${ep.module}:${ep.attr}`;
  if (ep.extras !== undefined && ep.extras.length > 0) s += ` [${ep.extras.join(",")}]`;
  return s;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Format entry_points.txt: groups sorted by name, entries in each group sorted by name,
 * `name = module:attr [extras]`, a blank line between groups. Output depends only on the set
 * of entries, not their order. Throws INVALID_ENTRY_POINTS for an entry that could not be
 * read back.
 */
export function formatEntryPoints(entries: readonly EntryPointSpec[]): string {
  const groups = new Map<string, EntryPointSpec[]>();
  for (const e of entries) {
    const fail: (message: string) => never = (message) => {
      throw new SlimenvError("INVALID_ENTRY_POINTS", `cannot write entry_points.txt: ${message}`);
    };
    if (!GROUP.test(e.group)) fail(`${JSON.stringify(e.group)} is not a valid group name`);
    const name = e.name.trim();
    if (name === "" || name !== e.name || /[=\r\n]/.test(name) || /^[[#;]/.test(name)) {
      fail(`${JSON.stringify(e.name)} is not a name that reads back`);
    }
    const ref = parseObjectReference(formatObjectReference(e));
    if (typeof ref === "string") fail(`entry point ${JSON.stringify(e.name)}: ${ref}`);
    const list = groups.get(e.group) ?? [];
    if (list.some((x) => x.name === e.name)) {
      fail(`${JSON.stringify(e.name)} is given twice in [${e.group}]`);
    }
    list.push(e);
    groups.set(e.group, list);
  }
  return [...groups.keys()]
    .sort(compareText)
    .map((g) => {
      const lines = (groups.get(g) ?? [])
        .slice()
        .sort((a, b) => compareText(a.name, b.name))
        .map((e) => `${e.name} = ${formatObjectReference(e)}`);
      return `[${g}]\n${lines.join("\n")}\n`;
    })
    .join("\n");
}

function scripts(entries: readonly EntryPoint[], group: string): ScriptEntryPoint[] {
  return entries
    .filter((e) => e.group === group)
    .map((e) => {
      if (e.attr === undefined) {
        throw new SlimenvError(
          "INVALID_ENTRY_POINTS",
          `${group} entry ${JSON.stringify(e.name)} = ${JSON.stringify(e.value)} names a module, not a function`,
          { hint: "a script entry point is 'name = module:function'" },
        );
      }
      if (/[/\\]/.test(e.name) || e.name === "." || e.name === "..") {
        throw new SlimenvError(
          "INVALID_ENTRY_POINTS",
          `${group} entry ${JSON.stringify(e.name)} is not a usable script name (it would be a path)`,
        );
      }
      return { name: e.name, module: e.module, attr: e.attr, extras: e.extras };
    });
}

/** The `console_scripts` entry points as scripts; throws when one lacks `:attr`. */
export function consoleScripts(entries: readonly EntryPoint[]): ScriptEntryPoint[] {
  return scripts(entries, "console_scripts");
}

/** The `gui_scripts` entry points as scripts; throws when one lacks `:attr`. */
export function guiScripts(entries: readonly EntryPoint[]): ScriptEntryPoint[] {
  return scripts(entries, "gui_scripts");
}
