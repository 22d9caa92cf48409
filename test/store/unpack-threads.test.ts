/**
 * Unpacking on worker threads (the default) and on the calling thread (`unpackThreads: 0`)
 * store the same objects and rows; big entries (streamed), stored entries, executables and
 * duplicate files included; refusals from a worker leave nothing behind.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isSlimenvError } from "../../src/base/index.ts";
import { Rng } from "../helpers/random.ts";
import { type BuiltWheel, buildWheel } from "../helpers/wheels.ts";
import { filesUnder, tableCounts, tempDir, tempStore } from "./fixtures.ts";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function noise(rng: Rng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(256);
  return out;
}

function wheels(): BuiltWheel[] {
  const rng = new Rng(3);
  // 20 MiB that deflate well (streamed: above the one-call limit), and a random 1 MiB
  const big = new Uint8Array(20 * 1024 * 1024).map((_, i) => (i * 7) % 251);
  const shared = noise(rng, 1024 * 1024);
  return [
    buildWheel({
      name: "alpha",
      version: "1.0",
      files: {
        "alpha/__init__.py": "",
        "alpha/big.bin": big,
        "alpha/shared.bin": shared,
        "alpha/copy.bin": shared,
        "alpha/run.sh": "#!/bin/sh\necho hi\n",
        "alpha/empty.txt": "",
      },
      executable: ["alpha/run.sh"],
    }),
    buildWheel({
      name: "beta",
      version: "2.0",
      level: 0,
      files: {
        "beta/__init__.py": "x = 1\n",
        "beta/shared.bin": shared,
        "beta/run.sh": "#!/bin/sh\necho hi\n",
      },
    }),
  ];
}

/** Every object file with its mode, after checking that its bytes hash to its name. */
function objectsOf(root: string): string[] {
  const objects = path.join(root, "objects");
  return filesUnder(objects)
    .filter((f) => statSync(path.join(objects, f)).isFile())
    .map((f) => {
      const full = path.join(objects, f);
      const name = f.replace("/", "").replace(/\.x$/, "");
      expect(sha(readFileSync(full)), f).toBe(name);
      return `${f} ${(statSync(full).mode & 0o777).toString(8)}`;
    });
}

describe("unpacking on worker threads", () => {
  it("stores the same objects, modes and rows as unpacking on the calling thread", async () => {
    const built = wheels();
    const dir = tempDir();
    const results = [];
    for (const threads of [0, 2]) {
      const store = tempStore({ unpackThreads: threads });
      const stored = [];
      for (const [i, w] of built.entries()) {
        // one from a file, one from memory
        const file = path.join(dir, w.filename);
        writeFileSync(file, w.bytes);
        const source = i === 0 ? { path: file } : { bytes: w.bytes };
        stored.push(await store.importWheel(source, { filename: w.filename }));
      }
      expect(readdirSync(path.join(store.root, "tmp"))).toEqual([]);
      const report = await store.verify();
      expect(report.problems).toEqual([]);
      results.push({ stored, objects: objectsOf(store.root), counts: tableCounts(store.root) });
    }
    const [here, threaded] = results as [(typeof results)[0], (typeof results)[0]];
    expect(threaded).toEqual(here);
    // big.bin, shared.bin (once), run.sh (.x), the empty file, __init__ ×2, dist-info files
    expect(here.objects.some((o) => o.endsWith(".x 555"))).toBe(true);
    expect(here.objects.every((o) => /(\.x 555|[0-9a-f] 444)$/.test(o))).toBe(true);
    const alpha = here.stored[0];
    const copy = alpha?.files.find((f) => f.path === "alpha/copy.bin");
    expect(copy?.hash).toBe(alpha?.files.find((f) => f.path === "alpha/shared.bin")?.hash);
  });

  for (const threads of [0, 2]) {
    it(`a file that fails its RECORD hash refuses the wheel and leaves nothing (${threads} threads)`, async () => {
      const rng = new Rng(9);
      const bad = buildWheel({
        name: "gamma",
        version: "1.0",
        files: {
          "gamma/__init__.py": "",
          "gamma/a.bin": noise(rng, 300_000),
          "gamma/b.bin": "ok",
        },
        tamper: {
          // the digest of other bytes
          recordOverride: (record) =>
            record.replace(
              /(gamma\/b\.bin,sha256=)[^,]+/,
              `$1${Buffer.from(sha(new TextEncoder().encode("no")), "hex").toString("base64url")}`,
            ),
        },
      });
      const store = tempStore({ unpackThreads: threads });
      let err: unknown;
      try {
        await store.importWheel({ bytes: bad.bytes }, { filename: bad.filename });
      } catch (e) {
        err = e;
      }
      expect(isSlimenvError(err, "HOSTILE_WHEEL")).toBe(true);
      expect((err as { rule?: string }).rule).toBe("hash-mismatch");
      expect(filesUnder(path.join(store.root, "objects"))).toEqual([]);
      expect(readdirSync(path.join(store.root, "tmp"))).toEqual([]);
      expect(tableCounts(store.root).objects).toBe(0);
    });
  }
});
