/**
 * The size report: where an environment's bytes go, per distribution and per kind, and what
 * each slimming policy would save. Plain serializable data (`--json` prints it as is); the
 * HTML page (src/report/html.ts) renders the same object.
 */

/** Byte and file counts. Hardlinked inodes are counted once, as `du` counts them. */
export interface SizeFigures {
  /** Sum of st_size (what `du --apparent-size -B1` adds up). */
  apparent: number;
  /** Sum of st_blocks × 512 (what `du -B1` adds up). */
  onDisk: number;
  /** Non-directory entries (regular files, symlinks, others), each inode once. */
  files: number;
}

export type SizeKind =
  | "source"
  | "bytecode"
  | "bytecode-opt1"
  | "bytecode-opt2"
  | "native-code"
  | "native-debug"
  | "tests"
  | "docs"
  | "metadata"
  | "data"
  | "other";

/** Every kind, in the order tables show them. */
export const SIZE_KINDS: readonly SizeKind[] = [
  "source",
  "bytecode",
  "bytecode-opt1",
  "bytecode-opt2",
  "native-code",
  "native-debug",
  "tests",
  "docs",
  "metadata",
  "data",
  "other",
];

export type SizeLayout = "env" | "venv" | "site-packages" | "stdlib" | "dir";

export interface DistributionSize {
  name: string;
  version: string;
  total: SizeFigures;
  byKind: Record<SizeKind, SizeFigures>;
}

export interface SizeSaving {
  /** A stable id: strip-debug, drop-tests, drop-docs, drop-bytecode, … */
  policy: string;
  description: string;
  /** Estimated on-disk bytes the policy would free (see docs/size.md for each formula). */
  bytes: number;
}

export interface SizeReport {
  version: 1;
  /** The absolute path measured. */
  path: string;
  layout: SizeLayout;
  /** The Python version the tree is for, when the layout tells ("3.11.4" or "3.11"). */
  python?: string;
  total: SizeFigures;
  byKind: Record<SizeKind, SizeFigures>;
  /** Sorted by on-disk bytes, largest first (then by name). */
  distributions: DistributionSize[];
  /** Everything no RECORD (or installed-files.txt) claims. */
  unowned: { total: SizeFigures; byKind: Record<SizeKind, SizeFigures> };
  savings: SizeSaving[];
  /**
   * Shared libraries the tree's native files need (ELF DT_NEEDED) that nothing inside the
   * tree provides: what the machine must have. Sorted by name.
   */
  systemLibraries?: SystemLibrary[];
  /** What the env's manifest says was built from source, and with which flags. */
  built?: {
    name: string;
    version: string;
    flags: string;
    useSystemLibs?: boolean;
    /** `-C` settings slimenv added for this package by name (key=value), then the user's. */
    settings?: string[];
  }[];
}

export interface SystemLibrary {
  /** The DT_NEEDED name ("libopenblas.so.0"). */
  name: string;
  /** Paths (relative to the tree) of the files that need it; at most 5 listed. */
  neededBy: string[];
  /** How many files need it. */
  count: number;
}

export function zeroFigures(): SizeFigures {
  return { apparent: 0, onDisk: 0, files: 0 };
}

export function zeroByKind(): Record<SizeKind, SizeFigures> {
  const out = {} as Record<SizeKind, SizeFigures>;
  for (const k of SIZE_KINDS) out[k] = zeroFigures();
  return out;
}
