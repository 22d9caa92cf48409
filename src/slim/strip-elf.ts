/**
 * Just enough ELF reading for stripping: class, byte order, machine (as the wheel-tag
 * architecture name), and the RPATH/RUNPATH of a shared object (to recognise files that
 * auditwheel repaired and patchelf rewrote).
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";

export interface ElfInfo {
  bits: 32 | 64;
  littleEndian: boolean;
  /** e_machine. */
  machine: number;
  /** Wheel-tag architecture (x86_64, aarch64, i686, armv7l, ppc64le…), or `em<N>` if unknown. */
  arch: string;
  /** e_type: 1 REL, 2 EXEC, 3 DYN, 4 CORE. */
  type: number;
}

/** Architecture names as wheel platform tags spell them, by e_machine. */
export function elfArch(machine: number, bits: 32 | 64, littleEndian: boolean): string {
  switch (machine) {
    case 3:
      return "i686";
    case 62:
      return "x86_64";
    case 183:
      return "aarch64";
    case 40:
      return "armv7l";
    case 20:
      return "ppc";
    case 21:
      return littleEndian ? "ppc64le" : "ppc64";
    case 22:
      return bits === 64 ? "s390x" : "s390";
    case 243:
      return bits === 64 ? "riscv64" : "riscv32";
    case 258:
      return "loongarch64";
    case 8:
      return bits === 64
        ? littleEndian
          ? "mips64el"
          : "mips64"
        : littleEndian
          ? "mipsel"
          : "mips";
    default:
      return `em${machine}`;
  }
}

/** The ELF header of `bytes`, or undefined when they are not an ELF file. */
export function parseElfHeader(bytes: Uint8Array): ElfInfo | undefined {
  if (bytes.length < 20) return undefined;
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    return undefined;
  }
  const cls = bytes[4];
  const data = bytes[5];
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = data === 1;
  const bits = cls === 1 ? 32 : 64;
  const type = view.getUint16(16, le);
  const machine = view.getUint16(18, le);
  return { bits, littleEndian: le, machine, arch: elfArch(machine, bits, le), type };
}

function readHead(file: string, length: number): Uint8Array {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** The ELF header of a file, or undefined when it is not ELF (or unreadable as such). */
export function readElfInfo(file: string): ElfInfo | undefined {
  return parseElfHeader(readHead(file, 64));
}

/** The RPATH and RUNPATH entries of an ELF file's dynamic section (empty when none). */
export function elfRunpath(bytes: Uint8Array): string[] {
  const info = parseElfHeader(bytes);
  if (info === undefined) return [];
  const le = info.littleEndian;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const is64 = info.bits === 64;
  const word = (off: number): number =>
    is64 ? Number(v.getBigUint64(off, le)) : v.getUint32(off, le);
  try {
    const phoff = word(is64 ? 32 : 28);
    const phentsize = v.getUint16(is64 ? 54 : 42, le);
    const phnum = v.getUint16(is64 ? 56 : 44, le);
    const loads: { offset: number; vaddr: number; filesz: number }[] = [];
    let dynamic: { offset: number; size: number } | undefined;
    for (let i = 0; i < phnum; i++) {
      const at = phoff + i * phentsize;
      const type = v.getUint32(at, le);
      const offset = is64 ? word(at + 8) : word(at + 4);
      const vaddr = is64 ? word(at + 16) : word(at + 8);
      const filesz = is64 ? word(at + 32) : word(at + 16);
      if (type === 1) loads.push({ offset, vaddr, filesz });
      if (type === 2) dynamic = { offset, size: filesz };
    }
    if (dynamic === undefined) return [];
    const entSize = is64 ? 16 : 8;
    let strtab: number | undefined;
    const pathOffsets: number[] = [];
    for (let at = dynamic.offset; at + entSize <= dynamic.offset + dynamic.size; at += entSize) {
      const tag = word(at);
      const val = word(at + entSize / 2);
      if (tag === 0) break;
      if (tag === 5) strtab = val;
      if (tag === 15 || tag === 29) pathOffsets.push(val);
    }
    if (strtab === undefined || pathOffsets.length === 0) return [];
    const seg = loads.find(
      (l) => strtab !== undefined && strtab >= l.vaddr && strtab < l.vaddr + l.filesz,
    );
    if (seg === undefined) return [];
    const strOff = strtab - seg.vaddr + seg.offset;
    const out: string[] = [];
    for (const rel of pathOffsets) {
      let end = strOff + rel;
      while (end < bytes.length && bytes[end] !== 0) end++;
      const text = Buffer.from(bytes.subarray(strOff + rel, end)).toString("utf8");
      out.push(...text.split(":").filter((p) => p !== ""));
    }
    return out;
  } catch {
    return [];
  }
}

/** RPATH/RUNPATH of a file (reads it whole; shared objects only). */
export function readElfRunpath(file: string): string[] {
  const size = statSync(file).size;
  return elfRunpath(readHead(file, size));
}

/**
 * True when the RPATH/RUNPATH points at a folder auditwheel made (`$ORIGIN/…/<name>.libs`):
 * the file was rewritten by patchelf.
 */
export function isAuditwheelPatched(runpath: readonly string[]): boolean {
  return runpath.some((p) => p.includes("$ORIGIN") && /(^|\/)[^/]*\.libs\/?$/.test(p));
}
