// Public names of src/slim: the import check, native stripping, slim policies and presets,
// drop rules, bytecode, the materialization transform and install --slim.

export type { CompileJob, FindCompilerOptions, PycCompiler } from "./bytecode-compile.ts";
export { findPycCompiler, pycCompiler } from "./bytecode-compile.ts";
export { PYC_FORMAT, pycTransformId } from "./bytecode-derive.ts";
export type { CheckOptions } from "./check.ts";
export { benignReason, checkEnv } from "./check.ts";
export type { KnownFailure } from "./check-known.ts";
export { KNOWN_FAILURES, knownFailure } from "./check-known.ts";
export { importableModules, isTestModule } from "./check-modules.ts";
export type { CheckReview, CheckReviewOptions } from "./check-review.ts";
export { checkReview, newlyBroken } from "./check-review.ts";
export type { ImportOutcome, ImportStatus } from "./check-runner.ts";
export type {
  CheckReport,
  CheckTotals,
  ModuleFailure,
  ModuleSkip,
  PackageCheck,
  SmokeResult,
} from "./check-types.ts";
export type { DropCandidate, DropClassifier, DropOverrides } from "./drop.ts";
export { dropClassifier, isProtectedPath, rulePathOf, ruleReason } from "./drop.ts";
export { compileGlob, type Glob } from "./drop-glob.ts";
export { importedModules, keptByImports, moduleOfPath } from "./drop-imports.ts";
export type { NeverStripRule } from "./never-strip.ts";
export { isAuditwheelPatched, NEVER_STRIP, neverStripReason, toolRefusal } from "./never-strip.ts";
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
export { findPreset, PRESET_NAMES, SLIM_PRESETS, type SlimPreset } from "./presets.ts";
export { policyFromRecord, syncSlimTransform } from "./record.ts";
export { DROP_GROUPS, DROP_RULES, type DropGroup, type DropRule } from "./rules/drop-rules.ts";
export type { StripFileOptions, StripMode, StripResult } from "./strip.ts";
export { chooseStripTool, stripFile } from "./strip.ts";
export type {
  StripAndVerifyOptions,
  StripItem,
  StripItemResult,
  StripOutcome,
} from "./strip-batch.ts";
export { stripAndVerify } from "./strip-batch.ts";
export type { FindStripToolOptions, StripTool } from "./strip-tool.ts";
export { findStripTool, hostArch, normalizeArch, stripToolCandidates } from "./strip-tool.ts";
export type { LoadResult, VerifyOptions } from "./strip-verify.ts";
export { verifyLoads } from "./strip-verify.ts";
export type { SlimTransformOptions } from "./transform.ts";
export { policyId, slimTransform } from "./transform.ts";
export type { SlimChecker, SlimCheckerOptions, SlimCheckFailure } from "./transform-check.ts";
export { defaultSlimChecker } from "./transform-check.ts";
export type { SlimInstallOptions, SlimInstallResult } from "./transform-install.ts";
export { installSlim } from "./transform-install.ts";
export { type NativeStripper, nativeStripper } from "./transform-strip.ts";
export type { PackageSlimSummary, SlimSummary } from "./transform-summary.ts";
export {
  outputDifference,
  type UsageOutcome,
  type UsagePruning,
  type UsagePruningOptions,
  usagePruning,
} from "./usage.ts";
export { type UsageKeep, usageKeep } from "./usage-prune.ts";
export {
  type CommandOutcome,
  runCommandIn,
  type SiteUsage,
  siteUsage,
  TRACE_MODULE_NAME,
  TRACE_MODULE_TEXT,
  TRACE_PTH_NAME,
  type TraceResult,
  traceCommand,
  treeBytes,
  usedRulePaths,
} from "./usage-tracer.ts";
