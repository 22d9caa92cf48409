/**
 * Compatibility tags (PEP 425, the platform tag specification on packaging.python.org):
 * the Tag value type, parsing of (compressed) tag triples, and the ordered list of tags an
 * interpreter supports, in the order pypa/packaging's `sys_tags()` gives it (most preferred
 * first). Pure: every fact about the interpreter and the platform is passed in.
 *
 * Platform lists live in tags-linux.ts, tags-macos.ts and tags-windows.ts; the user's
 * platform spec (`manylinux_2_28_aarch64`, `win_amd64`, …) is read by tags-spec.ts.
 */
import { pointAt, SlimenvError } from "../base/index.ts";

export type { CpythonAbiFlags } from "./tags-cpython.ts";
export { cpythonAbis } from "./tags-cpython.ts";
export type { LinuxLibc, LinuxPlatformOptions } from "./tags-linux.ts";
export {
  linuxPlatforms,
  MANYLINUX_ARCHES,
  manylinuxPlatforms,
  musllinuxPlatforms,
  normalizeLinuxArch,
  PLAIN_MANYLINUX_ARCHES,
} from "./tags-linux.ts";
export { macBinaryFormats, macPlatforms } from "./tags-macos.ts";
export type { PlatformSpec } from "./tags-spec.ts";
export { platformsForSpec, platformTagFromSpec } from "./tags-spec.ts";
export { windowsPlatforms } from "./tags-windows.ts";

const FORBIDDEN_IN_PART = /-/;

/** One (interpreter, abi, platform) triple. All three parts are lower-cased. */
export class Tag {
  readonly interpreter: string;
  readonly abi: string;
  readonly platform: string;

  constructor(interpreter: string, abi: string, platform: string) {
    this.interpreter = checkPart(interpreter, "interpreter");
    this.abi = checkPart(abi, "abi");
    this.platform = checkPart(platform, "platform");
  }

  /** `cp311-cp311-manylinux_2_17_x86_64` */
  toString(): string {
    return `${this.interpreter}-${this.abi}-${this.platform}`;
  }

  equals(other: Tag): boolean {
    return (
      other.interpreter === this.interpreter &&
      other.abi === this.abi &&
      other.platform === this.platform
    );
  }
}

function checkPart(value: string, what: string): string {
  if (typeof value !== "string" || value === "" || FORBIDDEN_IN_PART.test(value)) {
    throw new SlimenvError("INVALID_TAG", `invalid tag ${what}: ${JSON.stringify(value)}`, {
      hint: "a tag part is non-empty and holds no '-', e.g. 'cp311', 'abi3', 'win_amd64'",
    });
  }
  return value.toLowerCase();
}

export interface ParseTagOptions {
  /** Require each compressed component to be in sorted order, as PEP 425 asks. */
  validateOrder?: boolean;
  /** The most tags a compressed set may expand to. */
  limit?: number;
}

const IDENTIFIER = /^[\p{XID_Start}_]\p{XID_Continue}*$/u;

/** Compare by code point, as Python compares str. */
export function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = (x[i]?.codePointAt(0) ?? 0) - (y[i]?.codePointAt(0) ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
}

const TAG_HINT =
  "a tag is <interpreter>-<abi>-<platform>, each part a '.'-separated set, e.g. 'py2.py3-none-any'";

/**
 * Parse a tag triple, expanding a compressed tag set ("py2.py3-none-any" → two tags).
 * The result holds each tag once, in interpreter × abi × platform order. Throws INVALID_TAG.
 */
