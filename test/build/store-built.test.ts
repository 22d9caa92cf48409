/** Built wheels as derived store objects: found by (sdist, inputs), counted, evicted by prune. */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Store } from "../../src/store/store.ts";
import { tempDir } from "../helpers/tmp.ts";
import { buildWheel } from "../helpers/wheels.ts";

describe("built wheels in the store", () => {
  it("is found by sdist and inputs, counted by status, and evicted (row and all) by prune", async () => {
    const store = Store.open({ root: tempDir("slimenv-built-") });
    try {
      const w = buildWheel({ name: "demo", version: "1.0", files: { "demo/__init__.py": "" } });
      const wheel = await store.importWheel({ bytes: w.bytes }, { filename: w.filename });
      const sdist = "a".repeat(64);
      const key = `build-wheel:${"b".repeat(64)}`;
      expect(store.lookupBuiltWheel(sdist, key)).toBeUndefined();
      store.recordBuiltWheel(sdist, key, wheel.sha256);
      expect(store.lookupBuiltWheel(sdist, key)?.sha256).toBe(wheel.sha256);
      expect(store.lookupBuiltWheel(sdist, `build-wheel:${"c".repeat(64)}`)).toBeUndefined();
      expect(store.status()).toMatchObject({ wheels: 1, builtWheels: 1 });
      // verify sees nothing wrong with a row whose output is a wheel, not an object.
      expect((await store.verify()).problems).toEqual([]);
      const report = store.prune();
      expect(report.wheelsEvicted.map((x) => x.filename)).toEqual([w.filename]);
      expect(store.status()).toMatchObject({ wheels: 0, builtWheels: 0 });
      expect(store.lookupBuiltWheel(sdist, key)).toBeUndefined();
    } finally {
      store.close();
    }
  });

  it("is kept by prune while a live env uses it, though its manifest names no derived object", async () => {
    const store = Store.open({ root: tempDir("slimenv-built-") });
    try {
      const w = buildWheel({ name: "demo", version: "1.0", files: { "demo/__init__.py": "" } });
      const wheel = await store.importWheel({ bytes: w.bytes }, { filename: w.filename });
      const sdist = "a".repeat(64);
      const key = `build-wheel:${"b".repeat(64)}`;
      store.recordBuiltWheel(sdist, key, wheel.sha256);
      const dir = tempDir("slimenv-built-env-");
      const manifest = path.join(dir, "manifest.json");
      writeFileSync(manifest, JSON.stringify({ packages: [], envFiles: [] }));
      store.registerEnv(dir, [wheel], manifest);
      expect(store.prune({ dryRun: true })).toMatchObject({ derivedDeleted: 0, wheelsEvicted: [] });
      expect(store.prune()).toMatchObject({ derivedDeleted: 0, wheelsEvicted: [] });
      expect(store.lookupBuiltWheel(sdist, key)?.sha256).toBe(wheel.sha256);
      expect(store.status()).toMatchObject({ wheels: 1, builtWheels: 1, derivedObjects: 0 });
      store.unregisterEnv(dir);
      expect(store.prune().wheelsEvicted.map((x) => x.filename)).toEqual([w.filename]);
      expect(store.lookupBuiltWheel(sdist, key)).toBeUndefined();
    } finally {
      store.close();
    }
  });
});
