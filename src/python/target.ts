/**
 * The Target: everything later stages need to know about the Python an environment is for
 * (tags it accepts, markers it evaluates against, pyc magic), as plain serializable data.
 * Built from a probe of a real interpreter (here) or from a spec alone (target-spec.ts).
 *
 * Tags are computed in TypeScript from the probe's raw facts with the same rules pypa/packaging's
 * `sys_tags()` applies inside the interpreter, so a probe never needs packaging installed.
 */
import { SlimenvError } from "../base/index.ts";
import type { MarkerEnvironment } from "../standards/markers.ts";
import {
  cpythonAbis,
  interpreterName,
  linuxPlatforms,
  macPlatforms,
  sysTags,
} from "../standards/tags.ts";
import { manylinuxAbiCompatible, parseGlibcVersion, parseMuslVersion } from "./libc.ts";
import type { InterpreterProbe } from "./probe-types.ts";

export interface Target {
  /** Short implementation name as tags use it: "cp", "pp". */
  implementation: string;
  /** sys.implementation.name: "cpython", "pypy". */
  implementationName: string;
  pythonVersion: [number, number, number];
  /** ABI tags, most preferred first (e.g. ["cp311"], ["cp37m"], ["cp313t"]); abi3/none not included. */
  abis: string[];
  /** Platform tags, most preferred first. */
  platforms: string[];
  os: "linux" | "macos" | "windows";
  /**
   * The tag-level architecture. Linux: x86_64, aarch64, armv7l, i686… (a 32-bit interpreter on
   * a 64-bit kernel gets i686/armv8l); macOS: arm64, x86_64; Windows: amd64, x86, arm64.
   */
  arch: string;
  libc?: { kind: "glibc" | "musl"; version: [number, number] };
  markerEnvironment: MarkerEnvironment;
  /** Every supported tag ("cp311-cp311-manylinux_2_17_x86_64"), most preferred first. */
  tags: string[];
  /** importlib.util.MAGIC_NUMBER as hex ("a70d0d0a"), when known. */
  pycMagic?: string;
  source: "probe" | "spec";
  /** A spec target: the spec it was built from, as given (so it can be rebuilt exactly). */
  spec?: { pythonVersion: string; platform: string; implementation?: string };
}

/** Python's truthiness of a sysconfig config var. */
function truthy(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === "number") return value !== 0;
  if (typeof value === "string") return value !== "";
  return Boolean(value);
}

/** The ABI flags of a CPython build, decided from the probe as packaging decides them. */
export function cpythonAbiFlagsFromProbe(probe: InterpreterProbe): {
  debug: boolean;
  pymalloc: boolean;
  freeThreaded: boolean;
} {
  const cfg = probe.configVars;
  const [major, minor] = probe.version;
  const debug =
    truthy(cfg.Py_DEBUG) ||
    (cfg.Py_DEBUG === null &&
      (probe.hasTotalRefcount || probe.extensionSuffixes.includes("_d.pyd")));
  const pymalloc = truthy(cfg.WITH_PYMALLOC) || cfg.WITH_PYMALLOC === null;
  const freeThreaded = (major > 3 || (major === 3 && minor >= 13)) && truthy(cfg.Py_GIL_DISABLED);
  return { debug, pymalloc, freeThreaded };
}

/** `.`, `-` and spaces become `_` (the tag spelling of sysconfig's platform and SOABI). */
function underscore(text: string): string {
  return text.replace(/[.\- ]/g, "_");
}

/**
 * The ABI tag of a non-CPython interpreter, read from its extension-module suffix
 * (EXT_SUFFIX): ".pypy310-pp73-x86_64-linux-gnu.so" → "pypy310_pp73". An EXT_SUFFIX with
 * no ABI part (".pyd" on old Windows builds) falls back to the CPython rules.
 */
export function genericAbisFromProbe(probe: InterpreterProbe): string[] {
  const suffix = probe.configVars.EXT_SUFFIX;
  if (typeof suffix !== "string" || !suffix.startsWith(".")) {
    throw new SlimenvError(
      "INTERPRETER_PROBE_FAILED",
      `${probe.executable} reports no usable EXT_SUFFIX (${JSON.stringify(suffix)})`,
      { hint: "this interpreter's sysconfig is broken; pass another one with --python" },
    );
  }
  const parts = suffix.split(".");
  if (parts.length < 3) {
    return cpythonAbis([probe.version[0], probe.version[1]], cpythonAbiFlagsFromProbe(probe));
  }
  const soabi = parts[1] ?? "";
  const fields = soabi.split("-");
  let abi: string;
  if (soabi.startsWith("cpython")) abi = `cp${fields[1] ?? ""}`;
  else if (soabi.startsWith("cp")) abi = fields[0] ?? "";
  else if (soabi.startsWith("pypy")) abi = fields.slice(0, 2).join("-");
  else if (soabi.startsWith("graalpy")) abi = fields.slice(0, 3).join("-");
  else if (soabi !== "") abi = soabi;
  else return [];
  return [underscore(abi)];
}

