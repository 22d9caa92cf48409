/** HOSTILE_WHEEL: a wheel refused by a safety rule, with the rule as a stable id. */
import { SlimenvError } from "../base/index.ts";

export type HostileRule =
  | "absolute-path"
  | "parent-component"
  | "backslash-or-drive"
  | "bad-path"
  | "symlink"
  | "special-file"
  | "duplicate-entry"
  | "case-duplicate"
  | "file-directory-conflict"
  | "outside-allowed-places"
  | "no-dist-info"
  | "second-dist-info"
  | "dist-info-name"
  | "wheel-version"
  | "invalid-wheel-file"
  | "invalid-metadata"
  | "name-mismatch"
  | "version-mismatch"
  | "record-missing"
  | "invalid-record"
  | "record-entry-without-file"
  | "file-not-in-record"
  | "hash-mismatch"
  | "size-mismatch"
  | "too-many-entries"
  | "too-large"
  | "compression-ratio"
  | "encrypted"
  | "compression-method"
  | "local-header-mismatch"
  | "overlapping-entries"
  | "data-outside-archive"
  | "zip-structure"
  | "end-record-mismatch"
  | "unlisted-data"
  | "slimenv-path"
  | "script-name"
  | "wheel-tags";

export class HostileWheelError extends SlimenvError {
  readonly rule: HostileRule;
  readonly wheel: string;

  constructor(wheel: string, rule: HostileRule, why: string, cause?: unknown) {
    super("HOSTILE_WHEEL", `refusing wheel ${wheel}: ${rule}: ${why}`, {
      hint: "the wheel is malformed or built to attack installers; get it from a trusted source or report it to its publisher",
      ...(cause === undefined ? {} : { cause }),
    });
    this.name = "HostileWheelError";
    this.rule = rule;
    this.wheel = wheel;
  }
}
