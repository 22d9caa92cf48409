/**
 * A small, strict zip reader over random access (a buffer, a file, or HTTP range requests):
 * the end-of-central-directory record (and ZIP64), the central directory, and single entries
 * (stored or deflated, CRC-checked). It reads only what it needs, so METADATA comes out of a
 * remote wheel in one or two small ranges. Multi-disk and encrypted archives are refused.
 */
import { open } from "node:fs/promises";
import { crc32, inflateRawSync } from "node:zlib";
import { SlimenvError, stripCredentials } from "../base/index.ts";

/** Random access to a file's bytes. */
export interface ByteSource {
  readonly size: number;
  /** Bytes [start, end). */
  read(start: number, end: number): Promise<Uint8Array>;
}

export interface ZipEntry {
  name: string;
  flags: number;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  /** "Version made by": the high byte is the host system (3 = Unix). */
  versionMadeBy: number;
  /** External attributes; on Unix hosts the high 16 bits are the st_mode. */
  externalAttributes: number;
}

export interface ZipDirectory {
  entries: ZipEntry[];
  /** Where the central directory starts (= where the last entry's data region ends). */
  centralDirectoryOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
/** The first tail read; a remote reader fetches this much with one suffix range. */
export const ZIP_TAIL_BYTES = 64 * 1024;

function bad(what: string, why: string): SlimenvError {
  return new SlimenvError(
    "INDEX_ERROR",
    `unreadable zip archive ${stripCredentials(what)}: ${why}`,
  );
}

/**
 * The end record, the ZIP64 end record and the central directory disagree (an entry count or
 * size that leaves entries out, bytes left over in the central directory): two readers would
 * see two different archives — zipfile walks the central directory by its size, others by the
 * count — so the archive is refused outright.
 */
export class ZipDisagreementError extends SlimenvError {
  constructor(what: string, why: string) {
    super("INDEX_ERROR", `unreadable zip archive ${stripCredentials(what)}: ${why}`);
    this.name = "ZipDisagreementError";
  }
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function u64(dv: DataView, offset: number, what: string): number {
  const value = dv.getBigUint64(offset, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(what, "a ZIP64 field is too large");
  return Number(value);
}

/** A ByteSource over bytes in memory. */
export function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: async (start, end) => bytes.subarray(start, end),
  };
}

async function readExact(source: ByteSource, start: number, end: number, what: string) {
  if (start < 0 || end > source.size || start > end)
    throw bad(what, "a record lies outside the file");
  const bytes = await source.read(start, end);
  if (bytes.length !== end - start) throw bad(what, "short read");
  return bytes;
}

function findEocd(tail: Uint8Array): number {
  const dv = view(tail);
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (
      dv.getUint32(i, true) === EOCD_SIG &&
      i + EOCD_SIZE + dv.getUint16(i + 20, true) === tail.length
    ) {
      return i;
    }
  }
  return -1;
}

