/**
 * Bundle files in TypeScript (wire.ts): written deterministically, read back with every
 * check the device makes, readable by Python's tarfile; the deterministic tar writer and the
 * payload/patch codecs.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findTarFiles } from "../../src/archive/tar-read.ts";
import { writeTar } from "../../src/archive/tar-write.ts";
import { agentBytes, agentSource } from "../../src/bundle/agent-source.ts";
import { canonicalJsonBytes } from "../../src/bundle/canonical-json.ts";
import {
  compressPayload,
  compressStream,
  decompressPayload,
  decompressStream,
  PATCH_CODEC,
} from "../../src/bundle/compress.ts";
import { generateSigningKey, signDocument } from "../../src/bundle/keys.ts";
import type { BundleManifest } from "../../src/bundle/types.ts";
import { objectSetHash, readBundle, sha256Hex, writeBundle } from "../../src/bundle/wire.ts";
import { AGENT, agentPython, appEnv, handPatch } from "./agent-helpers.ts";

const key = generateSigningKey();
const dir = mkdtempSync(path.join(tmpdir(), "slimenv-wire-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const enc = new TextEncoder();

function build(compression: "xz" | "gzip" = "xz") {
  const { draft, objects } = appEnv({ sequence: 7 });
  return writeBundle({ manifest: draft, objects, agent: "print('agent')\n", compression }, key);
}

function members(bytes: Uint8Array) {
  return findTarFiles(bytes, () => true, "bundle").map((m) => ({ path: m.path, data: m.data }));
}

function python(code: string, ...args: string[]): string {
  const r = spawnSync(agentPython(), ["-I", "-c", code, ...args]);
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return r.stdout.toString();
}

describe("writeBundle / readBundle", () => {
  it.each(["xz", "gzip"] as const)(
    "round-trips a %s bundle, byte-for-byte reproducible",
    (codec) => {
      const a = build(codec);
      const b = build(codec);
      expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
      expect(members(a.bytes).map((m) => m.path)).toEqual([
        "manifest.json",
        "manifest.sig",
        codec === "xz" ? "payload.tar.xz" : "payload.tar.gz",
        "agent.py",
      ]);
      const read = readBundle(a.bytes, [generateSigningKey().publicKey, key.publicKey]);
      expect(read.keyid).toBe(key.publicKey.keyid);
      expect(read.manifest).toEqual(a.manifest);
      expect(read.manifest.payload.compression).toBe(codec);
      expect(new TextDecoder().decode(read.agent ?? new Uint8Array())).toBe("print('agent')\n");
      for (const f of read.manifest.files)
        expect(sha256Hex(read.objects.get(f.sha256) ?? new Uint8Array())).toBe(f.sha256);
      expect(
        Buffer.from(read.manifestBytes).equals(Buffer.from(canonicalJsonBytes(read.manifest))),
      ).toBe(true);
    },
  );

  it("is readable by Python's tarfile, payload included", () => {
    for (const codec of ["xz", "gzip"] as const) {
      const file = path.join(dir, `b.${codec}`);
      writeFileSync(file, build(codec).bytes);
      const out = python(
        `import io, sys, tarfile
t = tarfile.open(sys.argv[1], "r:")
names = [(m.name, m.mtime, m.uid, m.isreg()) for m in t.getmembers()]
p = t.extractfile(names[2][0]).read()
inner = tarfile.open(fileobj=io.BytesIO(p), mode="r:*")
print(len(names), all(m[1] == 0 and m[2] == 0 and m[3] for m in names), len(inner.getnames()))`,
        file,
      );
      expect(out.trim()).toBe("4 True 4");
    }
  });

  it("carries patches and names each by its hash", () => {
    const a = appEnv({ sequence: 1 });
    const b = appEnv({ sequence: 2, files: { "lib/myapp/data.txt": "changed\n" } });
    const src = a.draft.files.find((f) => f.path === "lib/myapp/data.txt")?.sha256 as string;
    const dst = b.draft.files.find((f) => f.path === "lib/myapp/data.txt")?.sha256 as string;
    const patch = handPatch(a.objects.get(src) as Uint8Array, b.objects.get(dst) as Uint8Array);
    const objects = new Map([...b.objects].filter(([sha]) => !a.objects.has(sha) && sha !== dst));
    const base = { app: "myapp", sequence: 1, objects: objectSetHash(a.objects.keys()) };
    const w = writeBundle(
      {
        manifest: { ...b.draft, base },
        objects,
        patches: [{ source: src, target: dst, data: patch }],
      },
      key,
    );
    const r = readBundle(w.bytes, [key.publicKey]);
    expect(r.manifest.patches).toEqual([
      { sha256: sha256Hex(patch), size: patch.length, source: src, target: dst },
    ]);
    expect(r.patches.get(sha256Hex(patch))).toEqual(patch);
    expect(r.manifest.base?.objects).toBe(
      sha256Hex(enc.encode([...a.objects.keys()].sort().join("\n"))),
    );
  });

  it("refuses what the device refuses", () => {
    const good = build();
    const list = members(good.bytes);
    const retar = (l: { path: string; data: Uint8Array }[]) => writeTar(l, { sort: false });
    expect(() => readBundle(good.bytes, [generateSigningKey().publicKey])).toThrow(/not trusted/);
    const m = JSON.parse(new TextDecoder().decode(list[0]?.data)) as BundleManifest;
    const tampered = canonicalJsonBytes({ ...m, sequence: 8 });
    expect(() =>
      readBundle(retar([{ path: "manifest.json", data: tampered }, ...list.slice(1)]), [
        key.publicKey,
      ]),
    ).toThrow(/bad signature/);
    const flipped = new Uint8Array(list[2]?.data ?? []);
    flipped[50] = (flipped[50] as number) ^ 1;
    expect(() =>
      readBundle(
        retar([
          ...list.slice(0, 2),
          { path: list[2]?.path ?? "", data: flipped },
          ...list.slice(3),
        ]),
        [key.publicKey],
      ),
    ).toThrow(/payload hash/);
    expect(() =>
      readBundle(retar([...list, { path: "x", data: new Uint8Array(1) }]), [key.publicKey]),
    ).toThrow(/unexpected member/);
    expect(() =>
      readBundle(retar([list[1], list[0], ...list.slice(2)] as typeof list), [key.publicKey]),
    ).toThrow(/first/);
    expect(() => readBundle(retar(list.slice(0, 3)), [key.publicKey])).toThrow(
      /agent.py and the manifest disagree/,
    );
    const evil = canonicalJsonBytes({
      ...m,
      files: [{ ...m.files[0], path: "../x" }, ...m.files.slice(1)],
    });
    expect(() =>
      readBundle(
        retar([
          { path: "manifest.json", data: evil },
          { path: "manifest.sig", data: signDocument(key, evil) },
          ...list.slice(2),
        ]),
        [key.publicKey],
      ),
    ).toThrow(/'\.\.' segment/);
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
  it("is the agent file next to the module, as text and bytes", () => {
    const text = readFileSync(AGENT, "utf8");
    expect(agentSource()).toBe(text);
    expect(Buffer.from(agentBytes()).equals(readFileSync(AGENT))).toBe(true);
    expect(text.startsWith("#!/usr/bin/env python3\n")).toBe(true);
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
