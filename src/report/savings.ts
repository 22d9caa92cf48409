/**
 * What each slimming policy would save, in on-disk bytes, estimated from the measured tree.
 * Each figure stands on its own: they overlap (a test suite's `.pyc` files count in both
 * drop-tests and drop-bytecode) and are not to be added up. Only bytes the report counted
 * are counted (a hardlink's bytes once; a file whose other link lies outside the tree frees
 * nothing when removed — the estimates do not know that).
 */
import type { PathFacts } from "./kinds.ts";
import type { SizeKind, SizeSaving } from "./types.ts";
import type { TreeEntry } from "./walk.ts";

export interface ClassifiedEntry {
  entry: TreeEntry;
  facts: PathFacts;
  kind: SizeKind;
  /** For ELF files: the bytes of debug sections. */
  debugApparent: number;
  /** For ELF files: the on-disk bytes of debug sections (what stripping them frees). */
  debugOnDisk: number;
}

/** Bytes a file of `apparent` bytes occupies in `blockSize` blocks. */
export function blocksFor(apparent: number, blockSize: number): number {
  return Math.ceil(apparent / blockSize) * blockSize;
}

export function estimateSavings(items: readonly ClassifiedEntry[]): SizeSaving[] {
  let debug = 0;
  let tests = 0;
  let docs = 0;
  let licenses = 0;
  let bytecode = 0;
  let optimized = 0;
  let stubs = 0;
  let cSources = 0;
  for (const { entry: e, facts: f, kind, debugOnDisk } of items) {
    if (!e.counted) continue;
    debug += debugOnDisk;
    if (kind === "tests") tests += e.onDisk;
    if (kind === "docs") {
      if (f.license) licenses += e.onDisk;
      else docs += e.onDisk;
    }
    if (f.pycLevel !== undefined || f.inPycache) bytecode += e.onDisk;
    if (f.pycLevel === 1 || f.pycLevel === 2) optimized += e.onDisk;
    if (f.stub) stubs += e.onDisk;
    if (f.cSource) cSources += e.onDisk;
  }
  const pycOnly = estimatePycOnly(items);
  return [
    {
      policy: "strip-debug",
      description:
        "strip debug sections (.debug_*, .zdebug_*) from native code: the blocks the files would no longer need",
      bytes: debug,
    },
    {
      policy: "drop-tests",
      description:
        "remove test suites (test/, tests/, *_test/ directories; test_*.py, conftest.py)",
      bytes: tests,
    },
    {
      policy: "drop-docs",
      description: `remove documentation (doc/ and docs/ directories that are not packages, *.md, *.rst, README…); license and notice files (${licenses} bytes) are kept`,
      bytes: docs,
    },
    {
      policy: "drop-bytecode",
      description:
        "remove all bytecode caches (__pycache__ and *.pyc/*.pyo); Python recompiles on import if it can write",
      bytes: bytecode,
    },
    {
      policy: "drop-optimized-bytecode",
      description: "remove the .opt-1.pyc and .opt-2.pyc caches (only used under python -O / -OO)",
      bytes: optimized,
    },
    pycOnly,
    {
      policy: "drop-stubs",
      description: "remove type stubs (*.pyi); only type checkers read them",
      bytes: stubs,
    },
    {
      policy: "drop-c-sources",
      description:
        "remove C/C++ and Cython sources and headers (*.c, *.h, *.cpp, *.pyx, *.pxd…); only builds read them",
      bytes: cSources,
    },
  ];
}

interface Module {
  source?: ClassifiedEntry;
  /** Existing opt-0 `.pyc` sizes (apparent, on disk), largest of the cached tags. */
  pyc0?: { apparent: number; onDisk: number };
  /** A sourceless `.pyc` beside the source already exists. */
  legacy: boolean;
}

/**
 * pyc-only: every module keeps one sourceless opt-0 `.pyc` where its `.py` was; the `.py` and
 * every `__pycache__` go. Saving = counted bytes of the `.py` files and of `__pycache__`
 * (files and directories) − the `.pyc` files written: a module's existing opt-0 `.pyc` gives
 * its size; a module without one is estimated at r × its source size (r = total opt-0 `.pyc`
 * bytes / total source bytes over the modules that have both), rounded up to whole blocks.
 * With no module to estimate r from, modules without a `.pyc` are left out (unknown).
 */
function estimatePycOnly(items: readonly ClassifiedEntry[]): SizeSaving {
  const modules = new Map<string, Module>();
  const mod = (key: string): Module => {
    let m = modules.get(key);
    if (m === undefined) {
      m = { legacy: false };
      modules.set(key, m);
    }
    return m;
  };
  let removed = 0;
  for (const item of items) {
    const { entry: e, facts: f } = item;
    if (f.inPycache) {
      if (e.counted) removed += e.onDisk;
      const parts = e.rel.split("/");
      if (e.type === "file" && f.pycLevel === 0 && parts.at(-2) === "__pycache__") {
        const stem = e.name.split(".")[0] ?? "";
        const m = mod([...parts.slice(0, -2), stem].join("/"));
        if (m.pyc0 === undefined || m.pyc0.apparent < e.apparent) {
          m.pyc0 = { apparent: e.apparent, onDisk: e.onDisk };
        }
      }
    } else if (e.type === "file" && f.pycLevel !== undefined && e.name.endsWith(".pyc")) {
      mod(e.rel.slice(0, -".pyc".length)).legacy = true;
    } else if (e.type === "file" && f.pySource && e.name.endsWith(".py")) {
      mod(e.rel.slice(0, -".py".length)).source = item;
    }
  }
  let basisPy = 0;
  let basisPyc = 0;
  for (const m of modules.values()) {
    if (m.source !== undefined && m.pyc0 !== undefined) {
      basisPy += m.source.entry.apparent;
      basisPyc += m.pyc0.apparent;
    }
  }
  const ratio = basisPy > 0 ? basisPyc / basisPy : undefined;
  let withPyc = 0;
  let estimated = 0;
  let unknown = 0;
  let added = 0;
  for (const m of modules.values()) {
    const src = m.source;
    if (src === undefined) continue;
    if (m.legacy) {
      withPyc++;
    } else if (m.pyc0 !== undefined) {
      withPyc++;
      added += m.pyc0.onDisk;
    } else if (ratio !== undefined) {
      estimated++;
      added += blocksFor(Math.ceil(src.entry.apparent * ratio), src.entry.blockSize);
    } else {
      unknown++;
      continue;
    }
    if (src.entry.counted) removed += src.entry.onDisk;
  }
  const parts = [`${withPyc} modules reuse their existing .pyc size`];
  if (estimated > 0)
    parts.push(`${estimated} estimated at ${(ratio ?? 0).toFixed(3)} × source size`);
  if (unknown > 0)
    parts.push(`${unknown} unknown (no .pyc anywhere to estimate from; not counted)`);
  return {
    policy: "pyc-only",
    description: `keep one sourceless opt-0 .pyc per module, drop the .py files and __pycache__: ${parts.join(", ")}`,
    bytes: Math.max(0, removed - added),
  };
}
