/**
 * The suffix array against a naive sort, and SLDIFF01 patches: round trips with both codecs,
 * the inputs that make plain bsdiff quadratic, and refusal of damaged patches.
 */
import { describe, expect, it } from "vitest";
import { isSlimenvError } from "../../src/base/index.ts";
import { applyPatch, diffStreams, makePatch, patchCodec } from "../../src/bundle/bsdiff.ts";
import { PATCH_CODEC, xzAvailable } from "../../src/bundle/compress.ts";
import { suffixArray } from "../../src/bundle/suffix-array.ts";

/** A seeded generator (LCG): the same bytes every run. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    return s / 0x80000000;
  };
}

function mustPatch(...args: Parameters<typeof makePatch>): Uint8Array {
  const patch = makePatch(...args);
  if (patch === undefined) throw new Error("makePatch gave up");
  return patch;
}

function naiveSuffixArray(t: Uint8Array): number[] {
  const idx = Array.from({ length: t.length }, (_, i) => i);
  return idx.sort((a, b) => Buffer.compare(t.subarray(a), t.subarray(b)));
}

/** `n` bytes with runs and repeats, like code: a few words over a small alphabet. */
function codeLike(n: number, r: () => number): Uint8Array {
  const words = ["def ", "return ", "self.", "import ", "\n    ", "(x)", ": ", "0x00", "None"];
  const parts: string[] = [];
  let len = 0;
  while (len < n) {
    const w = words[Math.floor(r() * words.length)] ?? "";
    parts.push(w);
    len += w.length;
  }
  return new Uint8Array(Buffer.from(parts.join("").slice(0, n)));
}

/** `base` with a few bytes flipped, a block inserted and a block removed. */
function edited(base: Uint8Array, r: () => number): Uint8Array {
  const out = Buffer.from(base);
  for (let i = 0; i < 20; i++) {
    const at = Math.floor(r() * out.length);
    out[at] = (out[at] ?? 0) ^ 0x5a;
  }
  const cut = Math.floor(out.length / 3);
  const insert = Buffer.from("a brand new block of text that was never there before\n".repeat(4));
  return new Uint8Array(
    Buffer.concat([
      out.subarray(0, cut),
      insert,
      out.subarray(cut, cut * 2),
      out.subarray(cut * 2 + 500),
    ]),
  );
}

describe("suffixArray", () => {
  it("orders suffixes as a naive sort does, for small and large alphabets and runs", () => {
    const r = rng(7);
    for (let trial = 0; trial < 600; trial++) {
      const n = Math.floor(r() * 200);
      const k = [2, 3, 4, 256][trial % 4] as number;
      const t = new Uint8Array(n);
      for (let i = 0; i < n; i++)
        t[i] = trial % 5 === 0 ? (i % 7 === 0 ? 1 : 0) : Math.floor(r() * k);
      expect([...suffixArray(t)]).toEqual(naiveSuffixArray(t));
    }
  });

  it("handles the empty text, one byte and all-equal bytes", () => {
    expect([...suffixArray(new Uint8Array(0))]).toEqual([]);
    expect([...suffixArray(new Uint8Array([9]))]).toEqual([0]);
    const zeros = new Uint8Array(1000);
    expect([...suffixArray(zeros)]).toEqual(naiveSuffixArray(zeros));
  });
});

