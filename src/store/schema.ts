/**
 * The store index: SQLite through node:sqlite, in WAL mode with a long busy timeout so many
 * processes share it (a writer waits for another rather than failing). The schema version
 * is `PRAGMA user_version`; migrations run in one IMMEDIATE transaction, so two processes
 * opening a new store at once do not both create it.
 */
import { DatabaseSync } from "node:sqlite";
import { SlimenvError } from "../base/index.ts";

export const SCHEMA_VERSION = 1;

/** How long a writer waits for another process's write transaction. */
export const BUSY_TIMEOUT_MS = 120_000;

const MIGRATIONS: readonly string[] = [
  // 0 → 1
  `
  CREATE TABLE wheels(
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    filename TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    tags TEXT NOT NULL,
    root_is_purelib INTEGER NOT NULL,
    size INTEGER NOT NULL,
    record TEXT NOT NULL,
    url TEXT,
    added INTEGER NOT NULL,
    last_used INTEGER NOT NULL
  );
  CREATE INDEX wheels_name ON wheels(name);
  CREATE TABLE wheel_files(
    wheel_id INTEGER NOT NULL REFERENCES wheels(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    path TEXT NOT NULL,
    hash TEXT NOT NULL,
    exec INTEGER NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY(wheel_id, seq)
  ) WITHOUT ROWID;
  CREATE INDEX wheel_files_object ON wheel_files(hash, exec);
  CREATE TABLE objects(
    hash TEXT NOT NULL,
    exec INTEGER NOT NULL,
    size INTEGER NOT NULL,
    added INTEGER NOT NULL,
    PRIMARY KEY(hash, exec)
  ) WITHOUT ROWID;
  CREATE TABLE envs(
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    manifest TEXT NOT NULL,
    registered INTEGER NOT NULL,
    last_used INTEGER NOT NULL
  );
  CREATE TABLE env_wheels(
    env_id INTEGER NOT NULL REFERENCES envs(id) ON DELETE CASCADE,
    wheel_id INTEGER NOT NULL REFERENCES wheels(id),
    PRIMARY KEY(env_id, wheel_id)
  ) WITHOUT ROWID;
  CREATE INDEX env_wheels_wheel ON env_wheels(wheel_id);
  CREATE TABLE derived(
    hash TEXT NOT NULL,
    exec INTEGER NOT NULL,
    transform TEXT NOT NULL,
    out_hash TEXT NOT NULL,
    out_exec INTEGER NOT NULL,
    added INTEGER NOT NULL,
    PRIMARY KEY(hash, exec, transform)
  ) WITHOUT ROWID;
  CREATE TABLE pending_deletes(
    hash TEXT NOT NULL,
    exec INTEGER NOT NULL,
    PRIMARY KEY(hash, exec)
  ) WITHOUT ROWID;
  `,
];

/** Run `fn` in a BEGIN IMMEDIATE transaction (waits on busy_timeout for other writers). */
export function writeTransaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  let result: T;
  try {
    result = fn();
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
  db.exec("COMMIT");
  return result;
}

function userVersion(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number } | undefined;
  return row?.user_version ?? 0;
}

/** True for SQLite's "busy"/"locked" answers: another connection holds a lock for now. */
function isBusy(err: unknown): boolean {
  const text = `${(err as { code?: unknown }).code ?? ""} ${(err as Error).message ?? ""}`;
  return /SQLITE_BUSY|SQLITE_LOCKED|database is locked|database table is locked/i.test(text);
}

/** Block this thread for `ms` (opening the index is synchronous). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Open (creating or migrating) the index at `file`. Several processes may open a new store
 * at once: switching a fresh database to WAL needs a moment's exclusive lock, which SQLite
 * answers with "database is locked" rather than waiting, so a busy answer is retried (with
 * jitter) until {@link BUSY_TIMEOUT_MS} has passed.
 */
export function openIndex(file: string): DatabaseSync {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return openIndexOnce(file);
    } catch (err) {
      const cause = err instanceof SlimenvError ? err.cause : err;
      if (!isBusy(cause) || Date.now() >= deadline) throw err;
      pause(Math.min(200, 10 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random()));
    }
  }
}

function openIndexOnce(file: string): DatabaseSync {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS });
  } catch (cause) {
    throw new SlimenvError("IO_ERROR", `cannot open the store index ${file}`, { cause });
  }
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const mode = db.prepare("PRAGMA journal_mode").get() as { journal_mode: string } | undefined;
    if (mode?.journal_mode !== "wal") db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    if (userVersion(db) !== SCHEMA_VERSION) migrate(db, file);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof SlimenvError) throw err;
    throw new SlimenvError("STORE_CORRUPT", `the store index ${file} cannot be used`, {
      cause: err,
      hint: "move the store aside (or delete it) and let slimenv create a new one",
    });
  }
}

function migrate(db: DatabaseSync, file: string): void {
  writeTransaction(db, () => {
    const from = userVersion(db);
    if (from > SCHEMA_VERSION) {
      throw new SlimenvError(
        "STORE_CORRUPT",
        `the store index ${file} has schema version ${from}; this slimenv knows up to ${SCHEMA_VERSION}`,
        { hint: "use a newer slimenv, or another store (SLIMENV_HOME)" },
      );
    }
    for (let v = from; v < SCHEMA_VERSION; v++) {
      const step = MIGRATIONS[v];
      if (step !== undefined) db.exec(step);
    }
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  });
}
