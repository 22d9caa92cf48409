/**
 * Linux platform tags: `linux_<arch>`, manylinux (PEP 600, with the legacy aliases of
 * PEP 513/571/599) and musllinux (PEP 656), in the order pypa/packaging (26.3+) yields them
 * for a running interpreter: native `linux_*` first, then manylinux from the newest glibc
 * down, then musllinux from the newest musl down.
 */
import { SlimenvError } from "../base/index.ts";

/** Architectures that manylinux wheels exist for (packaging's rule: these, plus armv7l hard-float and i686). */
export const MANYLINUX_ARCHES: readonly string[] = [
  "x86_64",
  "i686",
  "aarch64",
  "armv7l",
  "ppc64",
  "ppc64le",
  "s390x",
  "riscv64",
  "loongarch64",
];

/** The 64-bit arches packaging accepts for manylinux without looking at the ELF header. */
export const PLAIN_MANYLINUX_ARCHES: ReadonlySet<string> = new Set([
  "x86_64",
  "aarch64",
  "ppc64",
  "ppc64le",
  "s390x",
  "loongarch64",
  "riscv64",
]);

/** glibc major versions other than the newest are assumed to end at this minor (packaging's guess). */
const LAST_GLIBC_MINOR = 50;

/** The legacy names of PEP 513, 571 and 599, at the glibc they stand for. */
const LEGACY_MANYLINUX: ReadonlyMap<string, string> = new Map([
  ["2_17", "manylinux2014"],
  ["2_12", "manylinux2010"],
  ["2_5", "manylinux1"],
]);

export interface LinuxLibc {
  glibc?: readonly [number, number];
  musl?: readonly [number, number];
}

export interface LinuxPlatformOptions {
  /** A 32-bit interpreter on a 64-bit kernel: x86_64 becomes i686, aarch64 becomes armv8l. */
  is32bit?: boolean;
  /** For armv7l: the interpreter uses the hard-float ABI (manylinux needs it). Default true. */
  armhf?: boolean;
}

/** `uname -m` / sysconfig arch → the tag's arch: lower-case, '.', '-' and ' ' become '_'. */
export function normalizeLinuxArch(arch: string): string {
  const normalized =
    typeof arch === "string"
      ? arch
          .trim()
          .toLowerCase()
          .replace(/[.\- ]/g, "_")
      : "";
  if (!/^[a-z0-9_]+$/.test(normalized)) {
    throw new SlimenvError(
      "INVALID_TARGET",
      `invalid Linux architecture: ${JSON.stringify(arch)}`,
      {
        hint: `use the machine name as 'uname -m' prints it, e.g. ${MANYLINUX_ARCHES.join(", ")}`,
      },
    );
  }
  return normalized;
}

function checkLibcVersion(
  version: unknown,
  what: "glibc" | "musl",
  minMajor: number,
): [number, number] {
  if (
    Array.isArray(version) &&
    version.length === 2 &&
    version.every((n) => Number.isSafeInteger(n) && n >= 0) &&
    (version[0] as number) >= minMajor
  ) {
    return [version[0] as number, version[1] as number];
  }
  throw new SlimenvError("INVALID_TARGET", `invalid ${what} version: ${JSON.stringify(version)}`, {
    hint:
      what === "glibc"
        ? "give [major, minor] as 'ldd --version' prints it, e.g. [2, 28]"
        : "give [major, minor] as the musl loader prints it, e.g. [1, 2]",
  });
}

/** The arches an interpreter on `arch` can load, closest first (armv8l also loads armv7l). */
function compatibleArches(arch: string, is32bit: boolean): string[] {
  let a = normalizeLinuxArch(arch);
  if (is32bit) {
    if (a === "x86_64") a = "i686";
    else if (a === "aarch64") a = "armv8l";
  }
  return a === "armv8l" ? ["armv8l", "armv7l"] : [a];
}

/**
 * Every Linux platform tag an interpreter on `arch` with the given C library supports, most
 * preferred first: linux_<arch>, manylinux_<glibc…2_5|2_17>_<arch> (with manylinux2014,
 * manylinux2010 and manylinux1 after 2_17, 2_12 and 2_5), musllinux_<major>_<minor…0>_<arch>.
 * Without a libc only linux_<arch> is given.
 */
export function linuxPlatforms(
  arch: string,
  libc: LinuxLibc = {},
  options: LinuxPlatformOptions = {},
): string[] {
  if (libc === null || typeof libc !== "object") {
    throw new SlimenvError(
      "INVALID_TARGET",
      "linuxPlatforms needs a libc object ({ glibc?, musl? })",
    );
  }
  const archs = compatibleArches(arch, options.is32bit ?? false);
  const out = archs.map((a) => `linux_${a}`);
  if (libc.glibc !== undefined) out.push(...manylinuxPlatforms(archs, libc.glibc, options));
  if (libc.musl !== undefined) out.push(...musllinuxPlatforms(archs, libc.musl));
  return out;
}

/**
 * manylinux tags for the given arches (closest first) under a glibc, newest first. Arches
 * manylinux does not cover give nothing; x86_64 and i686 go down to glibc 2.5, others to 2.17.
 */
export function manylinuxPlatforms(
  archs: readonly string[],
  glibc: readonly [number, number],
  options: Pick<LinuxPlatformOptions, "armhf"> = {},
): string[] {
  const [major, minor] = checkLibcVersion(glibc, "glibc", 2);
  const normalized = archs.map(normalizeLinuxArch);
  if (!hasManylinuxAbi(normalized, options.armhf ?? true)) return [];
  const x86 = normalized.includes("x86_64") || normalized.includes("i686");
  const oldestMinor = x86 ? 5 : 17;
  const maxima: [number, number][] = [[major, minor]];
  for (let m = major - 1; m >= 2; m--) maxima.push([m, LAST_GLIBC_MINOR]);
  const out: string[] = [];
  for (const arch of normalized) {
    for (const [maxMajor, maxMinor] of maxima) {
      const lowest = maxMajor === 2 ? oldestMinor : 0;
      for (let m = maxMinor; m >= lowest; m--) {
        const version = `${maxMajor}_${m}`;
        out.push(`manylinux_${version}_${arch}`);
        const legacy = LEGACY_MANYLINUX.get(version);
        if (legacy !== undefined) out.push(`${legacy}_${arch}`);
      }
    }
  }
  return out;
}

function hasManylinuxAbi(archs: readonly string[], armhf: boolean): boolean {
  if (archs.includes("armv7l")) return armhf;
  if (archs.includes("i686")) return true;
  return archs.some((a) => PLAIN_MANYLINUX_ARCHES.has(a));
}

/** musllinux tags for the given arches under a musl version: musllinux_<major>_<minor…0>_<arch>. */
export function musllinuxPlatforms(
  archs: readonly string[],
  musl: readonly [number, number],
): string[] {
  const [major, minor] = checkLibcVersion(musl, "musl", 1);
  const out: string[] = [];
  for (const arch of archs.map(normalizeLinuxArch)) {
    for (let m = minor; m >= 0; m--) out.push(`musllinux_${major}_${m}_${arch}`);
  }
  return out;
}
