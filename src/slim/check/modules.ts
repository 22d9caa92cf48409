/**
 * Which modules of a distribution can be imported, read from the paths its RECORD lists
 * (relative to the site directory) and from top_level.txt. No I/O: the caller reads files.
 *
 * Rules:
 * - `a/b.py`, a sourceless `a/b.pyc` (not under `__pycache__`) and `a/b<ext suffix>` (one of the
 *   interpreter's EXTENSION_SUFFIXES, longest first) are the module `a.b`; `a/__init__.*` is the
 *   package `a`.
 * - A directory without `__init__` is a namespace package (PEP 420) only while no ancestor is a
 *   regular package: `google/protobuf/x.py` gives `google` (namespace) and `google.protobuf.x`,
 *   but `pkg/templates/x.py` under a regular `pkg` is data, not a module.
 * - Every dotted part must be an identifier; `__main__` modules are never imported (importing
 *   one runs the program); paths leaving the site dir (`../../bin/x`) and `.dist-info` /
 *   `.data` folders are ignored.
 * - top_level.txt names not found in RECORD are imported as well.
 * - A module is a test module when one of its parts is `test`, `tests` or `conftest`
 *   (`testing` is not: numpy.testing and pandas.testing are public API).
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isIdentifier(text: string): boolean {
  return IDENTIFIER.test(text);
}

/** True when the dotted module name lives in a tests folder (or is a conftest). */
export function isTestModule(module: string): boolean {
  return module
    .split(".")
    .some((part) => part === "tests" || part === "test" || part === "conftest");
}

interface Node {
  children: Map<string, Node>;
  /** Has `__init__` (.py, .pyc or extension). */
  regular: boolean;
  /** A module file by this name exists in the parent directory. */
  module: boolean;
}

function newNode(): Node {
  return { children: new Map(), regular: false, module: false };
}

/** The module name a file's last part gives, or undefined when it is not a module file. */
function moduleStem(file: string, extSuffixes: readonly string[]): string | undefined {
  for (const suffix of extSuffixes) {
    if (file.endsWith(suffix) && file.length > suffix.length) {
      return file.slice(0, -suffix.length);
    }
  }
  if (file.endsWith(".py")) return file.slice(0, -3);
  if (file.endsWith(".pyc")) return file.slice(0, -4);
  return undefined;
}

/**
 * The importable modules of a distribution, sorted (a package before its submodules).
 * `files` are RECORD paths, `/`-separated and relative to the site directory.
 */
export function importableModules(
  files: readonly string[],
  extSuffixes: readonly string[],
  topLevel: readonly string[] = [],
): string[] {
  const suffixes = [...extSuffixes].sort((a, b) => b.length - a.length);
  const root = newNode();
  for (const raw of files) {
    const parts = raw.replace(/\\/g, "/").split("/");
    const file = parts.pop();
    if (file === undefined || parts.some((p) => p === ".." || p === "" || p === ".")) continue;
    if (parts.includes("__pycache__")) continue;
    if (parts[0] !== undefined && /\.(dist-info|data|egg-info)$/.test(parts[0])) continue;
    if (!parts.every(isIdentifier)) continue;
    const stem = moduleStem(file, suffixes);
    if (stem === undefined) continue;
    let node = root;
    for (const part of parts) {
      let child = node.children.get(part);
      if (child === undefined) {
        child = newNode();
        node.children.set(part, child);
      }
      node = child;
    }
    if (stem === "__init__") {
      if (parts.length > 0) node.regular = true;
      continue;
    }
    if (!isIdentifier(stem) || stem === "__main__") continue;
    let leaf = node.children.get(stem);
    if (leaf === undefined) {
      leaf = newNode();
      node.children.set(stem, leaf);
    }
    leaf.module = true;
  }
  const out = new Set<string>();
  const walk = (node: Node, prefix: string, insideRegular: boolean) => {
    for (const [name, child] of node.children) {
      const dotted = prefix === "" ? name : `${prefix}.${name}`;
      const isPackageDir = child.children.size > 0 || child.regular;
      if (child.module) out.add(dotted);
      if (!isPackageDir) continue;
      if (child.regular) {
        out.add(dotted);
        walk(child, dotted, true);
      } else if (!insideRegular && hasModules(child)) {
        // A namespace package: importable, and so is what it holds.
        out.add(dotted);
        walk(child, dotted, false);
      }
    }
  };
  walk(root, "", false);
  for (const name of topLevel) {
    const trimmed = name.trim();
    if (trimmed !== "" && trimmed.split(".").every(isIdentifier) && !out.has(trimmed)) {
      out.add(trimmed);
    }
  }
  return [...out].sort(compareModules);
}

function hasModules(node: Node): boolean {
  for (const child of node.children.values()) {
    if (child.module || child.regular || hasModules(child)) return true;
  }
  return false;
}

/** Order by dotted parts, so `a` < `a.b` < `a_b` (a package precedes its submodules). */
export function compareModules(a: string, b: string): number {
  const pa = a.split(".");
  const pb = b.split(".");
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] as string;
    const y = pb[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
