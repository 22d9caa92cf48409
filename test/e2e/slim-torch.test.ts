/**
 * `install --slim edge` with the CPU build of torch (the machine's wheel in pip's find-links
 * folder, its dependencies from the real PyPI; run by `npm run test:e2e`, skipped where the
 * wheel is missing): the slimmed env fails no import that a plain pip venv of the same set
 * does not fail too (torch and sympy have modules that fail everywhere — they stay slimmed),
 * and a small torch program prints the same in a pip venv, under `--slim edge`, and under
 * `--slim edge --keep-used-by` the program (pruned to what it touched, far below the rest).
 * Variables: SLIMENV_E2E_PYTHON311, SLIMENV_E2E_TORCH_WHEELS (default /opt/wheels).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  hasTorchWheel,
  python311,
  TORCH_PROGRAM,
  TORCH_SET,
  TORCH_WHEELS,
} from "../../bench/slim-sets.ts";
import { e2eWorld } from "./e2e-world.ts";

const PY = python311();

interface CheckJson {
  ok: boolean;
  packages: { name: string; failed: { module: string; error: string }[] }[];
}

interface SlimJson {
  checked: boolean;
  unslimmed: { name: string }[];
  preexisting: { name: string; modules: string[] }[];
  usage?: { kept: boolean; floorBytes: number; prunedBytes?: number; policyBytes: number };
}

describe.skipIf(PY === undefined || !hasTorchWheel())("install --slim edge: torch (CPU)", () => {
  const world = e2eWorld("slimenv-e2e-torch-");
  const { base, run, slimenv } = world;
  const prog = path.join(base, "prog.py");
  const venv = path.join(base, "venv");
  let reference = "";
  afterAll(() => world.cleanup());

  function install(name: string, ...slim: string[]): SlimJson {
    const res = slimenv([
      "install",
      ...TORCH_SET,
      "-f",
      TORCH_WHEELS,
      "--prefix",
      path.join(base, name),
      "--python",
      PY as string,
      "--json",
      // Like the pip venv, the env does not see the interpreter's own site-packages (which
      // may hold numpy, and so change which of torch's optional modules import).
      "--isolated",
      ...slim,
    ]);
    expect(res.status, `${res.stdout}\n${res.stderr}`).toBe(0);
    return (JSON.parse(res.stdout) as { slim: SlimJson }).slim;
  }
  function program(python: string): string {
    const res = run(python, [prog]);
    expect(res.status, res.stderr).toBe(0);
    return res.stdout;
  }
  function failedModules(dir: string): string[] {
    const res = slimenv(["check", dir, "--json"]);
    const report = JSON.parse(res.stdout) as CheckJson;
    return report.packages.flatMap((p) => p.failed.map((f) => f.module)).sort();
  }

  beforeAll(() => {
    mkdirSync(base, { recursive: true });
    writeFileSync(prog, TORCH_PROGRAM);
    expect(run(PY as string, ["-m", "venv", venv]).status).toBe(0);
    const pip = run(path.join(venv, "bin", "python"), [
      "-m",
      "pip",
      "install",
      "-q",
      "-f",
      TORCH_WHEELS,
      ...TORCH_SET,
    ]);
    expect(pip.status, pip.stderr).toBe(0);
    reference = program(path.join(venv, "bin", "python"));
  }, 900_000);

  it("the program's reference output (pip venv)", () => {
    expect(reference).toMatch(/^torch 2\.13\.0\+cpu .*\nsolve .*\nconv \(1, 1, 3, 3\)\n$/);
  });

  it("--slim edge: nothing broken by slimming, same output, same failures as pip's venv", () => {
    const slim = install("edge", "--slim", "edge");
    expect(slim.checked).toBe(true);
    expect(slim.unslimmed).toEqual([]);
    // Failing modules are torch's and sympy's own, and they keep their packages slimmed.
    const edgeFailed = failedModules(path.join(base, "edge"));
    expect(edgeFailed).toEqual(failedModules(venv));
    expect(slim.preexisting.flatMap((p) => p.modules).sort()).toEqual(edgeFailed);
    expect(program(path.join(base, "edge", "bin", "python"))).toBe(reference);
  });

  it("--slim edge --keep-used-by: pruned, proved by the same output", () => {
    const slim = install("used", "--slim", "edge", "--keep-used-by", `python ${prog}`);
    const usage = slim.usage;
    expect(usage?.kept).toBe(true);
    expect(usage?.prunedBytes).toBeLessThan((usage?.policyBytes ?? 0) * 0.9);
    expect(usage?.floorBytes).toBeLessThanOrEqual(usage?.prunedBytes ?? 0);
    expect(program(path.join(base, "used", "bin", "python"))).toBe(reference);
  });
});
