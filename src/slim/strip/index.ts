// Public names of src/slim/strip: native stripping: tools, never-strip rules, verified stripping.

export type {
  StripAndVerifyOptions,
  StripItem,
  StripItemResult,
  StripOutcome,
} from "./batch.ts";
export { stripAndVerify } from "./batch.ts";
export { type NativeStripper, nativeStripper } from "./native-stripper.ts";
export type { NeverStripRule } from "./never-strip.ts";
export {
  isAuditwheelPatched,
  NEVER_STRIP,
  neverStripReason,
  toolRefusal,
} from "./never-strip.ts";
export type { StripFileOptions, StripMode, StripResult } from "./strip-file.ts";
export { chooseStripTool, stripFile } from "./strip-file.ts";
export type { FindStripToolOptions, StripTool } from "./tool.ts";
export { findStripTool, hostArch, normalizeArch, stripToolCandidates } from "./tool.ts";
export type { LoadResult, VerifyOptions } from "./verify.ts";
export { verifyLoads } from "./verify.ts";
