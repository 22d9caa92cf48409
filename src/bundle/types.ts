/**
 * The shipping formats of docs/fleet.md as TypeScript types: bundle manifest, channel index,
 * signature document, and the in-memory shapes the bundle writer takes and the reader returns.
 * Plain data only; every JSON document here is written as canonical JSON (canonical-json.ts).
 */

export const BUNDLE_FORMAT = "slimenv-bundle/1";
export const CHANNEL_FORMAT = "slimenv-channel/1";
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

export interface AgentInfo {
  sha256: Sha256;
  size: number;
}

export interface BundleManifest {
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
  /** Sorted by path. */
  files: FileEntry[];
  /** Sorted by path. */
  symlinks: SymlinkEntry[];
  base: BaseRef | null;
  /** Objects carried in the payload, sorted by sha256. */
  objects: ObjectEntry[];
  /** Sorted by target. */
  patches: PatchEntry[];
  payload: PayloadInfo;
  agent: AgentInfo | null;
}

/** The manifest fields the bundle writer fills in itself. */
export type ComputedManifestKeys = "format" | "objects" | "patches" | "payload" | "agent";

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
}

/** What the bundle reader (wire.ts `readBundle`) returns, every hash checked. */
export interface BundleContents {
  manifest: BundleManifest;
  /** The exact bytes of manifest.json (what the signature and channel index cover). */
  manifestBytes: Uint8Array;
  /** Key id of the trusted key that signed it. */
  keyid: string;
  objects: Map<Sha256, Uint8Array>;
  /** Patch bytes by patch sha256. */
  patches: Map<Sha256, Uint8Array>;
  agent: Uint8Array | null;
}

/** A detached signature: `<document>.sig` or the bundle's manifest.sig. */
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
  manifest: { sha256: Sha256 };
  full: { sha256: Sha256; size: number };
  deltas: ChannelDelta[];
  published: string;
}
