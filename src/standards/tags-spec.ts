/**
 * A user's platform spec, as given to `--platform` (one wheel platform tag naming the
 * device: `manylinux_2_28_aarch64`, `manylinux2014_x86_64`, `musllinux_1_2_armv7l`,
 * `linux_x86_64`, `macosx_14_0_arm64`, `win_amd64`, `win32`, `win_arm64`), read into what a
 * Target needs, and expanded into the platform list that device supports.
 */
import { SlimenvError } from "../base/index.ts";
import { linuxPlatforms, MANYLINUX_ARCHES } from "./tags-linux.ts";
import { macPlatforms } from "./tags-macos.ts";
import { windowsPlatforms } from "./tags-windows.ts";

export interface PlatformSpec {
  os: "linux" | "macos" | "windows";
  /** Linux: the tag's arch (x86_64, aarch64, armv7l…); macOS: arm64, x86_64…; Windows: amd64, x86, arm64. */
  arch: string;
  /** Linux only, when the spec names a C library (manylinux = glibc, musllinux = musl). */
  libc?: { kind: "glibc" | "musl"; version: [number, number] };
  /** macOS only: [major, minor]. */
  macVersion?: [number, number];
}

const ACCEPTED =
  "accepted forms: manylinux_<glibc major>_<minor>_<arch> (e.g. manylinux_2_28_aarch64), " +
  "manylinux2014_<arch>, manylinux2010_<arch>, manylinux1_<arch>, " +
  "musllinux_<major>_<minor>_<arch> (e.g. musllinux_1_2_armv7l), linux_<arch>, " +
  "macosx_<major>_<minor>_<arch> (e.g. macosx_14_0_arm64), win_amd64, win32, win_arm64";

const LEGACY: Readonly<Record<string, [number, number]>> = {
  manylinux1: [2, 5],
  manylinux2010: [2, 12],
  manylinux2014: [2, 17],
};

/** Arches each legacy manylinux tag was defined for (PEP 513, 571, 599). */
const LEGACY_ARCHES: Readonly<Record<string, readonly string[]>> = {
  manylinux1: ["x86_64", "i686"],
  manylinux2010: ["x86_64", "i686"],
  manylinux2014: ["x86_64", "i686", "aarch64", "armv7l", "ppc64", "ppc64le", "s390x"],
};

const MAC_ARCHES = ["arm64", "x86_64", "i386", "ppc", "ppc64"];

const LINUX_ARCH = /^[a-z0-9]+(?:_[a-z0-9]+)*$/;

function invalid(spec: string, why: string): SlimenvError {
  return new SlimenvError("INVALID_TARGET", `invalid platform ${JSON.stringify(spec)}: ${why}`, {
    hint: ACCEPTED,
  });
}

function int(text: string): number {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : Number.NaN;
}

