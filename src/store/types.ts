/** The store's plain data types: what it hands to envs and reports to the CLI. */

/** One file of a stored wheel. */
export interface StoredFile {
  /** As in the wheel, e.g. `pkg/mod.py` or `x-1.0.data/scripts/tool`. */
  path: string;
  /** Hex sha256 of the bytes: the object's name. */
  hash: string;
  /** The zip entry had an executable bit: the object is the `.x` twin. */
  exec: boolean;
  size: number;
}

/** A wheel the store holds completely: every file is an object. */
export interface StoredWheel {
  /** Hex sha256 of the wheel file. */
  sha256: string;
  filename: string;
  /** Canonical (PEP 503) project name. */
  name: string;
  /** Normalized version. */
  version: string;
  /** Expanded tags from the filename, e.g. `py3-none-any`. */
  tags: string[];
  rootIsPurelib: boolean;
  /** Every file of the wheel but RECORD signatures, in archive order (RECORD included). */
  files: StoredFile[];
  /** The wheel's RECORD text. */
  record: string;
}

/** Limits that refuse zip bombs; each can be changed through `Store.open({ limits })`. */
export interface WheelLimits {
  /** Entries in one wheel (files and directories). */
  maxEntries: number;
  /** Sum of the uncompressed sizes of all entries. */
  maxTotalSize: number;
  /** Uncompressed size of one entry. */
  maxEntrySize: number;
  /** Uncompressed / compressed size of one entry, for entries bigger than `ratioMinSize`. */
  maxRatio: number;
  ratioMinSize: number;
  /** METADATA, WHEEL and RECORD are read into memory: each at most this big. */
  maxMetadataSize: number;
}

export const DEFAULT_WHEEL_LIMITS: Readonly<WheelLimits> = {
  maxEntries: 100_000,
  maxTotalSize: 8 * 1024 ** 3,
  maxEntrySize: 4 * 1024 ** 3,
  maxRatio: 200,
  // Only big entries: small, very compressible files are common in real wheels (pillow 13's
  // bundled libXau expands 224 times) and harmless; the size limits bound the rest.
  ratioMinSize: 64 * 1024 * 1024,
  maxMetadataSize: 64 * 1024 * 1024,
};

export interface StoreStatus {
  root: string;
  /** Objects in the index (an executable twin counts separately). */
  objects: number;
  wheels: number;
  /** Of `wheels`, those slimenv built from an sdist (derived objects). */
  builtWheels: number;
  envs: number;
  /** Sum of file sizes over all wheels' files: what unpacking every wheel would take. */
  logicalBytes: number;
  /** Sum of the sizes of the distinct objects the wheels use. */
  uniqueBytes: number;
  /** Objects on disk: sum of st_size. */
  apparentBytes: number;
  /** Objects on disk: sum of st_blocks × 512. */
  diskBytes: number;
  /**
   * Derived objects (slimmed files, compiled bytecode, stripped libraries, cached failures):
   * outputs of transforms that no wheel holds as a file. Not part of uniqueBytes.
   */
  derivedObjects: number;
  derivedBytes: number;
  /** logicalBytes − uniqueBytes. */
  savedByDedupe: number;
  /**
   * Of savedByDedupe, the bytes saved because wheels of the same project (other versions,
   * other builds) share files: Σ per project (Σ its wheels' distinct bytes − the project's
   * distinct bytes).
   */
  savedAcrossVersions: number;
}

export type VerifyProblemKind =
  /** The object's bytes no longer hash to its name (e.g. written through a hardlink). */
  | "modified"
  /** Not a read-only regular file of the right mode (0444, or 0555 for `.x`). */
  | "mode"
  /** A wheel references the object, but it is not in objects/. */
  | "missing"
  /** A file in objects/ whose name is not an object name. */
  | "stray"
  /** The index disagrees with itself (a wheel file without an object row, and the like). */
  | "index";

export interface VerifyProblem {
  kind: VerifyProblemKind;
  /** The object (or file) concerned. */
  path: string;
  hash?: string;
  exec?: boolean;
  /** What was found, one line. */
  detail: string;
  repaired: boolean;
  /** How it was repaired: `twin`, `env-copy`, `download`, `chmod`, `delete`, `index`, `forget-derived`. */
  repairedBy?: string;
  /** Why it could not be repaired (with repair asked for). */
  unrepairedReason?: string;
  /**
   * A repaired `modified` object: the env files (and pth-mode store trees) that were hard
   * links to the edited inode, now linked to the restored object.
   */
  relinked?: string[];
}

export interface VerifyReport {
  /** Objects re-hashed. */
  objects: number;
  bytes: number;
  problems: VerifyProblem[];
  /** Object files no wheel in the index references (left by an interrupted import): harmless. */
  orphans: number;
  /** Orphans removed (repair only; only those older than the grace period). */
  orphansRemoved: number;
  /** True when there is no problem left (after repair, when asked for). */
  ok: boolean;
}

export interface PrunedWheel {
  sha256: string;
  filename: string;
}

export interface PruneReport {
  dryRun: boolean;
  /** Registered envs whose manifest is gone: their registration is dropped. */
  envsDropped: string[];
  wheelsEvicted: PrunedWheel[];
  objectsDeleted: number;
  /** Sum of st_size of the object files deleted (or that would be, in a dry run). */
  bytesFreed: number;
  /** Of objectsDeleted / bytesFreed: derived objects no live environment uses. */
  derivedDeleted: number;
  derivedBytesFreed: number;
  /** Orphan object files (not in the index, older than the grace period) deleted. */
  orphansDeleted: number;
  /** Store size (distinct object bytes in the index) after pruning. */
  sizeAfter: number;
}
