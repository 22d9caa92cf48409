/**
 * Reading and patching the dynamic section of an ELF file: the libraries it needs
 * (DT_NEEDED) and its search path (DT_RUNPATH / DT_RPATH). A runtime copy rewrites search
 * paths that point into the original install to `$ORIGIN`-relative ones, in place: the new
 * string is written over the old one in .dynstr (it must not be longer), as chrpath does, so
 * nothing else in the file moves.
 */
import { readFile, writeFile } from "node:fs/promises";
import { SlimenvError } from "../base/index.ts";

const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_STRSZ = 10;
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

interface Reader {
  is64: boolean;
  u16(off: number): number;
  u32(off: number): number;
  word(off: number): number;
}

function reader(buf: Buffer): Reader | undefined {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = buf[4] === 2;
  const le = buf[5] !== 2;
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const u64 = (o: number) => Number(le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o));
  return { is64, u16, u32, word: is64 ? u64 : u32 };
}

interface Parsed {
  r: Reader;
  /** [tag, value] of every dynamic entry. */
  entries: [number, number][];
  strtab: number;
  strsz: number;
  /** String-table offsets referenced from elsewhere (symbols, versions). */
  otherRefs: number[];
}

function parse(buf: Buffer): Parsed | undefined {
  const r = reader(buf);
  if (r === undefined) return undefined;
  const phoff = r.word(r.is64 ? 0x20 : 0x1c);
  const phentsize = r.u16(r.is64 ? 0x36 : 0x2a);
  const phnum = r.u16(r.is64 ? 0x38 : 0x2c);
  const loads: { vaddr: number; offset: number; filesz: number }[] = [];
  let dyn: { offset: number; size: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (p + phentsize > buf.length) break;
    const type = r.u32(p);
    const offset = r.word(r.is64 ? p + 8 : p + 4);
    const vaddr = r.word(r.is64 ? p + 16 : p + 8);
    const filesz = r.word(r.is64 ? p + 32 : p + 16);
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    if (type === PT_DYNAMIC) dyn = { offset, size: filesz };
  }
  if (dyn === undefined) return { r, entries: [], strtab: 0, strsz: 0, otherRefs: [] };
  const entSize = r.is64 ? 16 : 8;
  const entries: [number, number][] = [];
  for (
    let p = dyn.offset;
    p + entSize <= dyn.offset + dyn.size && p + entSize <= buf.length;
    p += entSize
  ) {
    const tag = r.word(p);
    if (tag === DT_NULL) break;
    entries.push([tag, r.word(p + entSize / 2)]);
  }
  const strVaddr = entries.find(([t]) => t === DT_STRTAB)?.[1];
  const strsz = entries.find(([t]) => t === DT_STRSZ)?.[1] ?? 0;
  let strtab = 0;
  if (strVaddr !== undefined) {
    const seg = loads.find((l) => strVaddr >= l.vaddr && strVaddr < l.vaddr + l.filesz);
    if (seg !== undefined) strtab = strVaddr - seg.vaddr + seg.offset;
  }
  return { r, entries, strtab, strsz, otherRefs: sectionRefs(buf, r) };
}

/** String offsets used by .dynsym names and symbol-version records (from section headers). */
function sectionRefs(buf: Buffer, r: Reader): number[] {
  const refs: number[] = [];
  const shoff = r.word(r.is64 ? 0x28 : 0x20);
  const shentsize = r.u16(r.is64 ? 0x3a : 0x2e);
  const shnum = r.u16(r.is64 ? 0x3c : 0x30);
  if (shoff === 0 || shoff + shnum * shentsize > buf.length) return refs;
  for (let i = 0; i < shnum; i++) {
    const s = shoff + i * shentsize;
    const type = r.u32(s + 4);
    const offset = r.word(r.is64 ? s + 0x18 : s + 0x10);
    const size = r.word(r.is64 ? s + 0x20 : s + 0x14);
    if (offset + size > buf.length) continue;
    if (type === SHT_DYNSYM) {
      const ent = r.is64 ? 24 : 16;
      for (let p = offset; p + ent <= offset + size; p += ent) refs.push(r.u32(p));
    } else if (type === SHT_GNU_VERNEED) {
      let p = offset;
      for (let guard = 0; guard < 10_000 && p + 16 <= buf.length; guard++) {
        refs.push(r.u32(p + 4));
        let aux = p + r.u32(p + 8);
        for (let n = r.u16(p + 2); n > 0 && aux + 16 <= buf.length; n--) {
          refs.push(r.u32(aux + 8));
          const next = r.u32(aux + 12);
          if (next === 0) break;
          aux += next;
        }
        const next = r.u32(p + 12);
        if (next === 0) break;
        p += next;
      }
    } else if (type === SHT_GNU_VERDEF) {
      let p = offset;
      for (let guard = 0; guard < 10_000 && p + 20 <= buf.length; guard++) {
        let aux = p + r.u32(p + 12);
        for (let n = r.u16(p + 6); n > 0 && aux + 8 <= buf.length; n--) {
          refs.push(r.u32(aux));
          const next = r.u32(aux + 4);
          if (next === 0) break;
          aux += next;
        }
        const next = r.u32(p + 16);
        if (next === 0) break;
        p += next;
      }
    }
  }
  return refs;
}

function cString(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  return buf.toString("latin1", at, end < 0 ? buf.length : end);
}

/** The dynamic facts of an ELF image; undefined when `buf` is not ELF. */
export function readElfDynamic(buf: Buffer): ElfDynamic | undefined {
  const p = parse(buf);
  if (p === undefined) return undefined;
  const str = (v: number) => cString(buf, p.strtab + v);
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

/** Read a file's dynamic facts; undefined when it is not ELF. */
export async function readElfDynamicFile(file: string): Promise<ElfDynamic | undefined> {
  return readElfDynamic(await readFile(file));
}

/**
 * Rewrite each DT_RUNPATH / DT_RPATH string of `buf` in place with `rewrite(old)`. Returns
 * the list of changes. Throws RUNTIME_UNSUPPORTED when a new string is longer than the old
 * one, or when the old string's bytes are shared with another name (linkers merge string
 * tails), since then it cannot be overwritten safely.
 */
export function rewriteSearchPaths(
  buf: Buffer,
  rewrite: (value: string) => string,
  what = "ELF file",
): { from: string; to: string }[] {
  const p = parse(buf);
  if (p === undefined || p.strtab === 0) return [];
  const changes: { from: string; to: string }[] = [];
  const pathOffsets = new Set(
    p.entries.filter(([t]) => t === DT_RUNPATH || t === DT_RPATH).map(([, v]) => v),
  );
  const refs = [
    ...p.entries.filter(([t]) => t === DT_NEEDED || t === DT_SONAME).map(([, v]) => v),
    ...p.otherRefs,
  ];
  for (const off of pathOffsets) {
    const at = p.strtab + off;
    const from = cString(buf, at);
    const to = rewrite(from);
    if (to === from) continue;
    const fromLen = Buffer.byteLength(from, "latin1");
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
    toBytes.copy(buf, at);
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
