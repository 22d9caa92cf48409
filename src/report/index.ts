export { renderSizeHtml } from "./html.ts";
export type { PathFacts } from "./kinds.ts";
export { classifyPath, nativeMagic } from "./kinds.ts";
export type { FoundDistribution, Ownership } from "./ownership.ts";
export { assignOwners } from "./ownership.ts";
export type { DetectedLayout } from "./path-kind.ts";
export { detectLayout } from "./path-kind.ts";
export type { ClassifiedEntry } from "./savings.ts";
export { blocksFor, estimateSavings } from "./savings.ts";
export type { SizeOptions } from "./size.ts";
export { sizeReport } from "./size.ts";
export type {
  DistributionSize,
  SizeFigures,
  SizeKind,
  SizeLayout,
  SizeReport,
  SizeSaving,
  SystemLibrary,
} from "./types.ts";
export { SIZE_KINDS, zeroByKind, zeroFigures } from "./types.ts";
export type { EntryType, TreeEntry, WalkResult } from "./walk.ts";
export { walkTree } from "./walk.ts";
export type { ZipPart, ZipTargetOptions, ZipTargetResult } from "./zip.ts";
export { zipTarget } from "./zip.ts";
