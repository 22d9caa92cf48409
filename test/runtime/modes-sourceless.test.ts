/**
 * The sourceless stdlib modes, each built once from a real CPython with every group dropped:
 * pyc+zipped-source (tracebacks and inspect read the archive), pyc-only (no .py at all) and
 * pyc-zip (modules come from lib/pythonXY.zip).
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RuntimeBuildResult } from "../../src/runtime/build.ts";
import { SOURCE_ARCHIVE } from "../../src/runtime/python-scripts.ts";
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

describeWith(RUNTIME_PYTHON)("sourceless stdlib modes", () => {
  const python = PY as string;
  const minor = path.basename(python).replace(/^python/, "");
  const stdlibRel = `lib/python${minor}`;
  let built: Record<string, RuntimeBuildResult> = {};
  let root: string;

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  beforeAll(async () => {
    ({ root, built } = await buildModes(python, "modes-pyc", [
      "pyc+zipped-source",
      "pyc-only",
      "pyc-zip",
    ]));
  });

  it("each copy starts, imports the module set, and reports its own prefix", () => {
    expectEachStarts(built);
  });

  it("pyc-only has no .py and no __pycache__, and writes none", () => {
    const r = built["pyc-only"] as RuntimeBuildResult;
    const files = listFiles(r.out);
    expect(r.files.compileFailed).toEqual([]);
    expect(files.filter((f) => f.endsWith(".py"))).toEqual([]);
    expect(files.filter((f) => f.includes("__pycache__"))).toEqual([]);
    expect(files).toContain(`${stdlibRel}/json/decoder.pyc`);
    const res = py(r.executable, `${IMPORT_SET}; import json; print(json.__file__)`);
    expect(res.stdout.trim()).toBe(path.join(r.out, stdlibRel, "json", "__init__.pyc"));
    expect(listFiles(r.out)).toEqual(files);
  });

  it("pyc+zipped-source: tracebacks show source lines, inspect.getsource works", () => {
    const r = built["pyc+zipped-source"] as RuntimeBuildResult;
    const files = listFiles(r.out);
    expect(files.filter((f) => f.endsWith(".py"))).toEqual([]);
    expect(files).toContain(`${stdlibRel}/${SOURCE_ARCHIVE}`);
    expect(files).toContain(`${stdlibRel}/sitecustomize.pyc`);
    // Uncaught: the default excepthook's output.
    const uncaught = py(r.executable, "import json; json.loads('{')");
    expect(uncaught.status).toBe(1);
    const lines = uncaught.stderr.split("\n");
    const at = lines.findIndex((l) => /json\/decoder\.py", line \d+, in raw_decode/.test(l));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(lines[at + 1]).toMatch(/^\s+obj, end = self\.scan_once\(s, idx\)/);
    // Caught, through the traceback module, and inspect.
    const caught = py(
      r.executable,
      [
        "import inspect, json, traceback, linecache",
        "try:\n  json.loads('{')\nexcept ValueError as e:\n  print([f.line for f in traceback.extract_tb(e.__traceback__)][-1])",
        "print(inspect.getsource(json.dumps).splitlines()[0])",
        "import decimal; print(len(inspect.getsource(decimal)) > 100)",
      ].join("\n"),
    );
    expect(caught.stderr).toBe("");
    expect(caught.stdout).toBe(
      "obj, end = self.scan_once(s, idx)\ndef dumps(obj, *, skipkeys=False, ensure_ascii=True, check_circular=True,\nTrue\n",
    );
    // Without the hook (-S), the copy still runs; only the sources are missing.
    const bare = py(r.executable, `${IMPORT_SET}; print('ok')`, ["-S"]);
    expect(bare.stdout).toBe("ok\n");
  });

  it("pyc-zip: modules come from lib/pythonXY.zip; lib-dynload and the landmark stay outside", () => {
    const r = built["pyc-zip"] as RuntimeBuildResult;
    const zip = `lib/python${minor.replace(".", "")}.zip`;
    expect(existsSync(path.join(r.out, zip))).toBe(true);
    const res = py(
      r.executable,
      `${IMPORT_SET}; import json, sys; print(json.__file__); print(decimal.__file__)`,
    );
    expect(res.stderr).toBe("");
    expect(res.stdout).toBe(
      `${path.join(r.out, zip, "json", "__init__.pyc")}\n${path.join(r.out, zip, "decimal.pyc")}\n`,
    );
    const outside = readdirSync(path.join(r.out, stdlibRel)).sort();
    expect(outside).toContain("lib-dynload");
    expect(outside).toContain("os.pyc");
    expect(outside).not.toContain("json");
    expect(listFiles(r.out).filter((f) => f.endsWith(".py"))).toEqual([]);
  });

  it("sizes: pyc-zip < pyc-only < pyc+zipped-source", () => {
    const size = (m: string) => built[m]?.size.python.onDisk ?? 0;
    expect(size("pyc-zip")).toBeLessThan(size("pyc-only"));
    expect(size("pyc-only")).toBeLessThan(size("pyc+zipped-source"));
  });
});
