/**
 * `store prune`: drop the registrations of envs whose manifest is gone, keep every wheel a
 * live env uses, evict the other wheels least recently used first until the store is under
 * `maxSize` (all of them without a cap), and delete the objects no remaining wheel uses.
 *
 * Crash safety: one transaction removes the evicted wheels and marks their objects in
 * pending_deletes; objects are then unlinked in later transactions, each object only if
 * still unreferenced (an import registering it meanwhile wins). A rerun finishes whatever
 * a killed run marked. Imports check, inside their registering transaction, that every
 * object they reference exists — so an object is never deleted under a wheel that uses it.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { BUILT_WHEEL_TRANSFORM, forgetEvictedBuilds } from "./built.ts";
import type { StoreCore } from "./core.ts";
import { deadEnvs } from "./envs.ts";
import { isObjectHash, objectFile } from "./paths.ts";
import { writeTransaction } from "./schema.ts";
import { objectFiles } from "./status.ts";
import { removeTree } from "./trees.ts";
import type { PrunedWheel, PruneReport } from "./types.ts";

export interface PruneOptions {
  /** Evict least recently used unreferenced wheels until the store is at most this big. */
  maxSize?: number;
  dryRun?: boolean;
}

const key = (hash: string, exec: number | boolean) => `${hash}:${exec ? 1 : 0}`;

function unkey(k: string): [string, number] {
  const [hash = "", exec = "0"] = k.split(":");
  return [hash, Number(exec)];
}

interface Plan {
  evict: { id: number; sha256: string; filename: string }[];
  doomed: string[];
  /** Derived objects no live env uses (their derived rows go too). */
  derivedDoomed: string[];
  sizeAfter: number;
}

/**
 * The object hashes the live envs' manifests name (their current generation). A derived object
 * none of them names is unused: the next env that needs it derives it again.
 */
function liveEnvHashes(core: StoreCore, liveEnvIds: readonly number[]): Set<string> | undefined {
  const hashes = new Set<string>();
  const stmt = core.db.prepare("SELECT manifest FROM envs WHERE id = ?");
  for (const id of liveEnvIds) {
    const row = stmt.get(id) as { manifest: string } | undefined;
    if (row === undefined) continue;
    let manifest: { packages?: { files?: { hash?: string }[] }[]; envFiles?: { hash?: string }[] };
    try {
      manifest = JSON.parse(readFileSync(row.manifest, "utf8"));
    } catch {
      return undefined; // a manifest that cannot be read: keep every derived object
    }
    for (const pkg of manifest.packages ?? []) {
      for (const f of pkg.files ?? []) if (typeof f.hash === "string") hashes.add(f.hash);
    }
    for (const f of manifest.envFiles ?? []) if (typeof f.hash === "string") hashes.add(f.hash);
  }
  return hashes;
}

function plan(core: StoreCore, liveEnvIds: readonly number[], maxSize: number | undefined): Plan {
  const { db } = core;
  const sizes = new Map<string, number>();
  for (const row of db.prepare("SELECT hash, exec, size FROM objects").all() as unknown as {
    hash: string;
    exec: number;
    size: number;
  }[]) {
    sizes.set(key(row.hash, row.exec), row.size);
  }
  const byWheel = new Map<number, string[]>();
  const refs = new Map<string, number>();
  for (const row of db
    .prepare("SELECT DISTINCT wheel_id, hash, exec, size FROM wheel_files")
    .all() as unknown as { wheel_id: number; hash: string; exec: number; size: number }[]) {
    const k = key(row.hash, row.exec);
    if (!sizes.has(k)) sizes.set(k, row.size);
    const list = byWheel.get(row.wheel_id) ?? [];
    list.push(k);
    byWheel.set(row.wheel_id, list);
    refs.set(k, (refs.get(k) ?? 0) + 1);
  }
  // Derived objects live as long as their source object does, and only while a live env uses
  // them (or a wheel holds the same bytes). Built wheels (rows whose output is a stored wheel,
  // not an object) are not derived objects here: a live env's env_wheels keep them, and they
  // are evicted like every other wheel below (forgetEvictedBuilds then drops their rows).
  const derivedBySource = new Map<string, string[]>();
  const used = liveEnvHashes(core, liveEnvIds);
  const derivedDoomed = new Set<string>();
  for (const row of db
    .prepare("SELECT hash, exec, transform, out_hash, out_exec FROM derived")
    .all() as unknown as {
    hash: string;
    exec: number;
    transform: string;
    out_hash: string;
    out_exec: number;
  }[]) {
    if (row.transform.startsWith(BUILT_WHEEL_TRANSFORM)) continue;
    const src = key(row.hash, row.exec);
    const out = key(row.out_hash, row.out_exec);
    if ((refs.get(src) ?? 0) === 0) continue;
    if (used !== undefined && !used.has(row.out_hash) && !byWheelRefs(refs, out)) {
      derivedDoomed.add(out);
      continue;
    }
    derivedBySource.set(src, [...(derivedBySource.get(src) ?? []), out]);
    refs.set(out, (refs.get(out) ?? 0) + 1);
  }
  for (const k of [...derivedDoomed]) if ((refs.get(k) ?? 0) > 0) derivedDoomed.delete(k);
  let size = 0;
  for (const [k, n] of refs) if (n > 0) size += sizes.get(k) ?? 0;
  const doomed = [...sizes.keys()].filter((k) => (refs.get(k) ?? 0) === 0);

  const live = new Set<number>();
  const liveStmt = db.prepare("SELECT wheel_id FROM env_wheels WHERE env_id = ?");
  for (const envId of liveEnvIds) {
    for (const row of liveStmt.all(envId) as unknown as { wheel_id: number }[]) {
      live.add(row.wheel_id);
    }
  }
  const candidates = (
    db
      .prepare("SELECT id, sha256, filename FROM wheels ORDER BY last_used, id")
      .all() as unknown as { id: number; sha256: string; filename: string }[]
  ).filter((w) => !live.has(w.id));
  const evict: Plan["evict"] = [];
  const release = (k: string) => {
    const n = (refs.get(k) ?? 0) - 1;
    refs.set(k, n);
    if (n === 0) {
      doomed.push(k);
      size -= sizes.get(k) ?? 0;
      for (const out of derivedBySource.get(k) ?? []) release(out);
    }
  };
  for (const wheel of candidates) {
    if (maxSize !== undefined && size <= maxSize) break;
    evict.push(wheel);
    for (const k of byWheel.get(wheel.id) ?? []) release(k);
  }
  return { evict, doomed, derivedDoomed: [...derivedDoomed], sizeAfter: size };
}