export function parseTag(text: string, options: ParseTagOptions = {}): Tag[] {
  if (typeof text !== "string") {
    throw new SlimenvError("INVALID_TAG", `a tag must be a string, got ${typeof text}`);
  }
  const { validateOrder = false, limit } = options;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
    throw new SlimenvError("INVALID_OPTION", `tag limit must be a non-negative integer: ${limit}`);
  }
  const components = text.split("-");
  let column = 0;
  const split: string[][] = [];
  for (const component of components) {
    const parts = component.split(".");
    if (parts.includes("")) {
      const at = column + emptyPartOffset(parts);
      throw new SlimenvError(
        "INVALID_TAG",
        `tag ${JSON.stringify(text)} has an empty component at column ${at + 1}`,
        { detail: pointAt(text, at), hint: TAG_HINT },
      );
    }
    if (validateOrder) {
      const sorted = [...parts].sort(compareCodePoints);
      if (sorted.some((p, i) => p !== parts[i])) {
        throw new SlimenvError(
          "INVALID_TAG",
          `tag component ${JSON.stringify(component)} is not in sorted order (PEP 425) at column ${column + 1}`,
          {
            detail: pointAt(text, column),
            hint: `write it as ${JSON.stringify(sorted.join("."))}`,
          },
        );
      }
    }
    split.push(parts);
    column += component.length + 1;
  }
  const count = split.reduce((n, parts) => n * parts.length, 1);
  if (limit !== undefined && count > limit) {
    throw new SlimenvError(
      "INVALID_TAG",
      `compressed tag set ${JSON.stringify(text)} would expand to ${count} tags, more than the limit of ${limit}`,
    );
  }
  const [interpreters, abis, platforms] = split;
  if (split.length !== 3 || !interpreters || !abis || !platforms) {
    throw new SlimenvError(
      "INVALID_TAG",
      `tag ${JSON.stringify(text)} has ${split.length} component${split.length === 1 ? "" : "s"}, not 3`,
      { hint: TAG_HINT },
    );
  }
  for (const interpreter of interpreters) {
    if (!IDENTIFIER.test(interpreter)) {
      const at = text.indexOf(interpreter);
      throw new SlimenvError(
        "INVALID_TAG",
        `tag ${JSON.stringify(text)} has an invalid interpreter ${JSON.stringify(interpreter)} at column ${at + 1}`,
        {
          detail: pointAt(text, at),
          hint: "an interpreter tag is an identifier such as 'py3', 'cp311' or 'pp310'",
        },
      );
    }
  }
  const seen = new Set<string>();
  const tags: Tag[] = [];
  for (const interpreter of interpreters) {
    for (const abi of abis) {
      for (const platform of platforms) {
        const tag = new Tag(interpreter, abi, platform);
        const key = tag.toString();
        if (!seen.has(key)) {
          seen.add(key);
          tags.push(tag);
        }
      }
    }
  }
  return tags;
}

function emptyPartOffset(parts: string[]): number {
  let offset = 0;
  for (const part of parts) {
    if (part === "") return offset;
    offset += part.length + 1;
  }
  return offset;
}

/** Short names of well-known implementations, as PEP 425 gives them. */
export const INTERPRETER_SHORT_NAMES: Readonly<Record<string, string>> = {
  python: "py",
  cpython: "cp",
  pypy: "pp",
  ironpython: "ip",
  jython: "jy",
};

/** `sys.implementation.name` → the interpreter tag's prefix: "cpython" → "cp", "graalpy" → "graalpy". */
export function interpreterName(implementation: string): string {
  if (typeof implementation !== "string" || !/^[A-Za-z][A-Za-z0-9_]*$/.test(implementation)) {
    throw new SlimenvError(
      "INVALID_TARGET",
      `invalid implementation name: ${JSON.stringify(implementation)}`,
      { hint: "use sys.implementation.name, e.g. 'cpython' or 'pypy'" },
    );
  }
  const name = implementation.toLowerCase();
  return INTERPRETER_SHORT_NAMES[name] ?? name;
}

/** A Python version as tags use it: one or two non-negative integers (more are ignored). */
export type TagPythonVersion = readonly number[];

function checkPythonVersion(version: TagPythonVersion): readonly number[] {
  if (
    !Array.isArray(version) ||
    version.length === 0 ||
    !version.every((n) => Number.isSafeInteger(n) && n >= 0)
  ) {
    throw new SlimenvError(
      "INVALID_TARGET",
      `invalid Python version for tags: ${JSON.stringify(version)}`,
      { hint: "give [major] or [major, minor] as non-negative integers, e.g. [3, 12]" },
    );
  }
  return version.slice(0, 2);
}

