/** Built wheels as derived store objects: found by (sdist, inputs), counted, evicted by prune. */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Store } from "../../src/store/store.ts";
import { buildWheel } from "../helpers/wheels.ts";

describe("built wheels in the store", () => {
  it("is found by sdist and inputs, counted by status, and evicted (row and all) by prune", async () => {
    const store = Store.open({ root: mkdtempSync(path.join(os.tmpdir(), "slimenv-built-")) });
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
});
