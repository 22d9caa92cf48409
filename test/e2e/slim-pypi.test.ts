/**
 * `slimenv install --slim edge` against the real PyPI (run by `npm run test:e2e`, not by
 * `npm test`): numpy, scipy, pandas, opencv-python-headless and pillow on CPython 3.11,
 * through the CLI. `slimenv check` fails nothing in the slimmed env that it does not fail in
 * the unslimmed one (`--slim none`), `import numpy` works (the auditwheel trap: stripping
 * numpy.libs/ breaks it), the never-strip rules left the vendored
 * libraries exactly as the store has them, and a small program using each package prints
 * the same as in an unslimmed env (`--slim none`) and in a plain `python -m venv` + pip —
 * and under `--slim edge --keep-used-by` the program, pruned to the files it touched.
 * Variables: SLIMENV_E2E_PYTHON311 (default pyenv's newest 3.11).
 */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { python311, SLIM_PROGRAM, SLIM_SET, walkFiles } from "../../bench/slim-sets.ts";
import { neverStripReason } from "../../src/slim/strip/never-strip.ts";
import { e2eWorld } from "./e2e-world.ts";

const PY = python311();

describe.skipIf(PY === undefined)("install --slim edge: numpy, scipy, pandas, cv2, pillow", () => {
  const world = e2eWorld("slimenv-e2e-slim-");
  const { base, run, slimenv } = world;
  const prog = path.join(base, "prog.py");
  const outputs: Record<string, string> = {};
  let edgeUnslimmed: { name: string; reason: string }[] = [];
  let edgePreexisting: { name: string; modules: string[] }[] = [];
  afterAll(() => world.cleanup());

  function install(name: string, preset: string, ...more: string[]): Record<string, unknown> {
    const dir = path.join(base, name);
    const res = slimenv([
      "install",
      ...SLIM_SET,
      "--prefix",
      dir,
      "--slim",
      preset,
      "--python",
      PY as string,
      "--json",
      ...more,
    ]);
    expect(res.status, `${res.stdout}\n${res.stderr}`).toBe(0);
    return JSON.parse(res.stdout) as Record<string, unknown>;
  }
  function program(python: string): string {
    const res = run(python, [prog]);
    expect(res.status, res.stderr).toBe(0);
    return res.stdout;
  }
  function siteDir(dir: string): string {
    const lib = path.join(dir, "lib");
    const v = readdirSync(lib).find((x) => /^python3\.\d+$/.test(x));
    return path.join(lib, v as string, "site-packages");
  }

  beforeAll(() => {
    mkdirSync(base, { recursive: true });
    writeFileSync(prog, SLIM_PROGRAM);
  });

  it("--slim none: the program runs (the reference output)", () => {
    const json = install("none", "none");
    const names = (json.packages as { name: string }[]).map((p) => p.name);
    for (const n of ["numpy", "scipy", "pandas", "opencv-python-headless", "pillow"]) {
      expect(names).toContain(n);
    }
    outputs.none = program(path.join(base, "none", "bin", "python"));
    expect(outputs.none).toMatch(/^numpy .*\nscipy .*True\npandas .*\npillow .*\ncv2 .*\n$/);
  });

  it("--slim edge: checked, import numpy works, same output, numpy.libs untouched", () => {
    const json = install("edge", "edge");
    const slim = json.slim as {
      checked: boolean;
      unslimmed: { name: string; reason: string }[];
      preexisting: { name: string; modules: string[] }[];
      summary: { packages: { name: string; stripped: number; droppedFiles: number }[] };
    };
    expect(slim.checked).toBe(true);
    edgeUnslimmed = slim.unslimmed;
    edgePreexisting = slim.preexisting;
    // numpy (the auditwheel trap) stays slimmed: it did not need the rebuild-unslimmed fallback.
    expect(slim.unslimmed.map((u) => u.name)).not.toContain("numpy");
    const numpySummary = slim.summary.packages.find((p) => p.name === "numpy");
    expect(numpySummary?.droppedFiles).toBeGreaterThan(0);

    const dir = path.join(base, "edge");
    const py = path.join(dir, "bin", "python");
    const imp = run(py, [
      "-c",
      "import numpy, numpy.linalg; print(numpy.linalg.solve([[2.0]], [4.0]))",
    ]);
    expect(imp.status, imp.stderr).toBe(0);
    expect(imp.stdout.trim()).toBe("[2.]");

    outputs.edge = program(py);
    expect(outputs.edge).toBe(outputs.none);

    // The never-strip rules: every file they name is exactly the store's object — the same
    // inode as in the unslimmed env (both hard-link the store) — and numpy.libs is among them.
    const site = siteDir(dir);
    const noneSite = siteDir(path.join(base, "none"));
    const skipped = walkFiles(site)
      .filter((rel) => /\.so(\.\d+)*$/.test(rel) && neverStripReason(rel) !== undefined)
      .sort();
    expect(skipped.some((rel) => rel.startsWith("numpy.libs/"))).toBe(true);
    for (const rel of skipped) {
      const a = statSync(path.join(site, rel));
      const b = statSync(path.join(noneSite, rel));
      expect({ rel, size: a.size, ino: a.ino }).toEqual({ rel, size: b.size, ino: b.ino });
    }
    const stripped = Object.fromEntries(slim.summary.packages.map((p) => [p.name, p.stripped]));
    console.log(
      JSON.stringify(
        { neverStripSkipped: skipped, strippedPerPackage: stripped, unslimmed: slim.unslimmed },
        null,
        1,
      ),
    );
  });

  it("--slim edge: the import check fails nothing the unslimmed env does not fail", () => {
    const failures = (name: string) => {
      const check = slimenv(["check", path.join(base, name), "--json"]);
      const report = JSON.parse(check.stdout) as {
        totals: Record<string, number>;
        packages: { name: string; failed: { module: string; error: string }[] }[];
      };
      console.log(JSON.stringify({ env: name, checkTotals: report.totals }, null, 1));
      return report.packages.flatMap((p) => p.failed.map((f) => `${p.name}: ${f.module}`)).sort();
    };
    const edge = failures("edge");
    // What fails in the slimmed env fails just the same unslimmed (e.g. pillow 13's
    // PIL._typing on 3.11), and install --slim said so instead of rebuilding the package.
    console.log(JSON.stringify({ failedInBoth: edge }, null, 1));
    expect(edge).toEqual(failures("none"));
    expect(edgeUnslimmed).toEqual([]);
    expect(edgePreexisting.flatMap((p) => p.modules.map((m) => `${p.name}: ${m}`)).sort()).toEqual(
      edge,
    );
  });

  it("--slim edge --keep-used-by the program: pruned, proved by the same output", () => {
    const json = install("used", "edge", "--keep-used-by", `python ${prog}`);
    const slim = json.slim as {
      unslimmed: unknown[];
      usage: {
        kept: boolean;
        reason?: string;
        floorBytes: number;
        prunedBytes?: number;
        policyBytes: number;
        usedFiles: number;
      };
    };
    expect(slim.usage.kept, slim.usage.reason).toBe(true);
    expect(slim.unslimmed).toEqual([]);
    // The pruned tree holds the touched files and the launchers/metadata: near the floor,
    // well below the policy-only tree.
    expect(slim.usage.prunedBytes).toBeLessThan(slim.usage.policyBytes * 0.9);
    expect(slim.usage.floorBytes).toBeLessThanOrEqual(slim.usage.prunedBytes ?? 0);
    const used = program(path.join(base, "used", "bin", "python"));
    expect(used).toBe(outputs.none);
    console.log(JSON.stringify({ keepUsedBy: slim.usage }, null, 1));
  });

  it("a plain python -m venv + pip install gives the same output", () => {
    const venv = path.join(base, "venv");
    expect(run(PY as string, ["-m", "venv", venv]).status).toBe(0);
    const pip = run(path.join(venv, "bin", "python"), ["-m", "pip", "install", "-q", ...SLIM_SET]);
    expect(pip.status, pip.stderr).toBe(0);
    outputs.venv = program(path.join(venv, "bin", "python"));
    expect(outputs.venv).toBe(outputs.none);
    expect(existsSync(path.join(base, "edge"))).toBe(true);
    expect(outputs.edge).toBe(outputs.venv);
  });
});
