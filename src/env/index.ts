// Public names of src/env: layouts, install schemes, materialization, launchers, run.

export type { BuildContext, BuiltManifest } from "./build-tree.ts";
export { pyvenvCfg } from "./build-tree.ts";
export {
  currentGeneration,
  MANIFEST_NAME,
  META_DIR,
  recoverGenerations,
  recoverTarget,
  targetSiblings,
} from "./generations.ts";
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
export type {
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
