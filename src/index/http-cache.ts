/**
 * The on-disk HTTP cache (RFC 9111 semantics, the parts an index client needs).
 *
 * Key: sha256 of the URL without credentials, the Accept header (content negotiation: the JSON
 * and HTML forms of a project page are different entries) and the Range header. Range requests
 * are cached as separate entries keyed by their exact range; only a 206 answer is stored under a
 * range key, only a 200 under a plain key.
 *
 * One entry = one file `<dir>/v1/<k0k1>/<key>`: a magic line, one line of JSON metadata (status,
 * headers, request/response times, body size and sha256), then the body. It is written to a
 * temp file beside it and renamed into place, so a reader sees either the old entry, the new one,
 * or none — never half of one. An entry whose size or sha256 does not match (a torn write on a
 * filesystem that lost data, a stray edit) is ignored and removed. Temp files left by a killed
 * process are never read.
 *
 * The cache dir may be shared (a CI cache, SLIMENV_HOME on a shared machine), so it behaves as a
 * shared cache: `no-store` and `private` answers are not stored, nor are answers to requests
 * that carried credentials unless the server marked them `public`, `s-maxage` or
 * `must-revalidate`. Freshness: `s-maxage`, else `max-age`, else `Expires` − `Date`, less the
 * entry's age (`Age` header + time in transit + time resident); `no-cache` always revalidates;
 * there is no heuristic freshness, so an answer without any of these is revalidated (ETag /
 * Last-Modified) or fetched again every time — it is still kept for `--offline`.
 */

import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../base/index.ts";
import { cacheHead, readCacheHead } from "./cache-head.ts";
import { HttpError } from "./http-errors.ts";
import type { HttpResponse } from "./http-types.ts";

const MAGIC = "slimenv-http-cache 1\n";

export interface CacheMeta {
  /** URL the entry answers, without credentials (for people inspecting the cache). */
  requestUrl: string;
  accept: string;
  range: string | undefined;
  /** Final URL after redirects, without credentials. */
  url: string;
  status: number;
  /** Lower-case names; content-length is the stored (decoded) body's length. */
  headers: Record<string, string>;
  /** ms since the epoch when the request that produced this answer was sent / answered. */
  requestTime: number;
  responseTime: number;
}

interface StoredMeta extends CacheMeta {
  size: number;
  sha256: string;
}

export interface CacheEntry {
  meta: CacheMeta;
  body: Uint8Array;
}

/** An entry's metadata with its body's size and sha256, its body not read. */
export interface CacheHead {
  meta: CacheMeta;
  size: number;
  sha256: string;
}

/** The cache key of a request. `url` must already be free of credentials. */
export function cacheKey(url: string, accept: string, range: string | undefined): string {
  return createHash("sha256")
    .update(`${url}\n${accept}\n${range ?? ""}`)
    .digest("hex");
}

export type CacheControl = Map<string, string | true>;

/** Parse a Cache-Control header into directive → value (`true` for a bare directive). */
export function parseCacheControl(value: string | undefined): CacheControl {
  const out: CacheControl = new Map();
  if (value === undefined) return out;
  for (const part of value.split(",")) {
    const eq = part.indexOf("=");
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name === "") continue;
    const raw = eq < 0 ? undefined : part.slice(eq + 1).trim();
    const val = raw === undefined ? true : raw.replace(/^"(.*)"$/, "$1");
    if (!out.has(name)) out.set(name, val);
  }
  return out;
}

