/**
 * What a delta carries: nothing the device holds (from an old bundle, its manifest, or a
 * device status covering several apps), a patch where it is smaller than the object (renamed
 * library), the object where it is not (a rewritten file); and bad --from input refused.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyPatch, patchCodec } from "../../src/bundle/bsdiff.ts";
import { PATCH_CODEC } from "../../src/bundle/compress.ts";
import { compressedSize, planDelta, readOld, treeBase } from "../../src/bundle/delta.ts";
import { sha256Hex } from "../../src/bundle/hashing.ts";
import { signingKeyFromSeed } from "../../src/bundle/keys.ts";
import type { BundleDraft, FileEntry } from "../../src/bundle/types.ts";
import { objectSetHash, writeBundle } from "../../src/bundle/wire.ts";
import { tempDir } from "../helpers/tmp.ts";
import { expectSlimenvError } from "../install/fixtures.ts";
import { bytes } from "./bundle-fixtures.ts";

const key = signingKeyFromSeed(new Uint8Array(32).fill(3));
const dir = tempDir("slimenv-delta-");

const text = (s: string) => new Uint8Array(Buffer.from(s));
const lib1 = bytes(120_000, 5);
const lib2 = Uint8Array.from(lib1);
lib2[500] = 1;
lib2[90_000] = 2;
const a1 = text("print('old a')\n".repeat(20));
const a2 = bytes(3000, 77); // rewritten: no patch beats the object
const shared = text("SHARED = True\n");
const other = text("held by another app\n");

function file(p: string, data: Uint8Array): FileEntry {
  return { path: p, sha256: sha256Hex(data), size: data.length, mode: 420 };
}

function draft(app: string, sequence: number, files: FileEntry[]): BundleDraft {
  return {
    app,
    version: String(sequence),
    sequence,
    created: "2026-12-06T17:00:00Z",
    target: {
      implementation: "cp",
      python: "3.12",
      abi: "cp312",
      machine: "x86_64",
      libc: null,
      libcVersion: null,
      platforms: [],
    },
    interpreter: "python3.12",
    health: null,
    files: files.sort((x, y) => (x.path < y.path ? -1 : 1)),
    symlinks: [],
    base: null,
  };
}

function oldBundle(): string {
  const data = [lib1, a1, shared];
  const files = [file("app.libs/libx-11111111.so", lib1), file("a.py", a1), file("s.py", shared)];
  const objects = new Map(data.map((d) => [sha256Hex(d), d]));
  const written = writeBundle(
    { manifest: draft("demo", 1, files), objects, compression: "gzip" },
    key,
  );
  const p = path.join(dir, "old.bundle");
  writeFileSync(p, written.bytes);
  writeFileSync(path.join(dir, "1.tree.json"), written.treeBytes);
  return p;
}

const newData = new Map(
  [lib2, a2, shared, other].map((d) => [sha256Hex(d), d] as [string, Uint8Array]),
);
const newFiles = [
  file("app.libs/libx-22222222.so", lib2),
  file("a.py", a2),
  file("s.py", shared),
  file("o.py", other),
];
const readNew = (sha: string) => newData.get(sha) as Uint8Array;

describe("planDelta", () => {
  it("from an old bundle: patches the renamed library, carries the rewritten file", async () => {
    const old = await readOld([oldBundle()], "demo", [key.publicKey]);
    expect(old.sequence).toBe(1);
    expect(old.held.size).toBe(3);
    expect(old.tree).toEqual(new Uint8Array(readFileSync(path.join(dir, "1.tree.json"))));
    const plan = planDelta("demo", newFiles, readNew, old);
    expect(plan.patches.map((p) => [p.source, p.target])).toEqual([
      [sha256Hex(lib1), sha256Hex(lib2)],
    ]);
    const patch = plan.patches[0]?.data as Uint8Array;
    // raw streams (codec 0): the payload's xz compresses them; compressed alone, small
    expect(patchCodec(patch)).toBe(PATCH_CODEC.raw);
    expect(compressedSize(patch)).toBeLessThan(1000);
    expect(compressedSize(patch)).toBeLessThan(compressedSize(lib2) / 20);
    expect(Buffer.from(applyPatch(lib1, patch)).equals(Buffer.from(lib2))).toBe(true);
    expect([...plan.objects.keys()].sort()).toEqual([sha256Hex(a2), sha256Hex(other)].sort());
    expect(plan.base).toEqual({ app: "demo", sequence: 1, objects: objectSetHash(old.held) });
    expect(plan.stats).toMatchObject({ held: 1, carried: 2, patched: 1 });
  });

  it("from a tree document: the same holdings and tree base, but no bytes to patch from", async () => {
    oldBundle();
    const treeFile = path.join(dir, "1.tree.json");
    const old = await readOld([treeFile], "demo", [key.publicKey]);
    expect(old.tree).toEqual(new Uint8Array(readFileSync(treeFile)));
    expect(old.held.size).toBe(3);
    const plan = planDelta("demo", newFiles, readNew, old);
    expect(plan.patches).toEqual([]);
    expect(plan.objects.size).toBe(3);
  });

  it("reads an old delta whose tree is a patch when its base tree is given beside it", async () => {
    const oldFile = oldBundle();
    const treeFile = path.join(dir, "1.tree.json");
    const base = await readOld([oldFile], "demo", [key.publicKey]);
    const plan = planDelta("demo", newFiles, readNew, base);
    const delta = writeBundle(
      {
        manifest: { ...draft("demo", 2, newFiles), base: plan.base },
        objects: plan.objects,
        patches: plan.patches,
        treeBase: base.tree as Uint8Array,
      },
      key,
    );
    expect(delta.manifest.tree.encoding).toBe("sldiff");
    const deltaFile = path.join(dir, "delta2.bundle");
    writeFileSync(deltaFile, delta.bytes);
    await expect(readOld([deltaFile], "demo", [key.publicKey])).rejects.toThrow(/not at hand/);
    const old = await readOld([deltaFile, treeFile], "demo", [key.publicKey]);
    expect(old.sequence).toBe(2);
    expect(old.tree).toEqual(delta.treeBytes);
  });

  it("from a device status: objects any app holds are skipped; bundle + status add up", async () => {
    const status = {
      ok: true,
      apps: { demo: { current: 1 }, other: { current: 7 } },
      objects: [sha256Hex(other), sha256Hex(shared)].sort(),
    };
    const statusFile = path.join(dir, "status.json");
    writeFileSync(statusFile, JSON.stringify(status));
    const fromStatus = planDelta(
      "demo",
      newFiles,
      readNew,
      await readOld([statusFile], "demo", []),
    );
    expect([...fromStatus.objects.keys()].sort()).toEqual([sha256Hex(lib2), sha256Hex(a2)].sort());
    expect(fromStatus.base.sequence).toBe(1);
    const both = await readOld([statusFile, oldBundle()], "demo", [key.publicKey]);
    const plan = planDelta("demo", newFiles, readNew, both);
    expect([...plan.objects.keys()]).toEqual([sha256Hex(a2)]);
    expect(plan.patches).toHaveLength(1);
    // the status names no tree of demo: the old bundle's tree is not a base the device keeps
    expect(both.tree).toBeDefined();
    expect(treeBase(both)).toBeUndefined();
    const tree = both.tree as Uint8Array;
    const gens = [{ sequence: 1, tree: sha256Hex(tree) }];
    writeFileSync(
      statusFile,
      JSON.stringify({ ...status, apps: { demo: { current: 1, generations: gens } } }),
    );
    const kept = await readOld([statusFile, oldBundle()], "demo", [key.publicKey]);
    expect(treeBase(kept)).toEqual(tree);
    expect(treeBase(await readOld([oldBundle()], "demo", [key.publicKey]))).toEqual(tree);
  });

  it("refuses --from input it cannot use", async () => {
    const refuse = (files: string[], message: RegExp) =>
      expectSlimenvError(
        Promise.resolve().then(() => readOld(files, "demo", [key.publicKey])),
        "INVALID_OPTION",
        message,
      );
    await refuse([path.join(dir, "missing.json")], /cannot read/);
    writeFileSync(path.join(dir, "junk"), "not json");
    await refuse([path.join(dir, "junk")], /neither a bundle nor JSON/);
    writeFileSync(path.join(dir, "other.json"), '{"hello": 1}');
    await refuse(
      [path.join(dir, "other.json")],
      /not a bundle, a tree document nor an agent status/,
    );
    writeFileSync(path.join(dir, "bad-tree.json"), '{"files":[{"path":"../x"}],"symlinks":[]}');
    await expect(readOld([path.join(dir, "bad-tree.json")], "demo", [])).rejects.toThrow(/segment/);
    writeFileSync(path.join(dir, "bad-status.json"), '{"apps": {}, "objects": ["xyz"]}');
    await refuse([path.join(dir, "bad-status.json")], /not sha256/);
    const stranger = signingKeyFromSeed(new Uint8Array(32).fill(4));
    await expect(readOld([oldBundle()], "demo", [stranger.publicKey])).rejects.toThrow(
      /not trusted/,
    );
  });
});
