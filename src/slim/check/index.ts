// Public names of src/slim/check: the import check: every importable module of every distribution in the env's own interpreter, and the check a slimmed tree must pass.

export type { CheckOptions } from "./check.ts";
export { benignReason, checkEnv } from "./check.ts";
export type { KnownFailure } from "./known.ts";
export { KNOWN_FAILURES, knownFailure } from "./known.ts";
export { importableModules, isTestModule } from "./modules.ts";
export type { CheckReview, CheckReviewOptions } from "./review.ts";
export { checkReview, newlyBroken } from "./review.ts";
export type { ImportOutcome, ImportStatus } from "./runner.ts";
export type { SlimChecker, SlimCheckerOptions, SlimCheckFailure } from "./slim-checker.ts";
export { defaultSlimChecker } from "./slim-checker.ts";
export type {
  CheckReport,
  CheckTotals,
  ModuleFailure,
  ModuleSkip,
  PackageCheck,
  SmokeResult,
} from "./types.ts";
