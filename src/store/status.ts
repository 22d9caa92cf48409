/** `store status`: counts and the byte figures of the store (see StoreStatus). */

import { lstatSync, readdirSync } from "node:fs";
import path from "node:path";
import { builtWheelCount } from "./built.ts";
import type { StoreCore } from "./core.ts";
import type { StoreStatus } from "./types.ts";

function count(core: StoreCore, sql: string): number {
  const row = core.db.prepare(sql).get() as Record<string, number | null> | undefined;
  const value = row === undefined ? undefined : Object.values(row)[0];
  return typeof value === "number" ? value : 0;
}

/** Every file under objects/: [path, name-in-shard-dir, shard] (no recursion beyond shards). */
export function* objectFiles(objectsDir: string): Generator<[string, string, string]> {
  let shards: string[];
  try {
    shards = readdirSync(objectsDir);
  } catch {
    return;
  }
  for (const shard of shards.sort()) {
    const dir = path.join(objectsDir, shard);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      yield [dir, "", shard];
      continue;
    }
    for (const name of names.sort()) yield [path.join(dir, name), name, shard];
  }
}

export function storeStatus(core: StoreCore): StoreStatus {
  const logicalBytes = count(core, "SELECT SUM(size) FROM wheel_files");
  const uniqueBytes = count(
    core,
    "SELECT SUM(size) FROM (SELECT DISTINCT hash, exec, size FROM wheel_files)",
  );
  const perWheel = count(
    core,
    `SELECT SUM(size) FROM (SELECT DISTINCT f.wheel_id, f.hash, f.exec, f.size FROM wheel_files f)`,
  );
  const perProject = count(
    core,
    `SELECT SUM(size) FROM (SELECT DISTINCT w.name, f.hash, f.exec, f.size
       FROM wheel_files f JOIN wheels w ON w.id = f.wheel_id)`,
  );
  const derived = core.db
    .prepare(
      `SELECT COUNT(*) AS n, SUM(o.size) AS bytes FROM
         (SELECT DISTINCT out_hash, out_exec FROM derived) d
         JOIN objects o ON o.hash = d.out_hash AND o.exec = d.out_exec
       WHERE NOT EXISTS (SELECT 1 FROM wheel_files f WHERE f.hash = d.out_hash AND f.exec = d.out_exec)`,
    )
    .get() as { n: number | null; bytes: number | null } | undefined;
  let apparentBytes = 0;
  let diskBytes = 0;
  for (const [file] of objectFiles(core.paths.objects)) {
    try {
      const st = lstatSync(file);
      if (!st.isFile()) continue;
      apparentBytes += st.size;
      diskBytes += st.blocks * 512;
    } catch {
      // removed meanwhile
    }
  }
  return {
    root: core.paths.root,
    objects: count(core, "SELECT COUNT(*) FROM objects"),
    wheels: count(core, "SELECT COUNT(*) FROM wheels"),
    builtWheels: builtWheelCount(core),
    envs: count(core, "SELECT COUNT(*) FROM envs"),
    logicalBytes,
    uniqueBytes,
    derivedObjects: derived?.n ?? 0,
    derivedBytes: derived?.bytes ?? 0,
    apparentBytes,
    diskBytes,
    savedByDedupe: logicalBytes - uniqueBytes,
    savedAcrossVersions: perWheel - perProject,
  };
}
