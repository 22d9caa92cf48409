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
 */
import fs from "node:fs/promises";
import path from "node:path";
import { crc32 } from "node:zlib";
import { writeFileAtomic } from "../base/index.ts";
import { CompactPage, type EncodedPage } from "./page-compact.ts";

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
    let data: Buffer;
    try {
      data = await fs.readFile(file);
    } catch {
      return { page: undefined, why: "absent" };
    }
    const decoded = decodeEntry(data);
    if (decoded === undefined) {
      await fs.rm(file, { force: true }).catch(() => {});
      return { page: undefined, why: "damaged" };
    }
    const { meta, encoded } = decoded;
    if (
      meta.body !== source.body ||
      meta.url !== source.url ||
      meta.contentType !== source.contentType ||
      meta.project !== source.project
    ) {
      return { page: undefined, why: "changed" };
    }
    try {
      return { page: new CompactPage(encoded, source.project, index) };
    } catch {
      await fs.rm(file, { force: true }).catch(() => {});
      return { page: undefined, why: "damaged" };
    }
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
  return Buffer.concat([Buffer.from(`${MAGIC}${JSON.stringify(meta)}\n`, "utf8"), ...body]);
}

/** The metadata and parts of an entry file; undefined when it is not a whole, intact entry. */
export function decodeEntry(data: Buffer): { meta: EntryMeta; encoded: EncodedPage } | undefined {
  if (data.subarray(0, MAGIC.length).toString("utf8") !== MAGIC) return undefined;
  const end = data.indexOf(10, MAGIC.length);
  if (end < 0) return undefined;
  let meta: EntryMeta;
  try {
    meta = JSON.parse(data.subarray(MAGIC.length, end).toString("utf8")) as EntryMeta;
  } catch {
    return undefined;
  }
  if (
    typeof meta !== "object" ||
    meta === null ||
    typeof meta.body !== "string" ||
    typeof meta.url !== "string" ||
    (meta.contentType !== undefined && typeof meta.contentType !== "string") ||
    typeof meta.project !== "string" ||
    !Number.isSafeInteger(meta.headerSize) ||
    !Number.isSafeInteger(meta.blobSize) ||
    typeof meta.crc32 !== "number"
  ) {
    return undefined;
  }
  const rest = data.subarray(end + 1);
  if (rest.byteLength !== meta.headerSize + 1 + meta.blobSize) return undefined;
  if (rest[meta.headerSize] !== 10 || crc32(rest) !== meta.crc32) return undefined;
  return {
    meta,
    encoded: {
      header: rest.subarray(0, meta.headerSize),
      blob: rest.subarray(meta.headerSize + 1),
    },
  };
}
