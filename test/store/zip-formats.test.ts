import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { readZipLocalHeader, zipEntryChunks } from "../../src/archive/zip-local.ts";
import { openFileSource, readZipDirectory } from "../../src/archive/zip-read.ts";
import { formatRecord, recordHash } from "../../src/standards/record.ts";
import { HostileWheelError } from "../../src/store/hostile.ts";
import { Rng } from "../helpers/random.ts";
import { buildWheel } from "../helpers/wheels.ts";
import { zip64 } from "../index/zip64.ts";
import { filesUnder, tempDir, tempStore } from "./fixtures.ts";
import { editEntry } from "./zip-edit.ts";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function noise(n: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(256);
  return out;
}

const BIG = noise(5 * 1024 * 1024 + 17, 3);

describe("zip formats the store reads", () => {
  for (const level of [0, 6] as const) {
    it(`streams a big ${level === 0 ? "stored" : "deflated"} entry to its object`, async () => {
      const w = buildWheel({
        name: "big",
        version: "1.0",
        files: { "big/__init__.py": "", "big/blob.bin": BIG },
        level,
      });
      const dir = tempDir();
      const file = path.join(dir, w.filename);
      writeFileSync(file, w.bytes);
      const store = tempStore();
      const stored = await store.importWheel({ path: file }, { filename: w.filename });
      const blob = stored.files.find((f) => f.path === "big/blob.bin");
      expect(blob).toMatchObject({ hash: sha(BIG), size: BIG.length, exec: false });
      expect(sha(readFileSync(store.objectPath(sha(BIG), false)))).toBe(sha(BIG));
    });
  }

  it("refuses a big entry that streams past its declared size", async () => {
    const declared = BIG.length - 1000;
    const w = buildWheel({
      name: "big",
      version: "1.0",
      files: { "big/__init__.py": "", "big/blob.bin": BIG },
      tamper: {
        recordOverride: (r) => r.replace(/^(big\/blob\.bin,[^,]+),\d+/m, `$1,${declared}`),
      },
    });
    const bytes = editEntry(w.bytes, "big/blob.bin", { size: declared }, "both");
    const store = tempStore();
    const err = await store.importWheel({ bytes }, { filename: w.filename }).catch((e) => e);
    expect(err).toBeInstanceOf(HostileWheelError);
    expect(err.rule).toBe("zip-structure");
    expect(err.message).toContain("inflates past its size");
    expect(filesUnder(path.join(store.root, "objects"))).toEqual([]);
  });

  it("imports a ZIP64 wheel (sizes and offsets in ZIP64 fields, local headers too)", async () => {
    const w = buildWheel({ name: "z", version: "1.0" });
    const entries = Object.entries(unzipSync(w.bytes)).filter(([p]) => !p.endsWith("/"));
    const bytes = zip64(entries);
    const source = await openFileSource(
      (() => {
        const f = path.join(tempDir(), "z.whl");
        writeFileSync(f, bytes);
        return f;
      })(),
    );
    try {
      const dir = await readZipDirectory(source, "z.whl");
      const first = dir.entries[0];
      if (first === undefined) throw new Error("no entries");
      const local = await readZipLocalHeader(source, first, "z.whl");
      expect(local).toMatchObject({ name: first.name, size: first.size });
      const chunks: Uint8Array[] = [];
      for await (const c of zipEntryChunks(source, first, local.dataStart, "z.whl")) chunks.push(c);
      expect(Buffer.concat(chunks)).toEqual(Buffer.from(entries[0]?.[1] ?? []));
    } finally {
      await source.close();
    }
    const store = tempStore();
    const stored = await store.importWheel({ bytes }, { filename: w.filename });
    expect(stored.files.map((f) => [f.path, f.hash])).toEqual(entries.map(([p, b]) => [p, sha(b)]));
  });

  it("accepts RECORD hashes other than sha256, still naming objects by sha256", async () => {
    const plain = buildWheel({ name: "h", version: "1.0" });
    const files = unzipSync(plain.bytes);
    const record = formatRecord(
      Object.entries(files).map(([p, b]) =>
        p.endsWith("/RECORD")
          ? { path: p }
          : { path: p, hash: recordHash(b, "sha512"), size: b.length },
      ),
    );
    const w = buildWheel({ name: "h", version: "1.0", tamper: { recordOverride: record } });
    const store = tempStore();
    const stored = await store.importWheel({ bytes: w.bytes }, { filename: w.filename });
    const init = stored.files.find((f) => f.path === "h/__init__.py");
    expect(init?.hash).toBe(sha(files["h/__init__.py"] as Uint8Array));
    const lying = record.replace(/^(h\/__init__\.py,sha512=)./m, (_m, a) => `${a}A`);
    const bad = buildWheel({ name: "h", version: "1.0", tamper: { recordOverride: lying } });
    await expect(
      tempStore().importWheel({ bytes: bad.bytes }, { filename: bad.filename }),
    ).rejects.toMatchObject({ rule: "hash-mismatch" });
  });
});