function checkStrings(list: readonly string[], what: string): void {
  if (!Array.isArray(list) || !list.every((s) => typeof s === "string" && s !== "")) {
    throw new SlimenvError("INVALID_TARGET", `${what} must be a list of non-empty strings`, {
      hint: `got ${JSON.stringify(list)}`,
    });
  }
}

function nodot(version: readonly number[]): string {
  return version.join("");
}

/**
 * The abi list names a free-threaded CPython when its first version-specific CPython abi has
 * a 't' flag (cp313t) or abi3t comes before any (packaging 26.4: a leading abi3 or none no
 * longer hides it).
 */
function isFreeThreaded(abis: readonly string[]): boolean {
  for (const abi of abis) {
    if (abi === "abi3t") return true;
    const m = /^cp\d+(.*)$/s.exec(abi);
    if (m !== null) return (m[1] ?? "").includes("t");
  }
  return false;
}

/**
 * Tags for CPython, in packaging's `cpython_tags` order: cpXY with each given abi, then the
 * stable ABI (abi3, or abi3t when free-threaded), then `none`, then the stable ABI of every
 * older minor version down to 3.2. `abi3`, `abi3t` and `none` in `abis` are ignored
 * (they are placed where they belong).
 */
export function cpythonTags(
  pythonVersion: TagPythonVersion,
  abis: readonly string[],
  platforms: readonly string[],
): Tag[] {
  const version = checkPythonVersion(pythonVersion);
  checkStrings(abis, "abis");
  checkStrings(platforms, "platforms");
  const interpreter = `cp${nodot(version)}`;
  const threaded = isFreeThreaded(abis);
  const ownAbis = [...abis];
  for (const explicit of threaded ? ["abi3", "abi3t", "none"] : ["abi3", "none"]) {
    const at = ownAbis.indexOf(explicit);
    if (at >= 0) ownAbis.splice(at, 1);
  }
  const tags: Tag[] = [];
  for (const abi of ownAbis) {
    for (const platform of platforms) tags.push(new Tag(interpreter, abi, platform));
  }
  const stable = version.length > 1 && atLeast(version, 3, 2);
  const useAbi3 = stable && !threaded;
  const useAbi3t = stable && threaded;
  if (useAbi3) for (const p of platforms) tags.push(new Tag(interpreter, "abi3", p));
  if (useAbi3t) for (const p of platforms) tags.push(new Tag(interpreter, "abi3t", p));
  for (const p of platforms) tags.push(new Tag(interpreter, "none", p));
  if (useAbi3 || useAbi3t) {
    const major = version[0] ?? 3;
    for (let minor = (version[1] ?? 0) - 1; minor > 1; minor--) {
      const older = `cp${major}${minor}`;
      for (const p of platforms) {
        if (useAbi3) tags.push(new Tag(older, "abi3", p));
        if (useAbi3t) tags.push(new Tag(older, "abi3t", p));
      }
    }
  }
  return tags;
}

function atLeast(version: readonly number[], major: number, minor: number): boolean {
  const a = version[0] ?? 0;
  const b = version[1] ?? 0;
  return a > major || (a === major && b >= minor);
}

/**
 * Tags for an interpreter with no special rules (packaging's `generic_tags`): every abi
 * (plus `none`, added last when missing) on every platform.
 */
export function genericTags(
  interpreter: string,
  abis: readonly string[],
  platforms: readonly string[],
): Tag[] {
  checkStrings([interpreter], "interpreter");
  checkStrings(abis, "abis");
  checkStrings(platforms, "platforms");
  const all = abis.includes("none") ? [...abis] : [...abis, "none"];
  const tags: Tag[] = [];
  for (const abi of all) {
    for (const platform of platforms) tags.push(new Tag(interpreter, abi, platform));
  }
  return tags;
}

