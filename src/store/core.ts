/** What the store's parts share: paths, the index connection, settings; wheel rows ↔ data. */
import { lstatSync } from "node:fs";
import type { DatabaseSync } from "node:sqlite";
import type { Reporter } from "../base/index.ts";
import { objectFile, type StorePaths } from "./paths.ts";
import { writeTransaction } from "./schema.ts";
import type { StoredFile, StoredWheel, WheelLimits } from "./types.ts";

export interface StoreCore {
  paths: StorePaths;
  db: DatabaseSync;
  reporter: Reporter;
  limits: WheelLimits;
  /** fsync object files before they are linked into objects/ (power-loss safety). */
  fsync: boolean;
  /** Worker threads that unpack wheels (0: the calling thread). */
  unpackThreads: number;
  /**
   * Bookkeeping written later in one transaction (flushPending): wheels used (last_used),
   * and where stored wheels can be downloaded again — not one write transaction per wheel.
   */
  pending: { used: Set<string>; urls: Map<string, string> };
  now(): number;
}

interface WheelRow {
  id: number;
  sha256: string;
  filename: string;
  name: string;
  version: string;
  tags: string;
  root_is_purelib: number;
  record: string;
}

interface FileRow {
  path: string;
  hash: string;
  exec: number;
  size: number;
}

export function wheelId(core: StoreCore, sha256: string): number | undefined {
  const row = core.db.prepare("SELECT id FROM wheels WHERE sha256 = ?").get(sha256) as
    | { id: number }
    | undefined;
  return row?.id;
}

/** The stored wheel with this sha256, or undefined. Does not touch last_used. */
export function readWheel(core: StoreCore, sha256: string): StoredWheel | undefined {
  const row = core.db
    .prepare(
      "SELECT id, sha256, filename, name, version, tags, root_is_purelib, record FROM wheels WHERE sha256 = ?",
    )
    .get(sha256.toLowerCase()) as WheelRow | undefined;
  if (row === undefined) return undefined;
  const files = core.db
    .prepare("SELECT path, hash, exec, size FROM wheel_files WHERE wheel_id = ? ORDER BY seq")
    .all(row.id) as unknown as FileRow[];
  return {
    sha256: row.sha256,
    filename: row.filename,
    name: row.name,
    version: row.version,
    tags: JSON.parse(row.tags) as string[],
    rootIsPurelib: row.root_is_purelib !== 0,
    files: files.map(
      (f): StoredFile => ({ path: f.path, hash: f.hash, exec: f.exec !== 0, size: f.size }),
    ),
    record: row.record,
  };
}

/** Mark wheels used: their last_used is written by the next flushPending. */
export function touchWheels(core: StoreCore, sha256s: readonly string[]): void {
  for (const sha of sha256s) core.pending.used.add(sha);
}

/**
 * Write the pending bookkeeping (last-use times, download URLs) in one transaction. Called
 * before anything reads it (prune, verify, status, env registration) and on close; lost
 * only with the process, which costs an LRU hint and a repair URL, nothing more.
 */
export function flushPending(core: StoreCore): void {
  const { used, urls } = core.pending;
  if ((used.size === 0 && urls.size === 0) || !core.db.isOpen) return;
  const now = core.now();
  const touch = core.db.prepare("UPDATE wheels SET last_used = ? WHERE sha256 = ?");
  const remember = core.db.prepare("UPDATE wheels SET url = ? WHERE sha256 = ? AND url IS NULL");
  writeTransaction(core.db, () => {
    for (const sha of used) touch.run(now, sha);
    for (const [sha, url] of urls) remember.run(url, sha);
  });
  used.clear();
  urls.clear();
}

export function objectExists(core: StoreCore, hash: string, exec: boolean): boolean {
  try {
    return lstatSync(objectFile(core.paths, hash, exec)).isFile();
  } catch {
    return false;
  }
}
