/**
 * The section header table (32/64-bit, little and big endian, extended numbering) and the
 * section names: enough to tell how many bytes of a file are debug information, and to find
 * the sections the dynamic-section reader needs. Reads the ELF header, the section header
 * table and the section-name string table; nothing else of the file.
 */
import { type ElfHeader, readElfHeader } from "./header.ts";
import { checkedView, cStringBytes, invalidElf, type ReadAt, withFileReader } from "./read.ts";

export interface ElfSection {
  name: string;
  /** sh_type (SHT_NOBITS = 8 occupies no file bytes). */
  type: number;
  offset: number;
  size: number;
}

/** A file's class, byte order, type, machine and sections. */
export interface ElfInfo {
  bits: 32 | 64;
  endian: "little" | "big";
  /** e_type: 1 relocatable, 2 executable, 3 shared object, 4 core. */
  type: number;
  /** e_machine, e.g. 62 x86-64, 183 aarch64. */
  machine: number;
  sections: ElfSection[];
}

/** One section header as stored: the name is an offset into the section-name table. */
export interface SectionHeader {
  nameOff: number;
  type: number;
  offset: number;
  size: number;
}

export const SHT_NOBITS = 8;
const SHN_XINDEX = 0xffff;
/** More section headers than this is not a real file; refuse rather than allocate. */
const MAX_SECTIONS = 1 << 20;

/** Debug information: `.debug_*` and compressed `.zdebug_*` sections (also LTO's `.gnu.debuglto_`). */
export function isDebugSection(name: string): boolean {
  return (
    name.startsWith(".debug") || name.startsWith(".zdebug") || name.startsWith(".gnu.debuglto_")
  );
}

/**
 * The section header table of the file `read` gives (`fileSize` long) and the index of its
 * section-name table (0: none). Throws INVALID_ELF when the table does not fit in the file.
 */
export function readSectionHeaders(
  read: ReadAt,
  h: ElfHeader,
  fileSize: number,
): { headers: SectionHeader[]; shstrndx: number } {
  const { what, fields, shoff, shentsize } = h;
  const is64 = h.bits === 64;
  if (shoff === 0) return { headers: [], shstrndx: 0 };
  const entry = is64 ? 64 : 40;
  if (shentsize < entry) invalidElf(what, `section header size ${shentsize} is below ${entry}`);
  const readHeader = (i: number): DataView => {
    const at = shoff + i * shentsize;
    if (at + entry > fileSize)
      invalidElf(what, `section header ${i} lies past the end of the file`);
    return checkedView(read(at, entry), entry, what, `section header ${i}`);
  };
  let shnum = h.shnum;
  let shstrndx = h.shstrndx;
  // Extended numbering: with 0xff00+ sections, the count and the string-table index live in
  // section header 0 (sh_size and sh_link).
  if (shnum === 0 || shstrndx === SHN_XINDEX) {
    const zero = readHeader(0);
    if (shnum === 0) shnum = fields.word(zero, is64 ? 32 : 20);
    if (shstrndx === SHN_XINDEX) shstrndx = fields.u32(zero, is64 ? 40 : 24);
  }
  if (shnum > MAX_SECTIONS) invalidElf(what, `${shnum} sections is not plausible`);
  if (shoff + shnum * shentsize > fileSize) {
    invalidElf(
      what,
      `the section header table (${shnum} × ${shentsize} bytes at ${shoff}) lies past the end of the file`,
    );
  }
  const tv = checkedView(
    read(shoff, shnum * shentsize),
    shnum * shentsize,
    what,
    "the section header table",
  );
  const headers: SectionHeader[] = [];
  for (let i = 0; i < shnum; i++) {
    const b = i * shentsize;
    headers.push({
      nameOff: fields.u32(tv, b),
      type: fields.u32(tv, b + 4),
      offset: fields.word(tv, b + (is64 ? 24 : 16)),
      size: fields.word(tv, b + (is64 ? 32 : 20)),
    });
  }
  return { headers, shstrndx };
}

/**
 * Parse the section headers of the ELF file whose bytes `read` gives (`fileSize` long).
 * Throws INVALID_ELF for a file that is not ELF or whose headers do not fit in the file.
 */
export function parseElf(read: ReadAt, fileSize: number, what = "ELF file"): ElfInfo {
  const h = readElfHeader(read, what);
  const { bits, endian, type, machine } = h;
  const { headers, shstrndx } = readSectionHeaders(read, h, fileSize);
  let names: Uint8Array = new Uint8Array(0);
  if (shstrndx !== 0) {
    const strtab = headers[shstrndx];
    if (strtab === undefined)
      invalidElf(what, `section-name table index ${shstrndx} is out of range`);
    if (strtab.type !== SHT_NOBITS) {
      if (strtab.offset + strtab.size > fileSize)
        invalidElf(what, "the section-name table lies past the end of the file");
      names = read(strtab.offset, strtab.size);
    }
  }
  const latin1 = new TextDecoder("latin1");
  const sections = headers.map((s) => ({
    name: latin1.decode(cStringBytes(names, s.nameOff)),
    type: s.type,
    offset: s.offset,
    size: s.size,
  }));
  return { bits, endian, type, machine, sections };
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

/** Parse the ELF file at `file` (throws INVALID_ELF, or IO_ERROR when it cannot be read). */
export function readElfFile(file: string, fileSize: number): ElfInfo {
  return withFileReader(file, (read) => parseElf(read, fileSize, file));
}
