/**
 * The shipping formats of docs/fleet.md as TypeScript types: bundle header and tree, channel index,
 * signature document, and the in-memory shapes the bundle writer takes and the reader returns.
 * Plain data only; every JSON document here is written as canonical JSON (canonical-json.ts).
 */

export const BUNDLE_FORMAT = "slimenv-bundle/2";
export const CHANNEL_FORMAT = "slimenv-channel/2";
export const PATCH_MAGIC = "SLDIFF01";

/** `[a-z0-9][a-z0-9._-]{0,63}` */
export const APP_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Lowercase hex sha256. */
export type Sha256 = string;

/** Payload (and patch stream) compression. */
export type Compression = "xz" | "gzip";

/** What the device's python3 must satisfy. */
export interface BundleTarget {
  /** `cp` (CPython). */
  implementation: string;
  /** `major.minor`, e.g. "3.11". */
  python: string;
  /** e.g. "cp311" ("cp313t" free-threaded). */
  abi: string;
  /** The device CPU as `platform.machine()` says: x86_64, aarch64, armv7l, … */
  machine: string;
  /** libc family the env's native code needs, or null when it needs none in particular. */
  libc: "glibc" | "musl" | null;
  /** Minimum libc version ("2.28"), or null with `libc: null`. */
  libcVersion: string | null;
  /** Informative: the platform tags the env was installed for. */
  platforms: string[];
}

export interface HealthCheck {
  /** argv, run with cwd = the generation; argv[0] relative to the generation when it has a `/`. */
  command: string[];
  /** Seconds. */
  timeout: number;
}

/** A regular file of the app tree. */
export interface FileEntry {
  path: string;
  sha256: Sha256;
  size: number;
  /** 0o644 (420) or 0o755 (493) only. */
  mode: 420 | 493;
}

export interface SymlinkEntry {
  path: string;
  /** Relative, resolving inside the tree. */
  target: string;
}

/** What a delta bundle assumes the device holds (informative). */
export interface BaseRef {
  app: string;
  sequence: number;
  /** sha256 of the sorted, newline-joined object hashes the delta assumes the device holds. */
  objects: Sha256;
}

export interface ObjectEntry {
  sha256: Sha256;
  size: number;
}

/** One SLDIFF01 patch producing object `target` from object `source`. */
export interface PatchEntry {
  /** sha256 of the patch bytes. */
  sha256: Sha256;
  /** Size of the patch bytes. */
  size: number;
  source: Sha256;
  target: Sha256;
}

export interface PayloadInfo {
  name: "payload.tar.xz" | "payload.tar.gz";
  compression: Compression;
  /** Hash and size of the compressed payload member. */
  sha256: Sha256;
  size: number;
}

/** How the tree document travels: compressed whole, or as an SLDIFF01 patch of a base tree. */
export type TreeEncoding = "xz" | "gzip" | "sldiff";

/** The zip member that holds the tree, by encoding. */
export const TREE_MEMBERS = {
  xz: "tree.json.xz",
  gzip: "tree.json.gz",
  sldiff: "tree.sldiff",
} as const satisfies Record<TreeEncoding, string>;

/** bundle.json's `tree`: the tree document's hash and size, and how its member encodes it. */
export interface TreeInfo {
  /** sha256 of the decoded (canonical JSON) tree bytes. */
  sha256: Sha256;
  /** Size of the decoded tree bytes. */
  size: number;
  encoding: TreeEncoding;
  /** Hash and size of the member's bytes, checked before anything decodes them. */
  stored: { sha256: Sha256; size: number };
  /** sldiff: sha256 of the base tree's bytes (a tree the device keeps); else null. */
  base: Sha256 | null;
}

/** The tree document: canonical JSON of exactly these two fields. */
export interface BundleTree {
  /** Sorted by path. */
  files: FileEntry[];
  /** Sorted by path. */
  symlinks: SymlinkEntry[];
}

/** bundle.json's `image`: a read-only filesystem image of the whole tree (docs/fleet.md "Images"). */
export interface ImageInfo {
  format: "squashfs" | "erofs";
  /** Hash and size of the `image.<format>` member (the image file's bytes). */
  sha256: Sha256;
  size: number;
}

