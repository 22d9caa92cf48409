/**
 * Bundle files in TypeScript (wire.ts): written deterministically, read back with every
 * check the device makes, readable by Python's zipfile; the deterministic tar writer (the
 * payload) and the payload/patch codecs.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findTarFiles } from "../../src/archive/tar-read.ts";
import { writeTar } from "../../src/archive/tar-write.ts";
import { agentBytes, agentCode, agentRunner, agentSource } from "../../src/bundle/agent-source.ts";
import { canonicalJsonBytes } from "../../src/bundle/canonical-json.ts";
import {
  compressPayload,
  compressStream,
  decompressPayload,
  decompressStream,
  PATCH_CODEC,
} from "../../src/bundle/compress.ts";
import { sha256Hex } from "../../src/bundle/hashing.ts";
import { generateSigningKey } from "../../src/bundle/keys.ts";
import { encodeTree, treeBytesOf } from "../../src/bundle/tree-codec.ts";
import type { BundleHeader } from "../../src/bundle/types.ts";
import { objectSetHash, readBundle, writeBundle } from "../../src/bundle/wire.ts";
import { AGENT, agentPython, appEnv, handPatch } from "./agent-helpers.ts";
import { flipAt, members, resign, rezip } from "./bundle-edit.ts";

const key = generateSigningKey();
const dir = mkdtempSync(path.join(tmpdir(), "slimenv-wire-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const enc = new TextEncoder();

function build(compression: "xz" | "gzip" = "xz") {
  const { draft, objects } = appEnv({ sequence: 7 });
  return writeBundle({ manifest: draft, objects, agent: "print('agent')\n", compression }, key);
}

function python(code: string, ...args: string[]): string {
  const r = spawnSync(agentPython(), ["-I", "-c", code, ...args]);
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return r.stdout.toString();
}

describe("writeBundle / readBundle", () => {
  it.each(["xz", "gzip"] as const)(
    "round-trips a %s bundle, byte-for-byte reproducible",
    async (codec) => {
      const a = build(codec);
      const b = build(codec);
      expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
      expect(members(a.bytes).map((m) => m.name)).toEqual([
        "bundle.json",
        "bundle.sig",
        codec === "xz" ? "tree.json.xz" : "tree.json.gz",
        codec === "xz" ? "payload.tar.xz" : "payload.tar.gz",
        "agent.py",
      ]);
      const read = await readBundle(a.bytes, [generateSigningKey().publicKey, key.publicKey]);
      expect(read.keyid).toBe(key.publicKey.keyid);
      expect(read.manifest).toEqual(a.manifest);
      expect(read.manifest.payload.compression).toBe(codec);
      expect(read.manifest.tree.encoding).toBe(codec);
      expect(new TextDecoder().decode(read.agent ?? new Uint8Array())).toBe("print('agent')\n");
      for (const f of read.manifest.files)
        expect(sha256Hex(read.objects.get(f.sha256) ?? new Uint8Array())).toBe(f.sha256);
      const { files, symlinks, ...header } = read.manifest;
      expect(Buffer.from(read.headerBytes).equals(Buffer.from(canonicalJsonBytes(header)))).toBe(
        true,
      );
      expect(
        Buffer.from(read.treeBytes).equals(Buffer.from(treeBytesOf({ files, symlinks }))),
      ).toBe(true);
      expect(sha256Hex(read.treeBytes)).toBe(read.manifest.tree.sha256);
      // bundle.json names no file: those travel compressed in the tree member only
      expect(new TextDecoder().decode(read.headerBytes)).not.toContain("lib/myapp");
    },
  );

  it("is a zip Python's zipfile reads: every member stored, payload included", () => {
    for (const codec of ["xz", "gzip"] as const) {
      const file = path.join(dir, `b.${codec}`);
      writeFileSync(file, build(codec).bytes);
      const out = python(
        `import io, sys, tarfile, zipfile
z = zipfile.ZipFile(sys.argv[1])
infos = z.infolist()
inner = tarfile.open(fileobj=io.BytesIO(z.read(infos[3])), mode="r:*")
print(len(infos), all(i.compress_type == zipfile.ZIP_STORED for i in infos), z.testzip(), len(inner.getnames()))`,
        file,
      );
      expect(out.trim()).toBe("5 True None 4");
    }
  });

  it("carries patches and names each by its hash; patches the tree against a base tree", async () => {
    const a = appEnv({ sequence: 1 });
    const b = appEnv({ sequence: 2, files: { "lib/myapp/data.txt": "changed\n" } });
    const src = a.draft.files.find((f) => f.path === "lib/myapp/data.txt")?.sha256 as string;
    const dst = b.draft.files.find((f) => f.path === "lib/myapp/data.txt")?.sha256 as string;
    const patch = handPatch(a.objects.get(src) as Uint8Array, b.objects.get(dst) as Uint8Array);
    const objects = new Map([...b.objects].filter(([sha]) => !a.objects.has(sha) && sha !== dst));
    const base = { app: "myapp", sequence: 1, objects: objectSetHash(a.objects.keys()) };
    const oldTree = treeBytesOf(a.draft);
    const w = writeBundle(
      {
        manifest: { ...b.draft, base },
        objects,
        patches: [{ source: src, target: dst, data: patch }],
        treeBase: oldTree,
      },
      key,
    );
    expect(w.manifest.tree.encoding).toBe("sldiff");
    expect(w.manifest.tree.base).toBe(sha256Hex(oldTree));
    expect(members(w.bytes)[2]?.name).toBe("tree.sldiff");
    await expect(readBundle(w.bytes, [key.publicKey])).rejects.toThrow(/not at hand/);
    const r = await readBundle(w.bytes, [key.publicKey], "delta", {
      trees: new Map([[sha256Hex(oldTree), oldTree]]),
    });
    expect(r.manifest.files).toEqual(b.draft.files);
    expect(r.manifest.patches).toEqual([
      { sha256: sha256Hex(patch), size: patch.length, source: src, target: dst },
    ]);
    expect(r.patches.get(sha256Hex(patch))).toEqual(patch);
    expect(r.manifest.base?.objects).toBe(
      sha256Hex(enc.encode([...a.objects.keys()].sort().join("\n"))),
    );
    // the smaller of the two ships: a patch of an unrelated base never beats the compressed tree
    const plain = encodeTree(treeBytesOf(b.draft), "xz").info.stored.size;
    expect(w.manifest.tree.stored.size).toBeLessThan(plain);
    const unrelated = new Uint8Array(randomBytes(20000));
    const c = writeBundle({ manifest: { ...b.draft, base }, objects, treeBase: unrelated }, key);
    expect(c.manifest.tree.stored.size).toBeLessThanOrEqual(plain);
    if (c.manifest.tree.encoding === "xz") expect(c.manifest.tree.base).toBeNull();
    else expect(c.manifest.tree.base).toBe(sha256Hex(unrelated));
  });

  it("refuses what the device refuses", async () => {
    const good = build();
    const list = members(good.bytes);
    const read = (bytes: Uint8Array) => readBundle(bytes, [key.publicKey]);
    await expect(readBundle(good.bytes, [generateSigningKey().publicKey])).rejects.toThrow(
      /not trusted/,
    );
    const h = JSON.parse(new TextDecoder().decode(list[0]?.data)) as BundleHeader;
    const tampered = canonicalJsonBytes({ ...h, sequence: 8 });
    await expect(
      read(rezip([{ name: "bundle.json", data: tampered }, ...list.slice(1)])),
    ).rejects.toThrow(/bad signature/);
    await expect(read(rezip(members(flipAt(good.bytes, "payload.tar.xz", 50))))).rejects.toThrow(
      /payload hash/,
    );
    await expect(read(rezip(members(flipAt(good.bytes, "tree.json.xz", 20))))).rejects.toThrow(
      /tree member's hash or size differs/,
    );
    await expect(read(flipAt(good.bytes, "tree.json.xz", 20))).rejects.toThrow(/CRC/);
    await expect(read(rezip([...list, { name: "x", data: new Uint8Array(1) }]))).rejects.toThrow(
      /unexpected member/,
    );
    await expect(read(rezip([list[1], list[0], ...list.slice(2)] as typeof list))).rejects.toThrow(
      /first/,
    );
    await expect(read(rezip(list.slice(0, 4)))).rejects.toThrow(
      /agent.py and bundle.json disagree/,
    );
    await expect(read(rezip(list, true))).rejects.toThrow(/not stored/);
    const renamed = new Uint8Array(good.bytes);
    renamed[30 + 10] = "x".charCodeAt(0);
    await expect(read(renamed)).rejects.toThrow(/local header of bundle.json differs/);
    await expect(
      read(resign(good.bytes, key, (m) => ((m.files[0] as { path: string }).path = "../x"))),
    ).rejects.toThrow(/'\.\.' segment/);
    await expect(
      read(
        resign(good.bytes, key, () => {}, { header: (x) => (x.tree.sha256 = h.payload.sha256) }),
      ),
    ).rejects.toThrow(/decoded tree's hash or size differs/);
  });

  it("refuses to build a bundle the device would refuse", () => {
    const { draft, objects } = appEnv({ sequence: 3 });
    const first = draft.files[0]?.sha256 as string;
    const missing = new Map(objects);
    missing.delete(first);
    expect(() => writeBundle({ manifest: draft, objects: missing }, key)).toThrow(/no object for/);
    const wrong = new Map(objects);
    wrong.set(first, enc.encode("not it"));
    expect(() => writeBundle({ manifest: draft, objects: wrong }, key)).toThrow(/does not hash/);
    const extra = new Map(objects);
    extra.set(sha256Hex(enc.encode("stray")), enc.encode("stray"));
    expect(() => writeBundle({ manifest: draft, objects: extra }, key)).toThrow(/used by no file/);
    const abs = {
      ...draft,
      files: draft.files.map((f, i) => (i === 0 ? { ...f, path: "/abs" } : f)),
    };
    expect(() => writeBundle({ manifest: abs, objects }, key)).toThrow(/absolute path/);
    const escaping = { ...draft, symlinks: [{ path: "up", target: "../.." }] };
    expect(() => writeBundle({ manifest: escaping, objects }, key)).toThrow(/escapes/);
  });
});

describe("agentSource", () => {
  it("is the agent file next to the module in its runner, as text and bytes", () => {
    const text = readFileSync(AGENT, "utf8");
    expect(agentCode()).toBe(text);
    expect(agentSource()).toBe(agentRunner(text));
    expect(agentSource()).toContain(`_SOURCE = r'''${text}'''\n`);
    expect(Buffer.from(agentBytes()).equals(Buffer.from(agentSource()))).toBe(true);
    expect(agentSource().startsWith("#!/usr/bin/env python3\n")).toBe(true);
  });

  it("refuses code a raw string cannot hold", () => {
    expect(() => agentRunner("x = '''''\n")).toThrow(/cannot be held/);
  });
});

describe("writeTar", () => {
  it("writes sorted ustar/pax entries with mtime 0 that Python, GNU tar and our reader read", () => {
    const long = `${"d".repeat(120)}/${"f".repeat(120)}.txt`;
    const longer = `${"x/".repeat(200)}leaf`;
    const tar = writeTar([
      { path: "b.txt", data: enc.encode("b") },
      { path: "a/", mode: 0o755 },
      { path: long, data: enc.encode("long") },
      { path: longer, data: enc.encode("longer") },
      { path: "é/ünïcode.txt", data: enc.encode("u"), mode: 0o755 },
      { path: "empty", data: new Uint8Array() },
    ]);
    const files = findTarFiles(tar, () => true, "t");
    expect(files.map((f) => f.path)).toEqual(["b.txt", long, "empty", longer, "é/ünïcode.txt"]);
    const file = path.join(dir, "t.tar");
    writeFileSync(file, tar);
    const out = python(
      `import sys, tarfile, json
t = tarfile.open(sys.argv[1])
print(json.dumps([[m.name, m.size, oct(m.mode), m.mtime, m.type.decode()] for m in t.getmembers()]))`,
      file,
    );
    const entries = JSON.parse(out) as [string, number, string, number, string][];
    expect(entries.map((e) => e[0])).toEqual([
      "a",
      "b.txt",
      long,
      "empty",
      longer,
      "é/ünïcode.txt",
    ]);
    expect(entries.every((e) => e[3] === 0)).toBe(true);
    expect(entries.find((e) => e[0] === "é/ünïcode.txt")?.[2]).toBe("0o755");
    expect(entries[0]?.[4]).toBe("5");
    const gnu = spawnSync("tar", ["-tf", file]);
    expect(gnu.status).toBe(0);
    expect(gnu.stdout.toString().split("\n")).toContain(longer);
    expect(
      Buffer.from(
        writeTar([
          { path: "b", data: enc.encode("1") },
          { path: "a", data: enc.encode("2") },
        ]),
      ).equals(
        Buffer.from(
          writeTar([
            { path: "a", data: enc.encode("2") },
            { path: "b", data: enc.encode("1") },
          ]),
        ),
      ),
    ).toBe(true);
  });
});

describe("codecs", () => {
  const data = enc.encode("payload ".repeat(5000));
  it.each(["xz", "gzip"] as const)("round-trips a %s payload deterministically", (codec) => {
    const c = compressPayload(data, codec);
    expect(Buffer.from(c).equals(Buffer.from(compressPayload(data, codec)))).toBe(true);
    expect(c.length).toBeLessThan(data.length / 10);
    expect(decompressPayload(c, codec)).toEqual(data);
  });

  it("round-trips patch streams in both codecs, and Python's lzma/zlib read them", () => {
    for (const codec of [PATCH_CODEC.xz, PATCH_CODEC.zlib]) {
      const c = compressStream(data, codec);
      expect(decompressStream(c, codec)).toEqual(data);
      const file = path.join(dir, `s${codec}`);
      writeFileSync(file, c);
      const n = python(
        `import lzma, sys, zlib
d = open(sys.argv[1], "rb").read()
print(len(lzma.decompress(d, format=lzma.FORMAT_XZ) if sys.argv[2] == "1" else zlib.decompress(d)))`,
        file,
        String(codec),
      );
      expect(Number(n)).toBe(data.length);
    }
    expect(() => decompressStream(data, 9)).toThrow(/unknown patch codec/);
  });
});
