/**
 * A small ELF section-header reader (32/64-bit, little and big endian): enough to tell how
 * many bytes of a shared object are debug information. Reads the ELF header, the section
 * header table and the section-name string table; nothing else of the file.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { SlimenvError } from "../base/index.ts";

export interface ElfSection {
  name: string;
  /** sh_type (SHT_NOBITS = 8 occupies no file bytes). */
  type: number;
  offset: number;
  size: number;
}

export interface ElfInfo {
  bits: 32 | 64;
  endian: "little" | "big";
  /** e_type: 1 relocatable, 2 executable, 3 shared object, 4 core. */
  type: number;
  /** e_machine, e.g. 62 x86-64, 183 aarch64. */
  machine: number;
  sections: ElfSection[];
}

/** Reads `length` bytes at `offset`; may return fewer at the end of the file. */
export type ReadAt = (offset: number, length: number) => Uint8Array;

const SHT_NOBITS = 8;
const SHN_XINDEX = 0xffff;
/** More section headers than this is not a real file; refuse rather than allocate. */
const MAX_SECTIONS = 1 << 20;

/** True when `head` starts with the ELF magic `\x7fELF`. */
export function hasElfMagic(head: Uint8Array): boolean {
  return (
    head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46
  );
}

/** Debug information: `.debug_*` and compressed `.zdebug_*` sections (also LTO's `.gnu.debuglto_`). */
export function isDebugSection(name: string): boolean {
  return (
    name.startsWith(".debug") || name.startsWith(".zdebug") || name.startsWith(".gnu.debuglto_")
  );
}

function bad(what: string, message: string): never {
  throw new SlimenvError("INVALID_ELF", `${what}: ${message}`, {
    hint: "the file starts like an ELF file but its headers are damaged or truncated",
  });
}

/**
 * Parse the section headers of the ELF file whose bytes `read` gives (`fileSize` long).
 * Throws INVALID_ELF for a file that is not ELF or whose headers do not fit in the file.
 */
export function parseElf(read: ReadAt, fileSize: number, what = "ELF file"): ElfInfo {
  const ident = read(0, 16);
  if (!hasElfMagic(ident)) bad(what, "no ELF magic");
  const cls = ident[4];
  const data = ident[5];
  if (cls !== 1 && cls !== 2) bad(what, `unknown ELF class ${String(cls)}`);
  if (data !== 1 && data !== 2) bad(what, `unknown ELF data encoding ${String(data)}`);
  const bits = cls === 2 ? 64 : 32;
  const little = data === 1;
  const headerSize = bits === 64 ? 64 : 52;
  const header = view(read(0, headerSize), headerSize, what, "the ELF header");
  const u16 = (v: DataView, o: number) => v.getUint16(o, little);
  const u32 = (v: DataView, o: number) => v.getUint32(o, little);
  const word = (v: DataView, o: number) =>
    bits === 64 ? toSafe(v.getBigUint64(o, little), what) : v.getUint32(o, little);

  const type = u16(header, 16);
  const machine = u16(header, 18);
  const shoff = word(header, bits === 64 ? 0x28 : 0x20);
  const shentsize = u16(header, bits === 64 ? 0x3a : 0x2e);
  let shnum = u16(header, bits === 64 ? 0x3c : 0x30);
  let shstrndx = u16(header, bits === 64 ? 0x3e : 0x32);
  if (shoff === 0) return { bits, endian: little ? "little" : "big", type, machine, sections: [] };
  const entry = bits === 64 ? 64 : 40;
  if (shentsize < entry) bad(what, `section header size ${shentsize} is below ${entry}`);

  const readHeader = (i: number): DataView => {
    const at = shoff + i * shentsize;
    if (at + entry > fileSize) bad(what, `section header ${i} lies past the end of the file`);
    return view(read(at, entry), entry, what, `section header ${i}`);
  };
  // Extended numbering: with 0xff00+ sections, the count and the string-table index live in
  // section header 0 (sh_size and sh_link).
  if (shnum === 0 || shstrndx === SHN_XINDEX) {
    const zero = readHeader(0);
    if (shnum === 0) shnum = word(zero, bits === 64 ? 32 : 20);
    if (shstrndx === SHN_XINDEX) shstrndx = u32(zero, bits === 64 ? 40 : 24);
  }
  if (shnum > MAX_SECTIONS) bad(what, `${shnum} sections is not plausible`);
  if (shoff + shnum * shentsize > fileSize) {
    bad(
      what,
      `the section header table (${shnum} × ${shentsize} bytes at ${shoff}) lies past the end of the file`,
    );
  }
  const table = read(shoff, shnum * shentsize);
  const tv = view(table, shnum * shentsize, what, "the section header table");
  const raw: { nameOff: number; type: number; offset: number; size: number }[] = [];
  for (let i = 0; i < shnum; i++) {
    const b = i * shentsize;
    raw.push({
      nameOff: u32(tv, b),
      type: u32(tv, b + 4),
      offset: word(tv, b + (bits === 64 ? 24 : 16)),
      size: word(tv, b + (bits === 64 ? 32 : 20)),
    });
  }
  let names: Uint8Array = new Uint8Array(0);
  if (shstrndx !== 0) {
    const strtab = raw[shstrndx];
    if (strtab === undefined) bad(what, `section-name table index ${shstrndx} is out of range`);
    if (strtab.type !== SHT_NOBITS) {
      if (strtab.offset + strtab.size > fileSize)
        bad(what, "the section-name table lies past the end of the file");
      names = read(strtab.offset, strtab.size);
    }
  }
  const sections = raw.map((s) => ({
    name: cString(names, s.nameOff),
    type: s.type,
    offset: s.offset,
    size: s.size,
  }));
  return { bits, endian: little ? "little" : "big", type, machine, sections };
}

/** Bytes of the file that debug sections occupy (NOBITS sections occupy none). */
export function elfDebugBytes(info: ElfInfo, fileSize = Number.POSITIVE_INFINITY): number {
  let total = 0;
  for (const s of info.sections) {
    if (s.type === SHT_NOBITS || !isDebugSection(s.name)) continue;
    total += Math.max(0, Math.min(s.size, fileSize - s.offset));
  }
  return Math.min(total, fileSize);
}

/** A ReadAt over an open file descriptor. */
export function fdReader(fd: number): ReadAt {
  return (offset, length) => {
    const buf = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, buf, got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return got === length ? buf : buf.subarray(0, got);
  };
}

/** Parse the ELF file at `file` (throws INVALID_ELF, or IO_ERROR when it cannot be read). */
export function readElfFile(file: string, fileSize: number): ElfInfo {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (cause) {
    throw new SlimenvError("IO_ERROR", `cannot open ${file}: ${(cause as Error).message}`, {
      cause,
    });
  }
  try {
    return parseElf(fdReader(fd), fileSize, file);
  } finally {
    closeSync(fd);
  }
}

function view(bytes: Uint8Array, need: number, what: string, part: string): DataView {
  if (bytes.length < need) bad(what, `${part} is truncated`);
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toSafe(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) bad(what, `offset or size ${value} is too large`);
  return Number(value);
}

function cString(bytes: Uint8Array, at: number): string {
  if (at >= bytes.length) return "";
  let end = at;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return new TextDecoder("latin1").decode(bytes.subarray(at, end));
}
