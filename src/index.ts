// The slimenv library: a chosen surface, as uv's lib.rs chooses its own. The packaging
// standards under the names Python packaging people know (Version, SpecifierSet,
// Requirement, Marker, Tag, …); interpreters and targets; settings; and one function per
// pipeline stage with its request and result types: lock, install, sync, check, size,
// runtime, and the store. Everything else is internal: import it from its module path.

// Errors and progress.
export type {
  ErrorCode,
  LogLevel,
  ProgressTask,
  Reporter,
  SlimenvErrorOptions,
} from "./base/index.ts";
export {
  isSlimenvError,
  RecordingReporter,
  redact,
  SlimenvError,
  silentReporter,
} from "./base/index.ts";
// Building sdists (PEP 517): one wheel into the store, and the flag profiles.
export type {
  BuildFlagProfile,
  BuildOptions,
  BuiltWheel,
  ConfigSettings,
  SdistSource,
} from "./build/index.ts";
export { BUILD_FLAG_PROFILES, buildSdist, buildSourceTree } from "./build/index.ts";
// Shipping to devices (docs/fleet.md): full and delta bundles, keys, the static repository,
// the device agent's source, read-only images.
export type {
  BundleManifest,
  ChannelIndex,
  EnvImage,
  ImageOptions,
  LockBundleRequest,
  PackOptions,
  PackResult,
  PublicKey,
  PublishOptions,
  PublishResult,
  SigningKey,
} from "./bundle/index.ts";
export {
  agentSource,
  buildImage,
  generateSigningKey,
  packEnv,
  packLock,
  publishBundle,
  readBundle,
  readPublicKey,
  readSigningKey,
  writeKeyPair,
} from "./bundle/index.ts";
// Install and sync: environments (prefix, target, venv) from the store.
export type {
  EnvChanges,
  EnvManifest,
  InstallInputs,
  InstallRequest,
  InstallResult,
  Layout,
  LayoutKind,
  LinkMode,
  ManifestPackage,
  PackageChange,
  RunOptions,
  SyncRequest,
  SyncResult,
} from "./env/index.ts";
export { install, LINK_MODES, readEnvManifest, runInEnv, sync } from "./env/index.ts";
// Interpreters and targets.
export type {
  Discovery,
  DiscoveryOptions,
  FoundInterpreter,
  InterpreterList,
  InterpreterProbe,
  InterpreterSource,
  ResolvedTarget,
  Target,
  TargetSelection,
  TargetSpec,
} from "./python/index.ts";
export {
  discoverInterpreters,
  findInterpreter,
  listInterpreters,
  probeInterpreter,
  resolveTarget,
  targetFromProbe,
  targetFromSpec,
} from "./python/index.ts";
// Size.
export type { DistributionSize, SizeKind, SizeOptions, SizeReport } from "./report/index.ts";
export { renderSizeHtml, sizeReport } from "./report/index.ts";
// Lock (PEP 751) and export.
export type {
  ExportRequest,
  LockInputs,
  LockOptions,
  LockResult,
  LockRunRequest,
  LockRunResult,
  ReadLockInputsOptions,
} from "./resolve/index.ts";
export { exportLockFile, lock, readLockInputs, runLock } from "./resolve/index.ts";
// Slim CPython runtimes.
export type { RuntimeBuildOptions, RuntimeBuildResult } from "./runtime/index.ts";
export { buildRuntime } from "./runtime/index.ts";
// Settings: flags, SLIMENV_* variables and config files merged by precedence.
export type { ResolvedSettings, SettingsInput } from "./settings/index.ts";
export { resolveSettings } from "./settings/index.ts";
// Slimming and the import check.
export type {
  CheckOptions,
  CheckReport,
  ModuleFailure,
  PackageCheck,
  PackageSlimSummary,
  SlimInstallOptions,
  SlimInstallResult,
  SlimOptions,
  SlimPolicy,
  SlimPreset,
  SlimSummary,
} from "./slim/index.ts";
export {
  checkEnv,
  describePolicy,
  installSlim,
  SLIM_PRESETS,
  slimPolicy,
  slimTransform,
  syncSlimTransform,
} from "./slim/index.ts";
// Python packaging standards: versions, specifiers, requirements, markers, names, tags,
// wheel and sdist file names, core metadata, RECORD, entry points, WHEEL,
// requirements.txt, pyproject.toml, pylock.toml.
export * from "./standards/index.ts";
// The store.
export type {
  PruneOptions,
  PruneReport,
  StoreOpenOptions,
  StoreStatus,
  VerifyReport,
} from "./store/index.ts";
export { Store } from "./store/index.ts";
