/**
 * Derived objects in the store: cached by (source object, transform id), produced once,
 * kept while their source lives, pruned with it, and forgotten by verify --repair when
 * damaged (a cache entry, made again on demand).
 */
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isSlimenvError } from "../../src/base/index.ts";
import { Store } from "../../src/store/store.ts";
import { tempDir } from "../helpers/tmp.ts";
import { buildWheel } from "../helpers/wheels.ts";

let stores: Store[] = [];
afterEach(() => {
  for (const s of stores) s.close();
  stores = [];
});

async function fixture() {
  const store = Store.open({ root: tempDir("slimenv-derived-") });
  stores.push(store);
  const built = buildWheel({
    name: "dpkg",
    version: "1.0",
    files: { "dpkg/__init__.py": "X = 1\n", "dpkg/mod.py": "Y = 2\n" },
  });
  const wheel = await store.importWheel({ bytes: built.bytes }, { filename: built.filename });
  const file = wheel.files.find((f) => f.path === "dpkg/mod.py");
  if (file === undefined) throw new Error("no mod.py");
  return { store, wheel, file };
}

describe("derived objects", () => {
  it("produces once, then serves from the cache", async () => {
    const { store, file } = await fixture();
    let produced = 0;
    const produce = async (input: string) => {
      produced++;
      expect(existsSync(input)).toBe(true);
      return new TextEncoder().encode("derived bytes");
    };
    const a = await store.derive(file.hash, file.exec, "test:upper", produce);
    const b = await store.derive(file.hash, file.exec, "test:upper", produce);
    expect(a.cached).toBe(false);
    expect(b.cached).toBe(true);
    expect(b.hash).toBe(a.hash);
    expect(produced).toBe(1);
    expect(store.lookupDerived(file.hash, file.exec, "test:other")).toBeUndefined();
    const fromPath = path.join(tempDir("slimenv-derived-out-"), "o");
    writeFileSync(fromPath, "derived bytes");
    const c = await store.storeDerived(file.hash, file.exec, "test:file", { path: fromPath });
    expect(c.hash).toBe(a.hash); // same bytes, same object
  });

  it("refuses a source object the store does not hold, and a bad transform id", async () => {
    const { store } = await fixture();
    const missing = "0".repeat(64);
    let err: unknown;
    try {
      await store.storeDerived(missing, false, "test:x", new Uint8Array([1]));
    } catch (e) {
      err = e;
    }
    expect(isSlimenvError(err) && err.code).toBe("STORE_CORRUPT");
    expect(() => store.lookupDerived(missing, false, "bad id with spaces")).toThrow(/transform id/);
  });

  it("lives while its source is used and an env uses it; pruned with it", async () => {
    const { store, wheel, file } = await fixture();
    const out = await store.derive(
      file.hash,
      file.exec,
      "test:p",
      async () => new Uint8Array([7, 7, 7]),
    );
    const dir = tempDir("slimenv-derived-env-");
    const manifest = path.join(dir, "manifest.json");
    writeFileSync(manifest, JSON.stringify({ packages: [], envFiles: [{ hash: out.hash }] }));
    store.registerEnv(dir, [wheel], manifest);
    store.prune();
    expect(existsSync(store.objectPath(out.hash, out.exec))).toBe(true);
    expect(store.lookupDerived(file.hash, file.exec, "test:p")).toEqual({
      hash: out.hash,
      exec: false,
    });
    store.unregisterEnv(dir);
    const report = store.prune();
    expect(report.wheelsEvicted.length).toBe(1);
    expect(existsSync(store.objectPath(out.hash, out.exec))).toBe(false);
    expect(store.lookupDerived(file.hash, file.exec, "test:p")).toBeUndefined();
  });

  it("status counts derived objects; prune evicts those no live env uses (dry run first)", async () => {
    const { store, wheel, file } = await fixture();
    const out = await store.derive(file.hash, file.exec, "test:q", async () => new Uint8Array(100));
    expect(store.status()).toMatchObject({ derivedObjects: 1, derivedBytes: 100 });
    const dir = tempDir("slimenv-derived-env-");
    const manifest = path.join(dir, "manifest.json");
    writeFileSync(manifest, JSON.stringify({ packages: [], envFiles: [] }));
    store.registerEnv(dir, [wheel], manifest);
    const dry = store.prune({ dryRun: true });
    expect(dry).toMatchObject({ derivedDeleted: 1, derivedBytesFreed: 100, objectsDeleted: 1 });
    expect(dry.bytesFreed).toBe(100);
    expect(existsSync(store.objectPath(out.hash, out.exec))).toBe(true);
    const report = store.prune();
    expect(report).toMatchObject({ derivedDeleted: 1, derivedBytesFreed: 100, bytesFreed: 100 });
    expect(report.wheelsEvicted).toEqual([]);
    expect(existsSync(store.objectPath(out.hash, out.exec))).toBe(false);
    expect(store.lookupDerived(file.hash, file.exec, "test:q")).toBeUndefined();
    expect(store.status()).toMatchObject({ derivedObjects: 0, derivedBytes: 0 });
  });

  it("verify reports a damaged derived object; repair forgets it", async () => {
    const { store, file } = await fixture();
    const out = await store.derive(
      file.hash,
      file.exec,
      "test:v",
      async () => new Uint8Array([1, 2, 3]),
    );
    const object = store.objectPath(out.hash, out.exec);
    chmodSync(object, 0o644);
    writeFileSync(object, "changed");
    chmodSync(object, 0o444);
    const report = await store.verify();
    const problem = report.problems.find((p) => p.hash === out.hash);
    expect(problem?.kind).toBe("modified");
    const repaired = await store.verify({ repair: true });
    const fixed = repaired.problems.find((p) => p.hash === out.hash);
    expect(fixed?.repairedBy).toBe("forget-derived");
    expect(store.lookupDerived(file.hash, file.exec, "test:v")).toBeUndefined();
    expect((await store.verify()).ok).toBe(true);
    // Made again on demand.
    const again = await store.derive(
      file.hash,
      file.exec,
      "test:v",
      async () => new Uint8Array([1, 2, 3]),
    );
    expect(again.cached).toBe(false);
    expect(again.hash).toBe(out.hash);
  });
});
