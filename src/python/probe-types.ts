/**
 * The data a probe gives (plain JSON), and checks on it.
 */
import type { MarkerEnvironment } from "../standards/markers.ts";
import { PROBE_SCRIPT_VERSION } from "./probe-script.ts";

/** sysconfig paths of one install scheme. */
export interface ProbeScheme {
  /** Scheme name as sysconfig knows it: posix_prefix, posix_user, venv, nt, posix_local… */
  name: string;
  /** The scheme's paths for this interpreter's own prefixes (sysconfig.get_paths(name)). */
  paths: Record<string, string> | null;
  /**
   * The same paths with `{base}`, `{platbase}` and `{userbase}` left as placeholders
   * (installed_base/installed_platbase are folded into base/platbase), so the paths for any
   * prefix are a string substitution away.
   */
  template: Record<string, string> | null;
  /** Why sysconfig could not give this scheme, when it could not. */
  error: string | null;
}

/** The ELF header facts of the interpreter binary (Linux only). */
export interface ProbeElf {
  /** 1 = 32-bit, 2 = 64-bit. */
  elfClass: number;
  /** 1 = little-endian, 2 = big-endian. */
  elfData: number;
  /** e_machine: 3 = i386, 40 = ARM, 62 = x86_64, 183 = AArch64… */
  machine: number;
  flags: number;
  /** PT_INTERP: the dynamic loader, e.g. /lib64/ld-linux-x86-64.so.2 or /lib/ld-musl-armhf.so.1. */
  interpreter: string | null;
}

/** Everything one probe run reports. Plain JSON data. */
export interface InterpreterProbe {
  probeVersion: number;
  /** sys.executable as the interpreter sees it. */
  executable: string;
  /** realpath(sys.executable). */
  realExecutable: string;
  /** sys.version_info[:3] */
  version: [number, number, number];
  versionInfo: {
    major: number;
    minor: number;
    micro: number;
    releaselevel: string;
    serial: number;
  };
  /** sys.version */
  versionString: string;
  implementation: { name: string; version: string; cacheTag: string | null };
  abiflags: string;
  maxsizeOver32Bits: boolean;
  hasTotalRefcount: boolean;
  /** importlib.machinery.EXTENSION_SUFFIXES */
  extensionSuffixes: string[];
  /** A few sysconfig config vars, raw (null when unset). */
  configVars: {
    SOABI: string | null;
    EXT_SUFFIX: string | null;
    Py_DEBUG: number | boolean | string | null;
    WITH_PYMALLOC: number | boolean | string | null;
    Py_GIL_DISABLED: number | boolean | string | null;
    Py_ENABLE_SHARED: number | boolean | string | null;
    py_version_nodot: string | null;
    MULTIARCH: string | null;
    LDVERSION: string | null;
    LIBDIR: string | null;
    PYTHONFRAMEWORK: string | null;
    VERSION: string | null;
  };
  /** sys._is_gil_enabled() (3.13+), else null. */
  gilEnabledAtRuntime: boolean | null;
  /** sysconfig.get_platform(), e.g. linux-x86_64, macosx-11.0-arm64, win-amd64. */
  sysconfigPlatform: string;
  /** platform.system() */
  platformSystem: string;
  /** platform.machine() */
  machine: string;
  osName: string;
  sysPlatform: string;
  /** glibc version as the C library reports it ("2.36"), null when not glibc. */
  glibcVersion: string | null;
  elf: ProbeElf | null;
  /** What the musl loader printed to stderr when run bare (it names its version), else null. */
  muslLoaderOutput: string | null;
  /** macOS only: platform.mac_ver() release (with the 10.16 compatibility shim undone) and machine. */
  mac: { release: string; machine: string } | null;
  prefix: string;
  basePrefix: string;
  execPrefix: string;
  baseExecPrefix: string;
  platlibdir: string;
  stdlib: string | null;
  platstdlib: string | null;
  /** sys.path under -I -S (the standard library only). */
  sysPath: string[];
  schemeNames: string[];
  /** prefix: the preferred prefix scheme; user: the preferred user scheme; venv: 'venv' on 3.11+, else the prefix scheme. */
  schemes: { prefix: ProbeScheme; user: ProbeScheme; venv: ProbeScheme };
  markerEnvironment: MarkerEnvironment;
  /** importlib.util.MAGIC_NUMBER as hex, e.g. "a70d0d0a". */
  magicNumber: string | null;
  /** sys.implementation.cache_tag, e.g. "cpython-311". */
  cacheTag: string | null;
}

/** Oldest Python slimenv works with. */
export const MIN_PYTHON: readonly [number, number] = [3, 6];

/** True when `value` has the shape of a probe of the current script version. */
export function isProbe(value: unknown): value is InterpreterProbe {
  if (value === null || typeof value !== "object") return false;
  const v = value as Partial<InterpreterProbe>;
  return (
    v.probeVersion === PROBE_SCRIPT_VERSION &&
    Array.isArray(v.version) &&
    v.version.length === 3 &&
    v.version.every((n) => Number.isInteger(n)) &&
    typeof v.realExecutable === "string" &&
    typeof v.implementation?.name === "string" &&
    typeof v.sysconfigPlatform === "string" &&
    typeof v.markerEnvironment === "object" &&
    v.markerEnvironment !== null &&
    typeof v.schemes === "object" &&
    v.schemes !== null &&
    Array.isArray(v.extensionSuffixes)
  );
}

/** Whether the probed interpreter is new enough for slimenv. */
export function isSupportedProbe(probe: InterpreterProbe): boolean {
  const [major, minor] = probe.version;
  return major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1]);
}