/** Whether a wheel holds these bytes as a file (wheel references are counted first). */
function byWheelRefs(refs: Map<string, number>, k: string): boolean {
  return (refs.get(k) ?? 0) > 0;
}

function fileSize(file: string): number {
  try {
    const st = lstatSync(file);
    return st.isFile() ? st.size : 0;
  } catch {
    return 0;
  }
}

/** Unlink the objects marked in pending_deletes that are still unreferenced. */
export function sweepPending(core: StoreCore): { objects: number; bytes: number } {
  const { db } = core;
  let objects = 0;
  let bytes = 0;
  // A derived object whose source is itself marked for deletion is not a reference.
  const referenced = db.prepare(
    `SELECT 1 FROM wheel_files WHERE hash = ? AND exec = ?
     UNION ALL SELECT 1 FROM derived d WHERE d.out_hash = ? AND d.out_exec = ?
       AND NOT EXISTS (SELECT 1 FROM pending_deletes p WHERE p.hash = d.hash AND p.exec = d.exec)
     LIMIT 1`,
  );
  for (;;) {
    const batch = db
      .prepare("SELECT hash, exec FROM pending_deletes LIMIT 500")
      .all() as unknown as { hash: string; exec: number }[];
    if (batch.length === 0) break;
    writeTransaction(db, () => {
      for (const { hash, exec } of batch) {
        db.prepare("DELETE FROM pending_deletes WHERE hash = ? AND exec = ?").run(hash, exec);
        if (referenced.get(hash, exec, hash, exec) !== undefined) continue;
        const file = objectFile(core.paths, hash, exec !== 0);
        const size = fileSize(file);
        try {
          unlinkSync(file);
          objects++;
          bytes += size;
        } catch (err) {
          if ((err as { code?: string }).code !== "ENOENT") throw err;
        }
        db.prepare("DELETE FROM objects WHERE hash = ? AND exec = ?").run(hash, exec);
        db.prepare("DELETE FROM derived WHERE hash = ? AND exec = ?").run(hash, exec);
      }
    });
  }
  return { objects, bytes };
}

/** Object files not in the index and older than the grace period: [path, hash, exec, size]. */
export function findOrphans(core: StoreCore, graceMs: number): [string, string, number, number][] {
  const known = core.db.prepare("SELECT 1 FROM objects WHERE hash = ? AND exec = ?");
  const out: [string, string, number, number][] = [];
  const now = core.now();
  for (const [file, name, shard] of objectFiles(core.paths.objects)) {
    const m = /^([0-9a-f]{62})(\.x)?$/.exec(name);
    if (m === null) continue;
    const hash = `${shard}${m[1]}`;
    if (!isObjectHash(hash)) continue;
    const exec = m[2] === undefined ? 0 : 1;
    if (known.get(hash, exec) !== undefined) continue;
    try {
      const st = lstatSync(file);
      if (now - st.ctimeMs < graceMs) continue;
      out.push([file, hash, exec, st.isFile() ? st.size : 0]);
    } catch {
      // gone
    }
  }
  return out;
}

