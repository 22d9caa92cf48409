/**
 * The on-disk cache of compact project pages (page-compact.ts), beside the HTTP cache.
 *
 * PyPI sends project pages without ETag, Last-Modified or a lifetime, so every run fetches
 * every page again (27 MB for a 45-package set). Reading them is what costs: this cache keeps
 * the compact form of each page, so a page whose bytes did not change is not read again.
 *
 * One entry per page request (the key of the HTTP cache: URL without credentials and Accept),
 * replaced when the page changes, so the cache holds at most one entry per project page the
 * HTTP cache holds. The entry names the body it was made from (sha256), the final URL, the
 * Content-Type and the project: any difference is a miss, and the page is read again.
 *
 * File: a magic line (with the format version: an entry written by another version of the
 * reader is a miss), one line of JSON metadata, the header, a newline, the blob. The metadata
 * gives the header's and the blob's sizes and a CRC-32 of both; an entry that does not match
 * (torn, truncated, edited) is ignored and removed. Written to a temp file and renamed into
 * place: concurrent runs each write a whole entry, and a reader sees an old one, a new one or
 * none.
 *
 * A page read from the cache keeps its entry open and reads the details of a version (URL,
 * hashes…) from it when they are asked for, instead of holding the blob (12 MB for the web
 * set of docs/benchmarks.md; a resolution asks for a few dozen versions of ~9,000). The whole
 * entry is checked (CRC-32) when it is opened; an open file keeps the entry it was opened on,
 * whatever replaces or removes its name later. The file is closed when the page is collected.
 */

import { readSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { crc32 } from "node:zlib";
import { writeFileAtomic } from "../base/index.ts";
import { cacheHead, readCacheHead } from "./cache-head.ts";
import { CompactPage, type DetailsSource } from "./page-compact.ts";
import type { EncodedPage } from "./page-encode.ts";

/** Bump when page-compact.ts, or how a page is read into links, changes what an entry holds. */
export const PAGE_CACHE_FORMAT = 1;
const MAGIC = `slimenv-page ${PAGE_CACHE_FORMAT}\n`;

/** What an entry must have been made from to answer. */
export interface PageSource {
  /** sha256 (hex) of the page's body. */
  body: string;
  /** Final URL of the page, without credentials. */
  url: string;
  contentType: string | undefined;
  /** Canonical project name. */
  project: string;
}

interface EntryMeta extends PageSource {
  headerSize: number;
  blobSize: number;
  crc32: number;
}

export type PageCacheRead =
  | { page: CompactPage }
  | { page: undefined; why: "absent" | "changed" | "damaged" };

export class PageCache {
  readonly dir: string;

  /** `dir`: the HTTP cache folder; entries go to its `pages<format>` folder. */
  constructor(dir: string) {
    this.dir = path.join(dir, `pages${PAGE_CACHE_FORMAT}`);
  }

  entryPath(key: string): string {
    return path.join(this.dir, key.slice(0, 2), key);
  }

  /**
   * The page for `key` when it was made from `source`; `index` is recorded in the files.
   * A damaged entry is removed.
   */
  async read(key: string, source: PageSource, index: string): Promise<PageCacheRead> {
    const file = this.entryPath(key);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, "r");
    } catch {
      return { page: undefined, why: "absent" };
    }
    let entry: Entry | "changed" | undefined;
    try {
      entry = await readEntry(handle, source);
    } catch {
      entry = undefined;
    }
    let page: CompactPage | undefined;
    if (entry !== undefined && entry !== "changed") {
      try {
        page = new CompactPage(
          { header: entry.header, blob: new EntryDetails(handle, entry.blobAt, entry.blobSize) },
          source.project,
          index,
        );
      } catch {
        page = undefined;
      }
    }
    if (page === undefined) {
      await handle.close().catch(() => {});
      if (entry === "changed") return { page: undefined, why: "changed" };
      await fs.rm(file, { force: true }).catch(() => {});
      return { page: undefined, why: "damaged" };
    }
    openEntries.register(page, handle);
    return { page };
  }

  /** Store an entry atomically (temp file + rename). */
  async write(key: string, source: PageSource, encoded: EncodedPage): Promise<void> {
    await writeFileAtomic(this.entryPath(key), encodeEntry(source, encoded));
  }
}

