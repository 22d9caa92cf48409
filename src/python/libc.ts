/**
 * Reading the C library facts a probe reports: glibc's version string, the musl loader's
 * banner, and whether the interpreter binary uses an ABI manylinux wheels are built for
 * (hard-float for 32-bit ARM, i386 for i686), as the manylinux rules on packaging.python.org
 * ask. Pure functions.
 */

import { PLAIN_MANYLINUX_ARCHES } from "../standards/index.ts";
import type { ProbeElf } from "./probe-types.ts";

/** "2.36" (or "2.17-foo") → [2, 36]; anything else → undefined. */
export function parseGlibcVersion(text: string | null | undefined): [number, number] | undefined {
  if (typeof text !== "string") return undefined;
  const m = /^(\d+)\.(\d+)/.exec(text);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2])];
}

/**
 * The musl loader, run bare, prints "musl libc (x86_64)" then "Version 1.2.4" (then a usage
 * line) on stderr: → [1, 2]. Anything else → undefined.
 */
export function parseMuslVersion(output: string | null | undefined): [number, number] | undefined {
  if (typeof output !== "string") return undefined;
  const lines = output
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const [first, second] = lines;
  if (first === undefined || second === undefined || !first.startsWith("musl")) return undefined;
  const m = /^Version (\d+)\.(\d+)/.exec(second);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2])];
}

const ELFCLASS32 = 1;
const ELFDATA2LSB = 1;
const EM_386 = 3;
const EM_ARM = 40;
const EF_ARM_ABIMASK = 0xff000000;
const EF_ARM_ABI_VER5 = 0x05000000;
const EF_ARM_ABI_FLOAT_HARD = 0x00000400;

/** A 32-bit little-endian ARM EABI5 binary using the hard-float calling convention. */
export function isArmHardFloat(elf: ProbeElf | null | undefined): boolean {
  if (!elf) return false;
  const flags = elf.flags >>> 0;
  return (
    elf.elfClass === ELFCLASS32 &&
    elf.elfData === ELFDATA2LSB &&
    elf.machine === EM_ARM &&
    (flags & EF_ARM_ABIMASK) >>> 0 === EF_ARM_ABI_VER5 &&
    (flags & EF_ARM_ABI_FLOAT_HARD) === EF_ARM_ABI_FLOAT_HARD
  );
}

/** A 32-bit little-endian i386 binary. */
export function isI386(elf: ProbeElf | null | undefined): boolean {
  return (
    !!elf && elf.elfClass === ELFCLASS32 && elf.elfData === ELFDATA2LSB && elf.machine === EM_386
  );
}

/**
 * Whether an interpreter whose arches are `archs` (closest first) and whose binary is `elf`
 * can load manylinux wheels at all: armv7l needs hard-float, i686 needs an i386 binary,
 * the 64-bit arches manylinux defines need nothing more, anything else cannot.
 */
export function manylinuxAbiCompatible(archs: readonly string[], elf: ProbeElf | null): boolean {
  if (archs.includes("armv7l")) return isArmHardFloat(elf);
  if (archs.includes("i686")) return isI386(elf);
  return archs.some((a) => PLAIN_MANYLINUX_ARCHES.has(a));
}
