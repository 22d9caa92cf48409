/**
 * RECORD: the list of a wheel's (or an installed project's) files with their hashes and
 * sizes, per the binary distribution format and the "Recording installed projects"
 * specifications.
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { SlimenvError } from "../base/index.ts";
import { csvField, parseCsv } from "./record-csv.ts";

/** A hash as RECORD writes it: `algorithm=digest`, digest urlsafe-base64 without padding. */
export interface RecordHash {
  algorithm: string;
  /** The digest as written: urlsafe base64, no `=` padding. */
  digest: string;
}

export interface RecordEntry {
  path: string;
  hash?: RecordHash;
  size?: number;
}

export interface ParseRecordOptions {
  /**
   * `wheel` (default): the wheel specification's rules — every file but RECORD (and its
   * signatures) has a hash of sha256 or stronger, paths are relative without `..`, and no
   * path is listed twice. `installed`: the rules for an installed project's RECORD — hash
   * and size may be empty, any hashlib-guaranteed algorithm, paths may be absolute or go up.
   */
  kind?: "wheel" | "installed";
}

/** Digest sizes in bytes of the algorithms Python's hashlib guarantees (shake_* vary). */
const DIGEST_BYTES: ReadonlyMap<string, number | undefined> = new Map([
  ["md5", 16],
  ["sha1", 20],
  ["sha224", 28],
  ["sha256", 32],
  ["sha384", 48],
  ["sha512", 64],
  ["sha3_224", 28],
  ["sha3_256", 32],
  ["sha3_384", 48],
  ["sha3_512", 64],
  ["blake2b", 64],
  ["blake2s", 32],
  ["shake_128", undefined],
  ["shake_256", undefined],
]);

/** Algorithms a wheel's RECORD may use: sha256 or stronger, fixed-size digests. */
export const WHEEL_HASH_ALGORITHMS: readonly string[] = [
  "sha256",
  "sha384",
  "sha512",
  "sha3_256",
  "sha3_384",
  "sha3_512",
  "blake2b",
  "blake2s",
];

/** node:crypto names of the algorithms {@link recordHash} can compute. */
const NODE_NAMES: ReadonlyMap<string, string> = new Map([
  ["md5", "md5"],
  ["sha1", "sha1"],
  ["sha224", "sha224"],
  ["sha256", "sha256"],
  ["sha384", "sha384"],
  ["sha512", "sha512"],
  ["sha3_224", "sha3-224"],
  ["sha3_256", "sha3-256"],
  ["sha3_384", "sha3-384"],
  ["sha3_512", "sha3-512"],
  ["blake2b", "blake2b512"],
  ["blake2s", "blake2s256"],
]);

const DIGEST_CHARS = /^[A-Za-z0-9_-]*$/;

/** Encode digest bytes as RECORD does: urlsafe base64 without `=` padding. */
export function encodeRecordDigest(digest: Uint8Array): string {
  return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString("base64url");
}

/** Decode a RECORD digest (urlsafe base64 without padding). Throws INVALID_RECORD. */
export function decodeRecordDigest(digest: string): Uint8Array {
  const problem = digestTextProblem(digest);
  if (problem !== undefined) {
    throw new SlimenvError(
      "INVALID_RECORD",
      `invalid RECORD digest ${JSON.stringify(digest)}: ${problem}`,
    );
  }
  return new Uint8Array(Buffer.from(digest, "base64url"));
}

function digestTextProblem(digest: string): string | undefined {
  if (digest === "") return "the digest is empty";
  if (digest.includes("=")) return "it has '=' padding (RECORD digests are unpadded)";
  if (/[+/]/.test(digest))
    return "it uses '+' or '/' (RECORD digests are urlsafe base64: '-' and '_')";
  if (!DIGEST_CHARS.test(digest)) return "it has a character that is not urlsafe base64";
  if (digest.length % 4 === 1) return "its length is not a possible base64 length";
  return undefined;
}

/**
 * Hash `bytes` for RECORD (default sha256). Uses node:crypto, which is pure computation.
 */
export function recordHash(bytes: Uint8Array, algorithm = "sha256"): RecordHash {
  const nodeName = NODE_NAMES.get(algorithm);
  if (nodeName === undefined) {
    throw new SlimenvError(
      "INVALID_RECORD",
      `cannot compute RECORD hash: unsupported algorithm ${JSON.stringify(algorithm)}`,
    );
  }
  const digest = createHash(nodeName).update(bytes).digest();
  return { algorithm, digest: encodeRecordDigest(digest) };
}

/** True when `bytes` hash to `hash` (same algorithm). */
export function verifyRecordHash(bytes: Uint8Array, hash: RecordHash): boolean {
  return recordHash(bytes, hash.algorithm).digest === hash.digest;
}

/** `algorithm=digest`. */
export function formatRecordHash(hash: RecordHash): string {
  return `${hash.algorithm}=${hash.digest}`;
}

/**
 * Parse an `algorithm=digest` hash field. Throws INVALID_RECORD. `kind` as in
 * {@link ParseRecordOptions}: `wheel` accepts only sha256 or stronger.
 */
export function parseRecordHash(text: string, kind: "wheel" | "installed" = "wheel"): RecordHash {
  const problem = hashProblem(text, kind);
  if (typeof problem === "string") {
    throw new SlimenvError(
      "INVALID_RECORD",
      `invalid RECORD hash ${JSON.stringify(text)}: ${problem}`,
    );
  }
  return problem;
}