/** py3X, py3, py3(X-1) … py30: the interpreter-agnostic versions, most preferred first. */
export function pythonInterpreterRange(pythonVersion: TagPythonVersion): string[] {
  const version = checkPythonVersion(pythonVersion);
  const [major = 3, minor] = version;
  const out: string[] = [];
  if (minor !== undefined) out.push(`py${major}${minor}`);
  out.push(`py${major}`);
  if (minor !== undefined) for (let m = minor - 1; m >= 0; m--) out.push(`py${major}${m}`);
  return out;
}

/** `py*-none-any` tags, most preferred first (packaging's `pure_python_tags`). */
export function purePythonTags(pythonVersion: TagPythonVersion): Tag[] {
  return pythonInterpreterRange(pythonVersion).map((v) => new Tag(v, "none", "any"));
}

/**
 * packaging's `compatible_tags`: `py*-none-<platform>`, then `<interpreter>-none-any`
 * when an interpreter is given, then `py*-none-any`.
 */
export function compatibleTags(
  pythonVersion: TagPythonVersion,
  interpreter: string | undefined,
  platforms: readonly string[],
): Tag[] {
  const range = pythonInterpreterRange(pythonVersion);
  checkStrings(platforms, "platforms");
  const tags: Tag[] = [];
  for (const version of range) {
    for (const platform of platforms) tags.push(new Tag(version, "none", platform));
  }
  if (interpreter) tags.push(new Tag(interpreter, "none", "any"));
  for (const version of range) tags.push(new Tag(version, "none", "any"));
  return tags;
}

/** What `sysTags` needs to know about an interpreter. */
export interface TagTarget {
  /** Short interpreter name: "cp", "pp", or another implementation's name. */
  implementation: "cp" | "pp" | string;
  pythonVersion: [number, number];
  /** Most preferred first, e.g. ["cp311"] or ["cp313t"]; may be empty. */
  abis: string[];
  /** Most preferred first, already expanded (e.g. by linuxPlatforms). */
  platforms: string[];
}

/**
 * Every tag the target supports, most preferred first, as packaging's `sys_tags()` would
 * give on that interpreter: CPython gets `cpython_tags` then `compatible_tags` with cpXY-none-any;
 * others get `generic_tags` (interpreter = name + XY) then `compatible_tags` (PyPy with
 * pp3-none-any).
 */
export function sysTags(target: TagTarget): Tag[] {
  if (target === null || typeof target !== "object") {
    throw new SlimenvError("INVALID_TARGET", "sysTags needs a target object");
  }
  const version = checkPythonVersion(target.pythonVersion);
  const name = target.implementation;
  if (typeof name !== "string" || !/^[a-z][a-z0-9_]*$/.test(name)) {
    throw new SlimenvError(
      "INVALID_TARGET",
      `invalid implementation tag name: ${JSON.stringify(name)}`,
      { hint: "use the short name: 'cp' for CPython, 'pp' for PyPy (see interpreterName)" },
    );
  }
  const versionNodot = nodot(version);
  if (name === "cp") {
    return [
      ...cpythonTags(version, target.abis, target.platforms),
      ...compatibleTags(version, `cp${versionNodot}`, target.platforms),
    ];
  }
  return [
    ...genericTags(`${name}${versionNodot}`, target.abis, target.platforms),
    ...compatibleTags(version, name === "pp" ? "pp3" : undefined, target.platforms),
  ];
}

/**
 * A ranker over supported tags (most preferred first): it gives the rank of the best tag a
 * wheel carries (lower is better), or undefined when the wheel fits none of them.
 */
export function createTagRanker(
  supported: Iterable<Tag | string>,
): (tags: Iterable<Tag | string>) => number | undefined {
  const ranks = new Map<string, number>();
  let rank = 0;
  for (const tag of supported) {
    const key = String(tag).toLowerCase();
    if (!ranks.has(key)) ranks.set(key, rank);
    rank++;
  }
  return (tags) => {
    let best: number | undefined;
    for (const tag of tags) {
      const r = ranks.get(String(tag).toLowerCase());
      if (r !== undefined && (best === undefined || r < best)) best = r;
    }
    return best;
  };
}
