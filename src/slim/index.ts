// Public names of src/slim: the import check, native stripping, slim policies and presets,
// drop rules, bytecode, the materialization transform and install --slim.

export * from "./bytecode/index.ts";
export * from "./check/index.ts";
export * from "./drop/index.ts";
export type { SlimInstallOptions, SlimInstallResult } from "./install-slim.ts";
export { installSlim } from "./install-slim.ts";
export type {
  BytecodeChoice,
  BytecodeMode,
  SlimOptions,
  SlimPolicy,
  StripMode as SlimStripMode,
} from "./policy.ts";
export {
  BYTECODE_MODES,
  describePolicy,
  isNoopPolicy,
  parseDropGroups,
  resolveBytecode,
  STRIP_MODES,
  slimPolicy,
  withSkipped,
  withUsage,
} from "./policy.ts";
export { policyFromRecord, syncSlimTransform } from "./policy-record.ts";
export { findPreset, PRESET_NAMES, SLIM_PRESETS, type SlimPreset } from "./presets.ts";
export * from "./strip/index.ts";
export * from "./transform/index.ts";
export * from "./usage/index.ts";
