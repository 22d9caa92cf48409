/**
 * Ed25519 keys and signature documents (keys.ts) against RFC 8032's test vectors; key files;
 * canonical JSON byte-identical to Python's json.dumps(sort_keys, compact, ensure_ascii=False).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/bundle/canonical-json.ts";
import {
  formatPublicKey,
  generateSigningKey,
  keyId,
  parsePublicKey,
  publicKeyFromRaw,
  readPublicKey,
  readSigningKey,
  signBytes,
  signDocument,
  signingKeyFromSeed,
  verifyBytes,
  verifyDocument,
  writeKeyPair,
} from "../../src/bundle/keys.ts";
import { agentPython } from "./agent-helpers.ts";
import { RFC8032_VECTORS } from "./rfc8032-vectors.ts";

const hex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const dir = mkdtempSync(path.join(tmpdir(), "slimenv-keys-"));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ed25519 (RFC 8032 section 7.1)", () => {
  it.each(RFC8032_VECTORS)("$name: public key, signature, verification", (v) => {
    const key = signingKeyFromSeed(hex(v.secret));
    expect(toHex(key.publicKey.raw)).toBe(v.public);
    expect(toHex(signBytes(key, hex(v.message)))).toBe(v.signature);
    const pub = publicKeyFromRaw(hex(v.public));
    expect(verifyBytes(pub, hex(v.message), hex(v.signature))).toBe(true);
    const bad = hex(v.signature);
    bad[5] = (bad[5] as number) ^ 1;
    expect(verifyBytes(pub, hex(v.message), bad)).toBe(false);
    expect(verifyBytes(pub, new Uint8Array([...hex(v.message), 0]), hex(v.signature))).toBe(false);
  });
});

describe("key files and signature documents", () => {
  it("writes a .key (0600, PKCS#8 PEM) and a .pub (ed25519:base64) that read back", () => {
    const key = generateSigningKey();
    const files = writeKeyPair(key, path.join(dir, "fleet"));
    expect(statSync(files.key).mode & 0o777).toBe(0o600);
    expect(readFileSync(files.key, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(readFileSync(files.pub, "utf8")).toMatch(/^ed25519:[A-Za-z0-9+/]{43}=\n$/);
    expect(readSigningKey(files.key).publicKey.keyid).toBe(key.publicKey.keyid);
    expect(readPublicKey(files.pub).keyid).toBe(key.publicKey.keyid);
    expect(() => writeKeyPair(key, path.join(dir, "fleet"))).toThrow();
  });

  it("names a key by the first 16 hex digits of sha256 of its raw bytes", () => {
    const v = RFC8032_VECTORS[0];
    const id = keyId(hex(v?.public ?? ""));
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    const py = spawnSync(agentPython(), [
      "-I",
      "-c",
      `import hashlib; print(hashlib.sha256(bytes.fromhex("${v?.public}")).hexdigest()[:16])`,
    ]);
    expect(py.stdout.toString().trim()).toBe(id);
  });

  it("refuses malformed public keys", () => {
    expect(() => parsePublicKey("ed25519:AAAA")).toThrow(/not "ed25519:/);
    expect(() => parsePublicKey(`rsa:${"A".repeat(43)}=`)).toThrow();
    const key = generateSigningKey();
    expect(parsePublicKey(formatPublicKey(key.publicKey)).keyid).toBe(key.publicKey.keyid);
  });

  it("signs a document and verifies it only with the right key and bytes", () => {
    const key = generateSigningKey();
    const other = generateSigningKey();
    const data = new TextEncoder().encode('{"a":1}');
    const sig = signDocument(key, data);
    expect(JSON.parse(new TextDecoder().decode(sig))).toMatchObject({
      alg: "ed25519",
      keyid: key.publicKey.keyid,
    });
    expect(verifyDocument(data, sig, [other.publicKey, key.publicKey], "doc")).toBe(
      key.publicKey.keyid,
    );
    expect(() => verifyDocument(data, sig, [other.publicKey], "doc")).toThrow(/not trusted/);
    expect(() =>
      verifyDocument(new TextEncoder().encode('{"a":2}'), sig, [key.publicKey], "doc"),
    ).toThrow(/bad signature/);
    expect(() =>
      verifyDocument(data, new TextEncoder().encode("{}"), [key.publicKey], "doc"),
    ).toThrow();
  });
});

describe("canonical JSON", () => {
  it("is byte-identical to Python's json.dumps(sort_keys=True, separators, ensure_ascii=False)", () => {
    const value = {
      z: [1, -2, 0, 9007199254740991, null, true, false],
      "\u{1F600}": "astral key",
      "\uFFFF": "bmp key after astral in UTF-16 order",
      a: { nested: 'tab\t nl\n quote" backslash\\ ctrl\u0001 del\u007f é 漢 \u2028' },
      "": "",
    };
    const ts = canonicalJson(value);
    const py = spawnSync(
      agentPython(),
      [
        "-I",
        "-c",
        "import json,sys; v=json.load(sys.stdin); sys.stdout.write(json.dumps(v, sort_keys=True, separators=(',',':'), ensure_ascii=False))",
      ],
      { input: JSON.stringify(value) },
    );
    expect(py.stdout.toString("utf8")).toBe(ts);
  });

  it("refuses floats, non-safe integers and lone surrogates", () => {
    expect(() => canonicalJson({ a: 1.5 })).toThrow(/not a safe integer/);
    expect(() => canonicalJson({ a: 2 ** 60 })).toThrow();
    expect(() => canonicalJson({ a: "\uD800" })).toThrow(/surrogate/);
    expect(canonicalJson({ b: undefined, a: 1 })).toBe('{"a":1}');
  });
});
