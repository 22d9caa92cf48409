/**
 * A bsdiff-style encoder (Colin Percival's bsdiff 4 scan over a suffix array of the old file)
 * producing the SLDIFF01 patch format of docs/fleet.md, and its decoder (for checks and
 * tests; the device agent has its own).
 *
 *   0  "SLDIFF01" · 8 u64 new size · 16 u8 codec (0 raw, 1 xz, 2 zlib) · 17/25/33 u64 stored
 *   lengths of the control, diff and extra streams · 41 the three streams
 *
 * Control: triples of signed 64-bit (add, copy, seek). Memory: the suffix array (4 bytes per
 * old byte, see suffix-array.ts) plus the diff and extra streams (at most the new size each).
 */
import { SlimenvError } from "../base/index.ts";
import {
  compressStream,
  decompressStream,
  PATCH_CODEC,
  type PatchCodec,
  xzAvailable,
} from "./compress.ts";
import { suffixArray } from "./suffix-array.ts";
import { PATCH_MAGIC } from "./types.ts";

/** Files at least this big get xz patch streams (when xz exists); smaller ones zlib, whose
 *  per-stream overhead is a few bytes against xz's ~60. */
export const XZ_PATCH_FROM = 64 * 1024;

const HEADER = 41;
/** A match at least this long that is not taken lets the scan skip ahead (see diffStreams). */
const LONG_MATCH = 64;

/** The three uncompressed streams of a patch. */
export interface PatchStreams {
  newSize: number;
  control: Uint8Array;
  diff: Uint8Array;
  extra: Uint8Array;
}

export type StreamCodec = (data: Uint8Array) => Uint8Array;

function matchLen(a: Uint8Array, ai: number, b: Uint8Array, bi: number): number {
  const n = Math.min(a.length - ai, b.length - bi);
  let i = 0;
  while (i < n && a[ai + i] === b[bi + i]) i++;
  return i;
}

/**
 * Longest match of `neu[at..]` among the old suffixes: [length, old position]. A binary
 * search that starts each comparison after the common prefix of both bounds (every suffix
 * between them shares it), so a long match costs its length plus log n, not times log n.
 */
function search(sa: Int32Array, old: Uint8Array, neu: Uint8Array, at: number): [number, number] {
  let st = 0;
  let en = sa.length - 1;
  let lst = matchLen(old, sa[st] as number, neu, at);
  let len = matchLen(old, sa[en] as number, neu, at);
  const rest = neu.length - at;
  while (en - st >= 2) {
    const x = st + ((en - st) >> 1);
    const p = sa[x] as number;
    const lim = Math.min(old.length - p, rest);
    let k = Math.min(lst, len);
    while (k < lim && old[p + k] === neu[at + k]) k++;
    // Exact order (bsdiff's memcmp over the shorter length sends an old suffix that is a
    // prefix of the query the wrong way, which makes zero-filled regions quadratic).
    const less = k < lim ? (old[p + k] as number) < (neu[at + k] as number) : old.length - p < rest;
    if (less) {
      st = x;
      lst = k;
    } else {
      en = x;
      len = k;
    }
  }
  return lst > len ? [lst, sa[st] as number] : [len, sa[en] as number];
}

class Growable {
  buf: Uint8Array;
  length = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(64, capacity));
  }
  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** The bsdiff streams turning `old` into `neu`. */
export interface DiffOptions {
  /**
   * Give up (undefined) once a quarter of the new file, and at least 1 MiB, is scanned and
   * more than this share of it had to go to the extra stream: the files are not versions of
   * each other, a patch would not beat the object, and bsdiff is slowest on such pairs.
   */
  giveUpAbove?: number;
}

const GIVE_UP_AFTER = 1 << 20;

