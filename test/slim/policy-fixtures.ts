/**
 * Fixtures for the slim policy tests: generated wheels that exercise every drop rule, the
 * import scan, zip eligibility and a module that reads its own source; a real store; and
 * materializing a prefix env with a policy on a real pyenv CPython.
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { MaterializeOptions } from "../../src/env/materialize.ts";
import { materialize } from "../../src/env/materialize.ts";
import type { EnvManifest } from "../../src/env/types.ts";
import { type PycCompiler, pycCompiler } from "../../src/slim/bytecode/compile.ts";
import type { SlimPolicy } from "../../src/slim/policy.ts";
import { slimTransform } from "../../src/slim/transform/transform.ts";
import type { Store } from "../../src/store/store.ts";
import type { StoredWheel } from "../../src/store/types.ts";
import { type Interp, run } from "../env/env-fixtures.ts";
import { type BuiltWheel, buildWheel } from "../helpers/wheels.ts";

/**
 * demo: code, a tests folder that non-test code imports (kept), a tests file that nothing
 * imports, docs, stubs, C/Cython sources, a stale __pycache__, build leftovers, a data file,
 * a module that raises (tracebacks), a module with a syntax error (not compilable).
 */
export function demoWheel(options: { legacy?: boolean } = {}): BuiltWheel {
  const legacy: Record<string, string> =
    options.legacy === false ? {} : { "demo/legacy.py": "print 'python 2 only'\n" };
  return buildWheel({
    name: "demo",
    version: "1.0",
    files: {
      "demo/__init__.py": "from demo.core import add\n",
      "demo/core.py": [
        "from demo.tests import support",
        "def add(a, b):",
        "    return a + b + support.OFFSET",
        "",
      ].join("\n"),
      "demo/boom.py": "def boom():\n    raise ValueError('boom from demo')\n",
      ...legacy,
      "demo/tests/__init__.py": "",
      "demo/tests/support.py": "OFFSET = 0\n",
      "demo/tests/test_core.py": "import demo\n\ndef test_add():\n    assert demo.add(1, 2) == 3\n",
      "demo/docs/index.md": `# demo\n${"documentation text. ".repeat(50)}\n`,
      "demo/__init__.pyi": "def add(a: int, b: int) -> int: ...\n",
      "demo/py.typed": "",
      "demo/_speed.c": "int add(int a, int b) { return a + b; }\n",
      "demo/_speed.h": "int add(int a, int b);\n",
      "demo/_fast.pyx": "def f(): return 1\n",
      "demo/__pycache__/core.cpython-39.pyc": new Uint8Array(64),
      "demo/examples/ex.py": "import demo\nprint(demo.add(1, 2))\n",
      "demo/CMakeLists.txt": "project(demo)\n",
      "demo/data/table.csv": "a,b\n1,2\n",
    },
  });
}

/** other: its tests folder and conftest are imported by nothing (dropped). */
export function otherWheel(): BuiltWheel {
  return buildWheel({
    name: "other",
    version: "2.0",
    files: {
      "other/__init__.py": "VALUE = 42\n",
      "other/conftest.py": "import pytest\n",
      "other/tests/__init__.py": "",
      "other/tests/test_other.py": "import other\n",
    },
  });
}

/** purepkg: pure Python, no data files, no __file__: works from a zip. */
export function pureWheel(): BuiltWheel {
  return buildWheel({
    name: "purepkg",
    version: "1.0",
    files: {
      "purepkg/__init__.py": "from purepkg.sub.mod import hello\n",
      "purepkg/sub/__init__.py": "",
      "purepkg/sub/mod.py": "def hello():\n    return 'hello from the zip'\n",
    },
  });
}

