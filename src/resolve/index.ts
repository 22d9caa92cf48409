// Layer 5: the resolver, locking and the one lock pipeline. Public names of src/resolve/.

export type { DirectArchive, DirectUrlOptions } from "./direct-url.ts";
export { readDirectUrl } from "./direct-url.ts";
export type { ExportOptions } from "./export.ts";
export { exportRequirements } from "./export.ts";
export type { FormatControl, VersionChoice, VersionFiles } from "./file-selection.ts";
export {
  FileSelector,
  targetLabel,
  targetPlatform,
  versionKey,
  wholeFiles,
} from "./file-selection.ts";
export type { IndexProviderOptions, LeftOut, SdistMetadataBuilder } from "./index-provider.ts";
export { IndexProvider } from "./index-provider.ts";
export type { LockOptions, LockResult } from "./lock.ts";
export { lock, lockPreferences } from "./lock.ts";
export type { LockComparison } from "./lock-check.ts";
export { compareLocks } from "./lock-check.ts";
export type { LockInputs, ReadLockInputsOptions, RequirementsFileOptions } from "./lock-inputs.ts";
export { readLockInputs } from "./lock-inputs.ts";
export type {
  LockContext,
  LockContextRequest,
  LockPreparedOptions,
  PreparedInputs,
} from "./lock-pipeline.ts";
export {
  credentialsOf,
  lockPrepared,
  openLockContext,
  prepareLockInputs,
  readLockFile,
  readPreviousLock,
} from "./lock-pipeline.ts";
export type { ExportRequest, LockRunRequest, LockRunResult } from "./lock-run.ts";
export { exportLockFile, runLock } from "./lock-run.ts";
export type { LockSettings } from "./lock-settings.ts";
export { lockSettings } from "./lock-settings.ts";
export type { LockTargetInfo } from "./lock-target.ts";
export {
  environmentMarker,
  inputsFingerprint,
  lockRequiresPython,
  targetTable,
} from "./lock-target.ts";
export { resolve } from "./resolve.ts";
export type {
  Candidate,
  Dependencies,
  PrereleaseMode,
  Resolution,
  ResolutionStrategy,
  ResolvedPackage,
  ResolveOptions,
  ResolverProvider,
  UnavailableVersion,
  VersionRequirements,
} from "./types.ts";