export function encodeEntry(source: PageSource, encoded: EncodedPage): Buffer {
  const newline = Buffer.from("\n");
  const body = [encoded.header, newline, encoded.blob];
  let crc = 0;
  for (const part of body) crc = crc32(part, crc);
  const meta: EntryMeta = {
    body: source.body,
    url: source.url,
    contentType: source.contentType,
    project: source.project,
    headerSize: encoded.header.byteLength,
    blobSize: encoded.blob.byteLength,
    crc32: crc,
  };
  return Buffer.concat([cacheHead(MAGIC, meta), ...body]);
}

function decodeMeta(data: Buffer): { meta: EntryMeta; end: number } | undefined {
  const head = readCacheHead(data, MAGIC);
  if (head === undefined) return undefined;
  const meta = head.meta as EntryMeta;
  const end = head.end;
  if (
    typeof meta !== "object" ||
    meta === null ||
    typeof meta.body !== "string" ||
    typeof meta.url !== "string" ||
    (meta.contentType !== undefined && typeof meta.contentType !== "string") ||
    typeof meta.project !== "string" ||
    !Number.isSafeInteger(meta.headerSize) ||
    !Number.isSafeInteger(meta.blobSize) ||
    meta.headerSize < 0 ||
    meta.blobSize < 0 ||
    typeof meta.crc32 !== "number"
  ) {
    return undefined;
  }
  return { meta, end };
}

const META_LIMIT = 64 * 1024;

async function readExactly(handle: fs.FileHandle, length: number, position: number) {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) return undefined;
    done += bytesRead;
  }
  return buffer;
}

interface Entry {
  header: Buffer;
  /** Where the blob starts in the file, and its size. */
  blobAt: number;
  blobSize: number;
}

/** The CRC-32 of `length` bytes of a file from `position`, read a piece at a time. */
async function crcOfRange(
  handle: fs.FileHandle,
  position: number,
  length: number,
  crc: number,
): Promise<number | undefined> {
  const piece = Buffer.allocUnsafe(Math.min(length, CRC_PIECE));
  let done = 0;
  let sum = crc;
  while (done < length) {
    const want = Math.min(piece.byteLength, length - done);
    const { bytesRead } = await handle.read(piece, 0, want, position + done);
    if (bytesRead === 0) return undefined;
    sum = crc32(piece.subarray(0, bytesRead), sum);
    done += bytesRead;
  }
  return sum;
}

const CRC_PIECE = 1 << 20;

/**
 * Read an entry from an open file: the metadata line, the header into a buffer of its own, and
 * the blob only to check it (it stays in the file: EntryDetails). "changed" when the entry was
 * made from another page than `source`; undefined when it is not a whole, intact entry.
 */
async function readEntry(
  handle: fs.FileHandle,
  source: PageSource,
): Promise<Entry | "changed" | undefined> {
  const { size } = await handle.stat();
  const first = await readExactly(handle, Math.min(size, META_LIMIT), 0);
  const decoded = first === undefined ? undefined : decodeMeta(first);
  if (decoded === undefined) return undefined;
  const { meta, end } = decoded;
  if (size !== end + 1 + meta.headerSize + 1 + meta.blobSize) return undefined;
  if (
    meta.body !== source.body ||
    meta.url !== source.url ||
    meta.contentType !== source.contentType ||
    meta.project !== source.project
  ) {
    return "changed";
  }
  const header = await readExactly(handle, meta.headerSize + 1, end + 1);
  if (header === undefined || header[meta.headerSize] !== 10) return undefined;
  const blobAt = end + 2 + meta.headerSize;
  const crc = await crcOfRange(handle, blobAt, meta.blobSize, crc32(header));
  if (crc !== meta.crc32) return undefined;
  return { header: header.subarray(0, meta.headerSize), blobAt, blobSize: meta.blobSize };
}

/**
 * The blob of an open entry, read by range when a version's details are asked for. The page
 * asks synchronously; a few kilobytes per version, from a file just read (in the OS's cache).
 */
class EntryDetails implements DetailsSource {
  readonly byteLength: number;
  readonly #handle: fs.FileHandle;
  readonly #at: number;

  constructor(handle: fs.FileHandle, at: number, size: number) {
    this.#handle = handle;
    this.#at = at;
    this.byteLength = size;
  }

  read(start: number, end: number): Uint8Array {
    const length = end - start;
    const bytes = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.#handle.fd, bytes, done, length - done, this.#at + start + done);
      if (n === 0) throw new Error("not a compact page: the entry ends early");
      done += n;
    }
    return bytes;
  }
}

/** Entries kept open by the pages read from them: closed when the page is collected. */
const openEntries = new FinalizationRegistry<fs.FileHandle>((handle) => {
  handle.close().catch(() => {});
});