describe("SLDIFF01 patches", () => {
  it("round-trips random edits with zlib streams", () => {
    const r = rng(11);
    for (let trial = 0; trial < 60; trial++) {
      const old = codeLike(Math.floor(r() * 5000), r);
      const neu = old.length > 1600 ? edited(old, r) : codeLike(Math.floor(r() * 3000), r);
      const patch = mustPatch(old, neu, PATCH_CODEC.zlib);
      expect(patchCodec(patch)).toBe(PATCH_CODEC.zlib);
      expect(Buffer.from(applyPatch(old, patch)).equals(Buffer.from(neu))).toBe(true);
    }
  });

  it.skipIf(!xzAvailable())("round-trips with xz streams; an edit of 200 KB patches small", () => {
    const r = rng(3);
    const old = codeLike(200_000, r);
    const neu = edited(old, r);
    const patch = mustPatch(old, neu);
    expect(patchCodec(patch)).toBe(PATCH_CODEC.xz);
    expect(Buffer.from(applyPatch(old, patch)).equals(Buffer.from(neu))).toBe(true);
    expect(patch.length).toBeLessThan(2000);
  });

  it("round-trips with raw streams (codec 0): the streams stored as they are", () => {
    const r = rng(13);
    const old = codeLike(50_000, r);
    const neu = edited(old, r);
    const patch = mustPatch(old, neu, PATCH_CODEC.raw);
    expect(patchCodec(patch)).toBe(PATCH_CODEC.raw);
    const streams = diffStreams(old, neu);
    const stored = streams.control.length + streams.diff.length + streams.extra.length;
    expect(patch.length).toBe(41 + stored);
    expect(Buffer.from(applyPatch(old, patch)).equals(Buffer.from(neu))).toBe(true);
  });

  it("patches from and to empty files", () => {
    const some = new Uint8Array(Buffer.from("hello"));
    const empty = new Uint8Array(0);
    for (const [a, b] of [
      [empty, some],
      [some, empty],
      [empty, empty],
    ] as const) {
      expect(Buffer.from(applyPatch(a, mustPatch(a, b, PATCH_CODEC.zlib)))).toEqual(Buffer.from(b));
    }
  });

  it("stays fast on zero-filled regions (plain bsdiff is quadratic there)", () => {
    const old = new Uint8Array(4_000_000);
    const neu = new Uint8Array(4_000_001);
    neu[2_000_000] = 0x78;
    const start = performance.now();
    const streams = diffStreams(old, neu);
    expect(performance.now() - start).toBeLessThan(20_000);
    expect(streams.extra.length).toBeLessThan(16);
    const patch = mustPatch(old, neu, PATCH_CODEC.zlib);
    expect(Buffer.from(applyPatch(old, patch)).equals(Buffer.from(neu))).toBe(true);
  });

  it("gives up on unrelated files (a patch would not pay), quickly", () => {
    const r = rng(5);
    const a = new Uint8Array(2_000_000).map(() => Math.floor(r() * 256));
    const b = new Uint8Array(2_000_000).map(() => Math.floor(r() * 256));
    const start = performance.now();
    expect(makePatch(a, b, PATCH_CODEC.zlib)).toBeUndefined();
    expect(performance.now() - start).toBeLessThan(30_000);
    // Without the give-up rule the streams come out whole.
    const small = a.subarray(0, 5000);
    expect(diffStreams(small, b.subarray(0, 5000)).extra.length).toBeGreaterThan(4000);
  });

  it("refuses damaged patches with HASH_MISMATCH", () => {
    const old = new Uint8Array(Buffer.from("the old file, long enough to copy from"));
    const neu = new Uint8Array(Buffer.from("the new file, long enough to copy from!"));
    const good = mustPatch(old, neu, PATCH_CODEC.zlib);
    const bad: Uint8Array[] = [];
    bad.push(good.subarray(0, 30)); // truncated header
    const magic = Uint8Array.from(good);
    magic[0] = 0x41;
    bad.push(magic);
    const codec = Uint8Array.from(good);
    codec[16] = 9;
    bad.push(codec);
    bad.push(good.subarray(0, good.length - 1)); // lengths do not add up
    const size = Uint8Array.from(good);
    size[8] = (size[8] as number) + 1; // declared size too big
    bad.push(size);
    for (const p of bad) {
      let err: unknown;
      try {
        applyPatch(old, p);
      } catch (e) {
        err = e;
      }
      expect(isSlimenvError(err, "HASH_MISMATCH")).toBe(true);
    }
    // codec 0 (raw): stream lengths read straight from the header, under the same bounds
    const raw = mustPatch(old, neu, PATCH_CODEC.raw);
    const view = (p: Uint8Array) => new DataView(p.buffer, p.byteOffset, p.byteLength);
    const lens = [17, 25, 33].map((o) => Number(view(raw).getBigUint64(o, true)));
    const withLens = (control: Uint8Array, diff: Uint8Array, extra: Uint8Array) => {
      const p = new Uint8Array(41 + control.length + diff.length + extra.length);
      p.set(raw.subarray(0, 41));
      [control, diff, extra].forEach((s, i) => {
        view(p).setBigUint64(17 + 8 * i, BigInt(s.length), true);
      });
      p.set(control, 41);
      p.set(diff, 41 + control.length);
      p.set(extra, 41 + control.length + diff.length);
      return p;
    };
    const [c, d, e] = [0, 1, 2].map((i) => {
      const at = 41 + lens.slice(0, i).reduce((a, b) => a + b, 0);
      return raw.subarray(at, at + (lens[i] as number));
    }) as [Uint8Array, Uint8Array, Uint8Array];
    const rawBad: [Uint8Array, RegExp][] = [
      [raw.subarray(0, raw.length - 1), /do not add up/],
      [new Uint8Array([...raw, 0]), /do not add up/],
      [withLens(c, new Uint8Array(neu.length + 1), e), /larger than it can be/],
      [withLens(c, d, new Uint8Array(neu.length + 1)), /larger than it can be/],
      [withLens(new Uint8Array(24 * (neu.length + 3)), d, e), /larger than it can be/],
      [withLens(c.subarray(0, c.length - 1), d, e), /whole triples/],
      [withLens(c, d, new Uint8Array([...e, 7])), /left over/],
    ];
    for (const [p, why] of rawBad) {
      expect(() => applyPatch(old, p)).toThrow(why);
      try {
        applyPatch(old, p);
      } catch (err) {
        expect(isSlimenvError(err, "HASH_MISMATCH")).toBe(true);
      }
    }
    // A patch applied to a shorter old file reads outside it.
    expect(() => applyPatch(old.subarray(0, 5), good)).toThrow(/outside the old file/);
  });
});
