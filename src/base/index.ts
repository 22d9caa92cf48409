export type { AtomicWriteOptions } from "./atomic-write.ts";
export {
  replaceFileSync,
  siblingTempPath,
  writeFileAtomic,
  writeFileAtomicSync,
} from "./atomic-write.ts";
export { cacheDir, slimenvHome } from "./dirs.ts";
export type { ErrorCode, SlimenvErrorOptions } from "./errors.ts";
export { isSlimenvError, pointAt, SlimenvError } from "./errors.ts";
export { formatBytes } from "./format.ts";
export { collectGarbage } from "./garbage.ts";
export { mapLimit } from "./map-limit.ts";
export { redact, stripCredentials } from "./redact.ts";
export type { LogLevel, ProgressTask, RecordedEvent, Reporter } from "./reporter.ts";
export { RecordingReporter, silentReporter } from "./reporter.ts";
