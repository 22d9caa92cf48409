/**
 * PEP 751 lock files (pylock.toml): the typed model, a validating reader and a
 * deterministic writer. The pieces live in pylock-types.ts, pylock-read.ts and
 * pylock-write.ts; this module gathers them.
 */

export type { ReadPylockOptions } from "./pylock-read.ts";
export { readPylock } from "./pylock-read.ts";
export type {
  Pylock,
  PylockArchive,
  PylockAttestationIdentity,
  PylockDependency,
  PylockDirectory,
  PylockHashes,
  PylockPackage,
  PylockSdist,
  PylockVcs,
  PylockWheel,
} from "./pylock-types.ts";
export { isPylockFilename, PYLOCK_VERSION, pylockFilenameName } from "./pylock-types.ts";
export { sortPylockPackages, writePylock } from "./pylock-write.ts";
