/**
 * Taking bundle files apart and putting hostile ones together for tests: members by walking
 * the local headers (a bundle's members lie back to back from offset 0), re-zipping in any
 * order or with deflate, re-signing after editing the header or tree, flipping a bit.
 */
import { writeZip } from "../../src/archive/zip-write.ts";
import { canonicalJsonBytes } from "../../src/bundle/canonical-json.ts";
import { sha256Hex } from "../../src/bundle/hashing.ts";
import { type SigningKey, signDocument } from "../../src/bundle/keys.ts";
import { decodeTree, encodeTree, parseTree, treeBytesOf } from "../../src/bundle/tree-codec.ts";
import type { BundleHeader, BundleManifest } from "../../src/bundle/types.ts";

export interface Member {
  name: string;
  data: Uint8Array;
  /** Offset of the member's data in the bundle. */
  at: number;
}

/** The members of a bundle file, walking its local headers from offset 0. */
export function members(bundle: Uint8Array): Member[] {
  const b = Buffer.from(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  const out: Member[] = [];
  let p = 0;
  while (p + 30 <= b.length && b.readUInt32LE(p) === 0x04034b50) {
    const size = b.readUInt32LE(p + 18);
    const nameLen = b.readUInt16LE(p + 26);
    const extra = b.readUInt16LE(p + 28);
    const at = p + 30 + nameLen + extra;
    out.push({
      name: b.toString("latin1", p + 30, p + 30 + nameLen),
      data: new Uint8Array(bundle.subarray(at, at + size)),
      at,
    });
    p = at + size;
  }
  return out;
}

/** A zip of these members in this order: stored, or deflated where smaller (`deflate`). */
export function rezip(list: readonly { name: string; data: Uint8Array }[], deflate = false) {
  return writeZip(
    list.map((m) => ({ name: m.name, data: m.data })),
    { sort: false, storeOnly: !deflate },
  );
}

export function headerOf(bundle: Uint8Array): BundleHeader {
  return JSON.parse(new TextDecoder().decode(members(bundle)[0]?.data)) as BundleHeader;
}

/** The bundle's header and tree as one value (a compressed tree only). */
export function manifestOf(bundle: Uint8Array): BundleManifest {
  const list = members(bundle);
  const header = JSON.parse(new TextDecoder().decode(list[0]?.data)) as BundleHeader;
  const tree = decodeTree(header.tree, list[2]?.data as Uint8Array, () => undefined, "test");
  return { ...header, ...parseTree(tree, "test") };
}

export interface ResignOptions {
  /** A new payload member (header hash and size follow it). */
  payload?: Uint8Array;
  /** Tree bytes to ship instead of the (edited) tree's canonical bytes. */
  treeBytes?: Uint8Array;
  /** Edit the header last (after the tree and payload entries are filled in). */
  header?: (h: BundleHeader) => void;
}

/** Re-sign a bundle (a trusted key signing something hostile) after editing it. */
export function resign(
  bundle: Uint8Array,
  key: SigningKey,
  mutate: (m: BundleManifest) => void,
  opts: ResignOptions = {},
): Uint8Array {
  const list: { name: string; data: Uint8Array }[] = members(bundle);
  const m = manifestOf(bundle);
  mutate(m);
  const tree = encodeTree(opts.treeBytes ?? treeBytesOf(m), "xz");
  const { files: _f, symlinks: _s, ...header } = m;
  header.tree = tree.info;
  list[2] = tree.member;
  if (opts.payload !== undefined) {
    header.payload.sha256 = sha256Hex(opts.payload);
    header.payload.size = opts.payload.length;
    (list[3] as { data: Uint8Array }).data = opts.payload;
  }
  opts.header?.(header);
  const bytes = canonicalJsonBytes(header);
  list[0] = { name: "bundle.json", data: bytes };
  list[1] = { name: "bundle.sig", data: signDocument(key, bytes) };
  return rezip(list);
}

/** The bundle with one bit flipped at `offset` in member `name`'s data. */
export function flipAt(bundle: Uint8Array, name: string, offset: number): Uint8Array {
  const m = members(bundle).find((x) => x.name === name);
  if (m === undefined) throw new Error(`no member ${name}`);
  const out = new Uint8Array(bundle);
  out[m.at + offset] = (out[m.at + offset] as number) ^ 0x10;
  return out;
}
