/**
 * The agent's pure-Python parts, loaded from the agent file in CPython: Ed25519 verification
 * against RFC 8032's vectors and signatures made by keys.ts, and the SLDIFF01 patch applier
 * (hand-made patches apply, malformed ones are refused, a 10 MB file patches fast).
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { deflateSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { makePatch } from "../../src/bundle/bsdiff.ts";
import { PATCH_CODEC, xzCompress } from "../../src/bundle/compress.ts";
import { sha256Hex } from "../../src/bundle/hashing.ts";
import { generateSigningKey, signBytes } from "../../src/bundle/keys.ts";
import { AGENT, agentPython, handPatch, patchBytes } from "./agent-helpers.ts";
import { RFC8032_VECTORS } from "./rfc8032-vectors.ts";

const dir = mkdtempSync(path.join(tmpdir(), "slimenv-crypto-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DRIVER = `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("slimenv_agent", ${JSON.stringify(AGENT)})
a = importlib.util.module_from_spec(spec)
spec.loader.exec_module(a)
req = json.load(sys.stdin)
out = {}
if "verify" in req:
    out["verify"] = [a.ed25519_verify(bytes.fromhex(p), bytes.fromhex(m), bytes.fromhex(s)) for p, m, s in req["verify"]]
if "patches" in req:
    res = []
    for old, patch, size in req["patches"]:
        o = open(old, "rb").read()
        pt = open(patch, "rb").read()
        try:
            new = a.apply_patch(o, pt, size)
            import hashlib
            res.append({"sha256": hashlib.sha256(new).hexdigest()})
        except a.Refused as e:
            res.append({"error": str(e)})
    out["patches"] = res
print(json.dumps(out))
`;

function py(req: object): Record<string, unknown> {
  const r = spawnSync(agentPython(), ["-I", "-B", "-c", DRIVER], {
    input: JSON.stringify(req),
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return JSON.parse(r.stdout.toString());
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("ed25519 in the agent (pure Python)", () => {
  it("verifies every RFC 8032 section 7.1 vector and refuses altered ones", () => {
    const cases: string[][] = [];
    for (const v of RFC8032_VECTORS) {
      cases.push([v.public, v.message, v.signature]);
      const sig = Buffer.from(v.signature, "hex");
      sig[40] = (sig[40] as number) ^ 0x20;
      cases.push([v.public, v.message, sig.toString("hex")]);
      cases.push([v.public, `${v.message}00`, v.signature]);
    }
    const out = py({ verify: cases }).verify as boolean[];
    expect(out).toEqual(RFC8032_VECTORS.flatMap(() => [true, false, false]));
  });

  it("verifies signatures made by keys.ts (and nothing else)", () => {
    const key = generateSigningKey();
    const other = generateSigningKey();
    const cases: string[][] = [];
    const want: boolean[] = [];
    for (let i = 0; i < 8; i++) {
      const msg = randomBytes(i * 37);
      const sig = signBytes(key, msg);
      cases.push([hex(key.publicKey.raw), hex(msg), hex(sig)]);
      cases.push([hex(other.publicKey.raw), hex(msg), hex(sig)]);
      want.push(true, false);
    }
    // S at or above the group order is refused (malleability)
    const msg = randomBytes(10);
    const sig = Buffer.from(signBytes(key, msg));
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i] as number);
    s += L;
    for (let i = 32; i < 64; i++) {
      sig[i] = Number(s & 0xffn);
      s >>= 8n;
    }
    cases.push([hex(key.publicKey.raw), hex(msg), sig.toString("hex")]);
    want.push(false);
    expect(py({ verify: cases }).verify).toEqual(want);
  });
});

/** A patch from explicit control triples and raw streams (zlib, or another codec). */
function rawPatch(
  size: number,
  triples: readonly (readonly [number, number, number])[],
  diff: Uint8Array,
  extra: Uint8Array,
  opts: { codec?: number; compress?: (d: Uint8Array) => Uint8Array } = {},
): Uint8Array {
  const control = Buffer.alloc(24 * triples.length);
  triples.forEach(([a, c, s], i) => {
    control.writeBigInt64LE(BigInt(a), 24 * i);
    control.writeBigInt64LE(BigInt(c), 24 * i + 8);
    control.writeBigInt64LE(BigInt(s), 24 * i + 16);
  });
  const z = opts.compress ?? ((d: Uint8Array) => new Uint8Array(deflateSync(d)));
  return patchBytes(size, [z(control), z(diff), z(extra)], opts.codec ?? 2);
}

