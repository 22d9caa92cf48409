/**
 * The check imports zipped modules the way the env runs them: the code zip right after the
 * env's site dir, before the base interpreter's own site-packages — where an older copy of
 * the same package must not be what the check imports (python-dateutil 2.9 in the machine's
 * interpreter made dateutil 4.0's zipped `dateutil._tzdata_impl` fail the check). Here the
 * base interpreter is a venv whose site-packages holds a shadowing `purepkg` that lacks
 * `purepkg.sub`. The env's site dir comes after the standard library, as in the env (a
 * module named like a stdlib one is the stdlib's there). And an isolated env's candidate is
 * checked without the interpreter's own site-packages, as the env runs.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, realpathSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import type { EnvManifest } from "../../src/env/types.ts";
import { importModules } from "../../src/slim/check/runner.ts";
import { defaultSlimChecker, type SlimCheckFailure } from "../../src/slim/check/slim-checker.ts";
import { type SlimPolicy, slimPolicy } from "../../src/slim/policy.ts";
import { Store } from "../../src/store/index.ts";
import { type Interp, interpreter } from "../env/env-fixtures.ts";
import { describeWith, pyenv } from "../helpers/prereq.ts";
import { tempDir } from "../helpers/tmp.ts";
import { type BuiltWheel, buildWheel } from "../helpers/wheels.ts";
import {
  countingCompiler,
  importWheels,
  inEnv,
  pureWheel,
  siteOf,
  slimEnv,
} from "./policy-fixtures.ts";

const PYTHON310 = pyenv("3.10");
const PY310 = PYTHON310.exe;

/** Build an env from `wheels` with `policy`, running the default checker on its candidate. */
async function checkedCandidate(
  root: string,
  name: string,
  wheels: BuiltWheel[],
  policy: SlimPolicy,
  isolated = false,
): Promise<{ manifest: EnvManifest; failures: SlimCheckFailure[] | undefined; py: Interp }> {
  const py = await interpreter(PY310 as string);
  const store = Store.open({ root: path.join(root, "store") });
  try {
    let failures: SlimCheckFailure[] | undefined;
    const manifest = await slimEnv(
      store,
      py,
      path.join(root, name),
      await importWheels(store, wheels),
      policy,
      countingCompiler(py),
      {
        isolated,
        review: async (candidate) => {
          failures = await defaultSlimChecker({ env: { PATH: py.path } })(candidate);
          return undefined;
        },
      },
    );
    return { manifest, failures, py };
  } finally {
    store.close();
  }
}