/** Read a platform spec. Throws INVALID_TARGET naming the accepted forms. */
export function platformTagFromSpec(spec: string): PlatformSpec {
  if (typeof spec !== "string") {
    throw new SlimenvError("INVALID_TARGET", `a platform must be a string, got ${typeof spec}`, {
      hint: ACCEPTED,
    });
  }
  const text = spec.trim().toLowerCase().replace(/[-.]/g, "_");
  if (text === "") throw invalid(spec, "it is empty");

  if (text === "win32") return { os: "windows", arch: "x86" };
  if (text === "win_amd64") return { os: "windows", arch: "amd64" };
  if (text === "win_arm64") return { os: "windows", arch: "arm64" };
  if (text.startsWith("win")) throw invalid(spec, "unknown Windows platform");

  let m = /^manylinux_(\d+)_(\d+)_(.+)$/.exec(text);
  if (m) {
    const version: [number, number] = [int(m[1] ?? ""), int(m[2] ?? "")];
    const arch = m[3] ?? "";
    if (!(version[0] >= 2) || Number.isNaN(version[1])) {
      throw invalid(spec, "manylinux needs glibc 2.x or newer");
    }
    if (!MANYLINUX_ARCHES.includes(arch)) {
      throw invalid(
        spec,
        `manylinux has no ${JSON.stringify(arch)} architecture (it has ${MANYLINUX_ARCHES.join(", ")})`,
      );
    }
    return { os: "linux", arch, libc: { kind: "glibc", version } };
  }
  m = /^(manylinux1|manylinux2010|manylinux2014)_(.+)$/.exec(text);
  if (m) {
    const legacy = m[1] ?? "";
    const arch = m[2] ?? "";
    const arches = LEGACY_ARCHES[legacy] ?? [];
    const version = LEGACY[legacy];
    if (!arches.includes(arch) || version === undefined) {
      throw invalid(spec, `${legacy} is defined for ${arches.join(", ")} only`);
    }
    return { os: "linux", arch, libc: { kind: "glibc", version: [version[0], version[1]] } };
  }
  m = /^musllinux_(\d+)_(\d+)_(.+)$/.exec(text);
  if (m) {
    const version: [number, number] = [int(m[1] ?? ""), int(m[2] ?? "")];
    const arch = m[3] ?? "";
    if (!(version[0] >= 1) || Number.isNaN(version[1])) {
      throw invalid(spec, "musllinux needs musl 1.x or newer");
    }
    if (!LINUX_ARCH.test(arch)) throw invalid(spec, `bad architecture ${JSON.stringify(arch)}`);
    return { os: "linux", arch, libc: { kind: "musl", version } };
  }
  if (text.startsWith("manylinux") || text.startsWith("musllinux")) {
    throw invalid(spec, "unknown manylinux/musllinux form");
  }
  m = /^linux_(.+)$/.exec(text);
  if (m) {
    const arch = m[1] ?? "";
    if (!LINUX_ARCH.test(arch)) throw invalid(spec, `bad architecture ${JSON.stringify(arch)}`);
    return { os: "linux", arch };
  }
  m = /^macosx_(\d+)_(\d+)_(.+)$/.exec(text);
  if (m) {
    const version: [number, number] = [int(m[1] ?? ""), int(m[2] ?? "")];
    const arch = m[3] ?? "";
    if (!(version[0] === 10 || version[0] >= 11) || Number.isNaN(version[1])) {
      throw invalid(spec, "macOS versions start at 10.0");
    }
    if (!MAC_ARCHES.includes(arch)) {
      throw invalid(spec, `macOS architecture must be one of ${MAC_ARCHES.join(", ")}`);
    }
    if (arch === "arm64" && version[0] < 11) {
      throw invalid(spec, "arm64 Macs run macOS 11.0 or newer (use macosx_11_0_arm64)");
    }
    return { os: "macos", arch, macVersion: version };
  }
  throw invalid(spec, "not a platform tag slimenv can target");
}

/**
 * The platform tags a device described by `spec` supports, most preferred first. A spec with
 * no C library (`linux_x86_64`) gives only itself.
 */
export function platformsForSpec(spec: string | PlatformSpec): string[] {
  const p = typeof spec === "string" ? platformTagFromSpec(spec) : spec;
  if (p.os === "windows") return windowsPlatforms(p.arch);
  if (p.os === "macos") {
    if (p.macVersion === undefined) {
      throw new SlimenvError("INVALID_TARGET", "a macOS platform needs macVersion");
    }
    return macPlatforms(p.macVersion, p.arch);
  }
  if (p.os === "linux") {
    if (p.libc === undefined) return linuxPlatforms(p.arch, {});
    return linuxPlatforms(
      p.arch,
      p.libc.kind === "glibc" ? { glibc: p.libc.version } : { musl: p.libc.version },
    );
  }
  throw new SlimenvError("INVALID_TARGET", `unknown os in platform: ${JSON.stringify(p.os)}`);
}
