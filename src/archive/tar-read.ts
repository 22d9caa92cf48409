/**
 * Just enough of tar (ustar, pax `path`/`size` records, GNU long names) to pull a few small
 * files, such as an sdist's PKG-INFO, out of an uncompressed archive in memory.
 */
import { SlimenvError, stripCredentials } from "../base/index.ts";

function bad(what: string, why: string): SlimenvError {
  return new SlimenvError(
    "INDEX_ERROR",
    `unreadable tar archive ${stripCredentials(what)}: ${why}`,
  );
}

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8");

function cString(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return utf8.decode(nul < 0 ? bytes : bytes.subarray(0, nul));
}

function parseNumber(field: Uint8Array, what: string): number {
  if (field.length > 0 && ((field[0] ?? 0) & 0x80) !== 0) {
    // base-256 (GNU) for large values
    let value = (field[0] ?? 0) & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const text = latin1.decode(field).replace(/\0.*$/s, "").trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw bad(what, `bad number field ${JSON.stringify(text)}`);
  return Number.parseInt(text, 8);
}

function parsePax(data: Uint8Array, what: string): Map<string, string> {
  const out = new Map<string, string>();
  let p = 0;
  while (p < data.length) {
    const space = data.indexOf(0x20, p);
    if (space < 0) throw bad(what, "bad pax header");
    const len = Number.parseInt(latin1.decode(data.subarray(p, space)), 10);
    if (!Number.isSafeInteger(len) || len <= 0 || p + len > data.length) {
      throw bad(what, "bad pax record length");
    }
    const record = utf8.decode(data.subarray(space + 1, p + len - 1));
    const eq = record.indexOf("=");
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    p += len;
  }
  return out;
}

/** One member of a tar archive. */
export interface TarEntry {
  /** The path as stored, without a leading `./`. */
  path: string;
  /** `file` (regular, contiguous), `dir`, `symlink`, `hardlink`, or `other` (devices, fifos…). */
  type: "file" | "dir" | "symlink" | "hardlink" | "other";
  /** The permission bits. */
  mode: number;
  /** The link target of a symlink or hard link. */
  linkname: string;
  /** The data of a regular file (empty for the rest). */
  data: Uint8Array;
}

function entryType(flag: string): TarEntry["type"] {
  if (flag === "0" || flag === "\0" || flag === "7") return "file";
  if (flag === "5") return "dir";
  if (flag === "2") return "symlink";
  if (flag === "1") return "hardlink";
  return "other";
}

/**
 * Every member of an uncompressed tar archive, in archive order (pax and GNU long names and
 * long link names applied). Nothing is checked about the paths: the caller decides.
 */
export function readTarEntries(tar: Uint8Array, what: string): TarEntry[] {
  const found: TarEntry[] = [];
  let p = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax = new Map<string, string>();
  while (p + 512 <= tar.length) {
    const header = tar.subarray(p, p + 512);
    if (header.every((b) => b === 0)) return found;
    const stored = parseNumber(header.subarray(148, 156), what);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
    if (sum !== stored) throw bad(what, `bad header checksum at offset ${p}`);
    const type = String.fromCharCode(header[156] ?? 0);
    let size = parseNumber(header.subarray(124, 136), what);
    if (pax.has("size")) size = Number(pax.get("size"));
    if (!Number.isSafeInteger(size) || size < 0) throw bad(what, "bad entry size");
    const dataStart = p + 512;
    const dataEnd = dataStart + size;
    if (dataEnd > tar.length) throw bad(what, "truncated archive");
    const data = tar.subarray(dataStart, dataEnd);
    p = dataStart + Math.ceil(size / 512) * 512;

    if (type === "x") {
      pax = parsePax(data, what);
      continue;
    }
    if (type === "g") continue;
    if (type === "L") {
      longName = cString(data);
      continue;
    }
    if (type === "K") {
      longLink = cString(data);
      continue;
    }
    let path = cString(header.subarray(0, 100));
    const magic = latin1.decode(header.subarray(257, 262));
    if (magic === "ustar") {
      const prefix = cString(header.subarray(345, 500));
      if (prefix !== "") path = `${prefix}/${path}`;
    }
    if (longName !== undefined) path = longName;
    const paxPath = pax.get("path");
    if (paxPath !== undefined) path = paxPath;
    let linkname = longLink ?? cString(header.subarray(157, 257));
    const paxLink = pax.get("linkpath");
    if (paxLink !== undefined) linkname = paxLink;
    const mode = parseNumber(header.subarray(100, 108), what) & 0o7777;
    longName = undefined;
    longLink = undefined;
    pax = new Map();
    path = path.replace(/^(\.\/)+/, "");
    const kind = entryType(type);
    found.push({
      path,
      type: kind,
      mode,
      linkname,
      data: kind === "file" ? data : new Uint8Array(0),
    });
  }
  // Some writers leave out the two zero blocks at the end; a clean end is still an end.
  if (p === tar.length) return found;
  throw bad(what, "truncated archive");
}

/** Regular files whose path (without a leading `./`) satisfies `wanted`, in archive order. */
export function findTarFiles(
  tar: Uint8Array,
  wanted: (path: string) => boolean,
  what: string,
): { path: string; data: Uint8Array }[] {
  return readTarEntries(tar, what)
    .filter((e) => e.type === "file" && wanted(e.path))
    .map((e) => ({ path: e.path, data: e.data }));
}