interface PlatformFacts {
  os: Target["os"];
  arch: string;
  platforms: string[];
  libc?: Target["libc"];
}

function linuxFacts(probe: InterpreterProbe): PlatformFacts {
  const name = underscore(probe.sysconfigPlatform);
  const glibc = parseGlibcVersion(probe.glibcVersion);
  const musl = parseMuslVersion(probe.muslLoaderOutput);
  const libc: Target["libc"] = glibc
    ? { kind: "glibc", version: glibc }
    : musl
      ? { kind: "musl", version: musl }
      : undefined;
  if (!name.startsWith("linux_")) {
    return { os: "linux", arch: probe.machine, platforms: [name], ...(libc ? { libc } : {}) };
  }
  const is32bit = !probe.maxsizeOver32Bits;
  let arch = name.slice("linux_".length);
  if (is32bit && arch === "x86_64") arch = "i686";
  else if (is32bit && arch === "aarch64") arch = "armv8l";
  const archs = arch === "armv8l" ? ["armv8l", "armv7l"] : [arch];
  const manylinux = glibc !== undefined && manylinuxAbiCompatible(archs, probe.elf);
  const platforms = linuxPlatforms(arch, {
    ...(manylinux ? { glibc } : {}),
    ...(musl ? { musl } : {}),
  });
  return { os: "linux", arch, platforms, ...(libc ? { libc } : {}) };
}

function macFacts(probe: InterpreterProbe): PlatformFacts {
  const release = probe.mac?.release ?? "";
  const m = /^(\d+)(?:\.(\d+))?/.exec(release);
  if (!m) {
    throw new SlimenvError(
      "INTERPRETER_PROBE_FAILED",
      `${probe.executable} reports no macOS version (platform.mac_ver() gave ${JSON.stringify(release)})`,
    );
  }
  const version: [number, number] = [Number(m[1]), Number(m[2] ?? 0)];
  let arch = probe.mac?.machine || probe.machine;
  if (!probe.maxsizeOver32Bits) arch = arch.startsWith("ppc") ? "ppc" : "i386";
  return { os: "macos", arch, platforms: macPlatforms(version, arch) };
}

const WINDOWS_ARCH: Readonly<Record<string, string>> = {
  win_amd64: "amd64",
  win32: "x86",
  win_arm64: "arm64",
  win_arm32: "arm",
};

function windowsFacts(probe: InterpreterProbe): PlatformFacts {
  const tag = underscore(probe.sysconfigPlatform);
  return { os: "windows", arch: WINDOWS_ARCH[tag] ?? tag, platforms: [tag] };
}

/** Build the Target a probed interpreter stands for. */
export function targetFromProbe(probe: InterpreterProbe): Target {
  const implementation = interpreterName(probe.implementation.name);
  const [major, minor, micro] = probe.version;
  let facts: PlatformFacts;
  if (probe.platformSystem === "Linux") facts = linuxFacts(probe);
  else if (probe.platformSystem === "Darwin") facts = macFacts(probe);
  else if (probe.platformSystem === "Windows") facts = windowsFacts(probe);
  else {
    throw new SlimenvError(
      "INVALID_TARGET",
      `${probe.executable} runs on ${JSON.stringify(probe.platformSystem)}, which slimenv does not support`,
      { hint: "slimenv targets Linux, macOS and Windows" },
    );
  }
  const abis =
    implementation === "cp"
      ? cpythonAbis([major, minor], cpythonAbiFlagsFromProbe(probe))
      : genericAbisFromProbe(probe);
  const tags = sysTags({
    implementation,
    pythonVersion: [major, minor],
    abis,
    platforms: facts.platforms,
  }).map(String);
  const target: Target = {
    implementation,
    implementationName: probe.implementation.name,
    pythonVersion: [major, minor, micro],
    abis,
    platforms: facts.platforms,
    os: facts.os,
    arch: facts.arch,
    markerEnvironment: { ...probe.markerEnvironment },
    tags,
    source: "probe",
  };
  if (facts.libc) target.libc = facts.libc;
  if (probe.magicNumber) target.pycMagic = probe.magicNumber;
  return target;
}
