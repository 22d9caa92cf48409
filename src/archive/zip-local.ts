/**
 * Zip local file headers and streamed entry data, for readers that must not trust the
 * central directory alone (the store checks that both agree) and for entries too large to
 * hold in memory: data is read in chunks, inflated as a stream, and its size and CRC-32
 * checked as it flows.
 */
import { Readable } from "node:stream";
import { crc32, createInflateRaw, inflateRawSync } from "node:zlib";
import { SlimenvError, stripCredentials } from "../base/index.ts";
import type { ByteSource, ZipEntry } from "./zip-read.ts";

const LOCAL_SIG = 0x04034b50;

export interface ZipLocalHeader {
  name: string;
  flags: number;
  method: number;
  /** Zero (and sizes zero) when flag bit 3 says a data descriptor follows the data. */
  crc32: number;
  compressedSize: number;
  size: number;
  /** Offset in the archive where the entry's data starts. */
  dataStart: number;
}

function bad(what: string, why: string): SlimenvError {
  return new SlimenvError(
    "INDEX_ERROR",
    `unreadable zip archive ${stripCredentials(what)}: ${why}`,
  );
}

async function readExact(source: ByteSource, start: number, end: number, what: string) {
  if (start < 0 || end > source.size || start > end) {
    throw bad(what, "a record lies outside the file");
  }
  const bytes = await source.read(start, end);
  if (bytes.length !== end - start) throw bad(what, "short read");
  return bytes;
}

/** Read the local file header of `entry` (with its ZIP64 extra field, when sizes need it). */
export async function readZipLocalHeader(
  source: ByteSource,
  entry: ZipEntry,
  what: string,
): Promise<ZipLocalHeader> {
  const at = entry.localHeaderOffset;
  const fixed = await readExact(source, at, at + 30, what);
  const dv = new DataView(fixed.buffer, fixed.byteOffset, fixed.byteLength);
  if (dv.getUint32(0, true) !== LOCAL_SIG) {
    throw bad(what, `the local header of ${entry.name} is damaged`);
  }
  const flags = dv.getUint16(6, true);
  const method = dv.getUint16(8, true);
  const crc = dv.getUint32(14, true);
  let compressedSize = dv.getUint32(18, true);
  let size = dv.getUint32(22, true);
  const nameLen = dv.getUint16(26, true);
  const extraLen = dv.getUint16(28, true);
  const rest = await readExact(source, at + 30, at + 30 + nameLen + extraLen, what);
  const name = new TextDecoder(flags & 0x800 ? "utf-8" : "latin1").decode(
    rest.subarray(0, nameLen),
  );
  if (size === 0xffffffff || compressedSize === 0xffffffff) {
    const edv = new DataView(rest.buffer, rest.byteOffset + nameLen, extraLen);
    let e = 0;
    let found = false;
    while (e + 4 <= extraLen) {
      const id = edv.getUint16(e, true);
      const len = edv.getUint16(e + 2, true);
      if (e + 4 + len > extraLen) break;
      if (id === 0x0001 && len >= 16) {
        size = Number(edv.getBigUint64(e + 4, true));
        compressedSize = Number(edv.getBigUint64(e + 12, true));
        found = true;
      }
      e += 4 + len;
    }
    if (!found) throw bad(what, `the local header of ${entry.name} lacks its ZIP64 sizes`);
  }
  return {
    name,
    flags,
    method,
    crc32: crc,
    compressedSize,
    size,
    dataStart: at + 30 + nameLen + extraLen,
  };
}

/** Read size for compressed data (and the largest piece a stream holds at once). */
const CHUNK = 1024 * 1024;
/** Entries this small are read and inflated in one call (much faster than a stream). */
const WHOLE = 1024 * 1024;

/** What inflateZipEntry needs of an entry (a ZipEntry has it). */
export type ZipEntryShape = Pick<ZipEntry, "name" | "flags" | "method" | "crc32" | "size">;

/**
 * The decompressed bytes of `entry` from its whole `compressed` data, in one synchronous
 * call (for entries small enough to hold at once): stored or deflate, never more than
 * `entry.size` bytes produced, size and CRC-32 checked. Throws INDEX_ERROR like
 * zipEntryChunks.
 */
