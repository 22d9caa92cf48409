/**
 * Object files: written to a temp file while hashed (one pass), made read-only, then
 * hard-linked into objects/ under their sha256 — `link` fails when the object already
 * exists, and the temp is dropped: the same name means the same bytes.
 */
import { createHash, type Hash } from "node:crypto";
import {
  chmodSync,
  closeSync,
  createReadStream,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { chmod, mkdir, rename } from "node:fs/promises";
import path from "node:path";
import { SlimenvError } from "../base/index.ts";
import { encodeRecordDigest } from "../standards/record.ts";

/** node:crypto names of the hash algorithms a wheel's RECORD may use. */
const NODE_HASH: ReadonlyMap<string, string> = new Map([
  ["sha256", "sha256"],
  ["sha384", "sha384"],
  ["sha512", "sha512"],
  ["sha3_256", "sha3-256"],
  ["sha3_384", "sha3-384"],
  ["sha3_512", "sha3-512"],
  ["blake2b", "blake2b512"],
  ["blake2s", "blake2s256"],
]);

export interface Digests {
  /** Hex sha256: the object name. */
  sha256: string;
  /** The RECORD digest (urlsafe base64) in the RECORD's algorithm. */
  record: string;
  size: number;
}

export function objectMode(exec: boolean): number {
  return exec ? 0o555 : 0o444;
}

/** The node:crypto name of a RECORD hash algorithm; INVALID_RECORD for one it lacks. */
export function nodeHashName(algorithm: string): string {
  const nodeName = NODE_HASH.get(algorithm);
  if (nodeName === undefined) {
    throw new SlimenvError("INVALID_RECORD", `unsupported RECORD hash algorithm ${algorithm}`);
  }
  return nodeName;
}

function hashers(algorithm: string): [Hash, Hash | undefined] {
  const nodeName = nodeHashName(algorithm);
  const sha = createHash("sha256");
  return [sha, algorithm === "sha256" ? undefined : createHash(nodeName)];
}

function finish(sha: Hash, other: Hash | undefined, size: number): Digests {
  const digest = sha.digest();
  return {
    sha256: digest.toString("hex"),
    record: encodeRecordDigest(other === undefined ? digest : other.digest()),
    size,
  };
}

/**
 * Write `chunks` to `file` (created exclusively) while hashing them; `file` undefined hashes
 * only. `algorithm` is the RECORD's. The caller removes `file` on error.
 */
export async function writeHashed(
  chunks: AsyncIterable<Uint8Array>,
  file: string | undefined,
  algorithm: string,
  options: { fsync?: boolean } = {},
): Promise<Digests> {
  const [sha, other] = hashers(algorithm);
  let size = 0;
  // Synchronous writes: objects are mostly small, and a sync call costs far less than an
  // async round trip through the thread pool; big entries still arrive in bounded chunks.
  const fd = file === undefined ? undefined : openSync(file, "wx", 0o600);
  try {
    for await (const chunk of chunks) {
      sha.update(chunk);
      other?.update(chunk);
      size += chunk.length;
      if (fd !== undefined) {
        let done = 0;
        while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
      }
    }
    if (fd !== undefined && options.fsync === true) fsyncSync(fd);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return finish(sha, other, size);
}

/** Hex sha256 and size of a file, streamed. */
export async function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  if (statSync(file).size <= 4 * 1024 * 1024) {
    const bytes = readFileSync(file);
    return { sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length };
  }
  const sha = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    const bytes = chunk as Buffer;
    sha.update(bytes);
    size += bytes.length;
  }
  return { sha256: sha.digest("hex"), size };
}

/**
 * Make `temp` read-only (executable for `.x`) and link it to `target`; an existing target
 * is kept. `temp` is removed either way. Returns true when this call created the object.
 */
export function promoteObject(temp: string, target: string, exec: boolean): boolean {
  chmodSync(temp, objectMode(exec));
  return linkObject(temp, target);
}

/**
 * Link a finished temp file (already read-only) to its object path, making the folder when it
 * is missing, and remove the temp: true when the link made the object, false when an object
 * was there (it is kept: same name, same bytes).
 */
export function linkObject(temp: string, target: string): boolean {
  let created = true;
  try {
    try {
      linkSync(temp, target);
    } catch (err) {
      if ((err as { code?: string }).code !== "ENOENT") throw err;
      mkdirSync(path.dirname(target), { recursive: true });
      linkSync(temp, target);
    }
  } catch (err) {
    if ((err as { code?: string }).code !== "EEXIST") throw err;
    created = false;
  }
  unlinkSync(temp);
  return created;
}

/**
 * Put `temp` at `target` even when a (damaged) object is there: a rename over it. Used by
 * repair, never by import.
 */
export async function replaceObject(temp: string, target: string, exec: boolean): Promise<void> {
  await chmod(temp, objectMode(exec));
  await mkdir(path.dirname(target), { recursive: true });
  await rename(temp, target);
}