describeWith(PYTHON310)("the zipped-module check", () => {
  it("imports the env's zipped package, not a copy later on sys.path", async () => {
    const root = realpathSync(tempDir("slimenv-zipcheck-"));
    const py = await interpreter(PY310 as string);
    const store = Store.open({ root: path.join(root, "store") });
    const wheels = await importWheels(store, [pureWheel()]);
    const dir = path.join(root, "env");
    const manifest = await slimEnv(
      store,
      py,
      dir,
      wheels,
      slimPolicy({ preset: "max" }),
      countingCompiler(py),
    );
    store.close();
    const summary = manifest.slim?.summary as { packages: { zipModules?: string[] }[] };
    const modules = summary.packages[0]?.zipModules ?? [];
    expect(modules).toEqual(["purepkg", "purepkg.sub", "purepkg.sub.mod"]);
    // A base interpreter with an older purepkg in its own site-packages.
    const venv = path.join(root, "base");
    expect(spawnSync(PY310 as string, ["-m", "venv", "--without-pip", venv]).status).toBe(0);
    const shadow = path.join(venv, "lib", "python3.10", "site-packages", "purepkg");
    mkdirSync(shadow, { recursive: true });
    writeFileSync(path.join(shadow, "__init__.py"), "OLD = True\n");
    const site = siteOf(dir, py);
    const outcomes = await importModules(
      {
        command: path.join(venv, "bin", "python"),
        args: [],
        env: {
          PATH: py.path,
          PYTHONNOUSERSITE: "1",
          PYTHONDONTWRITEBYTECODE: "1",
          SLIMENV_CHECK_SITEDIR: site,
        },
        cwd: root,
      },
      modules,
      30_000,
    );
    expect(outcomes.map((o) => [o.module, o.status, o.error])).toEqual(
      modules.map((m) => [m, "ok", undefined]),
    );
    // The env itself: its zip comes before the base's site-packages too.
    const res = inEnv(dir, py, "import purepkg; print(purepkg.hello())");
    expect(res.stdout.trim()).toBe("hello from the zip");
  }, 60_000);

  it("judges zipped modules as every other: another platform's module is no failure", async () => {
    const root = realpathSync(tempDir("slimenv-zipcheck-"));
    const zipwin = buildWheel({
      name: "zipwin",
      version: "1.0",
      files: {
        "zipwin/__init__.py": "X = 1\n",
        "zipwin/win.py": "import winreg\n",
        "zipwin/broken.py": "raise ValueError('zipwin.broken fails')\n",
      },
    });
    const { manifest, failures } = await checkedCandidate(
      root,
      "env",
      [zipwin],
      slimPolicy({ preset: "max" }),
    );
    const summary = manifest.slim?.summary as { packages: { zipModules?: string[] }[] };
    expect([...(summary.packages[0]?.zipModules ?? [])].sort()).toEqual([
      "zipwin",
      "zipwin.broken",
      "zipwin.win",
    ]);
    expect(failures).toEqual([
      {
        name: "zipwin",
        reason: "zipwin.broken: ValueError: zipwin.broken fails",
        modules: ["zipwin.broken"],
        causes: ["ValueError"],
      },
    ]);
  }, 60_000);

  it("checks an isolated env's candidate without the interpreter's own site-packages", async () => {
    const root = realpathSync(tempDir("slimenv-zipcheck-"));
    // pip lives in the interpreter's own site-packages, not in the env.
    const needspip = buildWheel({
      name: "needspip",
      version: "1.0",
      files: { "needspip/__init__.py": "import pip\n" },
    });
    const policy = slimPolicy({ preset: "edge" });
    expect((await checkedCandidate(root, "shared", [needspip], policy)).failures).toEqual([]);
    const isolated = await checkedCandidate(root, "isolated", [needspip], policy, true);
    expect(isolated.failures).toEqual([
      {
        name: "needspip",
        reason: "needspip: ModuleNotFoundError: No module named 'pip'",
        modules: ["needspip"],
        causes: ["ModuleNotFoundError"],
      },
    ]);
    // The env itself agrees.
    const res = inEnv(path.join(root, "isolated"), isolated.py, "import needspip");
    expect(res.stderr).toMatch(/No module named 'pip'/);
    // Nothing of the base's site-packages runs either: not its dirs, not its .pth files
    // (this machine's CPython has setuptools' distutils-precedence.pth there).
    const noleak = buildWheel({
      name: "noleak",
      version: "1.0",
      files: {
        "noleak/__init__.py": [
          "import sys",
          "base = [p for p in sys.path if p.startswith(sys.base_prefix) and p.endswith('-packages')]",
          "hooks = [m for m in ('_distutils_hack',) if m in sys.modules]",
          "if base or hooks:",
          "    raise ImportError('the base site-packages leaked: %r %r' % (base, hooks))",
          "",
        ].join("\n"),
      },
    });
    const leaky = await checkedCandidate(root, "leaky", [noleak], policy);
    expect(leaky.failures?.[0]?.reason).toMatch(/the base site-packages leaked/);
    expect((await checkedCandidate(root, "tight", [noleak], policy, true)).failures).toEqual([]);
    const tight = inEnv(path.join(root, "tight"), isolated.py, "import noleak");
    expect(tight.stderr).toBe("");
  }, 60_000);

  it("a module named like a standard-library one is the stdlib's, in the check as in the env", async () => {
    const root = realpathSync(tempDir("slimenv-zipcheck-"));
    const shadowsStdlib = buildWheel({
      name: "oldcolorsys",
      version: "1.0",
      files: { "colorsys.py": "raise ImportError('the env would never import this file')\n" },
    });
    const { failures, py } = await checkedCandidate(
      root,
      "env",
      [shadowsStdlib],
      slimPolicy({ preset: "edge" }),
    );
    expect(failures).toEqual([]);
    const res = inEnv(path.join(root, "env"), py, "import colorsys; print(colorsys.__file__)");
    expect(res.stdout).toMatch(/python3\.10\/colorsys\.py/);
  }, 60_000);
});
