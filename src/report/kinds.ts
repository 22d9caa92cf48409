/**
 * What kind of bytes a path holds, by its name and location (and, for native code, by the
 * file's magic number, which the caller reads). The rules, first match wins:
 *
 * 1. tests — anything under a directory named `test`, `tests`, `testsuite` or `*_test(s)`
 *    (e.g. `idle_test`), and files named `test_*.py`, `*_test.py`, `conftest.py`. A directory
 *    named `testing` is not a test suite: `numpy.testing` and the like are imported at run time.
 * 2. metadata — anything in a `*.dist-info` or `*.egg-info` directory, and `*.egg-info` files.
 * 3. docs — anything under a `doc`, `docs` or `documentation` directory that is not a Python
 *    package (no `__init__.py`); `*.md`, `*.rst`, `*.markdown` files; README, CHANGELOG,
 *    CHANGES, HISTORY, NEWS, AUTHORS, CONTRIBUTORS, LICENSE/LICENCE, COPYING, NOTICE,
 *    COPYRIGHT files (any non-code suffix).
 * 4. bytecode — `*.pyc` by optimization level from the name (`.opt-1.pyc` → bytecode-opt1,
 *    `.opt-2.pyc` → bytecode-opt2, else bytecode; Python 2 `.pyo` → bytecode-opt1); anything
 *    else in a `__pycache__` directory, and the directory itself, is bytecode.
 * 5. native-code (and native-debug) — files whose magic says ELF, Mach-O or PE.
 * 6. source — Python (`.py`, `.pyi`, `.pyw`), Cython (`.pyx`, `.pxd`, `.pxi`) and C/C++
 *    sources and headers.
 * 7. data — any other regular file; other — directories, symlinks and special files not
 *    matched above.
 */
import type { SizeKind } from "./types.ts";

export interface PathFacts {
  kind: Exclude<SizeKind, "native-code" | "native-debug"> | "native-candidate";
  /** `.pyc`/`.pyo` optimization level, for files. */
  pycLevel?: 0 | 1 | 2;
  /** The entry is a `__pycache__` directory or lies in one. */
  inPycache: boolean;
  /** A `.py` (or `.pyw`) module source. */
  pySource: boolean;
  /** A `.pyi` type stub. */
  stub: boolean;
  /** A C/C++/Cython source or header. */
  cSource: boolean;
  /** A license or notice file (docs that drop-docs keeps). */
  license: boolean;
}

const TEST_DIR = /^(tests?|testsuite|.+_tests?)$/i;
const TEST_FILE = /^(test_.*|.*_test|conftest)\.py$/i;
const META_DIR = /\.(dist-info|egg-info)$/i;
const DOC_DIR = /^(docs?|documentation)$/i;
const DOC_SUFFIX = /\.(md|rst|markdown)$/i;
const DOC_NAME =
  /^(readme|changelog|changes|history|news|authors|contributors|licen[cs]e|copying|notice|copyright)([-_.][\w.-]*)?$/i;
const CODE_SUFFIX = /\.(py|pyw|pyi|pyc|pyo|pyx|pxd|pxi|so|pyd|dll|dylib|json|c|h|cpp|hpp|js|css)$/i;
const LICENSE_NAME = /^(licen[cs]e|copying|notice|copyright)/i;
const C_SUFFIX = /\.(pyx|pxd|pxi|c|h|cc|cpp|cxx|c\+\+|hh|hpp|hxx|h\+\+)$/i;

/**
 * Classify one entry. `rel` is relative to the measured root ("" for the root); `isPackage`
 * tells whether a directory (relative path) holds an `__init__.py`.
 */
export function classifyPath(
  rel: string,
  type: "file" | "dir" | "symlink" | "other",
  isPackage: (relDir: string) => boolean,
): PathFacts {
  const parts = rel === "" ? [] : rel.split("/");
  const name = parts.at(-1) ?? "";
  // Directories a file lies in; for a directory, itself included.
  const dirCount = type === "dir" ? parts.length : parts.length - 1;
  const dirs = parts.slice(0, dirCount);
  const isFile = type === "file";
  const lower = name.toLowerCase();
  const pycLevel: 0 | 1 | 2 | undefined = !isFile
    ? undefined
    : lower.endsWith(".opt-1.pyc") || lower.endsWith(".pyo")
      ? 1
      : lower.endsWith(".opt-2.pyc")
        ? 2
        : lower.endsWith(".pyc")
          ? 0
          : undefined;
  const facts: PathFacts = {
    kind: "data",
    inPycache: dirs.includes("__pycache__"),
    pySource: isFile && /\.pyw?$/i.test(name),
    stub: isFile && lower.endsWith(".pyi"),
    cSource: isFile && C_SUFFIX.test(name),
    license: isFile && LICENSE_NAME.test(name),
    ...(pycLevel === undefined ? {} : { pycLevel }),
  };
  facts.kind = kindOf();
  return facts;

  function kindOf(): PathFacts["kind"] {
    if (dirs.some((d) => TEST_DIR.test(d)) || (isFile && TEST_FILE.test(name))) return "tests";
    if (dirs.some((d) => META_DIR.test(d)) || (type !== "dir" && META_DIR.test(name))) {
      return "metadata";
    }
    for (let i = 0; i < dirs.length; i++) {
      if (DOC_DIR.test(dirs[i] as string) && !isPackage(dirs.slice(0, i + 1).join("/"))) {
        return "docs";
      }
    }
    if (isFile && (DOC_SUFFIX.test(name) || (DOC_NAME.test(name) && !CODE_SUFFIX.test(name)))) {
      return "docs";
    }
    if (pycLevel !== undefined) {
      return pycLevel === 0 ? "bytecode" : pycLevel === 1 ? "bytecode-opt1" : "bytecode-opt2";
    }
    if (facts.inPycache) return "bytecode";
    if (isFile) {
      if (facts.pySource || facts.stub || facts.cSource) return "source";
      return "native-candidate";
    }
    return "other";
  }
}

/** Native code by magic number: ELF, Mach-O (thin; fat only as .so/.dylib), PE (.pyd/.dll/.exe). */
export function nativeMagic(head: Uint8Array, name: string): "elf" | "macho" | "pe" | undefined {
  const b = (i: number) => head[i] ?? -1;
  if (b(0) === 0x7f && b(1) === 0x45 && b(2) === 0x4c && b(3) === 0x46) return "elf";
  const be = ((b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3)) >>> 0;
  if (be === 0xfeedface || be === 0xfeedfacf || be === 0xcefaedfe || be === 0xcffaedfe) {
    return "macho";
  }
  if (be === 0xcafebabe && /\.(so|dylib)$/i.test(name)) return "macho";
  if (b(0) === 0x4d && b(1) === 0x5a && /\.(pyd|dll|exe)$/i.test(name)) return "pe";
  return undefined;
}
