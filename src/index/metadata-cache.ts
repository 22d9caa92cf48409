/**
 * Core metadata read from inside distribution files (METADATA of a wheel through HTTP range
 * requests or a download, PKG-INFO of an sdist), kept beside the HTTP cache. A file with a
 * sha256 never changes, so what was read from it holds for good: without this, every `lock`
 * asked an index without PEP 658 metadata files again — 69 range requests for the web set of
 * docs/benchmarks.md, each warm run.
 *
 * One entry per file, named by the sha256 the index gives for it; the entry records the URL
 * it was read from (another URL is a miss) and the sha256 of the metadata it holds (checked on
 * every read: an entry that does not match is removed). Written atomically (temp + rename).
 * Files without a sha256 are not kept.
 */
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../base/index.ts";
import { cacheHead, readCacheHead } from "./cache-head.ts";
import type { DistributionFile } from "./project.ts";
import { stripCredentials } from "./source-url.ts";

/** Bump when what an entry holds changes. */
export const METADATA_CACHE_FORMAT = 1;
const MAGIC = `slimenv-metadata ${METADATA_CACHE_FORMAT}\n`;

interface EntryMeta {
  /** sha256 of the distribution file. */
  file: string;
  /** Where it was read from, without credentials. */
  url: string;
  /** sha256 and size of the metadata bytes that follow. */
  sha256: string;
  size: number;
}

const SHA256 = /^[0-9a-f]{64}$/;

function fileSha256(file: DistributionFile): string | undefined {
  const sha = file.hashes.sha256?.toLowerCase();
  return sha !== undefined && SHA256.test(sha) ? sha : undefined;
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export class MetadataCache {
  readonly dir: string;

  /** `dir`: the HTTP cache folder; entries go to its `metadata<format>` folder. */
  constructor(dir: string) {
    this.dir = path.join(dir, `metadata${METADATA_CACHE_FORMAT}`);
  }

  /** The entry of `file`; undefined when it has no sha256 to name one by. */
  entryPath(file: DistributionFile): string | undefined {
    const sha = fileSha256(file);
    return sha === undefined ? undefined : path.join(this.dir, sha.slice(0, 2), sha);
  }

  /** The metadata read from `file` before, if any (a damaged entry is removed). */
  async read(file: DistributionFile): Promise<Uint8Array | undefined> {
    const entry = this.entryPath(file);
    if (entry === undefined) return undefined;
    let data: Buffer;
    try {
      data = await fs.readFile(entry);
    } catch {
      return undefined;
    }
    const head = readCacheHead(data, MAGIC);
    const meta = head?.meta as EntryMeta | undefined;
    const body = head === undefined ? undefined : data.subarray(head.end + 1);
    const intact =
      typeof meta === "object" &&
      meta !== null &&
      body !== undefined &&
      meta.file === fileSha256(file) &&
      body.byteLength === meta.size &&
      sha256(body) === meta.sha256;
    if (!intact) {
      await fs.rm(entry, { force: true }).catch(() => {});
      return undefined;
    }
    if (meta.url !== stripCredentials(file.url)) return undefined;
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  }

  /** Keep what was read from `file` (nothing for a file without a sha256). */
  async write(file: DistributionFile, metadata: Uint8Array): Promise<void> {
    const entry = this.entryPath(file);
    const sha = fileSha256(file);
    if (entry === undefined || sha === undefined) return;
    const meta: EntryMeta = {
      file: sha,
      url: stripCredentials(file.url),
      sha256: sha256(metadata),
      size: metadata.byteLength,
    };
    await writeFileAtomic(entry, Buffer.concat([cacheHead(MAGIC, meta), metadata]));
  }
}
