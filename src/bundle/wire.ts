/**
 * Bundle files (docs/fleet.md "Bundle file"): a zip of stored members — bundle.json,
 * bundle.sig, the tree (tree.json.xz|gz or tree.sldiff), payload.tar.xz|gz, optionally
 * image.squashfs|erofs and agent.py, in that order. `writeBundle` builds and signs one; `readBundle` verifies one as
 * strictly as the device agent does (signature first, then the tree's stored hash before it is
 * decoded, then every hash) and returns its contents.
 */

import { findTarFiles } from "../archive/tar-read.ts";
import { writeTar } from "../archive/tar-write.ts";
import { SlimenvError } from "../base/index.ts";
import { readBundleZip, writeBundleZip } from "./bundle-zip.ts";
import { canonicalJsonBytes } from "./canonical-json.ts";
import { compressPayload, decompressPayload, xzAvailable } from "./compress.ts";
import { sha256Hex } from "./hashing.ts";
import { type PublicKey, type SigningKey, signDocument, verifyDocument } from "./keys.ts";
import { checkHeader, checkManifest } from "./manifest-check.ts";
import { decodeTree, encodeTree, parseTree, treeBytesOf } from "./tree-codec.ts";
import {
  BUNDLE_FORMAT,
  type BundleContents,
  type BundleDraft,
  type BundleHeader,
  type BundleInput,
  type BundleManifest,
  IMAGE_MEMBERS,
  type PatchEntry,
  TREE_MEMBERS,
} from "./types.ts";

/** Bounds on the small members, as the agent applies them. */
export const MAX_HEADER_BYTES = 64 * 1024 * 1024;
export const MAX_SIGNATURE_BYTES = 4096;

function refuse(what: string, why: string): SlimenvError {
  return new SlimenvError("HASH_MISMATCH", `bundle ${what} refused: ${why}`);
}

/** The hash a delta's `base.objects` names: sha256 of the sorted, newline-joined hashes. */
export function objectSetHash(hashes: Iterable<string>): string {
  const sorted = [...new Set(hashes)].sort();
  return sha256Hex(new TextEncoder().encode(sorted.join("\n")));
}

export interface WrittenBundle {
  /** The bundle file's bytes. */
  bytes: Uint8Array;
  manifest: BundleManifest;
  /** bundle.json's bytes (signed). */
  headerBytes: Uint8Array;
  /** The decoded tree's bytes (a later delta's base). */
  treeBytes: Uint8Array;
}

/**
 * The order of objects inside the payload: the manifest names them by hash, so the order is
 * free, and a solid xz stream compresses best when alike files sit together. Each object goes
 * by the first file that uses it, keyed by (extension, file name, folder): the `.py` files of a
 * release side by side, each `__init__.py` next to the others, the `.so` files together.
 */
