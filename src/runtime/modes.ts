/**
 * How the standard library's pure-Python part is shipped in a runtime copy: the six layouts
 * distributors weigh against each other (sources, bytecode per optimization level, archives).
 */
import { SlimenvError } from "../base/index.ts";

export type StdlibMode =
  | "status-quo"
  | "py+pyc"
  | "py"
  | "pyc+zipped-source"
  | "pyc-only"
  | "pyc-zip";

export interface StdlibModeInfo {
  mode: StdlibMode;
  /** One line for tables and help. */
  label: string;
  description: string;
  /** Whether the .py files stay in their places. */
  sources: "in-place" | "archive" | "none";
  /** Optimization levels compiled (empty: no bytecode is shipped). */
  optimizations: readonly (0 | 1 | 2)[];
  /** Where the bytecode goes: PEP 3147 `__pycache__`, sourceless `name.pyc` in place, or the stdlib zip. */
  bytecode: "pycache" | "sourceless" | "zip" | "none";
}

/** Every mode, in the order tables show them (status quo first: the baseline). */
export const STDLIB_MODES: readonly StdlibModeInfo[] = [
  {
    mode: "status-quo",
    label: "status quo (.py + 3 pyc levels)",
    description:
      ".py sources and __pycache__ bytecode for optimization levels 0, 1 and 2, as distributors ship",
    sources: "in-place",
    optimizations: [0, 1, 2],
    bytecode: "pycache",
  },
  {
    mode: "py+pyc",
    label: ".py + opt-0 pyc",
    description: ".py sources and __pycache__ bytecode for optimization level 0 only",
    sources: "in-place",
    optimizations: [0],
    bytecode: "pycache",
  },
  {
    mode: "py",
    label: ".py only",
    description:
      ".py sources only; an empty file named __pycache__ in each folder stops the interpreter writing bytecode at run time",
    sources: "in-place",
    optimizations: [],
    bytecode: "none",
  },
  {
    mode: "pyc+zipped-source",
    label: "pyc + zipped .py",
    description:
      "sourceless .pyc in the modules' places; the .py files in one compressed archive that tracebacks, linecache and inspect read through a sitecustomize hook",
    sources: "archive",
    optimizations: [0],
    bytecode: "sourceless",
  },
  {
    mode: "pyc-only",
    label: "pyc only",
    description: "sourceless .pyc in the modules' places, no sources",
    sources: "none",
    optimizations: [0],
    bytecode: "sourceless",
  },
  {
    mode: "pyc-zip",
    label: "pyc in pythonXY.zip",
    description:
      "sourceless .pyc inside lib/pythonXY.zip (already on the default sys.path); extension modules and the few packages that read files beside them stay outside",
    sources: "none",
    optimizations: [0],
    bytecode: "zip",
  },
];

/**
 * The default: sourceless .pyc, the smallest layout measured at the status quo's import speed
 * (docs/benchmarks.md: −68…−71% of the pure-Python part, import set 0.88–1.03× on 3.11 and
 * 3.13; pyc-zip is smaller but imports 1.16–1.45× slower). `status-quo` is an explicit choice.
 */
export const DEFAULT_STDLIB_MODE: StdlibMode = "pyc-only";

export function stdlibModeInfo(mode: StdlibMode): StdlibModeInfo {
  const info = STDLIB_MODES.find((m) => m.mode === mode);
  if (info === undefined) throw parseError(mode);
  return info;
}

function parseError(text: string): SlimenvError {
  return new SlimenvError("INVALID_OPTION", `unknown stdlib mode ${JSON.stringify(text)}`, {
    hint: `--stdlib takes one of: ${STDLIB_MODES.map((m) => m.mode).join(", ")}`,
  });
}

/** Parse a `--stdlib` value; unknown names are INVALID_OPTION listing the modes. */
export function parseStdlibMode(text: string): StdlibMode {
  const wanted = text.trim().toLowerCase();
  const found = STDLIB_MODES.find((m) => m.mode === wanted);
  if (found === undefined) throw parseError(text);
  return found.mode;
}
