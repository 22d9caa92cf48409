/** The store layer: content-addressed objects, wheels, envs registry, verify/repair, prune. */

export { BUILT_WHEEL_TRANSFORM } from "./built.ts";
export type { DerivedObject, DerivedOutput } from "./derived.ts";
export {
  type DownloadedWheel,
  downloadWheel,
  downloadWheelFile,
  type WheelFileRef,
} from "./download.ts";
export { fetchWheel } from "./fetch.ts";
export { type HostileRule, HostileWheelError } from "./hostile.ts";
export { LAYOUT_VERSION } from "./paths.ts";
export type { PruneOptions } from "./prune.ts";
export { ORPHAN_GRACE_MS, Store, type StoreOpenOptions } from "./store.ts";
export {
  DEFAULT_WHEEL_LIMITS,
  type PrunedWheel,
  type PruneReport,
  type StoredFile,
  type StoredWheel,
  type StoreStatus,
  type VerifyProblem,
  type VerifyProblemKind,
  type VerifyReport,
  type WheelLimits,
} from "./types.ts";
export type { ImportOptions, WheelFacts, WheelSource } from "./wheel-import.ts";
