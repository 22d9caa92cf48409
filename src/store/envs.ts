/**
 * The env registry: which envs use which wheels. An env is live while its manifest exists
 * at the registered path; prune drops the registrations of envs that are gone.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { SlimenvError } from "../base/index.ts";
import { type StoreCore, wheelId } from "./core.ts";
import { writeTransaction } from "./schema.ts";
import type { StoredWheel } from "./types.ts";

export function registerEnv(
  core: StoreCore,
  envPath: string,
  wheels: readonly StoredWheel[],
  manifestPath: string,
): void {
  const env = path.resolve(envPath);
  const manifest = path.resolve(manifestPath);
  const { db } = core;
  writeTransaction(db, () => {
    const now = core.now();
    const ids = wheels.map((w) => {
      const id = wheelId(core, w.sha256);
      if (id === undefined) {
        throw new SlimenvError(
          "STORE_CORRUPT",
          `cannot register env ${env}: wheel ${w.filename} (${w.sha256}) is not in the store`,
          { hint: "import the wheel first" },
        );
      }
      return id;
    });
    db.prepare(
      `INSERT INTO envs(path, manifest, registered, last_used) VALUES (?, ?, ?, ?)
       ON CONFLICT(path) DO UPDATE SET manifest = excluded.manifest, last_used = excluded.last_used`,
    ).run(env, manifest, now, now);
    const row = db.prepare("SELECT id FROM envs WHERE path = ?").get(env) as { id: number };
    db.prepare("DELETE FROM env_wheels WHERE env_id = ?").run(row.id);
    const add = db.prepare("INSERT OR IGNORE INTO env_wheels(env_id, wheel_id) VALUES (?, ?)");
    const touch = db.prepare("UPDATE wheels SET last_used = ? WHERE id = ?");
    for (const id of ids) {
      add.run(row.id, id);
      touch.run(now, id);
    }
  });
}

export function unregisterEnv(core: StoreCore, envPath: string): void {
  const env = path.resolve(envPath);
  writeTransaction(core.db, () => {
    core.db.prepare("DELETE FROM envs WHERE path = ?").run(env);
  });
}

export interface EnvRow {
  id: number;
  path: string;
  manifest: string;
}

export function listEnvs(core: StoreCore): EnvRow[] {
  return core.db
    .prepare("SELECT id, path, manifest FROM envs ORDER BY path")
    .all() as unknown as EnvRow[];
}

/** Registered envs whose manifest no longer exists. */
export function deadEnvs(core: StoreCore): EnvRow[] {
  return listEnvs(core).filter((e) => !existsSync(e.manifest));
}
