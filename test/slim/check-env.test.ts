/**
 * checkEnv against a real CPython: a hand-made site-packages with good packages, a module that
 * raises, one that calls sys.exit, one that hangs, a C extension that segfaults at import, a
 * namespace package, sourceless .pyc modules, a missing optional dependency, a known-benign
 * failure and failing test modules; a slimenv prefix env with --smoke; the CLI's exit codes.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, expect, it } from "vitest";
import { install } from "../../src/env/install.ts";
import { checkEnv } from "../../src/slim/check/check.ts";
import type { CheckReport, PackageCheck } from "../../src/slim/check/types.ts";
import { describeWith, GCC } from "../helpers/prereq.ts";
import { buildWheel } from "../helpers/wheels.ts";
import {
  BIN,
  expectSlimenvError,
  run,
  TEST_PYTHON,
  tempDir,
  testPython,
  testSettings,
} from "../install/fixtures.ts";

const PY = testPython();

function pyEval(code: string): string {
  const res = spawnSync(PY as string, ["-c", code], { encoding: "utf8" });
  if (res.status !== 0) throw new Error(res.stderr);
  return res.stdout.trim();
}

function recordHash(bytes: Buffer): string {
  return `sha256=${createHash("sha256").update(bytes).digest("base64url")}`;
}

/** Write a distribution into `site`: files, then a dist-info with METADATA and RECORD. */
function writeDist(site: string, name: string, files: Record<string, string | Buffer>) {
  const rows: string[] = [];
  for (const [rel, data] of Object.entries(files)) {
    const full = path.join(site, rel);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, data);
    const bytes = readFileSync(full);
    rows.push(`${rel},${recordHash(bytes)},${bytes.length}`);
  }
  const info = path.join(site, `${name}-1.0.dist-info`);
  mkdirSync(info, { recursive: true });
  writeFileSync(
    path.join(info, "METADATA"),
    `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n\n`,
  );
  rows.push(`${name}-1.0.dist-info/METADATA,,`, `${name}-1.0.dist-info/RECORD,,`);
  writeFileSync(path.join(info, "RECORD"), `${rows.join("\n")}\n`);
}

function gccExtension(out: string, moduleName: string, body: string) {
  const include = pyEval("import sysconfig; print(sysconfig.get_paths()['include'])");
  const src = `${out}.c`;
  writeFileSync(
    src,
    `#include <Python.h>\n#include <signal.h>\n${body.replace(/NAME/g, moduleName)}\n`,
  );
  const res = spawnSync("gcc", ["-shared", "-fPIC", "-O0", `-I${include}`, "-o", out, src], {
    encoding: "utf8",
  });
  if (res.status !== 0) throw new Error(res.stderr);
}

const GOOD_EXT = `static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "NAME", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_NAME(void) { return PyModule_Create(&def); }`;
const SEGV_EXT = "PyMODINIT_FUNC PyInit_NAME(void) { raise(SIGSEGV); return NULL; }";

function pkg(report: CheckReport, name: string): PackageCheck {
  const found = report.packages.find((p) => p.name === name);
  if (found === undefined) throw new Error(`no package ${name} in the report`);
  return found;
}

