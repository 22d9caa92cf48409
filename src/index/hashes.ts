/**
 * Hashes an index declares for a file (`#sha256=…` fragments, PEP 691 `hashes`, PEP 658
 * metadata hashes) and checking downloaded bytes against them.
 */
import { createHash, getHashes } from "node:crypto";
import { SlimenvError } from "../base/index.ts";
import { stripCredentials } from "./source-url.ts";

/** Strongest first; the first one present (and known to node:crypto) is checked. */
const PREFERENCE = ["sha512", "sha384", "sha256", "sha224", "sha3_512", "sha3_256", "blake2b"];
const NODE_NAMES: Record<string, string> = {
  sha3_512: "sha3-512",
  sha3_256: "sha3-256",
  blake2b: "blake2b512",
};
const HEX = /^[0-9a-f]+$/;

/** Normalize a hash map: lower-case names and hex values; values that are not hex dropped. */
export function normalizeHashes(hashes: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(hashes)) {
    const v = value.trim().toLowerCase();
    if (HEX.test(v)) out[name.trim().toLowerCase()] = v;
  }
  return out;
}

/** Parse a `name=hex` value (an URL fragment, `data-core-metadata="sha256=…"`). */
export function parseHashPair(text: string): Record<string, string> | undefined {
  const eq = text.indexOf("=");
  if (eq <= 0) return undefined;
  const name = text.slice(0, eq).trim().toLowerCase();
  const value = text
    .slice(eq + 1)
    .trim()
    .toLowerCase();
  if (!/^[a-z0-9_]+$/.test(name) || !HEX.test(value)) return undefined;
  return { [name]: value };
}

/** The strongest declared hash node:crypto can compute, or undefined. */
export function chooseHash(hashes: Record<string, string>): [string, string] | undefined {
  const available = new Set(getHashes());
  for (const name of PREFERENCE) {
    const value = hashes[name];
    if (value !== undefined && available.has(NODE_NAMES[name] ?? name)) return [name, value];
  }
  return undefined;
}

/** Hex digest of `bytes` under the index's name for the algorithm. */
export function digest(name: string, bytes: Uint8Array): string {
  return createHash(NODE_NAMES[name] ?? name)
    .update(bytes)
    .digest("hex");
}

/**
 * Throw HASH_MISMATCH when `bytes` do not match the strongest declared hash. No declared
 * (usable) hash: nothing to check.
 */
export function verifyHashes(bytes: Uint8Array, hashes: Record<string, string>, url: string): void {
  const chosen = chooseHash(hashes);
  if (chosen === undefined) return;
  const [name, expected] = chosen;
  const actual = digest(name, bytes);
  if (actual !== expected) {
    throw new SlimenvError(
      "HASH_MISMATCH",
      `${stripCredentials(url)} does not match its ${name} hash from the index`,
      {
        detail: `expected ${name}=${expected}\n     got ${name}=${actual}`,
        hint: "the file changed on the server or was corrupted on the way; retry, or check the index",
      },
    );
  }
}