/** Delete orphans, each inside a write transaction that re-checks it is not in the index. */
export function deleteOrphans(
  core: StoreCore,
  orphans: readonly [string, string, number, number][],
): { count: number; bytes: number } {
  let count = 0;
  let bytes = 0;
  const known = core.db.prepare("SELECT 1 FROM objects WHERE hash = ? AND exec = ?");
  for (let i = 0; i < orphans.length; i += 500) {
    writeTransaction(core.db, () => {
      for (const [file, hash, exec, size] of orphans.slice(i, i + 500)) {
        if (known.get(hash, exec) !== undefined) continue;
        try {
          unlinkSync(file);
          count++;
          bytes += size;
        } catch {
          // gone
        }
      }
    });
  }
  return { count, bytes };
}

export function prune(core: StoreCore, options: PruneOptions, orphanGraceMs: number): PruneReport {
  const dryRun = options.dryRun === true;
  const { db } = core;
  let bytesFreed = 0;
  let objectsDeleted = 0;
  if (!dryRun) {
    const swept = sweepPending(core);
    bytesFreed += swept.bytes;
    objectsDeleted += swept.objects;
  }
  const dead = deadEnvs(core);
  const deadIds = new Set(dead.map((e) => e.id));
  const liveIds = (db.prepare("SELECT id FROM envs").all() as unknown as { id: number }[])
    .map((r) => r.id)
    .filter((id) => !deadIds.has(id));

  let result: Plan;
  let derivedDeleted = 0;
  let derivedBytesFreed = 0;
  if (dryRun) {
    result = plan(core, liveIds, options.maxSize);
    const derived = new Set(result.derivedDoomed);
    for (const k of result.doomed) {
      const [hash, exec] = unkey(k);
      const size = fileSize(objectFile(core.paths, hash, exec !== 0));
      bytesFreed += size;
      objectsDeleted++;
      if (derived.has(k)) {
        derivedDeleted++;
        derivedBytesFreed += size;
      }
    }
  } else {
    result = writeTransaction(db, () => {
      for (const id of deadIds) db.prepare("DELETE FROM envs WHERE id = ?").run(id);
      const p = plan(core, liveIds, options.maxSize);
      const mark = db.prepare("INSERT OR IGNORE INTO pending_deletes(hash, exec) VALUES (?, ?)");
      for (const wheel of p.evict) db.prepare("DELETE FROM wheels WHERE id = ?").run(wheel.id);
      const drop = db.prepare("DELETE FROM derived WHERE out_hash = ? AND out_exec = ?");
      for (const k of p.derivedDoomed) drop.run(...unkey(k));
      for (const k of p.doomed) mark.run(...unkey(k));
      return p;
    });
    for (const k of result.derivedDoomed) {
      const [hash, exec] = unkey(k);
      if (!existsSync(objectFile(core.paths, hash, exec !== 0))) continue;
      derivedDeleted++;
      derivedBytesFreed += fileSize(objectFile(core.paths, hash, exec !== 0));
    }
    const swept = sweepPending(core);
    bytesFreed += swept.bytes;
    objectsDeleted += swept.objects;
    for (const wheel of result.evict) removeTree(core, wheel.sha256);
    forgetEvictedBuilds(core);
    removeStrayTrees(core);
  }
  const orphans = findOrphans(core, orphanGraceMs);
  let orphansDeleted = 0;
  if (dryRun) {
    orphansDeleted = orphans.length;
    bytesFreed += orphans.reduce((n, o) => n + o[3], 0);
  } else {
    const gone = deleteOrphans(core, orphans);
    orphansDeleted = gone.count;
    bytesFreed += gone.bytes;
  }
  const wheelsEvicted: PrunedWheel[] = result.evict.map((w) => ({
    sha256: w.sha256,
    filename: w.filename,
  }));
  return {
    dryRun,
    envsDropped: dead.map((e) => e.path),
    wheelsEvicted,
    objectsDeleted,
    bytesFreed,
    derivedDeleted,
    derivedBytesFreed,
    orphansDeleted,
    sizeAfter: result.sizeAfter,
  };
}

/** Trees whose wheel is no longer in the index. */
function removeStrayTrees(core: StoreCore): void {
  let names: string[];
  try {
    names = readdirSync(core.paths.trees);
  } catch {
    return;
  }
  const known = core.db.prepare("SELECT 1 FROM wheels WHERE sha256 = ?");
  for (const name of names) {
    if (known.get(name) === undefined) removeTree(core, name);
  }
}
