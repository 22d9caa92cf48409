// Public names of src/slim/usage: usage-based pruning (--keep-used-by): tracing a command, keeping what it touched.

export { type ElfClosure, elfClosure, expandOrigin } from "./elf-closure.ts";
export { type UsageKeep, usageKeep } from "./keep.ts";
export {
  outputDifference,
  type UsageOutcome,
  type UsagePruning,
  type UsagePruningOptions,
  usagePruning,
} from "./pruning.ts";
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
} from "./tracer.ts";