/** selfread: reads its own source at import (open(.py) and inspect.getsource). */
export function selfreadWheel(): BuiltWheel {
  return buildWheel({
    name: "selfread",
    version: "1.0",
    files: {
      "selfread/__init__.py": [
        "import inspect, os, sys",
        "SOURCE = inspect.getsource(sys.modules[__name__])",
        "with open(os.path.join(os.path.dirname(__file__), 'template.py')) as f:",
        "    TEMPLATE = f.read()",
        "",
      ].join("\n"),
      "selfread/template.py": "# a template read as text\nNAME = 'x'\n",
    },
  });
}

/**
 * A package with a module that fails to import with or without slimming (it refuses to load
 * without a GPU) — a pre-existing failure, not slimming's.
 */
export function fragileWheel(): BuiltWheel {
  return buildWheel({
    name: "fragile",
    version: "1.0",
    files: {
      "fragile/__init__.py": "VALUE = 41 + 1\n",
      "fragile/gpu.py": "raise ImportError('fragile.gpu needs a CUDA device')\n",
    },
  });
}

/** A pre-existing failure and a module slimming breaks (it reads its own source), together. */
export function mixedWheel(): BuiltWheel {
  return buildWheel({
    name: "mixed",
    version: "1.0",
    files: {
      "mixed/__init__.py": "X = 1\n",
      "mixed/broken.py": "raise RuntimeError('mixed.broken is broken everywhere')\n",
      "mixed/reader.py": "import inspect, sys\nSRC = inspect.getsource(sys.modules[__name__])\n",
    },
  });
}

/** `libsrc` and `readslib`: readslib reads libsrc's source at import (cross-package breakage). */
export function crossWheels(): BuiltWheel[] {
  return [
    buildWheel({
      name: "libsrc",
      version: "1.0",
      files: { "libsrc/__init__.py": "def helper():\n    return 42\n" },
    }),
    buildWheel({
      name: "readslib",
      version: "1.0",
      files: {
        "readslib/__init__.py":
          "import inspect, libsrc\nSRC = inspect.getsource(libsrc.helper)\nVALUE = libsrc.helper()\n",
      },
    }),
  ];
}

export async function importWheels(store: Store, wheels: BuiltWheel[]): Promise<StoredWheel[]> {
  const out: StoredWheel[] = [];
  for (const w of wheels)
    out.push(await store.importWheel({ bytes: w.bytes }, { filename: w.filename }));
  return out;
}

/** A compiler for `interp` whose runs are counted. */
export function countingCompiler(interp: Interp): PycCompiler {
  return pycCompiler(interp.exe, interp.probe);
}

export async function slimEnv(
  store: Store,
  interp: Interp,
  dir: string,
  wheels: StoredWheel[],
  policy: SlimPolicy,
  compiler: PycCompiler,
  options: MaterializeOptions & {
    layout?: "prefix" | "venv" | "target";
    linkMode?: "auto" | "pth";
    isolated?: boolean;
  } = {},
): Promise<EnvManifest> {
  return materialize(
    store,
    {
      layout: { kind: options.layout ?? "prefix", dir },
      target: interp.target,
      probe: interp.probe,
      wheels,
      requested: wheels.map((w) => w.name),
      linkMode: options.linkMode ?? "auto",
      ...(options.isolated === undefined ? {} : { isolated: options.isolated }),
      slim: slimTransform({ policy, compiler: async () => compiler }),
    },
    options,
  );
}

/** The site dir of a prefix env. */
export function siteOf(dir: string, interp: Interp): string {
  const [major, minor] = interp.probe.version;
  return path.join(dir, "lib", `python${major}.${minor}`, "site-packages");
}

/** Every file under `dir`, relative, sorted. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(path.relative(dir, full));
    }
  };
  walk(dir);
  return out;
}

/** Run Python code in the env through its bin/python launcher. */
export function inEnv(
  dir: string,
  interp: Interp,
  code: string,
  extra: Record<string, string> = {},
) {
  return run(path.join(dir, "bin", "python"), ["-c", code], { PATH: interp.path, ...extra });
}
