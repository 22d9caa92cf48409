/**
 * slimenv runtime on a real pyenv CPython, in the cheap `py` mode (no compiling): bad input
 * creates nothing; drop groups remove exactly their paths; the copy works after its folder
 * moves; the defaults (pyc-only, drop devel, strip debug, none without a strip tool); a
 * rebuild replaces a previous runtime; --strip keeps every lib-dynload module importable.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { isSlimenvError, type SlimenvError } from "../../src/base/index.ts";
import { buildRuntime, RUNTIME_MARKER } from "../../src/runtime/build.ts";
import { DropMatcher, parseDropGroups } from "../../src/runtime/drop-groups.ts";
import { describeWith } from "../helpers/prereq.ts";
import { ALL_DROPS, IMPORT_SET, listFiles, py, RUNTIME_PYTHON, tempDir } from "./fixtures.ts";

const PY = RUNTIME_PYTHON.exe;

async function rejected(p: Promise<unknown>): Promise<SlimenvError> {
  try {
    await p;
  } catch (err) {
    if (isSlimenvError(err)) return err;
    throw err;
  }
  throw new Error("expected a SlimenvError");
}

describeWith(RUNTIME_PYTHON)("slimenv runtime build", () => {
  const python = PY as string;
  const minor = path.basename(python).replace(/^python/, "");
  const stdlibRel = `lib/python${minor}`;
  let root: string;
  let full: string;
  let dropped: string;

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  beforeAll(async () => {
    root = tempDir("build");
    full = path.join(root, "full");
    dropped = path.join(root, "dropped");
    await Promise.all([
      buildRuntime({ python, out: full, mode: "py", drops: [], strip: "none" }),
      buildRuntime({ python, out: dropped, mode: "py", drops: ALL_DROPS, strip: "none" }),
    ]);
  });

  it("bad input is a clear error that creates nothing", async () => {
    const before = readdirSync(root).sort();
    const target = path.join(root, "never");
    const cases: [() => Promise<unknown>, string, RegExp][] = [
      [
        () => buildRuntime({ python: path.join(root, "no-such-python"), out: target }),
        "INTERPRETER_NOT_FOUND",
        /no interpreter at/,
      ],
      [
        () => buildRuntime({ python, out: target, mode: "pyc-zipped" }),
        "INVALID_OPTION",
        /unknown stdlib mode "pyc-zipped"/,
      ],
      [
        () => buildRuntime({ python, out: target, drops: ["tests", "nope"] }),
        "INVALID_OPTION",
        /unknown drop group "nope"/,
      ],
      [
        () => buildRuntime({ python, out: target, strip: "everything" }),
        "INVALID_OPTION",
        /unknown strip mode/,
      ],
      [
        () => buildRuntime({ python, out: path.join(root, "no", "parent") }),
        "INVALID_OPTION",
        /does not exist/,
      ],
    ];
    const busy = path.join(root, "busy");
    mkdirSync(busy);
    writeFileSync(path.join(busy, "keep.txt"), "mine\n");
    cases.push([
      () => buildRuntime({ python, out: busy }),
      "INVALID_OPTION",
      /not empty and is not a slimenv runtime/,
    ]);
    const file = path.join(root, "a-file");
    writeFileSync(file, "x");
    cases.push([() => buildRuntime({ python, out: file }), "INVALID_OPTION", /is not a folder/]);
    const noStripTool = { ...process.env, PATH: path.join(root, "empty-path") };
    cases.push([
      () => buildRuntime({ python, out: target, strip: "debug", env: noStripTool }),
      "RUNTIME_UNSUPPORTED",
      /no strip tool for .* on PATH/,
    ]);
    for (const [p, code, message] of cases) {
      const err = await rejected(p());
      expect(err.code).toBe(code);
      expect(err.message).toMatch(message);
      expect(err.hint).toBeTruthy();
    }
    expect(readdirSync(busy)).toEqual(["keep.txt"]);
    expect(readdirSync(root).sort()).toEqual([...before, "a-file", "busy"].sort());
  });

  it("drop groups remove exactly their paths", () => {
    const prefix = `${stdlibRel}/`;
    const strip = (f: string) => f.slice(prefix.length);
    const fullFiles = listFiles(full).filter((f) => f.startsWith(prefix));
    const keptFiles = new Set(listFiles(dropped).filter((f) => f.startsWith(prefix)));
    const matcher = new DropMatcher(parseDropGroups(ALL_DROPS));
    const removed = fullFiles.filter((f) => !keptFiles.has(f));
    const expected = fullFiles.filter((f) => matcher.match(strip(f)) !== undefined);
    // __pycache__ placeholders of folders that no longer hold sources go with them.
    const removedReal = removed.filter((f) => !f.endsWith("/__pycache__"));
    const expectedReal = expected.filter((f) => !f.endsWith("/__pycache__"));
    expect(removedReal).toEqual(expectedReal);
    expect(removedReal.length).toBeGreaterThan(1000);
    for (const f of removed) expect(matcher.match(strip(f))).toBeDefined();
    for (const f of keptFiles) expect(fullFiles).toContain(f);
    // Some specific paths.
    expect(keptFiles.has(`${prefix}json/__init__.py`)).toBe(true);
    expect(keptFiles.has(`${prefix}idlelib/__init__.py`)).toBe(false);
    expect(fullFiles).toContain(`${prefix}idlelib/__init__.py`);
    expect(existsSync(path.join(dropped, stdlibRel, "test"))).toBe(false);
    expect(readdirSync(path.join(dropped, stdlibRel)).some((n) => n.startsWith("config-"))).toBe(
      false,
    );
    expect(
      readdirSync(path.join(dropped, stdlibRel, "lib-dynload")).some((n) => n.startsWith("_test")),
    ).toBe(false);
  });

  it("runs with sys.prefix at its folder, nothing from site-packages, and after moving", () => {
    const exe = path.join(dropped, "bin", `python${minor}`);
    const res = py(exe, `import sys; ${IMPORT_SET}; print(sys.prefix); print(sys.exec_prefix)`);
    expect(res.stderr).toBe("");
    expect(res.stdout).toBe(`${dropped}\n${dropped}\n`);
    expect(readdirSync(path.join(dropped, stdlibRel, "site-packages"))).toEqual([]);
    expect(existsSync(path.join(dropped, RUNTIME_MARKER))).toBe(true);
    const moved = path.join(root, "moved-elsewhere");
    renameSync(dropped, moved);
    try {
      const again = py(
        path.join(moved, "bin", "python3"),
        `import sys; ${IMPORT_SET}; print(sys.prefix)`,
      );
      expect(again.stderr).toBe("");
      expect(again.stdout).toBe(`${moved}\n`);
      const maps = py(path.join(moved, "bin", "python3"), "print(open('/proc/self/maps').read())");
      const libs = maps.stdout.split("\n").filter((l) => l.includes("libpython"));
      for (const l of libs) expect(l).toContain(moved);
    } finally {
      renameSync(moved, dropped);
    }
  });

  it("drops devel by default; the default --strip gives way to none, with a note, when PATH has no strip tool", async () => {
    const out = path.join(root, "no-strip-tool");
    const env = { ...process.env, PATH: path.join(root, "empty-path") };
    const res = await buildRuntime({ python, out, mode: "py", env });
    expect(res.drops).toEqual(["devel"]);
    expect(readdirSync(path.join(out, stdlibRel)).some((n) => n.startsWith("config-"))).toBe(false);
    expect(existsSync(path.join(out, stdlibRel, "test"))).toBe(true);
    expect(res.strip).toBe("none");
    expect(res.native.stripped).toEqual([]);
    expect(res.check.ok).toBe(true);
    expect(res.notes.join("\n")).toMatch(
      /native code left unstripped: no strip tool .* \(install binutils for the default --strip debug, or pass --strip none\)/,
    );
  });

  it("a rebuild replaces a previous runtime; --strip keeps every lib-dynload module importable", async () => {
    const out = path.join(root, "strip");
    // The defaults: sourceless .pyc, debug info stripped (binutils is on PATH here).
    const first = await buildRuntime({ python, out, drops: ALL_DROPS });
    expect(first.mode).toBe("pyc-only");
    expect(first.strip).toBe("debug");
    expect(first.check.ok).toBe(true);
    expect(first.native.stripped.length).toBeGreaterThan(30);
    expect(first.notes.join("\n")).not.toContain("unstripped");
    expect(existsSync(path.join(out, stdlibRel, "json", "__init__.pyc"))).toBe(true);
    expect(existsSync(path.join(out, stdlibRel, "json", "__init__.py"))).toBe(false);
    writeFileSync(path.join(out, "stale.txt"), "old\n");
    const res = await buildRuntime({
      python,
      out,
      mode: "py",
      drops: ["tests", "devel"],
      strip: "unneeded",
    });
    expect(existsSync(path.join(out, "stale.txt"))).toBe(false);
    expect(res.strip).toBe("unneeded");
    expect(res.native.stripped.length).toBeGreaterThan(30);
    const lib = res.native.libraries.find((l) => l.includes("libpython"));
    if (lib !== undefined) {
      const sections = execFileSync("readelf", ["-S", path.join(out, lib)], { encoding: "utf8" });
      expect(sections).not.toContain(".debug_info");
      expect(sections).not.toContain(".symtab");
    }
    // Every lib-dynload module the original imports also imports in the stripped copy.
    const dynload = path.join(out, stdlibRel, "lib-dynload");
    const names = readdirSync(dynload).map((f) => f.split(".")[0] as string);
    const code = `import importlib, json\nok=[]\nfor n in ${JSON.stringify(names)}:\n  try:\n    importlib.import_module(n); ok.append(n)\n  except Exception: pass\nprint(json.dumps(ok))`;
    const original = JSON.parse(py(python, code).stdout) as string[];
    const copy = JSON.parse(py(res.executable, code).stdout) as string[];
    expect(copy).toEqual(original);
    expect(copy.length).toBeGreaterThan(40);
    expect(res.checked.dynload).toEqual(original);
  });
});
