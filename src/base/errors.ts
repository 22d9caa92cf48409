import { redact } from "./redact.ts";

/**
 * Stable error codes. A code never changes meaning once published; scripts match on it.
 * Grouped by the layer that raises it.
 */
export type ErrorCode =
  | "INVALID_VERSION"
  | "INVALID_SPECIFIER"
  | "INVALID_REQUIREMENT"
  | "INVALID_MARKER"
  | "INVALID_NAME"
  | "INVALID_WHEEL_FILENAME"
  | "INVALID_SDIST_FILENAME"
  | "INVALID_TAG"
  | "INVALID_METADATA"
  | "INVALID_RECORD"
  | "INVALID_ENTRY_POINTS"
  | "INVALID_WHEEL_FILE"
  | "INVALID_REQUIREMENTS_FILE"
  | "INVALID_PYPROJECT"
  | "INVALID_PYLOCK"
  | "INVALID_TARGET"
  | "INVALID_OPTION"
  | "INVALID_CONFIG"
  | "MARKER_EVALUATION"
  | "INTERPRETER_NOT_FOUND"
  | "INTERPRETER_PROBE_FAILED"
  | "INDEX_ERROR"
  | "METADATA_MISMATCH"
  | "HASH_MISMATCH"
  | "NETWORK_ERROR"
  | "HTTP_ERROR"
  | "OFFLINE_CACHE_MISS"
  | "NO_SOLUTION"
  | "BUILD_REQUIRED"
  | "BUILD_FAILED"
  | "BUILD_TIMEOUT"
  | "BUILD_UNSUPPORTED"
  | "HOSTILE_SDIST"
  | "HOSTILE_WHEEL"
  | "STORE_CORRUPT"
  | "INVALID_ENV"
  | "INVALID_ELF"
  | "STRIP_FAILED"
  | "ENV_BUSY"
  | "SLIM_FAILED"
  | "SLIM_CHECK_FAILED"
  | "RUNTIME_UNSUPPORTED"
  | "RUNTIME_CHECK_FAILED"
  | "SIZE_BUDGET_EXCEEDED"
  | "IMAGE_FAILED"
  | "IO_ERROR"
  | "INTERNAL";

export interface SlimenvErrorOptions {
  /** What the user can change (a flag or variable) to get another outcome. */
  hint?: string;
  /** Extra lines of context shown under the message, e.g. the input with a caret. */
  detail?: string;
  cause?: unknown;
}

/**
 * The one error type slimenv raises on purpose. `message` is one line; `hint` names the
 * flag or variable that changes the outcome; `cause` chains the underlying error.
 * Message and hint are redacted of credentials on construction.
 */
export class SlimenvError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, message: string, options: SlimenvErrorOptions = {}) {
    super(
      redact(message.replace(/\s*\n\s*/g, " ")),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "SlimenvError";
    this.code = code;
    this.hint = options.hint === undefined ? undefined : redact(options.hint);
    this.detail = options.detail === undefined ? undefined : redact(options.detail);
  }

  /** Plain data for `--json` output. */
  toJSON(): { code: ErrorCode; message: string; hint?: string; detail?: string } {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.detail === undefined ? {} : { detail: this.detail }),
    };
  }
}

/** True when `err` is a SlimenvError, optionally with the given code. */
export function isSlimenvError(err: unknown, code?: ErrorCode): err is SlimenvError {
  return err instanceof SlimenvError && (code === undefined || err.code === code);
}

/**
 * Two lines that point at a column (0-based) of an input line, for an error's `detail`:
 *   `name>=1.0;;`
 *   `          ^`
 */
export function pointAt(input: string, column: number): string {
  return `${input}\n${" ".repeat(Math.max(0, column))}^`;
}
