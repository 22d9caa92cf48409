/**
 * The slim policy's type: what materialization does to each file of each package. Plain JSON
 * data; the env manifest records it. policy.ts builds one from a preset and flags.
 *
 * Bytecode modes:
 * - `source`: .py files as the wheel has them; a `.pth` hook sends the interpreter's bytecode
 *   caches to a user cache dir (sys.pycache_prefix), so the env does not grow at run time.
 * - `pyc`: sources plus compiled `__pycache__/<mod>.<tag>.pyc`.
 * - `pyc-only`: a sourceless `<mod>.pyc` in the module's place.
 * - `pyc+zipped-source`: sourceless .pyc; the sources in one compressed zip per env that a
 *   linecache hook reads for tracebacks and inspect.getsource.
 * - `zip`: each pure-Python package that works from a zip goes into one compressed zip on
 *   sys.path; the others get `smallest`.
 * - `smallest` (presets): `pyc-only` for a target before 3.11, `source` from 3.11 on.
 */
import type { DropGroup } from "./drop/rules.ts";

export const BYTECODE_MODES = ["source", "pyc", "pyc-only", "pyc+zipped-source", "zip"] as const;
export type BytecodeMode = (typeof BYTECODE_MODES)[number];
export type BytecodeChoice = BytecodeMode | "smallest";

export const STRIP_MODES = ["none", "debug", "unneeded"] as const;
export type StripMode = (typeof STRIP_MODES)[number];

export interface SlimPolicy {
  /** The preset it started from; `custom` is not a preset (flags changed it). */
  preset: string;
  bytecode: BytecodeChoice;
  strip: StripMode;
  /** Drop-rule groups applied. */
  drop: DropGroup[];
  /** Globs of site-relative paths always kept (slim-keep). */
  keep: string[];
  /** Globs of site-relative paths dropped besides the rules (slim-drop). */
  dropGlobs: string[];
  /** Canonical names of packages left exactly as their wheels have them. */
  skip: string[];
  /**
   * Usage-based pruning (`--keep-used-by`): the site-relative paths a traced command touched.
   * When present, every other site file of a slimmed package is dropped (see usage/keep.ts).
   */
  used?: string[];
  /** The command that was traced (for the record). */
  usedBy?: string;
}