function payloadOrder(
  objects: [string, Uint8Array][],
  files: readonly { path: string; sha256: string }[],
): [string, Uint8Array][] {
  const keyOf = new Map<string, string>();
  for (const f of files) {
    if (keyOf.has(f.sha256)) continue;
    const slash = f.path.lastIndexOf("/");
    const name = f.path.slice(slash + 1);
    const dot = name.lastIndexOf(".");
    const ext = dot > 0 ? name.slice(dot + 1) : "";
    keyOf.set(f.sha256, `${ext}\u0000${name}\u0000${f.path.slice(0, Math.max(slash, 0))}`);
  }
  const key = (sha: string) => `${keyOf.get(sha) ?? "\uffff"}\u0000${sha}`;
  return [...objects].sort(([a], [b]) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Machines whose code xz's x86 filter understands (compress.ts PayloadOptions). */
const X86 = new Set(["x86_64", "i686", "i386"]);

/** Bytes the tar headers and padded data of `members` take (short paths: ustar, no pax). */
function tarLength(members: readonly { data: Uint8Array }[]): number {
  return members.reduce((n, m) => n + 512 + Math.ceil(m.data.length / 512) * 512, 0);
}

/** Build and sign a bundle. */
export function writeBundle(input: BundleInput, key: SigningKey): WrittenBundle {
  const draft = input.manifest;
  const objects = [...input.objects.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [sha, data] of objects) {
    if (sha256Hex(data) !== sha) throw refuse(draft.app, `object ${sha} does not hash to its name`);
  }
  const patches = (input.patches ?? []).map((p) => ({ ...p, sha256: sha256Hex(p.data) }));
  patches.sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
  const fileHashes = new Set(draft.files.map((f) => f.sha256));
  const produced = new Set([...objects.map(([s]) => s), ...patches.map((p) => p.target)]);
  for (const [sha] of objects) {
    if (!fileHashes.has(sha)) throw refuse(draft.app, `object ${sha} is used by no file`);
  }
  const image = input.image;
  if (image !== undefined && (objects.length > 0 || patches.length > 0 || draft.base !== null)) {
    throw refuse(draft.app, "an image bundle carries no objects or patches and is no delta");
  }
  if (draft.base === null && image === undefined) {
    for (const f of draft.files) {
      if (!produced.has(f.sha256)) throw refuse(draft.app, `no object for ${f.path}`);
    }
  }
  const objectMembers = payloadOrder(objects, draft.files).map(([sha, data]) => ({
    path: `objects/${sha}`,
    data,
  }));
  const patchesByTarget = patches.map((p): [string, Uint8Array] => [p.target, p.data]);
  const patchOf = new Map(patches.map((p) => [p.target, p.sha256]));
  const shaOf = (target: string) => patchOf.get(target) as string;
  const members = [
    ...objectMembers,
    // Patches in the order of their targets (alike files together, as objects: ~1% smaller).
    // Two patches may be the same bytes (the same change to two files): one member serves both.
    ...[...new Map(payloadOrder(patchesByTarget, draft.files).map(([t, d]) => [shaOf(t), d]))].map(
      ([sha, data]) => ({ path: `patches/${sha}`, data }),
    ),
  ];
  const compression = input.compression ?? (xzAvailable() ? "xz" : "gzip");
  const payload = compressPayload(writeTar(members, { sort: false }), compression, {
    x86Prefix: X86.has(draft.target.machine) ? tarLength(objectMembers) : 0,
  });
  const agent =
    input.agent === undefined
      ? null
      : typeof input.agent === "string"
        ? new TextEncoder().encode(input.agent)
        : input.agent;
  const treeBytes = treeBytesOf(draft);
  const tree = encodeTree(treeBytes, compression, input.treeBase);
  // a draft spread from a read manifest may still hold its `image`: only input.image counts
  const { image: _drop, ...draftFields } = draft as BundleDraft & { image?: unknown };
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    ...draftFields,
    objects: objects.map(([sha256, data]) => ({ sha256, size: data.length })),
    patches: patches.map(
      (p): PatchEntry => ({
        sha256: p.sha256,
        size: p.data.length,
        source: p.source,
        target: p.target,
      }),
    ),
    tree: tree.info,
    payload: {
      name: compression === "xz" ? "payload.tar.xz" : "payload.tar.gz",
      compression,
      sha256: sha256Hex(payload),
      size: payload.length,
    },
    agent: agent === null ? null : { sha256: sha256Hex(agent), size: agent.length },
    ...(image === undefined
      ? {}
      : {
          image: { format: image.format, sha256: sha256Hex(image.data), size: image.data.length },
        }),
  };
  checkManifest(manifest);
  const { files: _f, symlinks: _s, ...onWire } = manifest;
  const headerBytes = canonicalJsonBytes(onWire satisfies BundleHeader);
  const bytes = writeBundleZip(
    [
      { name: "bundle.json", data: headerBytes },
      { name: "bundle.sig", data: signDocument(key, headerBytes) },
      tree.member,
      { name: manifest.payload.name, data: payload },
      ...(image === undefined ? [] : [{ name: IMAGE_MEMBERS[image.format], data: image.data }]),
      ...(agent === null ? [] : [{ name: "agent.py", data: agent }]),
    ],
    `bundle of ${draft.app}`,
  );
  return { bytes, manifest, headerBytes, treeBytes };
}

export interface ReadBundleOptions {
  /** Bytes of base trees by sha256, for a delta whose tree is an sldiff. */
  trees?: ReadonlyMap<string, Uint8Array>;
}

/** Read and verify a bundle against trusted keys; every hash checked. */
export async function readBundle(
  bytes: Uint8Array,
  trusted: readonly PublicKey[],
  what = "bundle",
  options: ReadBundleOptions = {},
): Promise<BundleContents> {
  const members = await readBundleZip(bytes, what);
  const [h, s, t, p, ...rest] = members;
  if (h?.name !== "bundle.json" || s?.name !== "bundle.sig") {
    throw refuse(what, "bundle.json and bundle.sig must come first");
  }
  if (h.data.length > MAX_HEADER_BYTES || s.data.length > MAX_SIGNATURE_BYTES) {
    throw refuse(what, "bundle.json or its signature too large");
  }
  const headerBytes = new Uint8Array(h.data);
  const keyid = verifyDocument(headerBytes, s.data, trusted, `${what} bundle.json`);
  let header: BundleHeader;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
  } catch (err) {
    throw new SlimenvError("HASH_MISMATCH", `${what}: unreadable bundle.json`, { cause: err });
  }
  if (
    header !== null &&
    typeof header === "object" &&
    ("files" in header || "symlinks" in header)
  ) {
    throw refuse(what, "bundle.json is not a bundle header (it holds the tree's entries)");
  }
  checkHeader(header);
  if (t?.name !== TREE_MEMBERS[header.tree.encoding]) {
    throw refuse(what, "third member is not the tree bundle.json names");
  }
  const treeBytes = decodeTree(
    header.tree,
    t.data,
    (sha) => options.trees?.get(sha),
    `${what} tree`,
  );
  const manifest: BundleManifest = { ...header, ...parseTree(treeBytes, `${what} tree`) };
  checkManifest(manifest);
  if (p?.name !== manifest.payload.name) throw refuse(what, `fourth member is not the payload`);
  if (p.data.length !== manifest.payload.size || sha256Hex(p.data) !== manifest.payload.sha256) {
    throw refuse(what, "payload hash or size differs from bundle.json");
  }
  let image: Uint8Array | null = null;
  const imageInfo = manifest.image;
  if (imageInfo !== undefined) {
    const m = rest.shift();
    if (m?.name !== IMAGE_MEMBERS[imageInfo.format]) {
      throw refuse(what, "fifth member is not the image bundle.json names");
    }
    if (m.data.length !== imageInfo.size || sha256Hex(m.data) !== imageInfo.sha256) {
      throw refuse(what, "image hash or size differs from bundle.json");
    }
    image = new Uint8Array(m.data);
  }
  let agent: Uint8Array | null = null;
  if (rest.length > 1 || (rest.length === 1 && rest[0]?.name !== "agent.py")) {
    throw refuse(what, `unexpected member ${rest.at(-1)?.name}`);
  }
  const a = rest[0];
  if ((a === undefined) !== (manifest.agent === null)) {
    throw refuse(what, "agent.py and bundle.json disagree");
  }
  if (a !== undefined && manifest.agent !== null) {
    if (a.data.length !== manifest.agent.size || sha256Hex(a.data) !== manifest.agent.sha256) {
      throw refuse(what, "agent.py hash differs from bundle.json");
    }
    agent = new Uint8Array(a.data);
  }
  const wantObjects = new Map(manifest.objects.map((o) => [o.sha256, o.size]));
  const wantPatches = new Map(manifest.patches.map((q) => [q.sha256, q.size]));
  const objects = new Map<string, Uint8Array>();
  const patches = new Map<string, Uint8Array>();
  const tar = decompressPayload(p.data, manifest.payload.compression);
  for (const entry of findTarFiles(tar, () => true, `${what} payload`)) {
    const match = /^(objects|patches)\/([0-9a-f]{64})$/.exec(entry.path);
    const kind = match?.[1];
    const sha = match?.[2] ?? "";
    const size = kind === "objects" ? wantObjects.get(sha) : wantPatches.get(sha);
    const into = kind === "objects" ? objects : patches;
    if (match === null || size === undefined || into.has(sha)) {
      throw refuse(what, `payload member ${entry.path} not named by bundle.json`);
    }
    if (entry.data.length !== size || sha256Hex(entry.data) !== sha) {
      throw refuse(what, `payload member ${entry.path} does not match its hash`);
    }
    into.set(sha, new Uint8Array(entry.data));
  }
  if (objects.size !== wantObjects.size || patches.size !== wantPatches.size) {
    throw refuse(what, "payload lacks members bundle.json names");
  }
  return { manifest, headerBytes, treeBytes, keyid, objects, patches, agent, image };
}
