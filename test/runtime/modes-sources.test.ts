/**
 * The stdlib modes that keep sources in place, each built once from a real CPython with every
 * group dropped: status-quo, py+pyc, py. Each copy starts, imports the module set, has
 * sys.prefix at its folder, and holds exactly the bytecode its mode promises.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RuntimeBuildResult } from "../../src/runtime/build.ts";
import { describeWith } from "../helpers/prereq.ts";
import {
  buildModes,
  expectEachStarts,
  IMPORT_SET,
  listFiles,
  py,
  RUNTIME_PYTHON,
} from "./fixtures.ts";

const PY = RUNTIME_PYTHON.exe;

describeWith(RUNTIME_PYTHON)("stdlib modes with sources in place", () => {
  const python = PY as string;
  const minor = path.basename(python).replace(/^python/, "");
  const tag = `cpython-${minor.replace(".", "")}`;
  let built: Record<string, RuntimeBuildResult> = {};
  let root: string;

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  beforeAll(async () => {
    ({ root, built } = await buildModes(python, "modes-src", ["status-quo", "py+pyc", "py"]));
  });

  it("each copy starts, imports the module set, and reports its own prefix", () => {
    expectEachStarts(built);
    for (const [mode, r] of Object.entries(built)) expect(r.checked.source, mode).toBe(true);
  });

  it("status-quo has .py and three pyc levels; py+pyc only level 0", () => {
    for (const [mode, levels] of [
      ["status-quo", ["", ".opt-1", ".opt-2"]],
      ["py+pyc", [""]],
    ] as const) {
      const r = built[mode] as RuntimeBuildResult;
      const json = path.join(r.out, `lib/python${minor}/json`);
      expect(existsSync(path.join(json, "decoder.py"))).toBe(true);
      const cached = readdirSync(path.join(json, "__pycache__")).filter((f) =>
        f.startsWith("decoder."),
      );
      expect(cached.sort()).toEqual(levels.map((l) => `decoder.${tag}${l}.pyc`).sort());
      // Hash-based, unchecked (PEP 552 flags = 0b01): reproducible and never re-validated.
      const files = listFiles(r.out).filter((f) => f.endsWith(".pyc"));
      expect(files.length).toBe(r.files.compiled);
    }
  });

  it("status-quo loads bytecode with -O and -OO without writing any", () => {
    const r = built["status-quo"] as RuntimeBuildResult;
    const before = listFiles(r.out).length;
    for (const flag of ["-O", "-OO"]) {
      const res = py(r.executable, `import sys; ${IMPORT_SET}; print(sys.flags.optimize)`, [flag]);
      expect(res.stderr, flag).toBe("");
      expect(res.stdout, flag).toBe(`${flag.length - 1}\n`);
    }
    expect(listFiles(r.out).length).toBe(before);
  });

  it("py has no .pyc and writes no __pycache__ after running", () => {
    const r = built.py as RuntimeBuildResult;
    const files = listFiles(r.out);
    expect(files.filter((f) => f.endsWith(".pyc"))).toEqual([]);
    const res = py(r.executable, `${IMPORT_SET}; import json; json.loads('[1]')`);
    expect(res.status).toBe(0);
    // Also with -I and -S (no site): the guard does not depend on site or the environment.
    for (const flags of [["-I"], ["-S"]]) {
      const again = py(r.executable, `${IMPORT_SET}`, flags);
      expect(again.status, flags.join(" ")).toBe(0);
    }
    expect(listFiles(r.out)).toEqual(files);
    expect(files.filter((f) => f.endsWith(".pyc"))).toEqual([]);
  });

  it("the modes are ordered by size: status-quo > py+pyc > py", () => {
    const sq = built["status-quo"]?.size.python.onDisk ?? 0;
    const one = built["py+pyc"]?.size.python.onDisk ?? 0;
    const none = built.py?.size.python.onDisk ?? 0;
    expect(sq).toBeGreaterThan(one);
    expect(one).toBeGreaterThan(none);
  });
});
