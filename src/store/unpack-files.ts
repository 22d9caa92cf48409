/**
 * Unpacking a wheel's files into objects — the work of a worker thread (unpack-worker.ts),
 * or of the calling thread when there is none. Plain data in, plain data out: the job names
 * the wheel (a file, or its bytes), a private temp folder, the objects/ folder, and the files
 * as flat arrays (no object per file). Each file is read from a large window of the wheel,
 * inflated in one call (big ones streamed), checked (size, CRC-32, its RECORD hash) and
 * hashed; a file whose object is not stored yet is written to a temp file created read-only.
 * Only when every file passed are the temp files linked into objects/ (an object already
 * there is kept: the same name means the same bytes) and removed. A failure, or a process
 * killed at any point, leaves temp files under tmp/ at most — never a partial object.
 */
import { createHash, type Hash } from "node:crypto";
import {
  closeSync,
  fchmodSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  openSync,
  readSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { inflateZipEntry, zipEntryChunks } from "../archive/zip-local.ts";
import { type ByteSource, bufferSource, type ZipEntry } from "../archive/zip-read.ts";
import { type ErrorCode, isSlimenvError } from "../base/index.ts";
import { encodeRecordDigest } from "../standards/record.ts";
import type { HostileRule } from "./hostile.ts";
import { linkObject, nodeHashName, objectMode } from "./objects.ts";

export interface UnpackJob {
  /** The wheel file, or its bytes. */
  wheel: string | Uint8Array;
  /** The wheel's filename, for messages. */
  what: string;
  /** A private, existing temp folder on the store's file system. */
  dir: string;
  /** The store's objects/ folder. */
  objects: string;
  fsync: boolean;
  /** The process's umask (a worker cannot read it). */
  umask: number;
  /** Per file, in archive order. */
  names: string[];
  dataStarts: number[];
  compressedSizes: number[];
  sizes: number[];
  methods: number[];
  flags: number[];
  crcs: number[];
  /** The RECORD's hash algorithm per file (sha256 for RECORD itself). */
  algorithms: string[];
  /** The RECORD digest (urlsafe base64) per file, "" when there is none (RECORD itself). */
  declared: string[];
  /** 1 for an executable file. */
  exec: number[];
}

/** Why a job failed: a rule of hostile.ts, a SlimenvError's code, or a system error's. */
export interface UnpackFailure {
  rule?: HostileRule;
  slimenvCode?: ErrorCode;
  code?: string;
  message: string;
}

/**
 * Per file: its hex sha256, and 1 when this job's link made its object (0: the object was
 * there already, or the file repeats another of the wheel).
 */
export type UnpackResult = { hashes: string[]; created: number[] } | { failure: UnpackFailure };

/** Compressed data read at once (and the largest entry inflated in one call). */
const WINDOW = 4 * 1024 * 1024;
/** Entries larger than this (inflated) are streamed. */
const WHOLE = 16 * 1024 * 1024;

/** `objects/<h[0:2]>/<h[2:]>`, `.x` for the executable object (as paths.ts objectFile). */
function objectPath(objects: string, hash: string, exec: boolean): string {
  return `${objects}/${hash.slice(0, 2)}/${hash.slice(2)}${exec ? ".x" : ""}`;
}

function exists(file: string): boolean {
  return lstatSync(file, { throwIfNoEntry: false })?.isFile() === true;
}

class Failed extends Error {
  readonly failure: UnpackFailure;
  constructor(failure: UnpackFailure) {
    super(failure.message);
    this.failure = failure;
  }
}

/** Reads of the wheel's bytes through one reused window. */
class Reader {
  readonly size: number;
  readonly #fd: number | undefined;
  readonly #bytes: Uint8Array | undefined;
  #window: Buffer | undefined;
  #start = 0;
  #length = 0;

  readonly #what: string;

  constructor(wheel: string | Uint8Array, what: string) {
    this.#what = what;
    if (typeof wheel === "string") {
      this.#fd = openSync(wheel, "r");
      this.size = fstatSync(this.#fd).size;
    } else {
      this.#bytes = wheel;
      this.size = wheel.length;
    }
  }

  /** Bytes [start, end), valid until the next read. */
  read(start: number, end: number): Uint8Array {
    if (this.#bytes !== undefined) return this.#bytes.subarray(start, end);
    if (start >= this.#start && end <= this.#start + this.#length) {
      return (this.#window as Buffer).subarray(start - this.#start, end - this.#start);
    }
    const want = Math.max(end - start, Math.min(WINDOW, this.size - start));
    if (this.#window === undefined || this.#window.length < want) {
      this.#window = Buffer.allocUnsafe(Math.max(want, WINDOW));
    }
    let done = 0;
    while (done < want) {
      const n = readSync(this.#fd as number, this.#window, done, want - done, start + done);
      if (n === 0) break;
      done += n;
    }
    this.#start = start;
    this.#length = done;
    if (done < end - start) {
      throw new Failed({
        rule: "zip-structure",
        message: `unreadable zip archive ${this.#what}: short read`,
      });
    }
    return this.#window.subarray(0, end - start);
  }

  /** The same bytes as a ByteSource (for streamed entries). */
  source(): ByteSource {
    if (this.#bytes !== undefined) return bufferSource(this.#bytes);
    return {
      size: this.size,
      read: async (start, end) => Uint8Array.prototype.slice.call(this.read(start, end)),
    };
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
  }
}

function hashersFor(algorithm: string): [Hash, Hash | undefined] {
  const other = algorithm === "sha256" ? undefined : createHash(nodeHashName(algorithm));
  return [createHash("sha256"), other];
}

function writeAll(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done);
}

/** Create `file` (exclusive) with the object's mode, even under a restrictive umask. */
function createObjectTemp(file: string, exec: boolean, umask: number): number {
  const mode = objectMode(exec);
  const fd = openSync(file, "wx", mode);
  if ((mode & ~umask) !== mode) fchmodSync(fd, mode);
  return fd;
}

/** Unpack every file of `job` (see the module comment). Never throws: failures are results. */
export async function unpackFiles(job: UnpackJob): Promise<UnpackResult> {
  const temps: string[] = [];
  try {
    const hashes = await unpackAll(job, temps);
    const created = new Array<number>(hashes.length).fill(0);
    for (const temp of temps) {
      const cut = temp.lastIndexOf("\0");
      if (promote(temp.slice(0, cut))) created[Number(temp.slice(cut + 1))] = 1;
    }
    temps.length = 0;
    return { hashes, created };
  } catch (err) {
    return { failure: asFailure(err) };
  } finally {
    for (const temp of temps) {
      try {
        unlinkSync(temp.slice(0, temp.indexOf("\0")));
      } catch {
        // the caller removes the whole folder anyway
      }
    }
  }
}

function asFailure(err: unknown): UnpackFailure {
  if (err instanceof Failed) return err.failure;
  if (isSlimenvError(err)) {
    return err.code === "INDEX_ERROR"
      ? { rule: "zip-structure", message: err.message }
      : { slimenvCode: err.code, message: err.message };
  }
  const code = (err as { code?: unknown }).code;
  return {
    ...(typeof code === "string" ? { code } : {}),
    message: err instanceof Error ? err.message : String(err),
  };
}

/**
 * Temp entries are `<temp path>\0<object path>\0<file index>`, one per new object; `entry` is
 * one without its index. Link the temp file to its object (an existing object is kept) and
 * remove it; true when the link made the object.
 */
function promote(entry: string): boolean {
  const cut = entry.indexOf("\0");
  return linkObject(entry.slice(0, cut), entry.slice(cut + 1));
}

async function unpackAll(job: UnpackJob, temps: string[]): Promise<string[]> {
  const reader = new Reader(job.wheel, job.what);
  const planned = new Set<string>();
  const hashes = new Array<string>(job.names.length);
  try {
    for (let i = 0; i < job.names.length; i++) {
      const name = job.names[i] as string;
      const size = job.sizes[i] as number;
      const start = job.dataStarts[i] as number;
      const end = start + (job.compressedSizes[i] as number);
      const exec = job.exec[i] === 1;
      const algorithm = job.algorithms[i] as string;
      const declared = job.declared[i] as string;
      if (end > reader.size) {
        throw new Failed({
          rule: "zip-structure",
          message: `unreadable zip archive ${job.what}: the data of ${name} lies outside the file`,
        });
      }
      // With a sha256 RECORD the object name is known before unpacking: an object already
      // stored (or already unpacked from this wheel) is only checked, not written.
      const known =
        algorithm === "sha256" && declared !== ""
          ? Buffer.from(declared, "base64url").toString("hex")
          : undefined;
      const skip =
        known !== undefined &&
        (planned.has(`${known}:${exec}`) || exists(objectPath(job.objects, known, exec)));
      const temp = skip ? undefined : `${job.dir}/${i}`;
      const [sha, other] = hashersFor(algorithm);
      const fd = temp === undefined ? undefined : createObjectTemp(temp, exec, job.umask);
      try {
        if (size <= WHOLE && end - start <= WHOLE) {
          const data = inflateZipEntry(reader.read(start, end), entryShape(job, i), job.what);
          sha.update(data);
          other?.update(data);
          if (fd !== undefined) writeAll(fd, data);
        } else {
          const entry = { ...entryShape(job, i), compressedSize: end - start } as ZipEntry;
          for await (const chunk of zipEntryChunks(reader.source(), entry, start, job.what)) {
            sha.update(chunk);
            other?.update(chunk);
            if (fd !== undefined) writeAll(fd, chunk);
          }
        }
        if (fd !== undefined && job.fsync) fsyncSync(fd);
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
      const digest = sha.digest();
      const hex = digest.toString("hex");
      if (declared !== "") {
        const record = encodeRecordDigest(other === undefined ? digest : other.digest());
        if (record !== declared) {
          throw new Failed({
            rule: "hash-mismatch",
            message: `${JSON.stringify(name)} does not match its RECORD hash ${algorithm}=${declared}`,
          });
        }
      }
      hashes[i] = hex;
      const key = `${hex}:${exec}`;
      if (temp !== undefined) {
        if (planned.has(key)) unlinkSync(temp);
        else temps.push(`${temp}\0${objectPath(job.objects, hex, exec)}\0${i}`);
      }
      planned.add(key);
    }
  } finally {
    reader.close();
  }
  return hashes;
}

function entryShape(job: UnpackJob, i: number) {
  return {
    name: job.names[i] as string,
    flags: job.flags[i] as number,
    method: job.methods[i] as number,
    crc32: job.crcs[i] as number,
    size: job.sizes[i] as number,
  };
}