export function inflateZipEntry(
  compressed: Uint8Array,
  entry: ZipEntryShape,
  what: string,
): Uint8Array {
  if (entry.flags & 0x1) throw bad(what, `entry ${entry.name} is encrypted`);
  if (entry.method !== 0 && entry.method !== 8) {
    throw bad(what, `entry ${entry.name} uses compression method ${entry.method}`);
  }
  let data = compressed;
  if (entry.method === 8) {
    try {
      // one output buffer of the declared size (+1 to see a lie), not 64 KiB pieces joined
      data = inflateRawSync(compressed, {
        maxOutputLength: entry.size + 1,
        chunkSize: Math.max(64, entry.size + 1),
      });
    } catch (cause) {
      const past = (cause as { code?: string }).code === "ERR_BUFFER_TOO_LARGE";
      throw new SlimenvError(
        "INDEX_ERROR",
        `unreadable zip archive ${stripCredentials(what)}: entry ${entry.name} ${past ? "inflates past its size" : "does not inflate"}`,
        { cause },
      );
    }
  }
  if (data.length > entry.size) throw bad(what, `entry ${entry.name} inflates past its size`);
  if (data.length !== entry.size) throw bad(what, `entry ${entry.name} has the wrong size`);
  if (crc32(data) >>> 0 !== entry.crc32) {
    throw bad(what, `entry ${entry.name} fails its CRC-32 check`);
  }
  return data;
}

/**
 * The decompressed bytes of `entry`, as chunks, from its data at `dataStart`. Stored and
 * deflate only. Throws INDEX_ERROR when the data inflates to more or fewer bytes than the
 * central directory says, or fails its CRC-32 — checked while streaming, so a lying size
 * cannot make it produce more than `entry.size` bytes.
 */
export async function* zipEntryChunks(
  source: ByteSource,
  entry: ZipEntry,
  dataStart: number,
  what: string,
): AsyncGenerator<Uint8Array> {
  if (entry.flags & 0x1) throw bad(what, `entry ${entry.name} is encrypted`);
  if (entry.method !== 0 && entry.method !== 8) {
    throw bad(what, `entry ${entry.name} uses compression method ${entry.method}`);
  }
  const end = dataStart + entry.compressedSize;
  if (end > source.size) throw bad(what, `the data of ${entry.name} lies outside the file`);
  async function* raw(): AsyncGenerator<Uint8Array> {
    for (let p = dataStart; p < end; p += CHUNK) {
      yield await readExact(source, p, Math.min(end, p + CHUNK), what);
    }
  }
  let crc = 0;
  let total = 0;
  const check = (chunk: Uint8Array) => {
    total += chunk.length;
    if (total > entry.size) throw bad(what, `entry ${entry.name} inflates past its size`);
    crc = crc32(chunk, crc);
  };
  if (entry.compressedSize <= WHOLE && entry.size <= 4 * WHOLE) {
    yield inflateZipEntry(await readExact(source, dataStart, end, what), entry, what);
    return;
  }
  if (entry.method === 0) {
    for await (const chunk of raw()) {
      check(chunk);
      yield chunk;
    }
  } else {
    const input = Readable.from(raw(), { objectMode: false });
    const inflater = createInflateRaw({ chunkSize: 256 * 1024 });
    input.on("error", (err) => inflater.destroy(err));
    input.pipe(inflater);
    try {
      for await (const chunk of inflater as AsyncIterable<Buffer>) {
        const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        check(bytes);
        yield bytes;
      }
    } catch (cause) {
      if (cause instanceof SlimenvError) throw cause;
      throw new SlimenvError(
        "INDEX_ERROR",
        `unreadable zip archive ${stripCredentials(what)}: entry ${entry.name} does not inflate`,
        { cause },
      );
    } finally {
      input.destroy();
      inflater.destroy();
    }
  }
  if (total !== entry.size) throw bad(what, `entry ${entry.name} has the wrong size`);
  if (crc >>> 0 !== entry.crc32) throw bad(what, `entry ${entry.name} fails its CRC-32 check`);
}
