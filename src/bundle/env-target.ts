/**
 * The bundle manifest's `target` (what the device's python3 must satisfy) from an env
 * manifest: implementation and `major.minor` of the env's target, its ABI, CPU, and the libc
 * the installed wheels need — the highest manylinux (glibc) or musllinux version among
 * their platform tags; `libc: null` when no installed wheel names one (pure Python).
 */
import { SlimenvError } from "../base/index.ts";
import type { EnvManifest } from "../env/types.ts";
import type { BundleTarget } from "./types.ts";

/** Legacy manylinux aliases (PEP 600). */
const LEGACY: Record<string, [number, number]> = {
  manylinux1: [2, 5],
  manylinux2010: [2, 12],
  manylinux2014: [2, 17],
};

type Libc = { family: "glibc" | "musl"; version: [number, number] };

/** The libc a platform tag needs, if any. */
export function libcOfPlatform(platform: string): Libc | undefined {
  const m = /^(manylinux|musllinux)_(\d+)_(\d+)_/.exec(platform);
  if (m !== null) {
    return {
      family: m[1] === "manylinux" ? "glibc" : "musl",
      version: [Number(m[2]), Number(m[3])],
    };
  }
  const legacy = /^(manylinux\d+)_/.exec(platform);
  const v = legacy === null ? undefined : LEGACY[legacy[1] ?? ""];
  return v === undefined ? undefined : { family: "glibc", version: v };
}

function platformsOfWheel(filename: string): string[] {
  const parts = filename.replace(/\.whl$/, "").split("-");
  return (parts[parts.length - 1] ?? "").split(".");
}

function newer(a: [number, number], b: [number, number]): boolean {
  return a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
}

export function envTarget(manifest: EnvManifest): BundleTarget {
  const t = manifest.target;
  const [major, minor] = t.pythonVersion;
  if (t.os !== "linux") {
    throw new SlimenvError("INVALID_ENV", `the env targets ${t.os}; devices run Linux`, {
      hint: "install the env for a Linux target (--python-platform)",
    });
  }
  const tags = t.tags.map((tag) => tag.split("-"));
  const cpAbi = tags.map((p) => p[1] ?? "").find((abi) => /^cp\d+/.test(abi));
  const abi = cpAbi ?? `${t.implementation}${major}${minor}`;
  // A wheel's platform set means "any of these": it needs the lowest; the env needs the
  // highest of its wheels' needs.
  // `platforms` (informative): the platform tags the installed wheels carry — what the env
  // needs, not every tag the build machine accepts (dozens of manylinux aliases, ~1 KB of a
  // small delta's header).
  const platforms = new Set<string>();
  let libc: Libc | undefined;
  for (const pkg of manifest.packages) {
    let need: Libc | undefined;
    for (const plat of platformsOfWheel(pkg.filename)) {
      if (plat !== "any") platforms.add(plat);
      const one = libcOfPlatform(plat);
      if (one !== undefined && (need === undefined || newer(need.version, one.version))) need = one;
    }
    if (need === undefined) continue;
    if (libc !== undefined && libc.family !== need.family) {
      throw new SlimenvError(
        "INVALID_ENV",
        `the env mixes ${libc.family} and ${need.family} wheels (${pkg.filename})`,
        { hint: "reinstall the env for one target" },
      );
    }
    if (libc === undefined || newer(need.version, libc.version)) libc = need;
  }
  return {
    implementation: t.implementation,
    python: `${major}.${minor}`,
    abi,
    machine: t.arch,
    libc: libc?.family ?? null,
    libcVersion: libc === undefined ? null : `${libc.version[0]}.${libc.version[1]}`,
    platforms: [...platforms].sort(),
  };
}
