// Layer 7: the PEP 517 build frontend. Build envs from the store, hooks in a subprocess,
// size flags; built wheels become derived store objects. Public names of src/build/.

export { checkCanBuild } from "./build-checks.ts";
export { type BuildEnv, type BuildEnvContext, buildEnvFor } from "./build-env.ts";
export { buildTransform, readBuildSystem } from "./build-folder.ts";
export {
  type BuildOptions,
  type BuiltWheel,
  DEFAULT_BUILD_TIMEOUT_MS,
  type SdistSource,
} from "./build-types.ts";
export { buildSdist, buildSourceTree, prepareSdistMetadata } from "./build-wheel.ts";
export {
  type BackendFamily,
  BUILD_FLAG_PROFILES,
  type BuildFlagProfile,
  backendFamily,
  type ConfigSettings,
  checkBuildFlags,
  type FlagPlan,
  flagPlan,
  parseConfigSettings,
  SIZE_CFLAGS,
  SIZE_LDFLAGS,
  SIZE_PACKAGE_SETTINGS,
  SYSTEM_LIB_SETTINGS,
} from "./flags.ts";
export {
  HOOK_RUNNER,
  type HookName,
  type HookRequest,
  type HookResult,
  logTail,
  runHook,
} from "./hooks.ts";
export { SYSTEM_LIB_MODULES, type Toolchain, toolchainOf } from "./toolchain.ts";
export { MAX_SDIST_UNPACKED, unpackSdist, unpackSdistArchive } from "./unpack.ts";
export { checkoutGit, type GitSource, parseGitRequirement } from "./vcs.ts";