describeWith(TEST_PYTHON, GCC)("checkEnv", () => {
  let root: string;
  let site: string;
  let goodSite: string;
  let report: CheckReport;

  beforeAll(async () => {
    root = tempDir("check");
    site = path.join(root, "site");
    goodSite = path.join(root, "good-site");
    const ext = pyEval("import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))");
    const good = {
      "good/__init__.py": "VALUE = 1\n",
      "good/sub.py": "from . import VALUE\n",
      "good/__main__.py": "raise SystemExit('__main__ must not be imported')\n",
      "good/templates/page.py": "raise RuntimeError('data, not a module')\n",
      "good/tests/__init__.py": "",
      "good/tests/test_x.py": "import pytest_is_not_installed\n",
    };
    for (const s of [site, goodSite]) {
      writeDist(s, "good", good);
      writeDist(s, "nspkg", {
        "nsroot/part/__init__.py": "",
        "nsroot/part/mod.py":
          "import nsroot\nassert not hasattr(nsroot, '__file__') or nsroot.__file__ is None\n",
      });
    }
    writeDist(site, "bad", {
      "bad/__init__.py": "",
      "bad/boom.py": "x = 1\nraise ValueError('boom at import')\n",
      "bad/quits.py": "import sys\nsys.exit(3)\n",
      "bad/fine.py": "",
    });
    writeDist(site, "hangs", {
      "hangs/__init__.py": "",
      "hangs/slow.py": "import time\ntime.sleep(120)\n",
      "hangs/zafter.py": "",
    });
    writeDist(site, "opt", {
      "opt/__init__.py": "",
      "opt/extra.py": "import nosuch_optional_dependency_xyz\n",
      "opt/_windows.py": "import winreg\n",
    });
    writeDist(site, "needsdep", {
      "needsdep/__init__.py": "import nosuch_required_dependency_xyz\n",
    });
    // Sourceless .pyc in the module's place, compiled by the interpreter itself.
    const pycDir = path.join(root, "pyc-src");
    mkdirSync(path.join(pycDir, "pyconly"), { recursive: true });
    writeFileSync(path.join(pycDir, "pyconly", "__init__.py"), "from .m import ANSWER\n");
    writeFileSync(path.join(pycDir, "pyconly", "m.py"), "ANSWER = 42\n");
    pyEval(
      `import py_compile; [py_compile.compile(${JSON.stringify(pycDir)} + '/pyconly/' + n + '.py', cfile=${JSON.stringify(pycDir)} + '/pyconly/' + n + '.pyc') for n in ('__init__', 'm')]`,
    );
    writeDist(site, "pyconly", {
      "pyconly/__init__.pyc": readFileSync(path.join(pycDir, "pyconly", "__init__.pyc")),
      "pyconly/m.pyc": readFileSync(path.join(pycDir, "pyconly", "m.pyc")),
    });
    // A package with a good extension, a segfaulting one, and modules around them.
    const extDir = path.join(root, "ext");
    mkdirSync(extDir, { recursive: true });
    gccExtension(path.join(extDir, `_fine${ext}`), "_fine", GOOD_EXT);
    gccExtension(path.join(extDir, `_segv${ext}`), "_segv", SEGV_EXT);
    writeDist(site, "crashy", {
      "crashy/__init__.py": "",
      "crashy/a.py": "",
      [`crashy/_fine${ext}`]: readFileSync(path.join(extDir, `_fine${ext}`)),
      [`crashy/_segv${ext}`]: readFileSync(path.join(extDir, `_segv${ext}`)),
      "crashy/zlast.py": "",
    });
    report = await checkEnv(site, { python: PY as string, timeoutMs: 3000 });
  }, 60_000);

  it("imports good packages, sourceless .pyc and namespace packages", () => {
    expect(report.layout).toBe("site-packages");
    expect(report.python).toMatch(/^3\.\d+\.\d+$/);
    const good = pkg(report, "good");
    expect(good.modules).toBe(4); // good, good.sub, good.tests, good.tests.test_x
    expect(good.ok).toBe(3);
    expect(good.failed).toEqual([]);
    expect(good.testFailures).toEqual([
      {
        module: "good.tests.test_x",
        kind: "error",
        error: "ModuleNotFoundError: No module named 'pytest_is_not_installed'",
      },
    ]);
    expect(pkg(report, "nspkg")).toMatchObject({ modules: 3, ok: 3, failed: [] });
    expect(pkg(report, "pyconly")).toMatchObject({ modules: 2, ok: 2, failed: [] });
  });

  it("reports a module that raises and one that calls sys.exit, and goes on", () => {
    const bad = pkg(report, "bad");
    expect(bad.ok).toBe(2);
    expect(bad.failed).toEqual([
      { module: "bad.boom", kind: "error", error: "ValueError: boom at import" },
      { module: "bad.quits", kind: "error", error: "SystemExit: 3" },
    ]);
  });

  it("times out a module that hangs, then imports the rest of its batch", () => {
    const hangs = pkg(report, "hangs");
    expect(hangs.failed).toHaveLength(1);
    expect(hangs.failed[0]).toMatchObject({ module: "hangs.slow", kind: "timeout" });
    expect(hangs.failed[0]?.error).toMatch(/timed out/);
    expect(hangs.ok).toBe(2);
  });

  it("pins a segfaulting extension and keeps the other modules of its batch", () => {
    const crashy = pkg(report, "crashy");
    expect(crashy.failed).toHaveLength(1);
    expect(crashy.failed[0]).toMatchObject({ module: "crashy._segv", kind: "crash" });
    expect(crashy.failed[0]?.error).toMatch(/SIGSEGV|Segmentation fault/);
    expect(crashy.ok).toBe(4);
  });

  it("skips known-benign failures and missing optional dependencies, not required ones", () => {
    const opt = pkg(report, "opt");
    expect(opt.failed).toEqual([]);
    expect(opt.skipped.map((s) => s.module)).toEqual(["opt._windows", "opt.extra"]);
    expect(opt.skipped[1]?.reason).toMatch(/nosuch_optional_dependency_xyz/);
    expect(pkg(report, "needsdep").failed).toEqual([
      {
        module: "needsdep",
        kind: "error",
        error: "ModuleNotFoundError: No module named 'nosuch_required_dependency_xyz'",
      },
    ]);
    expect(report.ok).toBe(false);
    expect(report.totals).toMatchObject({ packages: 8, failed: 5, testFailures: 1, skipped: 2 });
  });

  it("splits a distribution into batches without changing any result", async () => {
    const small = await checkEnv(site, { python: PY as string, timeoutMs: 3000, batchSize: 2 });
    const strip = (r: CheckReport) => r.packages;
    expect(strip(small)).toEqual(strip(report));
    expect(small.totals).toEqual(report.totals);
  }, 60_000);

  it("checks only the named distributions and modules when asked, judged against the whole env", async () => {
    const some = await checkEnv(site, {
      python: PY as string,
      timeoutMs: 3000,
      only: { bad: ["bad.boom"], opt: "all" },
    });
    expect(some.packages.map((p) => p.name)).toEqual(["bad", "opt"]);
    expect(pkg(some, "bad")).toMatchObject({ modules: 1, ok: 0 });
    expect(pkg(some, "bad").failed).toEqual([
      { module: "bad.boom", kind: "error", error: "ValueError: boom at import" },
    ]);
    expect(pkg(some, "opt").skipped).toEqual(pkg(report, "opt").skipped);
    expect(some.totals).toMatchObject({ packages: 2, failed: 1, skipped: 2 });
  }, 60_000);

  it("passes a healthy site-packages; the CLI exits 0 / 1 and prints JSON", () => {
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
    const ok = run(
      process.execPath,
      [BIN, "check", goodSite, "--python", PY as string, "--json"],
      env,
    );
    expect(ok.status).toBe(0);
    const okReport = JSON.parse(ok.stdout) as CheckReport;
    expect(okReport.ok).toBe(true);
    expect(okReport.totals).toMatchObject({ packages: 2, failed: 0, testFailures: 1 });
    const bad = run(
      process.execPath,
      [BIN, "check", site, "--python", PY as string, "--timeout", "2"],
      env,
    );
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/bad: bad\.boom \[error\]: ValueError: boom at import/);
    expect(bad.stdout).toMatch(/check FAILED: 5 modules failed/);
    const missing = run(process.execPath, [BIN, "check", path.join(root, "nope"), "--json"], env);
    expect(missing.status).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { code: "INVALID_ENV" } });
    const badTimeout = run(process.execPath, [BIN, "check", goodSite, "--timeout", "soon"], env);
    expect(badTimeout.status).toBe(2);
  }, 60_000);

  it("fails clearly on a missing interpreter or directory", async () => {
    await expectSlimenvError(
      checkEnv(goodSite, { python: "/nonexistent/python3" }),
      "INTERPRETER_NOT_FOUND",
    );
    await expectSlimenvError(checkEnv(path.join(root, "nope")), "INVALID_ENV");
  });

  it("checks a slimenv prefix env and runs --smoke in it", async () => {
    const wheelDir = tempDir("check-wheels");
    const w = buildWheel({
      name: "smokepkg",
      version: "1.0",
      files: {
        "smokepkg/__init__.py": "GREETING = 'hi'\n",
        "smokepkg/broken.py": "raise ImportError('slimmed away')\n",
      },
    });
    const wheel = path.join(wheelDir, w.filename);
    writeFileSync(wheel, w.bytes);
    const cwd = tempDir("check-prefix");
    await install({
      cwd,
      env: process.env,
      settings: testSettings("http://127.0.0.1:9/simple/"),
      selection: { kind: "interpreter", request: PY as string },
      layout: { kind: "prefix", dir: "env" },
      inputs: { requirementFiles: [], requirements: [], wheels: [wheel] },
      noDeps: true,
      userAgent: "slimenv-tests",
      storeRoot: path.join(cwd, "store"),
      httpCacheDir: null,
    });
    const env = path.join(cwd, "env");
    const pass = await checkEnv(env, {
      smoke: "python -c 'import smokepkg; print(smokepkg.GREETING)'",
      cwd,
    });
    expect(pass.layout).toBe("prefix");
    expect(pass.packages.map((p) => p.name)).toEqual(["smokepkg"]);
    expect(pkg(pass, "smokepkg").failed).toEqual([
      { module: "smokepkg.broken", kind: "error", error: "ImportError: slimmed away" },
    ]);
    expect(pass.smoke).toMatchObject({ exitCode: 0, ok: true, output: "hi\n" });
    expect(pass.ok).toBe(false); // the broken module
    const fail = await checkEnv(env, { smoke: "echo out; echo err >&2; exit 7", cwd });
    expect(fail.smoke).toMatchObject({ exitCode: 7, ok: false });
    expect(fail.smoke?.output).toContain("out\n");
    expect(fail.smoke?.output).toContain("err\n");
    const cli = run(process.execPath, [BIN, "check", env, "--smoke", "exit 0", "--json"], {
      PATH: `${path.dirname(PY as string)}:/usr/bin:/bin`,
    });
    expect(cli.status).toBe(1);
    expect((JSON.parse(cli.stdout) as CheckReport).smoke?.ok).toBe(true);
  }, 60_000);
});
