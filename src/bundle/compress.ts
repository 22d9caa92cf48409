/**
 * The codecs of docs/fleet.md: xz (lzma FORMAT_XZ) for payloads and patch streams, by the
 * `xz` binary (Node has no lzma); gzip for payloads and zlib (RFC 1950) for patch streams
 * where xz is missing. Output is deterministic: xz single-threaded with fixed settings, gzip
 * with mtime 0.
 */
import { spawnSync } from "node:child_process";
import { constants, deflateSync, gunzipSync, gzipSync, inflateSync } from "node:zlib";
import { SlimenvError } from "../base/index.ts";
import type { Compression } from "./types.ts";
import { spliceXz } from "./xz-blocks.ts";

const MAX_BUFFER = 2 ** 32;
let xzFound: boolean | undefined;

function xzCommand(): string {
  return process.env.SLIMENV_XZ ?? "xz";
}

/** True when an `xz` binary runs. */
export function xzAvailable(): boolean {
  if (xzFound === undefined) {
    const r = spawnSync(xzCommand(), ["--version"], { stdio: "ignore" });
    xzFound = r.status === 0;
  }
  return xzFound;
}

function runXz(args: string[], input: Uint8Array, what: string): Uint8Array {
  const r = spawnSync(xzCommand(), args, { input, maxBuffer: MAX_BUFFER });
  if (r.error !== undefined || r.status !== 0) {
    const why = r.error?.message ?? r.stderr.toString().trim();
    throw new SlimenvError("IO_ERROR", `xz could not ${what}: ${why}`, {
      hint: "install xz (xz-utils) or choose gzip compression",
      cause: r.error,
    });
  }
  return new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength);
}

/** xz (FORMAT_XZ, crc64, preset 6 — or 9 with `best`), single-threaded: same bytes every time. */
export function xzCompress(data: Uint8Array, best = false): Uint8Array {
  return runXz(["-z", "-c", "-T1", best ? "-9" : "-6", "--check=crc64"], data, "compress");
}

export function xzDecompress(data: Uint8Array): Uint8Array {
  return runXz(["-d", "-c", "-T1", "--format=xz"], data, "decompress");
}

/** Payloads up to this size get xz's extreme mode (see {@link xzPayloadArgs}). */
export const XZ_EXTREME_UP_TO = 128 * 1024 * 1024;
const MAX_DICT = 64 * 1024 * 1024;
const MIN_DICT = 1024 * 1024;

/**
 * The xz settings of a payload of `size` bytes: LZMA2 preset 9 (nice length 64, binary-tree
 * match finder), extreme (`9e`: nice length 273, deeper search) up to {@link XZ_EXTREME_UP_TO}
 * — on delta payloads, whose raw patches are long runs of zeros and near-copies of code, it
 * is ~6% smaller than `9`, and `6` is no better than `9`. The dictionary is the payload's size
 * rounded up to a power of two, between 1 and 64 MiB: every byte can still refer to every
 * earlier one (as far as 64 MiB), and the device's decoder needs only about that much memory
 * (python's lzma allocates the dictionary the block header names: at most ~65 MiB).
 */
export function xzPayloadArgs(size: number, extreme = size <= XZ_EXTREME_UP_TO): string[] {
  let dict = MIN_DICT;
  while (dict < size && dict < MAX_DICT) dict *= 2;
  return [`--lzma2=preset=${extreme ? "9e" : "9"},dict=${dict}`];
}

export interface PayloadOptions {
  /**
   * The payload's first `x86Prefix` bytes (the objects of an x86 / x86_64 tree) go in a block
   * of their own behind xz's x86 branch/call/jump filter (`--x86`: relative call targets made
   * absolute, so the same call repeats byte for byte): ~9% smaller for compiled modules. The
   * rest (the patches: their diff streams are not code, the filter makes them ~3% larger) in
   * a plain block. Each block starts a new dictionary.
   */
  x86Prefix?: number;
}

/** Compress a whole payload (payload.tar.xz / payload.tar.gz). */
export function compressPayload(
  data: Uint8Array,
  codec: Compression,
  options: PayloadOptions = {},
): Uint8Array {
  if (codec === "xz") {
    const base = ["-z", "-c", "-T1", "--format=xz", "--check=crc64"];
    const extreme = data.length <= XZ_EXTREME_UP_TO;
    const xz = (part: Uint8Array, filter: string[]) =>
      runXz([...base, ...filter, ...xzPayloadArgs(part.length, extreme)], part, "compress");
    const cut = Math.min(Math.max(0, options.x86Prefix ?? 0), data.length);
    if (cut === 0) return xz(data, []);
    if (cut === data.length) return xz(data, ["--x86"]);
    return spliceXz([xz(data.subarray(0, cut), ["--x86"]), xz(data.subarray(cut), [])]);
  }
  return new Uint8Array(gzipSync(data, { level: constants.Z_BEST_COMPRESSION }));
}

export function decompressPayload(data: Uint8Array, codec: Compression): Uint8Array {
  if (codec === "xz") return xzDecompress(data);
  try {
    return new Uint8Array(gunzipSync(data));
  } catch (err) {
    throw new SlimenvError("HASH_MISMATCH", "payload is not valid gzip", { cause: err });
  }
}

/**
 * Codec bytes of an SLDIFF01 patch's streams. `raw` stores them as they are: the payload's
 * solid xz then compresses every patch together (one stream across files, no double
 * compression); bundles use it. xz and zlib compress each stream alone.
 */
export const PATCH_CODEC = { raw: 0, xz: 1, zlib: 2 } as const;
export type PatchCodec = (typeof PATCH_CODEC)[keyof typeof PATCH_CODEC];

/** The patch stream codec to use: xz when the binary exists, zlib otherwise. */
export function defaultPatchCodec(): PatchCodec {
  return xzAvailable() ? PATCH_CODEC.xz : PATCH_CODEC.zlib;
}

/** Compress one patch stream (control, diff or extra). */
export function compressStream(data: Uint8Array, codec: PatchCodec): Uint8Array {
  if (codec === PATCH_CODEC.raw) return data;
  if (codec === PATCH_CODEC.xz) return xzCompress(data, true);
  return new Uint8Array(deflateSync(data, { level: constants.Z_BEST_COMPRESSION }));
}

export function decompressStream(data: Uint8Array, codec: number): Uint8Array {
  if (codec === PATCH_CODEC.raw) return data;
  if (codec === PATCH_CODEC.xz) return xzDecompress(data);
  if (codec === PATCH_CODEC.zlib) return new Uint8Array(inflateSync(data));
  throw new SlimenvError("HASH_MISMATCH", `unknown patch codec ${codec}`);
}
