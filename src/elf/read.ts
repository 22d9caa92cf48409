/**
 * How the ELF readers get at bytes: a `ReadAt` callback (over bytes in memory or an open
 * file), the INVALID_ELF error, and checked views of fixed-size records. Every parser in
 * src/elf reads through a ReadAt, so the same code serves a file on disk and a buffer.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { SlimenvError } from "../base/index.ts";

/** Reads `length` bytes at `offset`; may return fewer at the end of the file. */
export type ReadAt = (offset: number, length: number) => Uint8Array;

/** A ReadAt over bytes in memory (a view, no copy). */
export function bytesReader(bytes: Uint8Array): ReadAt {
  return (offset, length) => bytes.subarray(offset, Math.min(bytes.length, offset + length));
}

/** A ReadAt over an open file descriptor. */
export function fdReader(fd: number): ReadAt {
  return (offset, length) => {
    const buf = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, buf, got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return got === length ? buf : buf.subarray(0, got);
  };
}

/** Open `file`, hand a ReadAt over it to `use`, close it (IO_ERROR when it cannot be opened). */
export function withFileReader<T>(file: string, use: (read: ReadAt, fd: number) => T): T {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (cause) {
    throw new SlimenvError("IO_ERROR", `cannot open ${file}: ${(cause as Error).message}`, {
      cause,
    });
  }
  try {
    return use(fdReader(fd), fd);
  } finally {
    closeSync(fd);
  }
}

/** The INVALID_ELF error for `what` (a file name or "ELF file"). */
export function invalidElf(what: string, message: string): never {
  throw new SlimenvError("INVALID_ELF", `${what}: ${message}`, {
    hint: "the file starts like an ELF file but its headers are damaged or truncated",
  });
}

/** A DataView over `bytes`, which must hold `need` bytes (else INVALID_ELF naming `part`). */
export function checkedView(bytes: Uint8Array, need: number, what: string, part: string): DataView {
  if (bytes.length < need) invalidElf(what, `${part} is truncated`);
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Field readers for one file's class (32/64-bit) and byte order. */
export interface ElfFields {
  u16(v: DataView, at: number): number;
  u32(v: DataView, at: number): number;
  /** An address, offset or size: 4 bytes in a 32-bit file, 8 in a 64-bit one. */
  word(v: DataView, at: number): number;
}

export function elfFields(bits: 32 | 64, little: boolean, what: string): ElfFields {
  return {
    u16: (v, o) => v.getUint16(o, little),
    u32: (v, o) => v.getUint32(o, little),
    word: (v, o) =>
      bits === 64 ? toSafe(v.getBigUint64(o, little), what) : v.getUint32(o, little),
  };
}

function toSafe(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    invalidElf(what, `offset or size ${value} is too large`);
  }
  return Number(value);
}

/** The bytes of the NUL-terminated string at `at` of `bytes`, without the NUL (none past the end). */
export function cStringBytes(bytes: Uint8Array, at: number): Uint8Array {
  if (at >= bytes.length) return bytes.subarray(bytes.length);
  let end = at;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return bytes.subarray(at, end);
}
