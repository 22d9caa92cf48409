/**
 * The PEP 751 lock file (pylock.toml) as plain, serializable data. Keys are the spec's,
 * camel-cased; optional keys absent from the file are absent here (not empty), so a read
 * and a write give back the same file. Date-times are kept as the exact TOML text
 * (e.g. "2025-01-25T11:30:10.164985+00:00").
 */

/** Hash algorithm → hex digest, e.g. { sha256: "c75a…" }. At least one entry. */
export type PylockHashes = Record<string, string>;

/** `[packages.vcs]`: a source tree in a version control system. */
export interface PylockVcs {
  /** "git", "hg", "bzr" or "svn". */
  type: string;
  url?: string;
  path?: string;
  requestedRevision?: string;
  commitId: string;
  subdirectory?: string;
}

/** `[packages.directory]`: a local source tree. */
export interface PylockDirectory {
  path: string;
  editable?: boolean;
  subdirectory?: string;
}

/** `[packages.archive]`: a direct reference to an archive (wheel, sdist or other). */
export interface PylockArchive {
  url?: string;
  path?: string;
  size?: number;
  uploadTime?: string;
  hashes: PylockHashes;
  subdirectory?: string;
}

/** `[packages.sdist]`. */
export interface PylockSdist {
  name?: string;
  uploadTime?: string;
  url?: string;
  path?: string;
  size?: number;
  hashes: PylockHashes;
}

/** One `[[packages.wheels]]` entry. */
export interface PylockWheel {
  name?: string;
  uploadTime?: string;
  url?: string;
  path?: string;
  size?: number;
  hashes: PylockHashes;
}

/** One `[[packages.attestation-identities]]` entry; publisher keys are kept as they are. */
export interface PylockAttestationIdentity {
  kind: string;
  [key: string]: unknown;
}

/** One `[[packages.dependencies]]` entry: enough keys to find the package entry meant. */
export type PylockDependency = Record<string, unknown>;

/** One `[[packages]]` entry. */
export interface PylockPackage {
  /** Normalized (PEP 503) name. */
  name: string;
  version?: string;
  marker?: string;
  requiresPython?: string;
  dependencies?: PylockDependency[];
  vcs?: PylockVcs;
  directory?: PylockDirectory;
  archive?: PylockArchive;
  index?: string;
  sdist?: PylockSdist;
  wheels?: PylockWheel[];
  attestationIdentities?: PylockAttestationIdentity[];
  tool?: Record<string, unknown>;
}

/** A whole pylock.toml. */
export interface Pylock {
  lockVersion: string;
  environments?: string[];
  requiresPython?: string;
  extras?: string[];
  dependencyGroups?: string[];
  defaultGroups?: string[];
  createdBy: string;
  packages: PylockPackage[];
  tool?: Record<string, unknown>;
}

/** The lock-version this module reads and writes. */
export const PYLOCK_VERSION = "1.0";

/**
 * True for a valid lock file name: `pylock.toml`, or `pylock.<name>.toml` where name has
 * no dot (and is not empty). A path's directory part is ignored.
 */
export function isPylockFilename(filename: string): boolean {
  const base = filename.slice(Math.max(filename.lastIndexOf("/"), filename.lastIndexOf("\\")) + 1);
  return /^pylock\.(?:[^.]+\.)?toml$/.test(base);
}

/** The `<name>` of `pylock.<name>.toml`; undefined for `pylock.toml` or another file. */
export function pylockFilenameName(filename: string): string | undefined {
  const base = filename.slice(Math.max(filename.lastIndexOf("/"), filename.lastIndexOf("\\")) + 1);
  return /^pylock\.([^.]+)\.toml$/.exec(base)?.[1];
}