/** Read the central directory: where it is (EOCD, ZIP64) and every entry in it. */
export async function readZipDirectory(source: ByteSource, what: string): Promise<ZipDirectory> {
  if (source.size < EOCD_SIZE) throw bad(what, "too small to be a zip archive");
  let tailStart = Math.max(0, source.size - ZIP_TAIL_BYTES);
  let tail = await readExact(source, tailStart, source.size, what);
  let eocd = findEocd(tail);
  if (eocd < 0 && tailStart > 0) {
    tailStart = Math.max(0, source.size - (EOCD_SIZE + MAX_COMMENT + 20));
    tail = await readExact(source, tailStart, source.size, what);
    eocd = findEocd(tail);
  }
  if (eocd < 0) throw bad(what, "no end-of-central-directory record (not a zip file?)");
  const dv = view(tail);
  const eocdAt = tailStart + eocd;
  const disk = dv.getUint16(eocd + 4, true);
  const cdDisk = dv.getUint16(eocd + 6, true);
  let diskEntries = dv.getUint16(eocd + 8, true);
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  let cdEnd = eocdAt;

  // ZIP64: a locator right before the EOCD points at the ZIP64 end record.
  if (eocdAt >= 20) {
    const loc =
      eocd >= 20
        ? tail.subarray(eocd - 20, eocd)
        : await readExact(source, eocdAt - 20, eocdAt, what);
    const ldv = view(loc);
    if (ldv.getUint32(0, true) === ZIP64_LOCATOR_SIG) {
      if (ldv.getUint32(4, true) !== 0 || ldv.getUint32(16, true) > 1) {
        throw bad(what, "multi-disk archives are not supported");
      }
      const recAt = u64(ldv, 8, what);
      if (recAt + 56 > eocdAt - 20) throw bad(what, "the ZIP64 end record lies outside the file");
      const rec = await readExact(source, recAt, recAt + 56, what);
      const rdv = view(rec);
      if (rdv.getUint32(0, true) !== ZIP64_EOCD_SIG) throw bad(what, "bad ZIP64 end record");
      if (rdv.getUint32(16, true) !== 0 || rdv.getUint32(20, true) !== 0) {
        throw bad(what, "multi-disk archives are not supported");
      }
      const recordEnd = recAt + 12 + u64(rdv, 4, what);
      if (recordEnd !== eocdAt - 20) {
        throw new ZipDisagreementError(
          what,
          "the ZIP64 end record does not end where its locator begins",
        );
      }
      const z64 = {
        diskEntries: u64(rdv, 24, what),
        count: u64(rdv, 32, what),
        cdSize: u64(rdv, 40, what),
        cdOffset: u64(rdv, 48, what),
      };
      // A 16/32-bit field of the end record holds its ZIP64 value or the "see ZIP64" mark.
      const agree = (plain: number, wide: number, mark: number) => plain === mark || plain === wide;
      if (
        !agree(diskEntries, z64.diskEntries, 0xffff) ||
        !agree(count, z64.count, 0xffff) ||
        !agree(cdSize, z64.cdSize, 0xffffffff) ||
        !agree(cdOffset, z64.cdOffset, 0xffffffff)
      ) {
        throw new ZipDisagreementError(
          what,
          `the end record (${count} entries, ${cdSize} bytes at ${cdOffset}) and the ZIP64 end record (${z64.count} entries, ${z64.cdSize} bytes at ${z64.cdOffset}) disagree`,
        );
      }
      diskEntries = z64.diskEntries;
      count = z64.count;
      cdSize = z64.cdSize;
      cdOffset = z64.cdOffset;
      cdEnd = recAt;
    }
  }
  if (disk !== 0 || cdDisk !== 0 || diskEntries !== count) {
    throw bad(what, "multi-disk archives are not supported");
  }
  if (cdOffset + cdSize !== cdEnd) {
    throw new ZipDisagreementError(what, "the central directory is not where the end record says");
  }
  const cd =
    cdOffset >= tailStart
      ? tail.subarray(cdOffset - tailStart, cdOffset - tailStart + cdSize)
      : await readExact(source, cdOffset, cdOffset + cdSize, what);
  return {
    entries: parseCentralDirectory(cd, count, cdOffset, what),
    centralDirectoryOffset: cdOffset,
  };
}

function parseCentralDirectory(cd: Uint8Array, count: number, cdOffset: number, what: string) {
  const dv = view(cd);
  const utf8 = new TextDecoder("utf-8");
  const latin1 = new TextDecoder("latin1");
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || dv.getUint32(p, true) !== CENTRAL_SIG) {
      throw bad(what, `central directory entry ${i + 1} is damaged`);
    }
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    const diskStart = dv.getUint16(p + 34, true);
    const versionMadeBy = dv.getUint16(p + 4, true);
    const externalAttributes = dv.getUint32(p + 38, true);
    let localHeaderOffset = dv.getUint32(p + 42, true);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > cd.length) throw bad(what, `central directory entry ${i + 1} is truncated`);
    const nameBytes = cd.subarray(p + 46, p + 46 + nameLen);
    const name = (flags & 0x800 ? utf8 : latin1).decode(nameBytes);
    // ZIP64 extended information: the 64-bit values of the fields that hold 0xFFFFFFFF.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = dv.getUint16(e, true);
      const len = dv.getUint16(e + 2, true);
      if (e + 4 + len > extraEnd) throw bad(what, `bad extra field in entry ${name}`);
      if (id === 0x0001) {
        let q = e + 4;
        const take = (): number => {
          if (q + 8 > e + 4 + len) throw bad(what, `short ZIP64 extra field in entry ${name}`);
          const v = u64(dv, q, what);
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
      }
      e += 4 + len;
    }
    if (diskStart !== 0 && diskStart !== 0xffff)
      throw bad(what, "multi-disk archives are not supported");
    if (localHeaderOffset + 30 > cdOffset) throw bad(what, `entry ${name} lies outside the file`);
    entries.push({
      name,
      flags,
      method,
      crc32: crc,
      compressedSize,
      size,
      localHeaderOffset,
      versionMadeBy,
      externalAttributes,
    });
    p = next;
  }
  if (p !== cd.length) {
    throw new ZipDisagreementError(
      what,
      `the end record counts ${count} entries, but the central directory holds more bytes than those entries (${cd.length - p} left over)`,
    );
  }
  return entries;
}

