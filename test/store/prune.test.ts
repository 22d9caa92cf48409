import { existsSync, lstatSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import type { Store } from "../../src/store/store.ts";
import type { StoredWheel } from "../../src/store/types.ts";
import { buildWheel } from "../helpers/wheels.ts";
import { filesUnder, tableCounts, tempDir, tempStore } from "./fixtures.ts";

const SHARED = "s".repeat(3000);

function project(name: string, size: number) {
  return buildWheel({
    name,
    version: "1.0",
    files: { [`${name}/__init__.py`]: name.repeat(size), [`${name}/shared.txt`]: SHARED },
  });
}

const wheels = {
  live: project("live", 100),
  dead: project("dead", 200),
  old: project("old", 300),
  recent: project("recent", 400),
};

/** A store holding the four wheels, used in this order (old least recently). */
async function setup() {
  let clock = 1_000;
  const store = tempStore({ now: () => clock, orphanGraceMs: 0 });
  const stored: Record<string, StoredWheel> = {};
  for (const key of ["old", "dead", "live", "recent"] as const) {
    clock += 10;
    const w = wheels[key];
    stored[key] = await store.importWheel({ bytes: w.bytes }, { filename: w.filename });
  }
  const envs: Record<string, string> = {};
  for (const key of ["live", "dead"] as const) {
    const env = tempDir();
    writeFileSync(path.join(env, "manifest.json"), "{}");
    clock += 10;
    store.registerEnv(env, [stored[key] as StoredWheel], path.join(env, "manifest.json"));
    envs[key] = env;
  }
  rmSync(path.join(envs.dead as string, "manifest.json"));
  return { store, stored, envs };
}

/** Bytes of the objects only `wheel` uses among `all`. */
function ownBytes(wheel: StoredWheel, others: StoredWheel[]): number {
  const elsewhere = new Set(others.flatMap((w) => w.files.map((f) => `${f.hash}:${f.exec}`)));
  const own = new Map<string, number>();
  for (const f of wheel.files) {
    const k = `${f.hash}:${f.exec}`;
    if (!elsewhere.has(k)) own.set(k, f.size);
  }
  return [...own.values()].reduce((n, s) => n + s, 0);
}

function objectsOf(store: Store, w: StoredWheel): string[] {
  return w.files.map((f) => store.objectPath(f.hash, f.exec));
}

describe("prune", () => {
  it("a dry run reports and changes nothing", async () => {
    const { store, stored, envs } = await setup();
    const before = tableCounts(store.root);
    const files = filesUnder(path.join(store.root, "objects"));
    const report = store.prune({ dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(report.envsDropped).toEqual([envs.dead]);
    expect(report.wheelsEvicted.map((w) => w.filename).sort()).toEqual(
      [wheels.dead, wheels.old, wheels.recent].map((w) => w.filename).sort(),
    );
    const s = stored as Record<"live" | "dead" | "old" | "recent", StoredWheel>;
    // the objects of the three evicted wheels that live does not use (shared.txt and WHEEL stay)
    const evicted = { ...s.old, files: [...s.old.files, ...s.dead.files, ...s.recent.files] };
    expect(report.bytesFreed).toBe(ownBytes(evicted, [s.live]));
    expect(report.bytesFreed).toBeGreaterThan(900);
    expect(tableCounts(store.root)).toEqual(before);
    expect(filesUnder(path.join(store.root, "objects"))).toEqual(files);
  });

  it("with a size cap, evicts least recently used unreferenced wheels until under it", async () => {
    const { store, stored } = await setup();
    const s = stored as Record<"live" | "dead" | "old" | "recent", StoredWheel>;
    const total = store.status().uniqueBytes;
    const oldOwn = ownBytes(s.old, [s.live, s.dead, s.recent]);
    const report = store.prune({ maxSize: total - 1 });
    expect(report.wheelsEvicted).toEqual([{ sha256: s.old.sha256, filename: s.old.filename }]);
    expect(report.bytesFreed).toBe(oldOwn);
    expect(report.sizeAfter).toBe(total - oldOwn);
    expect(store.status().uniqueBytes).toBe(total - oldOwn);
    expect(store.findWheel(s.old.sha256)).toBeUndefined();
    for (const key of ["live", "dead", "recent"] as const) {
      for (const p of objectsOf(store, s[key])) expect(existsSync(p)).toBe(true);
    }
    expect((await store.verify()).ok).toBe(true);
  });

  it("without a cap, evicts every wheel no live env uses and drops dead envs", async () => {
    const { store, stored, envs } = await setup();
    const s = stored as Record<"live" | "dead" | "old" | "recent", StoredWheel>;
    await store.wheelTree(s.recent);
    const report = store.prune();
    expect(report.envsDropped).toEqual([envs.dead]);
    expect(report.wheelsEvicted).toHaveLength(3);
    expect(report.objectsDeleted).toBeGreaterThan(0);
    expect(store.status()).toMatchObject({ wheels: 1, envs: 1 });
    expect(store.status().apparentBytes).toBe(store.status().uniqueBytes);
    for (const p of objectsOf(store, s.live)) expect(existsSync(p)).toBe(true);
    expect(existsSync(path.join(store.root, "trees", s.recent.sha256))).toBe(false);
    expect(tableCounts(store.root).pending_deletes).toBe(0);
    // what a live env uses is kept even under a zero cap
    expect(store.prune({ maxSize: 0 }).wheelsEvicted).toEqual([]);
    expect(store.findWheel(s.live.sha256)).toBeDefined();
  });

  it("finishes deletions a killed run had marked", async () => {
    const { store, stored } = await setup();
    const s = stored as Record<"live" | "dead" | "old" | "recent", StoredWheel>;
    const own = s.old.files.filter(
      (f) =>
        !s.live.files.some((g) => g.hash === f.hash && g.exec === f.exec) &&
        !s.dead.files.some((g) => g.hash === f.hash && g.exec === f.exec) &&
        !s.recent.files.some((g) => g.hash === f.hash && g.exec === f.exec),
    );
    // the state after prune's marking transaction, before any unlink
    const db = new DatabaseSync(path.join(store.root, "index.sqlite"));
    db.exec("PRAGMA foreign_keys = ON");
    db.prepare("DELETE FROM wheels WHERE sha256 = ?").run(s.old.sha256);
    for (const f of own) {
      db.prepare("INSERT INTO pending_deletes(hash, exec) VALUES (?, ?)").run(
        f.hash,
        f.exec ? 1 : 0,
      );
    }
    db.close();
    for (const f of own) expect(lstatSync(store.objectPath(f.hash, f.exec)).isFile()).toBe(true);
    const report = store.prune({ maxSize: Number.MAX_SAFE_INTEGER });
    expect(report.wheelsEvicted).toEqual([]);
    expect(report.objectsDeleted).toBe(own.length);
    expect(report.bytesFreed).toBe(own.reduce((n, f) => n + f.size, 0));
    for (const f of own) expect(existsSync(store.objectPath(f.hash, f.exec))).toBe(false);
    expect(tableCounts(store.root).pending_deletes).toBe(0);
    expect(await store.verify()).toMatchObject({ ok: true, orphans: 0 });
  });

  it("never deletes a marked object that a wheel uses again", async () => {
    const { store, stored } = await setup();
    const f = (stored.live as StoredWheel).files[0];
    if (f === undefined) throw new Error("no file");
    const db = new DatabaseSync(path.join(store.root, "index.sqlite"));
    db.prepare("INSERT INTO pending_deletes(hash, exec) VALUES (?, ?)").run(f.hash, f.exec ? 1 : 0);
    db.close();
    store.prune({ maxSize: Number.MAX_SAFE_INTEGER });
    expect(existsSync(store.objectPath(f.hash, f.exec))).toBe(true);
    expect(tableCounts(store.root).pending_deletes).toBe(0);
    expect((await store.verify()).ok).toBe(true);
  });
});
