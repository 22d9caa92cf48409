/** `runtime --table` on a real CPython, two cheap modes and one variant: rows, ratios, Markdown. */
import { expect, it } from "vitest";
import { runtimeTable, tableCells, tableMarkdown } from "../../src/runtime/table.ts";
import { describeWith } from "../helpers/prereq.ts";
import { ALL_DROPS, RUNTIME_PYTHON } from "./fixtures.ts";

const PY = RUNTIME_PYTHON.exe;

describeWith(RUNTIME_PYTHON)("runtime table", () => {
  it("builds, checks, measures and times each mode against the first", async () => {
    const table = await runtimeTable({
      python: PY as string,
      variants: [{ name: "all dropped", drops: ALL_DROPS }],
      modes: ["py", "pyc-only"],
      rounds: 2,
    });
    expect(table.rows.map((r) => r.mode)).toEqual(["py", "pyc-only"]);
    expect(table.moduleSet).toContain("json");
    const [py, pyc] = table.rows;
    expect(py?.works).toBe(true);
    expect(pyc?.works).toBe(true);
    expect(py?.source).toBe("yes");
    expect(pyc?.source).toBe("n/a");
    // No status-quo row: the first row is the baseline.
    expect(py?.startupRatio).toBeCloseTo(1, 5);
    expect(py?.vsStatusQuo.total).toBe(0);
    // Timed ratios are measured, not asserted here (a loaded machine makes any bound flaky):
    // bench/runtime.ts (npm run bench:runtime) reports them. Here: they are real ratios.
    for (const row of [py, pyc]) {
      expect(row?.startupRatio).toBeGreaterThan(0);
      expect(Number.isFinite(row?.importRatio)).toBe(true);
      expect(row?.importRatio).toBeGreaterThan(0);
    }
    expect(pyc?.size.native.onDisk).toBe(py?.size.native.onDisk);
    const md = tableMarkdown(table);
    expect(md.split("\n")).toHaveLength(4);
    expect(md).toContain("| all dropped | pyc-only |");
    expect(tableCells(table)[0]?.[0]).toBe("variant");
  });

  it("rejects an unknown drop group before building anything", async () => {
    await expect(
      runtimeTable({ python: PY as string, variants: [{ name: "x", drops: ["nah"] }] }),
    ).rejects.toMatchObject({ code: "INVALID_OPTION" });
  });
});
