/**
 * `slimenv lock` against the real PyPI (run by `npm run test:e2e`, not by `npm test`): a
 * realistic set locked for the local python3 and for a CPython 3.11 on manylinux_2_28_aarch64;
 * the local lock exported and installed by pip into a fresh venv with --require-hashes,
 * then `pip check`. Prints the timings and package counts.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportLockFile, type LockRunRequest, runLock } from "../../src/resolve/lock-run.ts";
import { resolveSettings } from "../../src/settings/load.ts";

const SET = ["requests", "numpy", "pandas", "scipy", "fastapi", "pydantic", "boto3"];
let root: string;

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), "slimenv-e2e-lock-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function request(dir: string, selection: LockRunRequest["selection"]): LockRunRequest {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SLIMENV_")) env[k] = v;
  env.SLIMENV_HOME = path.join(root, "home");
  env.SLIMENV_NO_CONFIG = "1";
  return {
    cwd: dir,
    env,
    settings: resolveSettings({ env, cwd: dir }),
    selection,
    requirements: SET,
    output: "pylock.toml",
    userAgent: "slimenv/e2e",
  };
}

async function timed(req: LockRunRequest) {
  const started = performance.now();
  const run = await runLock(req);
  return { run, seconds: (performance.now() - started) / 1000 };
}

describe("lock a realistic set from PyPI", () => {
  it("for the local python3: export, install with --require-hashes into a venv, pip check", async () => {
    const dir = path.join(root, "local");
    const cold = await timed(request(dir, { kind: "interpreter", request: "python3" }));
    const warm = await timed(request(dir, { kind: "interpreter", request: "python3" }));
    const pylock = cold.run.result.pylock;
    console.log(
      `local ${cold.run.target.markerEnvironment.python_full_version}: ${pylock.packages.length} packages, cold ${cold.seconds.toFixed(2)}s, warm ${warm.seconds.toFixed(2)}s`,
    );
    expect(warm.run.result.text).toBe(cold.run.result.text);
    const locked = new Set(pylock.packages.map((p) => p.name));
    for (const name of [...SET, "urllib3", "starlette", "pydantic-core", "botocore"]) {
      expect(locked.has(name)).toBe(true);
    }
    for (const p of pylock.packages)
      expect((p.wheels ?? []).length + (p.sdist ? 1 : 0)).toBeGreaterThan(0);

    exportLockFile({
      cwd: dir,
      lockFile: "pylock.toml",
      format: "requirements",
      output: "req.txt",
    });
    const venv = path.join(dir, "venv");
    // The venv is made by the very interpreter slimenv probed and locked for.
    const python = cold.run.interpreter ?? "python3";
    const mk = spawnSync(python, ["-m", "venv", venv], { encoding: "utf8" });
    expect(mk.status).toBe(0);
    const pip = path.join(venv, "bin", "pip");
    const started = performance.now();
    const install = spawnSync(
      pip,
      [
        "install",
        "--no-deps",
        "--require-hashes",
        "--disable-pip-version-check",
        "-q",
        "-r",
        path.join(dir, "req.txt"),
      ],
      { encoding: "utf8", timeout: 900_000 },
    );
    console.log(
      `pip install --require-hashes: ${((performance.now() - started) / 1000).toFixed(1)}s`,
    );
    if (install.status !== 0) console.log(install.stdout, install.stderr);
    expect(install.status).toBe(0);
    const check = spawnSync(pip, ["check", "--disable-pip-version-check"], { encoding: "utf8" });
    console.log(`pip check: ${check.stdout.trim()}`);
    expect(check.status).toBe(0);
    expect(check.stdout).toMatch(/No broken requirements found/);
  });

  it("for CPython 3.11 on manylinux_2_28_aarch64", async () => {
    const dir = path.join(root, "aarch64");
    const { run, seconds } = await timed(
      request(dir, {
        kind: "spec",
        spec: { pythonVersion: "3.11", platform: "manylinux_2_28_aarch64" },
      }),
    );
    const pylock = run.result.pylock;
    console.log(`aarch64 3.11: ${pylock.packages.length} packages in ${seconds.toFixed(2)}s`);
    expect(pylock.environments).toEqual([
      'python_version == "3.11" and implementation_name == "cpython" and sys_platform == "linux" and platform_machine == "aarch64"',
    ]);
    const numpy = pylock.packages.find((p) => p.name === "numpy");
    expect(numpy?.wheels?.length).toBeGreaterThan(0);
    for (const w of numpy?.wheels ?? []) expect(w.name).toMatch(/cp311-cp311-.*aarch64\.whl$/);
    const check = await runLock({
      ...request(dir, {
        kind: "spec",
        spec: { pythonVersion: "3.11", platform: "manylinux_2_28_aarch64" },
      }),
      check: true,
    });
    expect(check.check).toEqual({ upToDate: true, reasons: [] });
  });
});