function seconds(cc: CacheControl, name: string): number | undefined {
  const v = cc.get(name);
  if (typeof v !== "string" || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

function httpDate(value: string | undefined): number | undefined {
  // An HTTP-date always names a month; V8 would also read "0" or "2025" as dates.
  if (value === undefined || !/[a-z]{3}/i.test(value)) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** Freshness lifetime in ms from the response headers (0 when none is given). */
export function freshnessLifetime(headers: Record<string, string>): number {
  const cc = parseCacheControl(headers["cache-control"]);
  const shared = seconds(cc, "s-maxage");
  if (shared !== undefined) return shared * 1000;
  const maxAge = seconds(cc, "max-age");
  if (maxAge !== undefined) return maxAge * 1000;
  const expires = httpDate(headers.expires);
  if (headers.expires !== undefined) {
    if (expires === undefined) return 0; // an invalid Expires means "already expired"
    const date = httpDate(headers.date);
    return Math.max(0, expires - (date ?? 0));
  }
  return 0;
}

/** The entry's current age in ms (RFC 9111 §4.2.3). */
export function currentAge(meta: CacheMeta, now: number): number {
  const date = httpDate(meta.headers.date) ?? meta.responseTime;
  const ageHeader = Number(meta.headers.age);
  const ageValue = Number.isFinite(ageHeader) && ageHeader >= 0 ? ageHeader * 1000 : 0;
  const apparent = Math.max(0, meta.responseTime - date);
  const correctedAge = ageValue + (meta.responseTime - meta.requestTime);
  const initial = Math.max(apparent, correctedAge);
  return initial + Math.max(0, now - meta.responseTime);
}

/** True when the entry may be served without asking the server. */
export function isFresh(meta: CacheMeta, now: number): boolean {
  const cc = parseCacheControl(meta.headers["cache-control"]);
  if (cc.has("no-cache")) return false;
  return freshnessLifetime(meta.headers) > currentAge(meta, now);
}

/** Whether an answer may be stored (see the module comment). */
export function isStorable(
  status: number,
  headers: Record<string, string>,
  ranged: boolean,
  authorized: boolean,
): boolean {
  if (ranged ? status !== 206 : status !== 200) return false;
  const cc = parseCacheControl(headers["cache-control"]);
  if (cc.has("no-store") || cc.has("private")) return false;
  if ((headers.vary ?? "").split(",").some((v) => v.trim() === "*")) return false;
  if (authorized && !(cc.has("public") || cc.has("s-maxage") || cc.has("must-revalidate"))) {
    return false;
  }
  return true;
}

/** The conditional request headers that revalidate an entry. */
export function validatorHeaders(meta: CacheMeta): Record<string, string> {
  const out: Record<string, string> = {};
  if (meta.headers.etag !== undefined) out["if-none-match"] = meta.headers.etag;
  if (meta.headers["last-modified"] !== undefined) {
    out["if-modified-since"] = meta.headers["last-modified"];
  }
  return out;
}

const NOT_UPDATED_BY_304 = new Set(["content-length", "content-encoding", "transfer-encoding"]);

/** The entry after a 304: its headers updated from the 304's, its times reset. */
export function refreshed(
  meta: CacheMeta,
  headers: Record<string, string>,
  requestTime: number,
  responseTime: number,
): CacheMeta {
  const merged = { ...meta.headers };
  for (const [name, value] of Object.entries(headers)) {
    if (!NOT_UPDATED_BY_304.has(name)) merged[name] = value;
  }
  if (headers.age === undefined) delete merged.age;
  return { ...meta, headers: merged, requestTime, responseTime };
}

/** A directory of cache entries. Every method is best-effort about I/O except `write`. */
export class HttpCache {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = path.join(dir, "v1");
  }

  entryPath(key: string): string {
    return path.join(this.dir, key.slice(0, 2), key);
  }

  /** The entry for `key`, or undefined when absent or damaged (a damaged one is removed). */
  async read(key: string): Promise<CacheEntry | undefined> {
    const file = this.entryPath(key);
    let data: Buffer;
    try {
      data = await fs.readFile(file);
    } catch {
      return undefined;
    }
    const entry = decodeEntry(data);
    if (entry === undefined) await fs.rm(file, { force: true }).catch(() => {});
    return entry;
  }

  /**
   * The metadata of the entry for `key`, without reading its body (only a file whose length
   * matches is taken; the body's sha256 is checked when `read` reads it). Undefined when
   * absent or damaged (a damaged one is removed).
   */
  async readHead(key: string): Promise<CacheHead | undefined> {
    const file = this.entryPath(key);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, "r");
    } catch {
      return undefined;
    }
    let head: CacheHead | undefined;
    try {
      const { size } = await handle.stat();
      let chunk = Buffer.alloc(Math.min(size, 4096));
      let length = (await handle.read(chunk, 0, chunk.length, 0)).bytesRead;
      while (chunk.indexOf(10, MAGIC.length) < 0 && length < size && length < HEAD_LIMIT) {
        const more = Buffer.alloc(Math.min(size, chunk.length * 4, HEAD_LIMIT));
        chunk.copy(more, 0, 0, length);
        length += (await handle.read(more, length, more.length - length, length)).bytesRead;
        chunk = more;
      }
      head = decodeHead(chunk.subarray(0, length), size);
    } catch {
      head = undefined;
    } finally {
      await handle.close().catch(() => {});
    }
    if (head === undefined) await fs.rm(file, { force: true }).catch(() => {});
    return head;
  }

  /** Store an entry atomically (temp file + rename); `sha256`: the body's, when known. */
  async write(key: string, meta: CacheMeta, body: Uint8Array, sha256?: string): Promise<void> {
    const file = this.entryPath(key);
    await writeFileAtomic(file, encodeEntry(meta, body, sha256));
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.entryPath(key), { force: true }).catch(() => {});
  }
}

