/**
 * A Target from a spec alone — Python version, platform tag, implementation — with no
 * interpreter run, for cross-target work (resolve and install on CI for a device).
 *
 * The result is what a real CPython of that version on that platform would report, with
 * two documented approximations:
 * - python_full_version (and implementation_version) use the spec's micro version, or
 *   X.Y.0 when only X.Y is given;
 * - platform_release and platform_version (the kernel/OS build) cannot be known from a spec
 *   and are "": a marker comparing them evaluates against "".
 */
import { SlimenvError } from "../base/index.ts";
import type { MarkerEnvironment } from "../standards/markers.ts";
import type { PlatformSpec } from "../standards/tags.ts";
import { cpythonAbis, platformsForSpec, platformTagFromSpec, sysTags } from "../standards/tags.ts";
import type { Target } from "./target.ts";

export interface TargetSpec {
  /** "3.11", "3.11.7", or with a "t" suffix for a free-threaded build: "3.13t". */
  pythonVersion: string;
  /** One platform tag naming the device: manylinux_2_28_aarch64, musllinux_1_2_armv7l, macosx_14_0_arm64, win_amd64, linux_x86_64… */
  platform: string;
  /** "cp" (or "cpython", the default). Other implementations need a real interpreter. */
  implementation?: string;
}

export interface ParsedPythonVersion {
  version: [number, number, number];
  /** Whether the micro version was given. */
  hasMicro: boolean;
  freeThreaded: boolean;
}

const VERSION_HINT =
  "give --python-version as X.Y or X.Y.Z for CPython 3.6 or newer, e.g. 3.11 or 3.11.7 (3.13t for free-threaded)";

/** Read "3.11" / "3.11.7" / "3.13t". Throws INVALID_TARGET. */
export function parsePythonVersionSpec(text: string): ParsedPythonVersion {
  const raw = typeof text === "string" ? text.trim() : "";
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?(t)?$/.exec(raw);
  if (!m) {
    throw new SlimenvError("INVALID_TARGET", `invalid Python version ${JSON.stringify(text)}`, {
      hint: VERSION_HINT,
    });
  }
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const micro = m[3] === undefined ? 0 : Number(m[3]);
  if (major !== 3 || minor < 6 || !Number.isSafeInteger(minor) || !Number.isSafeInteger(micro)) {
    throw new SlimenvError(
      "INVALID_TARGET",
      `unsupported Python version ${JSON.stringify(text)}: slimenv targets CPython 3.6 or newer`,
      { hint: VERSION_HINT },
    );
  }
  const freeThreaded = m[4] === "t";
  if (freeThreaded && minor < 13) {
    throw new SlimenvError(
      "INVALID_TARGET",
      `invalid Python version ${JSON.stringify(text)}: free-threaded builds exist from 3.13 on`,
      { hint: VERSION_HINT },
    );
  }
  return { version: [major, minor, micro], hasMicro: m[3] !== undefined, freeThreaded };
}

/** importlib.util.MAGIC_NUMBER of each CPython minor release (stable from X.Y.0 final on). */
const PYC_MAGIC: Readonly<Record<string, string>> = {
  "3.6": "330d0d0a",
  "3.7": "420d0d0a",
  "3.8": "550d0d0a",
  "3.9": "610d0d0a",
  "3.10": "6f0d0d0a",
  "3.11": "a70d0d0a",
  "3.12": "cb0d0d0a",
  "3.13": "f30d0d0a",
};

/** The pyc magic number of a CPython minor version, when slimenv knows it. */
export function cpythonPycMagic(major: number, minor: number): string | undefined {
  return PYC_MAGIC[`${major}.${minor}`];
}

function checkImplementation(implementation: string | undefined): void {
  if (implementation === undefined) return;
  const name = implementation.trim().toLowerCase();
  if (name === "cp" || name === "cpython") return;
  throw new SlimenvError(
    "INVALID_TARGET",
    `unsupported implementation ${JSON.stringify(implementation)} for a spec target`,
    {
      hint: "--implementation accepts cp (CPython); for PyPy and others probe a real interpreter with --python",
    },
  );
}

function platformMarkers(
  spec: PlatformSpec,
): Pick<MarkerEnvironment, "os_name" | "sys_platform" | "platform_system" | "platform_machine"> {
  if (spec.os === "windows") {
    const machine: Record<string, string> = { amd64: "AMD64", arm64: "ARM64", x86: "x86" };
    return {
      os_name: "nt",
      sys_platform: "win32",
      platform_system: "Windows",
      platform_machine: machine[spec.arch] ?? spec.arch.toUpperCase(),
    };
  }
  if (spec.os === "macos") {
    return {
      os_name: "posix",
      sys_platform: "darwin",
      platform_system: "Darwin",
      platform_machine: spec.arch,
    };
  }
  return {
    os_name: "posix",
    sys_platform: "linux",
    platform_system: "Linux",
    platform_machine: spec.arch,
  };
}

/** Build the Target a CPython of `spec.pythonVersion` on `spec.platform` would report. */
export function targetFromSpec(spec: TargetSpec): Target {
  if (spec === null || typeof spec !== "object") {
    throw new SlimenvError(
      "INVALID_TARGET",
      "a target spec needs a Python version and a platform",
      {
        hint: "pass --python-version and --platform, e.g. --python-version 3.11 --platform manylinux_2_28_aarch64",
      },
    );
  }
  checkImplementation(spec.implementation);
  const { version, freeThreaded } = parsePythonVersionSpec(spec.pythonVersion);
  const platform = platformTagFromSpec(spec.platform);
  const platforms = platformsForSpec(platform);
  const [major, minor, micro] = version;
  const abis = cpythonAbis([major, minor], { freeThreaded });
  const tags = sysTags({
    implementation: "cp",
    pythonVersion: [major, minor],
    abis,
    platforms,
  }).map(String);
  const full = `${major}.${minor}.${micro}`;
  const platformEnv = platformMarkers(platform);
  const markerEnvironment: MarkerEnvironment = {
    implementation_name: "cpython",
    implementation_version: full,
    os_name: platformEnv.os_name,
    platform_machine: platformEnv.platform_machine,
    platform_release: "",
    platform_system: platformEnv.platform_system,
    platform_version: "",
    python_full_version: full,
    platform_python_implementation: "CPython",
    python_version: `${major}.${minor}`,
    sys_platform: platformEnv.sys_platform,
  };
  const target: Target = {
    implementation: "cp",
    implementationName: "cpython",
    pythonVersion: version,
    abis,
    platforms,
    os: platform.os,
    arch: platform.arch,
    markerEnvironment,
    tags,
    source: "spec",
    spec: {
      pythonVersion: spec.pythonVersion.trim(),
      platform: spec.platform.trim(),
      ...(spec.implementation === undefined ? {} : { implementation: spec.implementation.trim() }),
    },
  };
  if (platform.libc) {
    target.libc = { kind: platform.libc.kind, version: [...platform.libc.version] };
  }
  const magic = cpythonPycMagic(major, minor);
  if (magic) target.pycMagic = magic;
  return target;
}
