/** The plain data `check` returns (and `slimenv check --json` prints). */
import type { ImportStatus } from "./runner.ts";

export interface ModuleFailure {
  module: string;
  /** error: an exception at import; timeout: no result in time; crash: the process died. */
  kind: Exclude<ImportStatus, "ok">;
  /** The error's last line, or what ended the process. */
  error: string;
}

export interface ModuleSkip {
  module: string;
  error: string;
  /** Why the failure is expected (a KNOWN_FAILURES entry, or a missing optional dependency). */
  reason: string;
}

export interface PackageCheck {
  /** Canonical name. */
  name: string;
  version: string;
  /** Modules tried. */
  modules: number;
  ok: number;
  /** Failures outside tests folders: these fail the check. */
  failed: ModuleFailure[];
  /** Failures of modules in tests folders: reported, do not fail the check. */
  testFailures: ModuleFailure[];
  /** Failures that are known and benign. */
  skipped: ModuleSkip[];
}

export interface SmokeResult {
  command: string;
  exitCode: number;
  /** stdout and stderr interleaved, the last 64 KiB. */
  output: string;
  durationMs: number;
  ok: boolean;
}

export interface CheckTotals {
  packages: number;
  modules: number;
  ok: number;
  failed: number;
  testFailures: number;
  skipped: number;
}

export interface CheckReport {
  version: 1;
  path: string;
  layout: "prefix" | "target" | "venv" | "site-packages";
  /** The interpreter's version, e.g. "3.12.1". */
  python: string;
  packages: PackageCheck[];
  totals: CheckTotals;
  smoke?: SmokeResult;
  /** No failures outside tests folders, and the smoke command (if any) exited 0. */
  ok: boolean;
  durationMs: number;
}
