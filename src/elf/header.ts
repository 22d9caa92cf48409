/**
 * The ELF header: identification (magic, class, byte order), e_type, e_machine and where the
 * program and section header tables lie; e_machine as the architecture name wheel tags use.
 * One parser for every reader in src/elf: `elfIdentity` for the first 20 bytes (enough to
 * tell an ELF file and its architecture), `readElfHeader` for the whole header.
 */
import {
  checkedView,
  type ElfFields,
  elfFields,
  invalidElf,
  type ReadAt,
  withFileReader,
} from "./read.ts";

/** What the first bytes of an ELF file say about it. */
export interface ElfHeaderInfo {
  bits: 32 | 64;
  littleEndian: boolean;
  /** e_machine, e.g. 62 x86-64, 183 aarch64. */
  machine: number;
  /** Wheel-tag architecture (x86_64, aarch64, i686, armv7l, ppc64le…), or `em<N>` if unknown. */
  arch: string;
  /** e_type: 1 REL, 2 EXEC, 3 DYN, 4 CORE. */
  type: number;
}

/** The whole ELF header, as the section and dynamic-section readers need it. */
export interface ElfHeader extends ElfHeaderInfo {
  endian: "little" | "big";
  /** Field readers for this file's class and byte order. */
  fields: ElfFields;
  /** e_shoff: where the section header table lies (0: the file has none). */
  shoff: number;
  /** e_shentsize, e_shnum and e_shstrndx as stored (0 / 0xffff: extended numbering). */
  shentsize: number;
  shnum: number;
  shstrndx: number;
  /** The header's bytes, for the fields read on demand (the program header table). */
  view: DataView;
  /** The file's name in messages. */
  what: string;
}

/** The largest ELF header (64-bit); a 32-bit one is 52 bytes. */
const MAX_HEADER = 64;

/** True when `head` starts with the ELF magic `\x7fELF`. */
export function hasElfMagic(head: Uint8Array): boolean {
  return (
    head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46
  );
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

/**
 * Class, byte order, type and machine from the first 20 bytes of a file, or why they are not
 * those of an ELF file.
 */
export function elfIdentity(head: Uint8Array): ElfHeaderInfo | string {
  if (!hasElfMagic(head)) return "no ELF magic";
  const cls = head[4];
  const data = head[5];
  if (cls !== 1 && cls !== 2) return `unknown ELF class ${String(cls)}`;
  if (data !== 1 && data !== 2) return `unknown ELF data encoding ${String(data)}`;
  if (head.length < 20) return "the ELF header is truncated";
  const bits = cls === 2 ? 64 : 32;
  const littleEndian = data === 1;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const type = view.getUint16(16, littleEndian);
  const machine = view.getUint16(18, littleEndian);
  return { bits, littleEndian, machine, arch: elfArch(machine, bits, littleEndian), type };
}

/** The ELF header of `bytes`, or undefined when they are not an ELF file. */
export function parseElfHeader(bytes: Uint8Array): ElfHeaderInfo | undefined {
  const id = elfIdentity(bytes);
  return typeof id === "string" ? undefined : id;
}

/** The ELF header of a file, or undefined when it is not ELF (IO_ERROR when it cannot be opened). */
export function readElfInfo(file: string): ElfHeaderInfo | undefined {
  return withFileReader(file, (read) => parseElfHeader(read(0, MAX_HEADER)));
}

/**
 * The whole ELF header of the file `read` gives. Throws INVALID_ELF naming `what` for a file
 * that is not ELF or whose header is truncated.
 */
export function readElfHeader(read: ReadAt, what = "ELF file"): ElfHeader {
  const head = read(0, MAX_HEADER);
  const id = elfIdentity(head);
  if (typeof id === "string") invalidElf(what, id);
  const is64 = id.bits === 64;
  const view = checkedView(head, is64 ? 64 : 52, what, "the ELF header");
  const fields = elfFields(id.bits, id.littleEndian, what);
  return {
    ...id,
    endian: id.littleEndian ? "little" : "big",
    fields,
    shoff: fields.word(view, is64 ? 0x28 : 0x20),
    shentsize: fields.u16(view, is64 ? 0x3a : 0x2e),
    shnum: fields.u16(view, is64 ? 0x3c : 0x30),
    shstrndx: fields.u16(view, is64 ? 0x3e : 0x32),
    view,
    what,
  };
}

/** e_phoff, e_phentsize and e_phnum (INVALID_ELF when the offset is not a plausible number). */
export function programHeaderTable(h: ElfHeader): {
  offset: number;
  entrySize: number;
  count: number;
} {
  const is64 = h.bits === 64;
  return {
    offset: h.fields.word(h.view, is64 ? 0x20 : 0x1c),
    entrySize: h.fields.u16(h.view, is64 ? 0x36 : 0x2a),
    count: h.fields.u16(h.view, is64 ? 0x38 : 0x2c),
  };
}
