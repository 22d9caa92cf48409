/**
 * The drop rules, as data: each says what it matches and why dropping it is safe at run
 * time. Paths are relative to the site dir the wheel installs into (`numpy/tests/x.py`), or
 * `<name>.data/<key>/…` for a wheel's `.data` files. Never matched, whatever a rule says:
 * the `.dist-info` directory (importlib.metadata reads it), top-level `.pth` files, and
 * `.data/scripts`. A `dirs` rule matches a directory of that name at depth ≥ 2 (inside a
 * package, never a top-level package of that name) and everything under it; a `files` rule
 * matches files by glob. Groups are what `--drop` names.
 */

export const DROP_GROUPS = [
  "tests",
  "docs",
  "examples",
  "stubs",
  "native-sources",
  "pycache",
  "build-leftovers",
] as const;

export type DropGroup = (typeof DROP_GROUPS)[number];

export interface DropRule {
  id: string;
  group: DropGroup;
  /** Directory names matched inside a package (depth ≥ 2), with all they hold. */
  dirs?: readonly string[];
  /** Globs (see drop-glob.ts) matched against the file's path. */
  files?: readonly string[];
  reason: string;
}

export const DROP_RULES: readonly DropRule[] = [
  {
    id: "test-dirs",
    group: "tests",
    dirs: ["tests", "test"],
    reason:
      "a package's own test suite: run by its developers, imported by nothing at run time (the import scan keeps one that non-test code imports)",
  },
  {
    id: "test-config",
    group: "tests",
    files: ["conftest.py", "pytest.ini", "tox.ini"],
    reason: "pytest/tox configuration, read only when running the package's tests",
  },
  {
    id: "doc-dirs",
    group: "docs",
    dirs: ["docs", "doc"],
    reason: "documentation sources shipped inside a package; nothing imports them",
  },
  {
    id: "doc-files",
    group: "docs",
    files: ["*.rst", "*.md", "*.data/data/share/doc/**", "*.data/data/share/man/**"],
    reason: "documentation text and man pages; the METADATA in .dist-info keeps the description",
  },
  {
    id: "example-dirs",
    group: "examples",
    dirs: ["examples", "example", "samples"],
    reason: "example programs for people reading the package, not used by it",
  },
  {
    id: "type-stubs",
    group: "stubs",
    files: ["*.pyi", "py.typed"],
    reason: "type information for type checkers and editors; the interpreter never reads it",
  },
  {
    id: "wheel-headers",
    group: "native-sources",
    files: ["*.data/headers/**"],
    reason: "headers a wheel installs for building other extensions against it",
  },
  {
    id: "c-sources",
    group: "native-sources",
    files: ["*.c", "*.cc", "*.cpp", "*.cxx", "*.h", "*.hh", "*.hpp", "*.hxx", "*.f", "*.f90"],
    reason: "C/C++/Fortran sources and headers: needed to build extensions, not to run them",
  },
  {
    id: "cython-sources",
    group: "native-sources",
    files: ["*.pyx", "*.pxd", "*.pxi"],
    reason: "Cython sources and declarations: needed to cimport or rebuild, not to run",
  },
  {
    id: "pycache",
    group: "pycache",
    dirs: ["__pycache__"],
    reason:
      "bytecode caches shipped in a wheel: compiled for some other interpreter or policy; slimenv's bytecode mode decides what the env gets",
  },
  {
    id: "object-files",
    group: "build-leftovers",
    files: ["*.o", "*.obj", "*.a", "*.la", "*.lib", "*.exp", "*.pdb"],
    reason:
      "object files, static and import libraries, debug databases: build products no import loads",
  },
  {
    id: "editor-and-vcs-leftovers",
    group: "build-leftovers",
    files: ["*.orig", "*.rej", "*~", "*.swp", ".DS_Store", ".gitignore", ".gitattributes"],
    reason: "files left by editors, patches and version control",
  },
  {
    id: "build-scripts",
    group: "build-leftovers",
    files: ["CMakeLists.txt", "*.cmake", "Makefile", "meson.build", "setup.cfg", "MANIFEST.in"],
    reason: "build-system files that ended up inside a package",
  },
];