function hashProblem(text: string, kind: "wheel" | "installed"): string | RecordHash {
  const eq = text.indexOf("=");
  if (eq === -1) return "expected 'algorithm=digest'";
  const algorithm = text.slice(0, eq);
  const digest = text.slice(eq + 1);
  if (!DIGEST_BYTES.has(algorithm)) {
    return `${JSON.stringify(algorithm)} is not a hash algorithm Python's hashlib guarantees`;
  }
  if (kind === "wheel" && !WHEEL_HASH_ALGORITHMS.includes(algorithm)) {
    return `${algorithm} is not allowed in a wheel's RECORD (sha256 or stronger is required; md5 and sha1 are not permitted)`;
  }
  const digestProblem = digestTextProblem(digest);
  if (digestProblem !== undefined) return `the digest: ${digestProblem}`;
  const want = DIGEST_BYTES.get(algorithm);
  const got = Buffer.from(digest, "base64url").length;
  if (want !== undefined && got !== want) {
    return `a ${algorithm} digest is ${want} bytes, this one is ${got}`;
  }
  return { algorithm, digest };
}

/** RECORD itself and its signature files, which cannot carry their own hash. */
function isRecordFile(path: string): boolean {
  return /(^|\/)[^/]+\.dist-info\/RECORD(\.jws|\.p7s)?$/.test(path);
}

function wheelPathProblem(path: string): string | undefined {
  if (path.startsWith("/") || path.startsWith("\\") || /^[A-Za-z]:/.test(path)) {
    return "a wheel's RECORD paths must be relative";
  }
  if (path.split(/[/\\]/).includes("..")) return "a wheel's RECORD paths must not contain '..'";
  return undefined;
}

function fail(line: number, message: string, detail: string): never {
  throw new SlimenvError("INVALID_RECORD", `invalid RECORD at line ${line}: ${message}`, {
    detail,
  });
}

/**
 * Parse RECORD text. Throws INVALID_RECORD with the line number of the bad row.
 * A trailing newline, `\r\n` line ends, and blank lines are accepted.
 */
export function parseRecord(text: string, options: ParseRecordOptions = {}): RecordEntry[] {
  const kind = options.kind ?? "wheel";
  const entries: RecordEntry[] = [];
  const seen = new Map<string, number>();
  for (const row of parseCsv(text.replace(/^\uFEFF/, ""))) {
    // the row as written, for an error only
    const shown = () => row.fields.map(csvField).join(",");
    if (row.fields.length !== 3) {
      fail(row.line, `expected 3 fields (path,hash,size), got ${row.fields.length}`, shown());
    }
    const [path = "", hashText = "", sizeText = ""] = row.fields;
    if (path === "") fail(row.line, "the path is empty", shown());
    if (kind === "wheel") {
      const problem = wheelPathProblem(path);
      if (problem !== undefined) fail(row.line, `${JSON.stringify(path)}: ${problem}`, shown());
      const before = seen.get(path);
      if (before !== undefined) {
        fail(
          row.line,
          `${JSON.stringify(path)} is listed again (first at line ${before})`,
          shown(),
        );
      }
      seen.set(path, row.line);
    }
    const entry: RecordEntry = { path };
    if (hashText !== "") {
      const hash = hashProblem(hashText, kind);
      if (typeof hash === "string")
        fail(row.line, `hash of ${JSON.stringify(path)}: ${hash}`, shown());
      entry.hash = hash;
    } else if (kind === "wheel" && !isRecordFile(path)) {
      fail(
        row.line,
        `${JSON.stringify(path)} has no hash; in a wheel every file but RECORD must have one`,
        shown(),
      );
    }
    if (sizeText !== "") {
      if (!/^\d+$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
        fail(
          row.line,
          `size of ${JSON.stringify(path)} is ${JSON.stringify(sizeText)}, not a non-negative integer`,
          shown(),
        );
      }
      entry.size = Number(sizeText);
    }
    entries.push(entry);
  }
  return entries;
}

/**
 * Format RECORD text: one row per entry in the given order, CSV-quoted where needed,
 * `\n` line ends. Throws INVALID_RECORD for an entry that could not be read back.
 */
export function formatRecord(entries: readonly RecordEntry[]): string {
  return entries
    .map((e) => {
      if (e.path === "") {
        throw new SlimenvError("INVALID_RECORD", "cannot write RECORD: an entry has an empty path");
      }
      let hash = "";
      if (e.hash !== undefined) {
        const problem = hashProblem(formatRecordHash(e.hash), "installed");
        if (typeof problem === "string") {
          throw new SlimenvError(
            "INVALID_RECORD",
            `cannot write RECORD: hash of ${JSON.stringify(e.path)}: ${problem}`,
          );
        }
        hash = formatRecordHash(e.hash);
      }
      let size = "";
      if (e.size !== undefined) {
        if (!Number.isSafeInteger(e.size) || e.size < 0) {
          throw new SlimenvError(
            "INVALID_RECORD",
            `cannot write RECORD: size of ${JSON.stringify(e.path)} is ${e.size}, not a non-negative integer`,
          );
        }
        size = String(e.size);
      }
      return `${csvField(e.path)},${hash},${size}\n`;
    })
    .join("");
}
