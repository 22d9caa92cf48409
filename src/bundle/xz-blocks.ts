/**
 * One .xz stream made of the blocks of several: the `xz` binary (5.4) applies one filter chain
 * to its whole input, but the format lets each block name its own (every decoder, Python's
 * lzma included, reads the chain from the block header). We compress each part alone and
 * splice the blocks under one stream header, index and footer (xz file format 1.0.4,
 * https://tukaani.org/xz/xz-file-format.txt). Each block starts with an empty dictionary.
 */
import { crc32 } from "node:zlib";
import { SlimenvError } from "../base/index.ts";

const HEADER = 12;
const FOOTER = 12;
const MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

interface Parsed {
  flags: Uint8Array;
  blocks: Uint8Array;
  records: [number, number][];
}

function bad(why: string): SlimenvError {
  return new SlimenvError("IO_ERROR", `xz output not understood: ${why}`);
}

function readVarint(b: Uint8Array, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 9; i++) {
    const byte = b[at + i];
    if (byte === undefined) throw bad("truncated index");
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return [value, at + i + 1];
    scale *= 128;
  }
  throw bad("varint too long");
}

function writeVarint(out: number[], n: number): void {
  let v = n;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** A single-stream .xz file: its stream flags, block bytes and index records. */
function parse(xz: Uint8Array): Parsed {
  if (xz.length < HEADER + FOOTER || MAGIC.some((m, i) => xz[i] !== m)) throw bad("no header");
  const foot = xz.subarray(xz.length - FOOTER);
  if (foot[10] !== 0x59 || foot[11] !== 0x5a) throw bad("no footer (several streams?)");
  const dv = new DataView(foot.buffer, foot.byteOffset, FOOTER);
  const indexSize = (dv.getUint32(4, true) + 1) * 4;
  const indexAt = xz.length - FOOTER - indexSize;
  if (indexAt < HEADER || xz[indexAt] !== 0) throw bad("no index");
  let [count, at] = readVarint(xz, indexAt + 1);
  const records: [number, number][] = [];
  for (; count > 0; count--) {
    const [unpadded, a1] = readVarint(xz, at);
    const [uncompressed, a2] = readVarint(xz, a1);
    records.push([unpadded, uncompressed]);
    at = a2;
  }
  const blocks = xz.subarray(HEADER, indexAt);
  const padded = records.reduce((n, [unpadded]) => n + Math.ceil(unpadded / 4) * 4, 0);
  if (padded !== blocks.length) throw bad("its index does not account for its blocks");
  return { flags: xz.subarray(6, 8), blocks, records };
}

/** One .xz stream holding the blocks of `streams` in order (all with the same check type). */
export function spliceXz(streams: readonly Uint8Array[]): Uint8Array {
  const parsed = streams.map(parse);
  const first = parsed[0];
  if (first === undefined) throw bad("nothing to splice");
  if (parsed.some((p) => p.flags[0] !== first.flags[0] || p.flags[1] !== first.flags[1])) {
    throw bad("streams with different check types");
  }
  const index: number[] = [0];
  writeVarint(
    index,
    parsed.reduce((n, p) => n + p.records.length, 0),
  );
  for (const p of parsed) {
    for (const [unpadded, uncompressed] of p.records) {
      writeVarint(index, unpadded);
      writeVarint(index, uncompressed);
    }
  }
  while (index.length % 4 !== 0) index.push(0);
  index.push(...u32(crc32(Uint8Array.from(index))));
  const tail = [...u32(index.length / 4 - 1), first.flags[0] as number, first.flags[1] as number];
  const footer = [...u32(crc32(Uint8Array.from(tail))), ...tail, 0x59, 0x5a];
  const streamHeader = (streams[0] as Uint8Array).subarray(0, HEADER);
  return new Uint8Array(
    Buffer.concat([
      streamHeader,
      ...parsed.map((p) => p.blocks),
      Uint8Array.from(index),
      Uint8Array.from(footer),
    ]),
  );
}