/**
 * Read and decompress one entry. `maxSize` bounds the uncompressed size (a zip bomb guard).
 * The local header, data and any data descriptor are fetched in one read: up to the next
 * entry's local header (or the central directory).
 */
export async function readZipEntry(
  source: ByteSource,
  directory: ZipDirectory,
  entry: ZipEntry,
  what: string,
  maxSize = 64 * 1024 * 1024,
): Promise<Uint8Array> {
  if (entry.flags & 0x1) throw bad(what, `entry ${entry.name} is encrypted`);
  if (entry.method !== 0 && entry.method !== 8) {
    throw bad(
      what,
      `entry ${entry.name} uses compression method ${entry.method} (only stored and deflate are supported)`,
    );
  }
  if (entry.size > maxSize)
    throw bad(what, `entry ${entry.name} is too large (${entry.size} bytes)`);
  let end = directory.centralDirectoryOffset;
  for (const other of directory.entries) {
    if (other.localHeaderOffset > entry.localHeaderOffset && other.localHeaderOffset < end) {
      end = other.localHeaderOffset;
    }
  }
  const region = await readExact(source, entry.localHeaderOffset, end, what);
  const dv = view(region);
  if (region.length < 30 || dv.getUint32(0, true) !== LOCAL_SIG) {
    throw bad(what, `the local header of ${entry.name} is damaged`);
  }
  const dataStart = 30 + dv.getUint16(26, true) + dv.getUint16(28, true);
  if (dataStart + entry.compressedSize > region.length) {
    throw bad(what, `the data of ${entry.name} overruns its region`);
  }
  const raw = region.subarray(dataStart, dataStart + entry.compressedSize);
  let data: Uint8Array;
  if (entry.method === 0) {
    data = raw;
  } else {
    try {
      data = new Uint8Array(inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) }));
    } catch (cause) {
      throw new SlimenvError(
        "INDEX_ERROR",
        `unreadable zip archive ${stripCredentials(what)}: entry ${entry.name} does not inflate`,
        { cause },
      );
    }
  }
  if (data.length !== entry.size) throw bad(what, `entry ${entry.name} has the wrong size`);
  if (crc32(data) >>> 0 !== entry.crc32)
    throw bad(what, `entry ${entry.name} fails its CRC-32 check`);
  return data;
}

/** A ByteSource over an open file; close it with `close()`. */
export interface FileByteSource extends ByteSource {
  close(): Promise<void>;
}

/** Open `file` for random access reads. */
export async function openFileSource(file: string): Promise<FileByteSource> {
  const handle = await open(file, "r");
  const readAt = async (start: number, end: number): Promise<Uint8Array> => {
    const out = new Uint8Array(Math.max(0, end - start));
    let done = 0;
    while (done < out.length) {
      const { bytesRead } = await handle.read(out, done, out.length - done, start + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return out.subarray(0, done);
  };
  try {
    const { size } = await handle.stat();
    // Entries are read front to back, each as a local header, its name and its data: one
    // read of READ_AHEAD bytes serves many small entries (a window is never changed, only
    // replaced, so slices handed out stay valid).
    let windowStart = 0;
    let windowBytes: Uint8Array = new Uint8Array(0);
    return {
      size,
      read: async (start, end) => {
        if (start >= windowStart && end <= windowStart + windowBytes.length) {
          return windowBytes.subarray(start - windowStart, end - windowStart);
        }
        if (end - start >= READ_AHEAD) return readAt(start, end);
        const bytes = await readAt(start, Math.min(size, start + READ_AHEAD));
        windowStart = start;
        windowBytes = bytes;
        return bytes.subarray(0, Math.max(0, Math.min(end, start + bytes.length) - start));
      },
      close: () => handle.close(),
    };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

const READ_AHEAD = 1 << 20;
