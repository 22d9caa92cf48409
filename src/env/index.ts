// Public names of src/env: layouts, install schemes, materialization, launchers, run.

export type { ApplyBuildSettings, ApplyRequest, ApplyResult } from "./apply.ts";
export { applyPlan } from "./apply.ts";
export type { BuildContext, BuiltManifest } from "./build-tree.ts";
export { pyvenvCfg } from "./build-tree.ts";
export type { EnvChanges, PackageChange, PackageVersion } from "./changes.ts";
export { envChanges, isUnchanged } from "./changes.ts";
export {
  currentGeneration,
  MANIFEST_NAME,
  META_DIR,
  recoverGenerations,
  recoverTarget,
  targetSiblings,
} from "./generations.ts";
export type { InstallRequest, InstallResult } from "./install.ts";
export { install } from "./install.ts";
export type { InstallInputs } from "./install-inputs.ts";
export { classifyInstallArgs } from "./install-inputs.ts";
export type { InstallPlan, InstallPlanRequest } from "./install-plan.ts";
export { planInstall } from "./install-plan.ts";
export type { WheelInstall } from "./install-wheel.ts";
export { distInfoDir, planWheel } from "./install-wheel.ts";
export {
  entryPointBody,
  ISOLATE_PTH_NAME,
  LAUNCHER_MARK,
  prefixPythonLauncher,
  pythonScript,
  rewritePythonShebang,
  targetPythonLauncher,
} from "./launchers.ts";
export { Linker } from "./link.ts";
export { existingEnv, manifestPath, readEnvManifest } from "./manifest.ts";
export type { MaterializeOptions } from "./materialize.ts";
export { defaultInterpreterCommand, materialize } from "./materialize.ts";
export type { RunOptions } from "./run.ts";
export { envActivation, runInEnv } from "./run.ts";
export { defaultSiteDir, pythonDirVersion, schemePaths } from "./scheme.ts";
export { type SdistMetadataContext, sdistMetadataBuilder } from "./sdist-metadata.ts";
export type { SyncRequest, SyncResult } from "./sync.ts";
export { manifestTarget, sync } from "./sync.ts";
export type {
  BuiltRecord,
  EffectiveLinkMode,
  EnvManifest,
  EnvPlan,
  EnvStore,
  Layout,
  LayoutKind,
  LinkMode,
  ManifestFile,
  ManifestPackage,
  PlannedFile,
  SchemePaths,
} from "./types.ts";
export { LINK_MODES } from "./types.ts";
