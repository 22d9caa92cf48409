/** Shared helpers for store tests: temp stores and what is on disk / in the index. */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach } from "vitest";
import { Store, type StoreOpenOptions } from "../../src/store/store.ts";

const made: string[] = [];
const opened: Store[] = [];

afterEach(() => {
  for (const s of opened.splice(0)) s.close();
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp folder, removed after the test. */
export function tempDir(prefix = "slimenv-store-"): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** A store in a fresh temp folder, closed after the test. */
export function tempStore(options: StoreOpenOptions = {}): Store {
  const store = Store.open({ root: path.join(tempDir(), "store"), ...options });
  opened.push(store);
  return store;
}

/** Every file under `dir`, relative, sorted ([] when it does not exist). */
export function filesUnder(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true }) as string[];
  } catch {
    return [];
  }
  return entries.sort();
}

/** Row counts of the index tables, read with a separate connection. */
export function tableCounts(root: string): Record<string, number> {
  const db = new DatabaseSync(path.join(root, "index.sqlite"), { readOnly: true });
  try {
    const out: Record<string, number> = {};
    for (const t of ["wheels", "wheel_files", "objects", "envs", "env_wheels", "pending_deletes"]) {
      const row = db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number };
      out[t] = row.n;
    }
    return out;
  } finally {
    db.close();
  }
}