export function diffStreams(old: Uint8Array, neu: Uint8Array): PatchStreams;
export function diffStreams(
  old: Uint8Array,
  neu: Uint8Array,
  options: DiffOptions,
): PatchStreams | undefined;
export function diffStreams(
  old: Uint8Array,
  neu: Uint8Array,
  options: DiffOptions = {},
): PatchStreams | undefined {
  const newSize = neu.length;
  const oldSize = old.length;
  const diff = new Uint8Array(newSize);
  const extra = new Uint8Array(newSize);
  const control = new Growable(1024);
  const view = () => new DataView(control.buf.buffer, control.buf.byteOffset);
  let dlen = 0;
  let elen = 0;
  const emit = (add: number, copy: number, seek: number) => {
    control.reserve(24);
    const v = view();
    v.setBigInt64(control.length, BigInt(add), true);
    v.setBigInt64(control.length + 8, BigInt(copy), true);
    v.setBigInt64(control.length + 16, BigInt(seek), true);
    control.length += 24;
  };
  if (oldSize === 0) {
    extra.set(neu);
    if (newSize > 0) emit(0, newSize, 0);
    return { newSize, control: control.bytes(), diff: diff.subarray(0, 0), extra };
  }
  const sa = suffixArray(old);
  let scan = 0;
  let len = 0;
  let pos = 0;
  let lastScan = 0;
  let lastPos = 0;
  let lastOffset = 0;
  while (scan < newSize) {
    let oldScore = 0;
    scan += len;
    let scsc = scan;
    while (scan < newSize) {
      [len, pos] = search(sa, old, neu, scan);
      for (; scsc < scan + len; scsc++) {
        if (scsc + lastOffset < oldSize && old[scsc + lastOffset] === neu[scsc]) oldScore++;
      }
      if ((len === oldScore && len !== 0) || len > oldScore + 8) break;
      // A long match no better than the current alignment: step over a quarter of it
      // (bsdiff steps one byte, quadratic on long runs such as zero-filled sections).
      const stop = len >= LONG_MATCH ? Math.min(newSize, scan + (len >> 2)) : scan + 1;
      for (; scan < stop; scan++) {
        if (scan + lastOffset < oldSize && old[scan + lastOffset] === neu[scan]) oldScore--;
      }
    }
    if (len === oldScore && scan !== newSize) continue;
    // Extend the last match forwards and this one backwards, then split any overlap.
    let s = 0;
    let best = 0;
    let lenf = 0;
    for (let i = 0; lastScan + i < scan && lastPos + i < oldSize; ) {
      if (old[lastPos + i] === neu[lastScan + i]) s++;
      i++;
      if (s * 2 - i > best * 2 - lenf) {
        best = s;
        lenf = i;
      }
    }
    let lenb = 0;
    if (scan < newSize) {
      s = 0;
      best = 0;
      for (let i = 1; scan >= lastScan + i && pos >= i; i++) {
        if (old[pos - i] === neu[scan - i]) s++;
        if (s * 2 - i > best * 2 - lenb) {
          best = s;
          lenb = i;
        }
      }
    }
    if (lastScan + lenf > scan - lenb) {
      const overlap = lastScan + lenf - (scan - lenb);
      s = 0;
      best = 0;
      let lens = 0;
      for (let i = 0; i < overlap; i++) {
        if (neu[lastScan + lenf - overlap + i] === old[lastPos + lenf - overlap + i]) s++;
        if (neu[scan - lenb + i] === old[pos - lenb + i]) s--;
        if (s > best) {
          best = s;
          lens = i + 1;
        }
      }
      lenf += lens - overlap;
      lenb -= lens;
    }
    for (let i = 0; i < lenf; i++) {
      diff[dlen + i] = ((neu[lastScan + i] as number) - (old[lastPos + i] as number)) & 0xff;
    }
    const copy = scan - lenb - (lastScan + lenf);
    extra.set(neu.subarray(lastScan + lenf, scan - lenb), elen);
    dlen += lenf;
    elen += copy;
    emit(lenf, copy, pos - lenb - (lastPos + lenf));
    lastScan = scan - lenb;
    lastPos = pos - lenb;
    lastOffset = pos - scan;
    if (
      options.giveUpAbove !== undefined &&
      scan >= Math.max(GIVE_UP_AFTER, newSize / 4) &&
      elen > options.giveUpAbove * scan
    ) {
      return undefined;
    }
  }
  return {
    newSize,
    control: control.bytes(),
    diff: diff.subarray(0, dlen),
    extra: extra.subarray(0, elen),
  };
}

/** Lay out the SLDIFF01 bytes from streams, each compressed by `compress`. */
export function encodeStreams(
  streams: PatchStreams,
  codec: PatchCodec,
  compress: StreamCodec,
): Uint8Array {
  const parts = [streams.control, streams.diff, streams.extra].map(compress);
  const total = HEADER + parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set(new TextEncoder().encode(PATCH_MAGIC), 0);
  v.setBigUint64(8, BigInt(streams.newSize), true);
  out[16] = codec;
  let at = HEADER;
  parts.forEach((p, i) => {
    v.setBigUint64(17 + 8 * i, BigInt(p.length), true);
    out.set(p, at);
    at += p.length;
  });
  return out;
}