/** The most bytes `readHead` reads looking for the end of the metadata line. */
const HEAD_LIMIT = 1 << 20;

/** Hex sha256 of a body. */
export function bodySha256(body: Uint8Array): string {
  return createHash("sha256").update(body).digest("hex");
}

export function encodeEntry(meta: CacheMeta, body: Uint8Array, sha256?: string): Buffer {
  const stored: StoredMeta = {
    ...meta,
    size: body.byteLength,
    sha256: sha256 ?? bodySha256(body),
  };
  return Buffer.concat([cacheHead(MAGIC, stored), body]);
}

function decodeStoredMeta(data: Buffer): { stored: StoredMeta; end: number } | undefined {
  const head = readCacheHead(data, MAGIC);
  if (head === undefined) return undefined;
  const stored = head.meta as StoredMeta;
  const end = head.end;
  if (
    stored === null ||
    typeof stored !== "object" ||
    typeof stored.url !== "string" ||
    typeof stored.status !== "number" ||
    typeof stored.headers !== "object" ||
    stored.headers === null ||
    typeof stored.requestTime !== "number" ||
    typeof stored.responseTime !== "number" ||
    typeof stored.size !== "number" ||
    typeof stored.sha256 !== "string"
  ) {
    return undefined;
  }
  return { stored, end };
}

/**
 * The metadata of an entry from its first bytes (`data`, at least the metadata line) and the
 * file's length; undefined when the length does not match or the metadata is unreadable.
 */
export function decodeHead(data: Buffer, fileSize: number): CacheHead | undefined {
  const decoded = decodeStoredMeta(data);
  if (decoded === undefined) return undefined;
  const { stored, end } = decoded;
  if (fileSize !== end + 1 + stored.size) return undefined;
  const { size, sha256, ...meta } = stored;
  return { meta, size, sha256 };
}

/** Parse an entry file; undefined when it is not a complete, intact entry. */
export function decodeEntry(data: Buffer): CacheEntry | undefined {
  const decoded = decodeStoredMeta(data);
  if (decoded === undefined) return undefined;
  const { stored, end } = decoded;
  const body = data.subarray(end + 1);
  if (body.byteLength !== stored.size) return undefined;
  if (bodySha256(body) !== stored.sha256) return undefined;
  const { size: _size, sha256: _sha, ...meta } = stored;
  return { meta, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
}

/** The answer a cache entry holds; HttpError when its body is over `maxBytes`. */
export function responseFromCache(entry: CacheEntry, maxBytes: number | undefined): HttpResponse {
  const { meta, body } = entry;
  if (maxBytes !== undefined && body.byteLength > maxBytes) {
    throw new HttpError(
      meta.status,
      meta.url,
      `${meta.url}: the response is larger than the limit of ${maxBytes} bytes`,
    );
  }
  return {
    url: meta.url,
    status: meta.status,
    headers: { ...meta.headers },
    body,
    fromCache: true,
    cached: true,
  };
}