/** The zip member of an image, by format. */
export const IMAGE_MEMBERS = {
  squashfs: "image.squashfs",
  erofs: "image.erofs",
} as const satisfies Record<ImageInfo["format"], string>;

export interface AgentInfo {
  sha256: Sha256;
  size: number;
}

/** bundle.json: everything but the tree's entries, which travel in the tree member. */
export interface BundleHeader {
  format: typeof BUNDLE_FORMAT;
  app: string;
  version: string;
  sequence: number;
  /** ISO 8601 UTC, seconds precision ("2026-12-06T17:00:00Z"). */
  created: string;
  target: BundleTarget;
  /** The command the env's launchers run, e.g. "python3.11". */
  interpreter: string;
  health: HealthCheck | null;
  base: BaseRef | null;
  /** Objects carried in the payload, sorted by sha256. */
  objects: ObjectEntry[];
  /** Sorted by target. */
  patches: PatchEntry[];
  tree: TreeInfo;
  payload: PayloadInfo;
  agent: AgentInfo | null;
  /** An image bundle's image (its payload then carries no object); absent in a plain bundle. */
  image?: ImageInfo;
}

/** A bundle's header and its decoded tree, as one value (what readers check and return). */
export type BundleManifest = BundleHeader & BundleTree;

/** The manifest fields the bundle writer fills in itself. */
export type ComputedManifestKeys =
  | "format"
  | "objects"
  | "patches"
  | "tree"
  | "payload"
  | "agent"
  | "image";

/** A manifest as the bundle's builder knows it, before the writer adds what it computes. */
export type BundleDraft = Omit<BundleManifest, ComputedManifestKeys>;

/** A patch to carry: its bytes, and which object it turns into which. */
export interface PatchInput {
  source: Sha256;
  target: Sha256;
  data: Uint8Array;
}

/** What the bundle writer (wire.ts `writeBundle`) takes. */
export interface BundleInput {
  manifest: BundleDraft;
  /** Objects to carry, by sha256 (checked). A full bundle: every distinct files[].sha256. */
  objects: ReadonlyMap<Sha256, Uint8Array>;
  patches?: readonly PatchInput[];
  /** The device agent's text or bytes, carried as `agent.py`. */
  agent?: Uint8Array | string;
  /** Default "xz" (falls back to "gzip" when no `xz` binary is found). */
  compression?: Compression;
  /**
   * The exact bytes of a tree the device keeps: the tree ships as an SLDIFF01 patch of it
   * when that is smaller than the tree compressed.
   */
  treeBase?: Uint8Array;
  /** An image of the tree, carried as `image.<format>` (then `objects` and `patches` are empty). */
  image?: { format: ImageInfo["format"]; data: Uint8Array };
}

/** What the bundle reader (wire.ts `readBundle`) returns, every hash checked. */
export interface BundleContents {
  manifest: BundleManifest;
  /** The exact bytes of bundle.json (what the signature and channel index cover). */
  headerBytes: Uint8Array;
  /** The decoded tree bytes (a later delta's base). */
  treeBytes: Uint8Array;
  /** Key id of the trusted key that signed it. */
  keyid: string;
  objects: Map<Sha256, Uint8Array>;
  /** Patch bytes by patch sha256. */
  patches: Map<Sha256, Uint8Array>;
  agent: Uint8Array | null;
  /** The image member's bytes (hash checked), or null for a plain bundle. */
  image: Uint8Array | null;
}

/** A detached signature: `<document>.sig` or the bundle's bundle.sig. */
export interface SignatureDoc {
  alg: "ed25519";
  /** First 16 hex digits of sha256(raw public key). */
  keyid: string;
  /** base64 of the 64-byte signature. */
  sig: string;
}

export interface ChannelDelta {
  from: number;
  sha256: Sha256;
  size: number;
}

export interface ChannelIndex {
  format: typeof CHANNEL_FORMAT;
  app: string;
  channel: string;
  sequence: number;
  version: string;
  /** sha256 of the full bundle's bundle.json. */
  header: { sha256: Sha256 };
  full: { sha256: Sha256; size: number };
  deltas: ChannelDelta[];
  published: string;
}
