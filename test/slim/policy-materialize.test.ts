/**
 * Slim policies applied at materialization, on real CPython 3.10 and 3.12 with a real store:
 * drop rules and the import scan, every bytecode mode, derived-object caching (a second env
 * compiles nothing), reproducible .pyc, zip mode and its refusals, overrides, bad input.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, expect, it } from "vitest";
import { isSlimenvError } from "../../src/base/index.ts";
import { materialize } from "../../src/env/materialize.ts";
import { pycCompiler } from "../../src/slim/bytecode/compile.ts";
import { slimPolicy } from "../../src/slim/policy.ts";
import type { SlimSummary } from "../../src/slim/transform/summary.ts";
import { slimTransform } from "../../src/slim/transform/transform.ts";
import { Store } from "../../src/store/store.ts";
import type { StoredWheel } from "../../src/store/types.ts";
import { type Interp, interpreter } from "../env/env-fixtures.ts";
import { describeWith, pyenv } from "../helpers/prereq.ts";
import { tempDir } from "../helpers/tmp.ts";
import { buildWheel } from "../helpers/wheels.ts";
import {
  countingCompiler,
  demoWheel,
  filesUnder,
  importWheels,
  inEnv,
  otherWheel,
  pureWheel,
  selfreadWheel,
  siteOf,
  slimEnv,
} from "./policy-fixtures.ts";

const PYTHON312 = pyenv("3.12");
const PY312 = PYTHON312.exe;
const PYTHON310 = pyenv("3.10");
const PY310 = PYTHON310.exe;

async function rejects(promise: Promise<unknown>, code: string): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    if (isSlimenvError(err)) {
      expect(err.code).toBe(code);
      return err;
    }
    throw err;
  }
  throw new Error(`expected ${code}, got success`);
}

describeWith(PYTHON312, PYTHON310)("slim policies at materialize", () => {
  let root: string;
  let store: Store;
  let py312: Interp;
  let py310: Interp;
  let wheels: StoredWheel[];
  let n = 0;
  const envDir = () => path.join(root, `env${n++}`);
  const summaryOf = (m: { slim?: { summary?: unknown } }) => m.slim?.summary as SlimSummary;
  const pkg = (m: { slim?: { summary?: unknown } }, name: string) =>
    summaryOf(m).packages.find((p) => p.name === name);

  beforeAll(async () => {
    root = tempDir("slimenv-slim-");
    store = Store.open({ root: path.join(root, "store") });
    py312 = await interpreter(PY312 as string);
    py310 = await interpreter(PY310 as string);
    wheels = await importWheels(store, [demoWheel(), otherWheel(), pureWheel(), selfreadWheel()]);
  });

  it("edge on 3.12: drops by rule, keeps an imported tests folder, keeps sources, caches go outside", async () => {
    const dir = envDir();
    const compiler = countingCompiler(py312);
    const manifest = await slimEnv(
      store,
      py312,
      dir,
      wheels,
      slimPolicy({ preset: "edge" }),
      compiler,
    );
    const site = siteOf(dir, py312);
    const files = filesUnder(site);
    // Dropped by rules.
    for (const gone of [
      "demo/tests/test_core.py",
      "demo/docs/index.md",
      "demo/__init__.pyi",
      "demo/py.typed",
      "demo/_speed.c",
      "demo/_speed.h",
      "demo/_fast.pyx",
      "demo/__pycache__/core.cpython-39.pyc",
      "demo/examples/ex.py",
      "demo/CMakeLists.txt",
      "other/tests/test_other.py",
      "other/conftest.py",
    ]) {
      expect(files, gone).not.toContain(gone);
    }
    // demo/core.py imports demo.tests.support: it stays, with its package's __init__.
    expect(files).toContain("demo/tests/support.py");
    expect(files).toContain("demo/tests/__init__.py");
    expect(pkg(manifest, "demo")?.keptByImports).toEqual(["demo/tests"]);
    // Data and sources stay (3.12: source is the smallest mode).
    expect(files).toContain("demo/data/table.csv");
    expect(files).toContain("demo/core.py");
    expect(summaryOf(manifest).bytecode).toBe("source");
    expect(compiler.runs).toBe(0);
    expect(pkg(manifest, "other")?.byRule).toEqual({ "test-dirs": 2, "test-config": 1 });
    // RECORD lists what is there, not what was dropped.
    const record = readFileSync(path.join(site, "demo-1.0.dist-info", "RECORD"), "utf8");
    expect(record).toContain("demo/tests/support.py");
    expect(record).not.toContain("demo/docs/index.md");
    expect(manifest.slim?.policy).toMatchObject({ preset: "edge", resolvedBytecode: "source" });
    // It runs; the bytecode cache goes to $XDG_CACHE_HOME/slimenv/pycache, not into the env.
    const cache = path.join(root, "xdg-cache");
    const res = inEnv(
      dir,
      py312,
      "import demo, other, purepkg; print(demo.add(1, 2), other.VALUE)",
      {
        XDG_CACHE_HOME: cache,
      },
    );
    expect(res.stderr).toBe("");
    expect(res.stdout.trim()).toBe("3 42");
    expect(filesUnder(site).some((f) => f.includes("__pycache__"))).toBe(false);
    expect(existsSync(path.join(cache, "slimenv", "pycache"))).toBe(true);
  });

  it("edge on 3.10: sourceless .pyc in the modules' place, env-relative traceback paths", async () => {
    const dir = envDir();
    const compiler = countingCompiler(py310);
    const manifest = await slimEnv(
      store,
      py310,
      dir,
      wheels,
      slimPolicy({ preset: "edge" }),
      compiler,
    );
    const site = siteOf(dir, py310);
    const files = filesUnder(site);
    expect(summaryOf(manifest).bytecode).toBe("pyc-only");
    expect(files).toContain("demo/core.pyc");
    expect(files).not.toContain("demo/core.py");
    expect(files).toContain("demo/tests/support.pyc");
    // A module that does not compile keeps its source, and the summary says why.
    expect(files).toContain("demo/legacy.py");
    expect(pkg(manifest, "demo")?.compileFailures[0]).toMatchObject({ path: "demo/legacy.py" });
    expect(pkg(manifest, "demo")?.compileFailures[0]?.error).toMatch(/SyntaxError/);
    expect(compiler.runs).toBe(1);
    const record = readFileSync(path.join(site, "demo-1.0.dist-info", "RECORD"), "utf8");
    expect(record).toMatch(/^demo\/core\.pyc,sha256=/m);
    const res = inEnv(
      dir,
      py310,
      "import demo\nprint(demo.add(2, 3))\nimport demo.boom\ndemo.boom.boom()\n",
    );
    expect(res.stdout.trim()).toBe("5");
    expect(res.stderr).toContain('File "demo/boom.py", line 2, in boom');
    expect(res.stderr).toContain("ValueError: boom from demo");
  });

  it("a second env with the same policy compiles nothing and shares the .pyc objects", async () => {
    const policy = slimPolicy({ preset: "edge", bytecode: "pyc-only" });
    const first = countingCompiler(py312);
    const a = envDir();
    const ma = await slimEnv(store, py312, a, wheels, policy, first);
    expect(first.runs).toBe(1);
    const second = countingCompiler(py312);
    const b = envDir();
    const mb = await slimEnv(store, py312, b, wheels, policy, second);
    expect(second.runs).toBe(0);
    expect(summaryOf(mb).compilerRuns).toBe(0);
    expect(summaryOf(mb).cachedPycs).toBeGreaterThan(5);
    const pyc = (m: typeof ma) =>
      m.packages
        .find((p) => p.name === "demo")
        ?.files.find((f) => f.path.endsWith("demo/core.pyc"));
    expect(pyc(mb)?.hash).toBe(pyc(ma)?.hash);
    const ia = statSync(path.join(siteOf(a, py312), "demo", "core.pyc")).ino;
    const ib = statSync(path.join(siteOf(b, py312), "demo", "core.pyc")).ino;
    expect(ia).toBe(ib); // both hard links to one derived object
  });

  it(".pyc are reproducible: the same source compiles to the same bytes in separate runs", async () => {
    const compilers = [pycCompiler(py312.exe, py312.probe), pycCompiler(py312.exe, py312.probe)];
    const hashes: string[] = [];
    for (const compiler of compilers) {
      // A fresh store each time: nothing cached, both compile.
      const s = Store.open({ root: tempDir("slimenv-slim-repro-") });
      try {
        const ws = await importWheels(s, [demoWheel()]);
        const m = await materialize(s, {
          layout: { kind: "prefix", dir: envDir() },
          target: py312.target,
          probe: py312.probe,
          wheels: ws,
          requested: [],
          linkMode: "auto",
          slim: slimTransform({
            policy: slimPolicy({ preset: "none", bytecode: "pyc-only" }),
            compiler: async () => compiler,
          }),
        });
        expect(compiler.runs).toBe(1);
        const files = m.packages[0]?.files.filter((f) => f.path.endsWith(".pyc")) ?? [];
        expect(files.length).toBeGreaterThan(5);
        hashes.push(files.map((f) => `${f.path}=${f.hash}`).join("\n"));
      } finally {
        s.close();
      }
    }
    expect(hashes[0]).toBe(hashes[1]);
  });

  it("pyc: sources plus __pycache__ .pyc that the interpreter uses as they are", async () => {
    const dir = envDir();
    const policy = slimPolicy({ preset: "none", bytecode: "pyc" });
    const m = await slimEnv(store, py312, dir, wheels, policy, countingCompiler(py312));
    const site = siteOf(dir, py312);
    const cached = path.join(site, "demo", "__pycache__", `core.${py312.probe.cacheTag}.pyc`);
    expect(existsSync(path.join(site, "demo", "core.py"))).toBe(true);
    expect(existsSync(cached)).toBe(true);
    // Nothing dropped (preset none).
    expect(existsSync(path.join(site, "demo", "docs", "index.md"))).toBe(true);
    expect(pkg(m, "demo")?.droppedFiles).toBe(0);
    const before = statSync(cached);
    const res = inEnv(dir, py312, "import demo.core, sys; print(demo.core.__cached__)", {
      PYTHONPYCACHEPREFIX: "",
      XDG_CACHE_HOME: path.join(root, "xdg2"),
    });
    expect(res.stderr).toBe("");
    const after = statSync(cached);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
  });

  it("pyc+zipped-source: sourceless .pyc, tracebacks and inspect.getsource read the zip", async () => {
    const dir = envDir();
    const policy = slimPolicy({ preset: "edge", bytecode: "pyc+zipped-source" });
    await slimEnv(store, py312, dir, wheels, policy, countingCompiler(py312));
    const site = siteOf(dir, py312);
    expect(existsSync(path.join(site, "selfread", "__init__.pyc"))).toBe(true);
    expect(existsSync(path.join(site, "selfread", "__init__.py"))).toBe(false);
    expect(existsSync(path.join(site, "_slimenv_sources.zip"))).toBe(true);
    const code = [
      "import inspect, sys, demo.boom",
      "print('linecache' in sys.modules)",
      "print(inspect.getsource(demo.boom.boom).splitlines()[1].strip())",
      "demo.boom.boom()",
    ].join("\n");
    const res = inEnv(dir, py312, code);
    expect(res.stdout.split("\n")[1]).toBe("raise ValueError('boom from demo')");
    expect(res.stderr).toContain('File "demo/boom.py", line 2, in boom');
    expect(res.stderr).toContain("raise ValueError('boom from demo')");
    // selfread's inspect.getsource works from the zip; its open(template.py) does not.
    const self = inEnv(dir, py312, "import selfread");
    expect(self.stderr).toMatch(/FileNotFoundError: .*template\.py/);
    expect(self.stderr).not.toMatch(/could not get source code/);
  });

  it("zip: a pure package runs from the code zip; packages with data or __file__ are refused", async () => {
    const dir = envDir();
    const m = await slimEnv(
      store,
      py310,
      dir,
      wheels,
      slimPolicy({ preset: "max" }),
      countingCompiler(py310),
    );
    const site = siteOf(dir, py310);
    expect(pkg(m, "purepkg")?.bytecode).toBe("zip");
    expect(pkg(m, "purepkg")?.zipModules).toEqual(["purepkg", "purepkg.sub", "purepkg.sub.mod"]);
    expect(existsSync(path.join(site, "purepkg"))).toBe(false);
    expect(existsSync(path.join(site, "purepkg-1.0.dist-info", "METADATA"))).toBe(true);
    expect(pkg(m, "demo")?.zipRefused).toBe("it has a data file (demo/data/table.csv)");
    expect(pkg(m, "demo")?.bytecode).toBe("pyc-only"); // 3.10: the smallest mode instead
    expect(pkg(m, "selfread")?.zipRefused).toBe("selfread/__init__.py uses __file__");
    const res = inEnv(
      dir,
      py310,
      "import purepkg, importlib.metadata as md; print(purepkg.hello()); print(purepkg.__file__); print(md.version('purepkg'))",
    );
    expect(res.stderr).toBe("");
    const [hello, file, version] = res.stdout.trim().split("\n");
    expect(hello).toBe("hello from the zip");
    expect(file).toMatch(/_slimenv_code\.zip\/purepkg\/__init__\.pyc?$/);
    expect(version).toBe("1.0");
  });

  it("overrides from config: slim-keep, slim-drop, slim-skip", async () => {
    const dir = envDir();
    const policy = slimPolicy({
      preset: "edge",
      keep: ["demo/docs/**"],
      dropGlobs: ["demo/data/**"],
      skip: ["Other"],
    });
    const m = await slimEnv(store, py312, dir, wheels, policy, countingCompiler(py312));
    const files = filesUnder(siteOf(dir, py312));
    expect(files).toContain("demo/docs/index.md");
    expect(files).not.toContain("demo/data/table.csv");
    expect(pkg(m, "demo")?.byRule["slim-drop"]).toBe(1);
    expect(files).toContain("other/tests/test_other.py");
    expect(files).toContain("other/conftest.py");
    expect(pkg(m, "other")?.bytecode).toBe("unslimmed");
  });

  it("refuses what cannot work, changing nothing", async () => {
    const policy = slimPolicy({ preset: "edge" });
    const pth = await rejects(
      slimEnv(store, py312, envDir(), wheels, policy, countingCompiler(py312), { linkMode: "pth" }),
      "INVALID_OPTION",
    );
    expect(pth.message).toMatch(/link mode pth/);
    const dir = envDir();
    await rejects(
      slimEnv(store, py312, dir, wheels, slimPolicy({ preset: "max" }), countingCompiler(py312), {
        layout: "target",
      }),
      "SLIM_FAILED",
    );
    expect(existsSync(dir)).toBe(false);
    // No interpreter of the target's version: bytecode modes other than source are refused.
    const noPython = materialize(store, {
      layout: { kind: "prefix", dir: envDir() },
      target: py310.target,
      wheels,
      requested: [],
      linkMode: "auto",
      slim: slimTransform({
        policy: slimPolicy({ preset: "edge" }),
        env: { PATH: "/nonexistent", PYENV_ROOT: "/nonexistent", HOME: "/nonexistent" },
      }),
    });
    const err = await rejects(noPython, "INTERPRETER_NOT_FOUND");
    expect((err as { hint?: string }).hint).toMatch(/--bytecode source/);
  });

  it("strip debug: an extension built with -g is stripped into a derived object and still imports", async () => {
    const include = py312.probe.schemes.prefix.paths?.include;
    const suffix = py312.probe.configVars.EXT_SUFFIX;
    if (include === undefined || suffix === null) throw new Error("probe lacks include/EXT_SUFFIX");
    const work = tempDir("slimenv-slim-cext-");
    const src = path.join(work, "m.c");
    writeFileSync(
      src,
      [
        "#include <Python.h>",
        "static PyObject *two(PyObject *s, PyObject *a) { return PyLong_FromLong(2); }",
        'static PyMethodDef m[] = {{"two", two, METH_NOARGS, ""}, {NULL, NULL, 0, NULL}};',
        'static struct PyModuleDef d = {PyModuleDef_HEAD_INIT, "_dbg", NULL, -1, m};',
        "PyMODINIT_FUNC PyInit__dbg(void) { return PyModule_Create(&d); }",
        "",
      ].join("\n"),
    );
    const so = path.join(work, `_dbg${suffix}`);
    const cc = spawnSync("gcc", ["-shared", "-fPIC", "-g", "-O0", `-I${include}`, src, "-o", so]);
    expect(cc.status).toBe(0);
    const tag = `cp${py312.probe.version[0]}${py312.probe.version[1]}`;
    const built = buildWheel({
      name: "dbgext",
      version: "1.0",
      tags: `${tag}-${tag}-${py312.target.platforms.at(-1) ?? "linux_x86_64"}`,
      purelib: false,
      files: {
        "dbgext/__init__.py": "from dbgext._dbg import two\n",
        [`dbgext/_dbg${suffix}`]: new Uint8Array(readFileSync(so)),
      },
    });
    const [stored] = await importWheels(store, [built]);
    if (stored === undefined) throw new Error("not imported");
    const dir = envDir();
    const m = await slimEnv(
      store,
      py312,
      dir,
      [stored],
      slimPolicy({ preset: "edge" }),
      countingCompiler(py312),
    );
    expect(pkg(m, "dbgext")?.stripped).toBe(1);
    const placed = path.join(siteOf(dir, py312), "dbgext", `_dbg${suffix}`);
    expect(statSync(placed).size).toBeLessThan(readFileSync(so).length);
    const res = inEnv(dir, py312, "import dbgext; print(dbgext.two())");
    expect(res.stderr).toBe("");
    expect(res.stdout.trim()).toBe("2");
  });
});
