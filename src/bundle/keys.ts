/**
 * Ed25519 keys and detached signatures (docs/fleet.md "Keys and signatures"), on node:crypto.
 *
 *   *.pub   one line: `ed25519:` + base64 of the 32 raw public key bytes
 *   *.key   PKCS#8 PEM, mode 0600
 *   key id  first 16 hex digits of sha256(raw public key)
 *   *.sig   canonical JSON {"alg":"ed25519","keyid":…,"sig":<base64 of 64 bytes>}
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { SlimenvError } from "../base/index.ts";
import { canonicalJsonBytes } from "./canonical-json.ts";
import type { SignatureDoc } from "./types.ts";

/** DER prefixes of an Ed25519 SubjectPublicKeyInfo and PKCS#8 private key (RFC 8410). */
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

export interface PublicKey {
  /** The 32 raw bytes. */
  raw: Uint8Array;
  keyid: string;
  key: KeyObject;
}

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: PublicKey;
}

function keyError(message: string, cause?: unknown): SlimenvError {
  return new SlimenvError("INVALID_OPTION", message, cause === undefined ? {} : { cause });
}

/** First 16 hex digits of sha256(raw public key). */
export function keyId(raw: Uint8Array): string {
  return createHash("sha256").update(raw).digest("hex").slice(0, 16);
}

/** A public key from its 32 raw bytes. */
export function publicKeyFromRaw(raw: Uint8Array): PublicKey {
  if (raw.length !== 32) throw keyError(`an ed25519 public key has 32 bytes, not ${raw.length}`);
  const key = createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, raw]),
    format: "der",
    type: "spki",
  });
  return { raw: Uint8Array.from(raw), keyid: keyId(raw), key };
}

function rawOfPublic(key: KeyObject): Uint8Array {
  const der = key.export({ format: "der", type: "spki" });
  if (der.length !== 44 || !der.subarray(0, 12).equals(SPKI_PREFIX)) {
    throw keyError("not an ed25519 key");
  }
  return new Uint8Array(der.subarray(12));
}

function signingKeyOf(privateKey: KeyObject): SigningKey {
  if (privateKey.asymmetricKeyType !== "ed25519") throw keyError("not an ed25519 private key");
  return { privateKey, publicKey: publicKeyFromRaw(rawOfPublic(createPublicKey(privateKey))) };
}

/** A new random key pair. */
export function generateSigningKey(): SigningKey {
  return signingKeyOf(generateKeyPairSync("ed25519").privateKey);
}

/** The key pair of a 32-byte RFC 8032 secret (seed). */
export function signingKeyFromSeed(seed: Uint8Array): SigningKey {
  if (seed.length !== 32) throw keyError(`an ed25519 seed has 32 bytes, not ${seed.length}`);
  const der = Buffer.concat([PKCS8_PREFIX, seed]);
  return signingKeyOf(createPrivateKey({ key: der, format: "der", type: "pkcs8" }));
}

/** The `*.pub` text: `ed25519:<base64>` and a newline. */
export function formatPublicKey(key: PublicKey): string {
  return `ed25519:${Buffer.from(key.raw).toString("base64")}\n`;
}

/** Parse a `*.pub` text. */
export function parsePublicKey(text: string, what = "public key"): PublicKey {
  const m = /^ed25519:([A-Za-z0-9+/]{43}=)\s*$/.exec(text.trim());
  if (m === null) throw keyError(`${what} is not "ed25519:<base64 of 32 bytes>"`);
  return publicKeyFromRaw(new Uint8Array(Buffer.from(m[1] ?? "", "base64")));
}

/** The `*.key` text (PKCS#8 PEM). */
export function formatPrivateKey(key: SigningKey): string {
  return key.privateKey.export({ format: "pem", type: "pkcs8" }).toString();
}

export function parsePrivateKey(text: string, what = "private key"): SigningKey {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: "pem" });
  } catch (err) {
    throw keyError(`${what} is not a PKCS#8 PEM private key`, err);
  }
  return signingKeyOf(key);
}

/** Write `<prefix>.key` (mode 0600) and `<prefix>.pub`; returns their paths. */
export function writeKeyPair(key: SigningKey, prefix: string): { key: string; pub: string } {
  const keyPath = `${prefix}.key`;
  const pubPath = `${prefix}.pub`;
  writeFileSync(keyPath, formatPrivateKey(key), { mode: 0o600, flag: "wx" });
  chmodSync(keyPath, 0o600);
  writeFileSync(pubPath, formatPublicKey(key.publicKey), { flag: "wx" });
  return { key: keyPath, pub: pubPath };
}

export function readSigningKey(file: string): SigningKey {
  return parsePrivateKey(readFileSync(file, "utf8"), file);
}

export function readPublicKey(file: string): PublicKey {
  return parsePublicKey(readFileSync(file, "utf8"), file);
}

/** The raw 64-byte signature of `data`. */
export function signBytes(key: SigningKey, data: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, data, key.privateKey));
}

export function verifyBytes(key: PublicKey, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  return verify(null, data, key.key, signature);
}

/** The signature document (canonical JSON bytes) of `data`. */
export function signDocument(key: SigningKey, data: Uint8Array): Uint8Array {
  const doc: SignatureDoc = {
    alg: "ed25519",
    keyid: key.publicKey.keyid,
    sig: Buffer.from(signBytes(key, data)).toString("base64"),
  };
  return canonicalJsonBytes(doc);
}

/**
 * Check a signature document over `data` against trusted keys; returns the key id that
 * signed. Throws a SlimenvError naming the reason otherwise.
 */
export function verifyDocument(
  data: Uint8Array,
  signature: Uint8Array,
  trusted: readonly PublicKey[],
  what: string,
): string {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(signature));
  } catch (err) {
    throw new SlimenvError("HASH_MISMATCH", `${what}: unreadable signature`, { cause: err });
  }
  const d = doc as Partial<SignatureDoc> | null;
  if (
    d === null ||
    typeof d !== "object" ||
    d.alg !== "ed25519" ||
    typeof d.keyid !== "string" ||
    typeof d.sig !== "string"
  ) {
    throw new SlimenvError("HASH_MISMATCH", `${what}: not an ed25519 signature document`);
  }
  const key = trusted.find((k) => k.keyid === d.keyid);
  if (key === undefined) {
    throw new SlimenvError("HASH_MISMATCH", `${what}: signed by key ${d.keyid}, not trusted`, {
      hint: "pass the signing key's .pub with --key",
    });
  }
  const sig = Buffer.from(d.sig, "base64");
  if (sig.toString("base64") !== d.sig || !verifyBytes(key, data, sig)) {
    throw new SlimenvError("HASH_MISMATCH", `${what}: bad signature (key ${d.keyid})`);
  }
  return key.keyid;
}