const RAW = { codec: PATCH_CODEC.raw, compress: (d: Uint8Array) => d };

function file(name: string, data: Uint8Array): string {
  const p = path.join(dir, name);
  writeFileSync(p, data);
  return p;
}

describe("SLDIFF01 patches in the agent", () => {
  const old = new Uint8Array(randomBytes(5000));

  it("applies hand-made patches (zlib and xz streams, with seeks)", () => {
    const neu = new Uint8Array(old);
    neu[10] = (neu[10] as number) + 1;
    const grown = new Uint8Array([...neu, ...randomBytes(300)]);
    // new = old[1000:2000] + "hello" + old[0:500]  (a backward seek)
    const moved = new Uint8Array([
      ...old.subarray(1000, 2000),
      ...Buffer.from("hello"),
      ...old.subarray(0, 500),
    ]);
    // old 1000..2000, "hello", old 0..500: three control triples, zero diff bytes
    const movedPatch = [
      moved.length,
      [
        [0, 0, 1000],
        [1000, 5, -2000],
        [500, 0, 0],
      ],
      new Uint8Array(1500),
      Buffer.from("hello"),
    ] as const;
    const p3 = rawPatch(...movedPatch);
    const xz = rawPatch(...movedPatch, {
      codec: 1,
      compress: (d) => xzCompress(d),
    });
    const raw = rawPatch(...movedPatch, { codec: PATCH_CODEC.raw, compress: (d) => d });
    const o = file("old", old);
    const out = py({
      patches: [
        [o, file("p1", handPatch(old, neu)), neu.length],
        [o, file("p2", handPatch(old, grown)), grown.length],
        [o, file("p3", p3), moved.length],
        [o, file("p4", xz), moved.length],
        [o, file("p5", raw), moved.length],
      ],
    }).patches as { sha256: string }[];
    expect(out.map((r) => r.sha256)).toEqual([
      sha256Hex(neu),
      sha256Hex(grown),
      sha256Hex(moved),
      sha256Hex(moved),
      sha256Hex(moved),
    ]);
  });

  it("applies patches made by the bsdiff encoder (bsdiff.ts), raw, xz and zlib", () => {
    const base = new Uint8Array(randomBytes(300_000));
    const neu = new Uint8Array([
      ...base.subarray(0, 100_000),
      ...randomBytes(777),
      ...base.subarray(100_500, 250_000).map((b, i) => (i % 1000 === 0 ? b ^ 1 : b)),
      ...base.subarray(0, 20_000),
    ]);
    const o = file("bs-old", base);
    const cases: [string, string, number][] = [];
    for (const codec of [PATCH_CODEC.raw, PATCH_CODEC.xz, PATCH_CODEC.zlib]) {
      const patch = makePatch(base, neu, codec);
      expect(patch).toBeDefined();
      cases.push([o, file(`bs-${codec}`, patch as Uint8Array), neu.length]);
    }
    const out = py({ patches: cases }).patches as { sha256: string }[];
    expect(out.map((r) => r.sha256)).toEqual([sha256Hex(neu), sha256Hex(neu), sha256Hex(neu)]);
  });

  const five = new Uint8Array(5);
  const bad: [string, () => Uint8Array, number, RegExp][] = [
    ["bad magic", () => Buffer.from("NOTDIFF0".padEnd(60, "\0")), 5, /no SLDIFF01 header/],
    [
      "trailing bytes after the streams",
      () => new Uint8Array([...rawPatch(5, [[5, 0, 0]], five, new Uint8Array()), 0]),
      5,
      /do not add up/,
    ],
    [
      "an unknown codec",
      () => rawPatch(5, [[5, 0, 0]], five, new Uint8Array(), { codec: 7 }),
      5,
      /unknown codec 7/,
    ],
    [
      "a negative add",
      () => rawPatch(5, [[-1, 0, 0]], five, new Uint8Array()),
      5,
      /negative length/,
    ],
    [
      "a negative copy",
      () => rawPatch(5, [[0, -5, 0]], five, new Uint8Array()),
      5,
      /negative length/,
    ],
    [
      "a read past the old file",
      () => rawPatch(5, [[5, 0, 0]], five, new Uint8Array()),
      5,
      /outside the old file/,
    ],
    [
      "a seek before the old file",
      () =>
        rawPatch(
          5,
          [
            [0, 0, -10],
            [5, 0, 0],
          ],
          five,
          new Uint8Array(),
        ),
      5,
      /outside the old file/,
    ],
    [
      "a run past the diff stream",
      () => rawPatch(4, [[4, 0, 0]], new Uint8Array(3), new Uint8Array()),
      4,
      /(past the diff stream|larger than it can be)/,
    ],
    [
      "a run past the extra stream",
      () => rawPatch(5, [[0, 5, 0]], new Uint8Array(), new Uint8Array(2)),
      5,
      /past the extra stream/,
    ],
    [
      "an output shorter than declared",
      () => rawPatch(5, [[3, 0, 0]], new Uint8Array(3), new Uint8Array()),
      5,
      /output size differs/,
    ],
    [
      "a size other than the manifest's",
      () => rawPatch(5, [[5, 0, 0]], five, new Uint8Array()),
      6,
      /makes 5 bytes, the manifest says 6/,
    ],
    [
      "left-over diff bytes",
      () => rawPatch(4, [[4, 0, 0]], five, new Uint8Array()),
      4,
      /(streams left over|larger than it can be)/,
    ],
    [
      "a corrupt stream",
      () =>
        patchBytes(5, [Buffer.from("garbage"), deflateSync(five), deflateSync(Buffer.alloc(0))]),
      5,
      /corrupt stream/,
    ],
    [
      "a control stream of partial triples",
      () =>
        patchBytes(5, [
          deflateSync(Buffer.alloc(10)),
          deflateSync(five),
          deflateSync(Buffer.alloc(0)),
        ]),
      5,
      /whole triples/,
    ],
    ["a truncated header", () => Buffer.from("SLDIFF01\0\0"), 5, /no SLDIFF01 header/],
    // codec 0 (raw): the streams are stored as they are, under the same bounds
    [
      "a raw diff stream longer than the new size",
      () => rawPatch(5, [[5, 0, 0]], new Uint8Array(6), new Uint8Array(), RAW),
      5,
      /larger than it can be/,
    ],
    [
      "a raw extra stream longer than the new size",
      () => rawPatch(3, [[0, 3, 0]], new Uint8Array(), new Uint8Array(4), RAW),
      3,
      /larger than it can be/,
    ],
    [
      "a raw control stream longer than its bound, 24 × (new size + 2)",
      () => rawPatch(1, Array(4).fill([0, 0, 0]), new Uint8Array(), new Uint8Array(1), RAW),
      1,
      /larger than it can be/,
    ],
    [
      "raw stream lengths that do not add up",
      () => {
        const p = rawPatch(5, [[0, 5, 0]], new Uint8Array(), five, RAW);
        Buffer.from(p.buffer, p.byteOffset).writeBigUInt64LE(4n, 33); // extra: 4, 5 stored
        return p;
      },
      5,
      /do not add up/,
    ],
    [
      "raw streams left over after the control",
      () => rawPatch(4, [[0, 3, 0]], new Uint8Array(), new Uint8Array(4), RAW),
      4,
      /output size differs/,
    ],
    [
      "a raw control stream of partial triples",
      () => patchBytes(5, [Buffer.alloc(10), five, Buffer.alloc(0)], PATCH_CODEC.raw),
      5,
      /whole triples/,
    ],
  ];

  it.each(bad)("refuses %s", (_name, make, size, reason) => {
    const small = file("small-old", new Uint8Array(4000).subarray(0, 4));
    const out = py({ patches: [[small, file("bad", make()), size]] }).patches as {
      error?: string;
    }[];
    expect(out[0]?.error).toMatch(reason);
  });

  it("patches a 10 MB file with scattered edits", () => {
    const big = new Uint8Array(randomBytes(10 * 1024 * 1024));
    const neu = new Uint8Array(big);
    for (let i = 0; i < neu.length; i += 4099) neu[i] = (neu[i] as number) ^ 0x5a;
    const o = file("big-old", big);
    const out = py({ patches: [[o, file("big-patch", handPatch(big, neu)), neu.length]] })
      .patches as {
      sha256: string;
    }[];
    expect(out[0]?.sha256).toBe(sha256Hex(neu));
  });
});
