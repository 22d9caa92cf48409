/**
 * The check cache's key: the same set, policy and interpreter give the same key; any of them
 * changed gives another; what cannot be known gives none. Entries: atomic, damaged ones miss.
 */
import { readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { EnvManifest } from "../../src/env/types.ts";
import { checkCacheKey, readCheckCache, writeCheckCache } from "../../src/slim/check/cache.ts";
import { describeWith, pyenv } from "../helpers/prereq.ts";
import { tempDir } from "../helpers/tmp.ts";

const PYTHON310 = pyenv("3.10");
const PY310 = PYTHON310.exe;
const PYTHON312 = pyenv("3.12");
const PY312 = PYTHON312.exe;
const ENV = { PATH: "/usr/bin:/bin" };

function manifest(changes: Partial<Record<string, unknown>> = {}): EnvManifest {
  return {
    layout: "prefix",
    isolated: false,
    slim: { id: "slim1-aaaa" },
    packages: [
      { name: "b", wheel: "22", files: [{ path: "b/__init__.py", hash: "h2", exec: false }] },
      { name: "a", wheel: "11", files: [{ path: "a/__init__.pyc", hash: "h1", exec: false }] },
    ],
    envFiles: [{ path: "bin/python", hash: "h0", exec: true }],
    ...changes,
  } as unknown as EnvManifest;
}

describeWith(PYTHON310, PYTHON312)("checkCacheKey", () => {
  it("is stable, and changes with the policy, a wheel, a file, the interpreter or isolation", async () => {
    const key = (m: EnvManifest, py = PY310 as string) => checkCacheKey(m, py, ENV);
    const k = await key(manifest());
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(await key(manifest())).toBe(k);
    // Package order does not matter.
    const swapped = manifest({
      packages: [...manifest().packages].reverse(),
    });
    expect(await key(swapped)).toBe(k);
    const others = [
      await key(manifest({ slim: { id: "slim1-bbbb" } })),
      await key(
        manifest({
          packages: manifest().packages.map((p) => (p.name === "a" ? { ...p, wheel: "12" } : p)),
        }),
      ),
      // The same wheels, another tree (e.g. another strip tool's output).
      await key(
        manifest({
          packages: manifest().packages.map((p) =>
            p.name === "a"
              ? { ...p, files: [{ path: "a/__init__.pyc", hash: "h9", exec: false }] }
              : p,
          ),
        }),
      ),
      await key(manifest({ envFiles: [{ path: "bin/python", hash: "h0", exec: false }] })),
      await key(manifest(), PY312 as string),
      await key(manifest({ isolated: true })),
      await key(manifest({ layout: "target" })),
    ];
    expect(new Set([k, ...others]).size).toBe(others.length + 1);
  });

  it("is undefined without a slim policy or an interpreter that answers", async () => {
    expect(await checkCacheKey(manifest({ slim: undefined }), PY310 as string, ENV)).toBe(
      undefined,
    );
    expect(await checkCacheKey(manifest(), "/nonexistent/python3", ENV)).toBeUndefined();
  });
});

describe("check cache entries", () => {
  it("round-trip, leave no temp file, and a damaged entry is a miss", () => {
    const dir = path.join(tempDir("slimenv-cc-"), "checks");
    const entry = {
      unslimmed: [{ name: "a", reason: "a.x: boom", modules: ["a.x"] }],
      preexisting: [{ name: "b", reason: "b.y: gone" }],
    };
    writeCheckCache(dir, "k1", entry);
    expect(readCheckCache(dir, "k1")).toEqual({ version: 1, ...entry });
    expect(readdirSync(dir)).toEqual(["k1.json"]);
    expect(readCheckCache(dir, "k2")).toBeUndefined();
    writeFileSync(path.join(dir, "k3.json"), JSON.stringify({ version: 1, unslimmed: [{}] }));
    expect(readCheckCache(dir, "k3")).toBeUndefined();
    // An unwritable cache is no error.
    writeFileSync(path.join(dir, "file"), "x");
    expect(() => writeCheckCache(path.join(dir, "file"), "k4", entry)).not.toThrow();
  });
});
