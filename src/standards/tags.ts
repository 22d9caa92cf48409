/**
 * Compatibility tags (PEP 425, the platform tag specification on packaging.python.org): the
 * ordered list of tags an interpreter supports, in the order pypa/packaging's `sys_tags()`
 * gives it (most preferred first). Pure: every fact about the interpreter and the platform is
 * passed in.
 *
 * The Tag value type and the parsing of (compressed) tag triples live in tag.ts; platform
 * lists in tags-linux.ts, tags-macos.ts and tags-windows.ts; the user's platform spec
 * (`manylinux_2_28_aarch64`, `win_amd64`, …) is read by tags-spec.ts.
 */
import { SlimenvError } from "../base/index.ts";
import { Tag } from "./tag.ts";

export type { ParseTagOptions } from "./tag.ts";
export { compareCodePoints, parseTag, Tag } from "./tag.ts";

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