function refuse(why: string): SlimenvError {
  return new SlimenvError("HASH_MISMATCH", `bad SLDIFF01 patch: ${why}`);
}

/** The codec byte of a patch (after checking the magic). */
export function patchCodec(patch: Uint8Array): PatchCodec {
  if (patch.length < HEADER || Buffer.from(patch.subarray(0, 8)).toString() !== PATCH_MAGIC) {
    throw refuse("no SLDIFF01 header");
  }
  const codec = patch[16];
  if (codec !== PATCH_CODEC.raw && codec !== PATCH_CODEC.xz && codec !== PATCH_CODEC.zlib)
    throw refuse(`unknown codec ${codec}`);
  return codec;
}

/** The codec for a patch producing a file of `size` bytes. */
export function patchCodecFor(size: number): PatchCodec {
  return size >= XZ_PATCH_FROM && xzAvailable() ? PATCH_CODEC.xz : PATCH_CODEC.zlib;
}

/** The share of extra bytes above which {@link makePatch} gives up (see DiffOptions). */
export const GIVE_UP_ABOVE = 0.4;

/**
 * The SLDIFF01 patch turning `old` into `neu` (codec by size unless given), or undefined when
 * the files are too unlike for a patch to pay (see DiffOptions).
 */
export function makePatch(
  old: Uint8Array,
  neu: Uint8Array,
  codec: PatchCodec = patchCodecFor(neu.length),
): Uint8Array | undefined {
  const streams = diffStreams(old, neu, { giveUpAbove: GIVE_UP_ABOVE });
  return streams === undefined
    ? undefined
    : encodeStreams(streams, codec, (d) => compressStream(d, codec));
}

/** Apply a SLDIFF01 patch. Refuses bad patches (HASH_MISMATCH); `decompress` for tests. */
export function applyPatch(
  old: Uint8Array,
  patch: Uint8Array,
  decompress?: StreamCodec,
): Uint8Array {
  const codec = patchCodec(patch);
  const undo = decompress ?? ((d: Uint8Array) => decompressStream(d, codec));
  const v = new DataView(patch.buffer, patch.byteOffset, patch.byteLength);
  const newSize = Number(v.getBigUint64(8, true));
  const lens = [0, 1, 2].map((i) => Number(v.getBigUint64(17 + 8 * i, true)));
  const total = HEADER + lens.reduce((a, b) => a + b, 0);
  if (total !== patch.length) throw refuse("stream lengths do not add up to the patch size");
  const streams: Uint8Array[] = [];
  let at = HEADER;
  for (const l of lens) {
    try {
      streams.push(undo(patch.subarray(at, at + l)));
    } catch (cause) {
      throw refuse(`a stream does not decompress (${(cause as Error).message})`);
    }
    at += l;
  }
  const [control, diff, extra] = streams as [Uint8Array, Uint8Array, Uint8Array];
  if (control.length > 24 * (newSize + 2) || diff.length > newSize || extra.length > newSize) {
    throw refuse("a stream is larger than it can be");
  }
  if (control.length % 24 !== 0) throw refuse("control stream is not whole triples");
  if (newSize > diff.length + extra.length) throw refuse("new size exceeds the streams");
  const out = new Uint8Array(newSize);
  const cv = new DataView(control.buffer, control.byteOffset, control.byteLength);
  let oldPos = 0;
  let newPos = 0;
  let dpos = 0;
  let epos = 0;
  for (let c = 0; c < control.length; c += 24) {
    const add = Number(cv.getBigInt64(c, true));
    const copy = Number(cv.getBigInt64(c + 8, true));
    const seek = Number(cv.getBigInt64(c + 16, true));
    if (add < 0 || copy < 0) throw refuse("negative length");
    if (newPos + add + copy > newSize) throw refuse("output longer than declared");
    if (add > 0 && (oldPos < 0 || oldPos + add > old.length)) {
      throw refuse("reads outside the old file");
    }
    if (dpos + add > diff.length || epos + copy > extra.length) throw refuse("runs past a stream");
    for (let i = 0; i < add; i++) {
      out[newPos + i] = ((diff[dpos + i] as number) + (old[oldPos + i] as number)) & 0xff;
    }
    newPos += add;
    oldPos += add;
    dpos += add;
    out.set(extra.subarray(epos, epos + copy), newPos);
    newPos += copy;
    epos += copy;
    oldPos += seek;
  }
  if (newPos !== newSize) throw refuse("output shorter than declared");
  if (dpos !== diff.length || epos !== extra.length) throw refuse("bytes left over in a stream");
  return out;
}
