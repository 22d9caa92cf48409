/**
 * The dynamic section of an ELF file: the libraries it needs (DT_NEEDED), its soname and its
 * search path (DT_RUNPATH / DT_RPATH), found through the program headers; and rewriting the
 * search path in place: the new string is written over the old one in .dynstr (it must not
 * be longer), as chrpath does, so nothing else in the file moves. The header and the section
 * table come from header.ts and sections.ts.
 */
import { fstatSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { isSlimenvError, SlimenvError } from "../base/index.ts";
import { type ElfHeader, programHeaderTable, readElfHeader } from "./header.ts";
import { bytesReader, type ReadAt, withFileReader } from "./read.ts";
import { readSectionHeaders, type SectionHeader } from "./sections.ts";

const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_SONAME = 14;
const DT_RPATH = 15;
const DT_RUNPATH = 29;
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const SHT_DYNSYM = 11;
const SHT_GNU_VERDEF = 0x6ffffffd;
const SHT_GNU_VERNEED = 0x6ffffffe;

export interface ElfSearchPath {
  /** DT_RUNPATH or DT_RPATH. */
  tag: "RUNPATH" | "RPATH";
  value: string;
  /** Offset of the string in the file. */
  fileOffset: number;
}

export interface ElfDynamic {
  needed: string[];
  soname: string | undefined;
  searchPaths: ElfSearchPath[];
}

interface Parsed {
  h: ElfHeader;
  /** [tag, value] of every dynamic entry. */
  entries: [number, number][];
  /** File offset of the dynamic string table (0: none). */
  strtab: number;
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The dynamic entries and string table; undefined when the file is not ELF. */
function parse(read: ReadAt, fileSize: number): Parsed | undefined {
  let h: ElfHeader;
  try {
    h = readElfHeader(read);
  } catch (err) {
    if (isSlimenvError(err, "INVALID_ELF")) return undefined;
    throw err;
  }
  const { u32, word } = h.fields;
  const is64 = h.bits === 64;
  const loads: { vaddr: number; offset: number; filesz: number }[] = [];
  const entries: [number, number][] = [];
  try {
    const ph = programHeaderTable(h);
    const need = is64 ? 40 : 20;
    let dyn: { offset: number; size: number } | undefined;
    for (let i = 0; i < ph.count; i++) {
      const p = ph.offset + i * ph.entrySize;
      if (p + ph.entrySize > fileSize) break;
      const bytes = read(p, need);
      if (bytes.length < need) break;
      const v = dataView(bytes);
      const type = u32(v, 0);
      const offset = word(v, is64 ? 8 : 4);
      const vaddr = word(v, is64 ? 16 : 8);
      const filesz = word(v, is64 ? 32 : 16);
      if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
      if (type === PT_DYNAMIC) dyn = { offset, size: filesz };
    }
    if (dyn !== undefined) {
      const entSize = is64 ? 16 : 8;
      const end = Math.min(dyn.offset + dyn.size, fileSize);
      const v = dataView(read(dyn.offset, Math.max(0, end - dyn.offset)));
      for (let p = 0; p + entSize <= v.byteLength; p += entSize) {
        const tag = word(v, p);
        if (tag === DT_NULL) break;
        entries.push([tag, word(v, p + entSize / 2)]);
      }
    }
  } catch (err) {
    // A damaged table: what was read before it counts, the rest does not.
    if (!isSlimenvError(err, "INVALID_ELF")) throw err;
  }
  const strVaddr = entries.find(([t]) => t === DT_STRTAB)?.[1];
  let strtab = 0;
  if (strVaddr !== undefined) {
    const seg = loads.find((l) => strVaddr >= l.vaddr && strVaddr < l.vaddr + l.filesz);
    if (seg !== undefined) strtab = strVaddr - seg.vaddr + seg.offset;
  }
  return { h, entries, strtab };
}

/** The bytes of the NUL-terminated string at `at` (up to the end of the file). */
function stringBytes(read: ReadAt, at: number, fileSize: number): Buffer {
  const parts: Uint8Array[] = [];
  for (let pos = at; pos < fileSize; ) {
    const chunk = read(pos, Math.min(256, fileSize - pos));
    if (chunk.length === 0) break;
    const nul = chunk.indexOf(0);
    parts.push(nul < 0 ? chunk : chunk.subarray(0, nul));
    if (nul >= 0) break;
    pos += chunk.length;
  }
  return Buffer.concat(parts);
}

/** Where a symbol-version record and its aux records keep their counts, links and names. */
interface VersionLayout {
  size: number;
  count: number;
  /** The record's own name (Verneed's file), if it has one. */
  name?: number;
  aux: number;
  next: number;
  auxSize: number;
  auxName: number;
  auxNext: number;
}

/** Elf_Verneed (+ Elf_Vernaux) and Elf_Verdef (+ Elf_Verdaux). */
const VERNEED: VersionLayout = {
  size: 16,
  count: 2,
  name: 4,
  aux: 8,
  next: 12,
  auxSize: 16,
  auxName: 8,
  auxNext: 12,
};
const VERDEF: VersionLayout = {
  size: 20,
  count: 6,
  aux: 12,
  next: 16,
  auxSize: 8,
  auxName: 0,
  auxNext: 4,
};

/** The string offsets of a .gnu.version_r / .gnu.version_d section's chain of records. */
function versionRefs(v: DataView, h: ElfHeader, at: VersionLayout): number[] {
  const { u16, u32 } = h.fields;
  const refs: number[] = [];
  const end = v.byteLength;
  let p = 0;
  for (let guard = 0; guard < 10_000 && p + at.size <= end; guard++) {
    if (at.name !== undefined) refs.push(u32(v, p + at.name));
    let aux = p + u32(v, p + at.aux);
    for (let n = u16(v, p + at.count); n > 0 && aux + at.auxSize <= end; n--) {
      refs.push(u32(v, aux + at.auxName));
      const next = u32(v, aux + at.auxNext);
      if (next === 0) break;
      aux += next;
    }
    const next = u32(v, p + at.next);
    if (next === 0) break;
    p += next;
  }
  return refs;
}

/** String-table offsets used by .dynsym names and symbol-version records. */
function sectionRefs(read: ReadAt, h: ElfHeader, fileSize: number): number[] {
  let headers: SectionHeader[];
  try {
    headers = readSectionHeaders(read, h, fileSize).headers;
  } catch (err) {
    if (isSlimenvError(err, "INVALID_ELF")) return [];
    throw err;
  }
  const { u32 } = h.fields;
  const refs: number[] = [];
  for (const s of headers) {
    if (s.offset + s.size > fileSize) continue;
    if (s.type !== SHT_DYNSYM && s.type !== SHT_GNU_VERNEED && s.type !== SHT_GNU_VERDEF) continue;
    const v = dataView(read(s.offset, s.size));
    const end = v.byteLength;
    if (s.type === SHT_DYNSYM) {
      const ent = h.bits === 64 ? 24 : 16;
      for (let p = 0; p + ent <= end; p += ent) refs.push(u32(v, p));
    } else {
      refs.push(...versionRefs(v, h, s.type === SHT_GNU_VERNEED ? VERNEED : VERDEF));
    }
  }
  return refs;
}

function dynamicOf(read: ReadAt, fileSize: number): ElfDynamic | undefined {
  const p = parse(read, fileSize);
  if (p === undefined) return undefined;
  const str = (v: number) => stringBytes(read, p.strtab + v, fileSize).toString("latin1");
  const needed: string[] = [];
  let soname: string | undefined;
  const searchPaths: ElfSearchPath[] = [];
  if (p.strtab === 0) return { needed, soname, searchPaths };
  for (const [tag, value] of p.entries) {
    if (tag === DT_NEEDED) needed.push(str(value));
    else if (tag === DT_SONAME) soname = str(value);
    else if (tag === DT_RUNPATH || tag === DT_RPATH) {
      searchPaths.push({
        tag: tag === DT_RUNPATH ? "RUNPATH" : "RPATH",
        value: str(value),
        fileOffset: p.strtab + value,
      });
    }
  }
  return { needed, soname, searchPaths };
}

/** The dynamic facts of an ELF image; undefined when `buf` is not ELF. */
export function readElfDynamic(buf: Uint8Array): ElfDynamic | undefined {
  return dynamicOf(bytesReader(buf), buf.length);
}

/** Read a file's dynamic facts; undefined when it is not ELF (IO_ERROR when it cannot be opened). */
export async function readElfDynamicFile(file: string): Promise<ElfDynamic | undefined> {
  return withFileReader(file, (read, fd) => dynamicOf(read, fstatSync(fd).size));
}

/** Every directory of the search paths (RPATH and RUNPATH), as UTF-8. */
function runpathOf(dyn: ElfDynamic | undefined): string[] {
  return (dyn?.searchPaths ?? []).flatMap((s) =>
    Buffer.from(s.value, "latin1")
      .toString("utf8")
      .split(":")
      .filter((p) => p !== ""),
  );
}

/**
 * The directories the dynamic loader searches for this file's own DT_NEEDED entries, as
 * written (`$ORIGIN` not expanded): DT_RUNPATH when there is one (glibc then ignores
 * DT_RPATH), else DT_RPATH.
 */
export function loaderSearchDirs(dyn: ElfDynamic): { tag: "RUNPATH" | "RPATH"; dirs: string[] } {
  const tag = dyn.searchPaths.some((s) => s.tag === "RUNPATH") ? "RUNPATH" : "RPATH";
  return {
    tag,
    dirs: runpathOf({ ...dyn, searchPaths: dyn.searchPaths.filter((s) => s.tag === tag) }),
  };
}

/** The RPATH and RUNPATH entries of an ELF file's dynamic section (empty when none). */
export function elfRunpath(bytes: Uint8Array): string[] {
  return runpathOf(readElfDynamic(bytes));
}

/** RPATH/RUNPATH of a file (empty when it is not ELF; IO_ERROR when it cannot be opened). */
export function readElfRunpath(file: string): string[] {
  return runpathOf(withFileReader(file, (read, fd) => dynamicOf(read, fstatSync(fd).size)));
}

/**
 * Rewrite each DT_RUNPATH / DT_RPATH string of `buf` in place with `rewrite(old)`. Returns
 * the list of changes. Throws RUNTIME_UNSUPPORTED when a new string is longer than the old
 * one, or when the old string's bytes are shared with another name (linkers merge string
 * tails), since then it cannot be overwritten safely.
 */
export function rewriteSearchPaths(
  buf: Uint8Array,
  rewrite: (value: string) => string,
  what = "ELF file",
): { from: string; to: string }[] {
  const read = bytesReader(buf);
  const p = parse(read, buf.length);
  if (p === undefined || p.strtab === 0) return [];
  const changes: { from: string; to: string }[] = [];
  const pathOffsets = new Set(
    p.entries.filter(([t]) => t === DT_RUNPATH || t === DT_RPATH).map(([, v]) => v),
  );
  const refs = [
    ...p.entries.filter(([t]) => t === DT_NEEDED || t === DT_SONAME).map(([, v]) => v),
    ...sectionRefs(read, p.h, buf.length),
  ];
  for (const off of pathOffsets) {
    const at = p.strtab + off;
    const fromBytes = stringBytes(read, at, buf.length);
    const from = fromBytes.toString("latin1");
    const to = rewrite(from);
    if (to === from) continue;
    const fromLen = fromBytes.length;
    const toBytes = Buffer.from(to, "latin1");
    if (toBytes.length > fromLen) {
      throw new SlimenvError(
        "RUNTIME_UNSUPPORTED",
        `cannot rewrite the library search path of ${what}: ${JSON.stringify(to)} is longer than ${JSON.stringify(from)}`,
        { hint: "build the interpreter with a relative rpath ($ORIGIN/../lib) or a longer prefix" },
      );
    }
    if (refs.some((r) => r >= off && r < off + fromLen)) {
      throw new SlimenvError(
        "RUNTIME_UNSUPPORTED",
        `cannot rewrite the library search path of ${what}: its bytes are shared with another name`,
        { hint: "build the interpreter with a relative rpath ($ORIGIN/../lib)" },
      );
    }
    buf.set(toBytes, at);
    buf.fill(0, at + toBytes.length, at + fromLen);
    changes.push({ from, to });
  }
  return changes;
}

/** Rewrite a file's search paths in place (see rewriteSearchPaths); returns the changes. */
export async function rewriteSearchPathsFile(
  file: string,
  rewrite: (value: string) => string,
): Promise<{ from: string; to: string }[]> {
  const buf = await readFile(file);
  const changes = rewriteSearchPaths(buf, rewrite, file);
  if (changes.length > 0) await writeFile(file, buf);
  return changes;
}
