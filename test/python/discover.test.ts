/**
 * Discovery on a PATH and a pyenv root built in a temp folder from this machine's real
 * interpreters (symlinks), so the expected order and answers are known exactly.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSlimenvError } from "../../src/base/index.ts";
import { pyenvRoot } from "../../src/python/candidates.ts";
import {
  discoverInterpreters,
  findInterpreter,
  listInterpreters,
} from "../../src/python/discover.ts";
import { resolveTarget } from "../../src/python/resolve-target.ts";
import type { TestPython } from "./pythons.ts";
import { pyenvPythons, pyenvVersionsDir } from "./pythons.ts";

const all = pyenvPythons();
const byMinor = (m: number): TestPython => {
  const p = all.find((x) => x.minor === m);
  if (!p)
    throw new Error(
      `CPython 3.${m} not found under ${pyenvVersionsDir()}: install it with \`pyenv install 3.${m}\``,
    );
  return p;
};

let tmp: string;
let bin1: string;
let bin2: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "slimenv-discover-"));
  bin1 = path.join(tmp, "bin1");
  bin2 = path.join(tmp, "bin2");
  const pyenv = path.join(tmp, "pyenv");
  for (const d of [bin1, bin2, path.join(pyenv, "versions"), path.join(tmp, "empty")]) {
    mkdirSync(d, { recursive: true });
  }
  // bin1: python3.11 and python3 (3.12); bin2: python3 (3.12 again, same realpath) and python3.13
  symlinkSync(byMinor(11).exe, path.join(bin1, "python3.11"));
  symlinkSync(byMinor(12).exe, path.join(bin1, "python3"));
  symlinkSync(byMinor(12).exe, path.join(bin2, "python3"));
  symlinkSync(byMinor(13).exe, path.join(bin2, "python3.13"));
  symlinkSync(byMinor(11).exe, path.join(bin1, "mypython"));
  writeFileSync(path.join(bin1, "python3.99"), "#!/bin/sh\nexit 1\n");
  chmodSync(path.join(bin1, "python3.99"), 0o755);
  writeFileSync(path.join(bin1, "python3.98"), "not executable");
  // pyenv: 3.10 and 3.12 (3.12 is the same interpreter as on PATH)
  symlinkSync(
    path.dirname(path.dirname(byMinor(10).exe)),
    path.join(pyenv, "versions", byMinor(10).name),
  );
  symlinkSync(
    path.dirname(path.dirname(byMinor(12).exe)),
    path.join(pyenv, "versions", byMinor(12).name),
  );
  mkdirSync(path.join(pyenv, "versions", "broken", "bin"), { recursive: true });
  env = {
    PATH: [bin1, path.join(tmp, "missing"), bin2].join(path.delimiter),
    PYENV_ROOT: pyenv,
    HOME: tmp,
    SLIMENV_HOME: path.join(tmp, "home"),
  };
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

async function failure(
  p: Promise<unknown>,
): Promise<{ code: string; message: string; hint?: string }> {
  try {
    await p;
  } catch (err) {
    if (isSlimenvError(err)) return err as never;
    throw err;
  }
  throw new Error("expected a SlimenvError");
}

describe("discoverInterpreters", () => {
  it("finds PATH interpreters in PATH order, then pyenv, deduplicated", async () => {
    const { interpreters, failures } = await discoverInterpreters({ env });
    expect(interpreters.map((i) => i.probe.version[1])).toEqual([12, 11, 13, 10]);
    const [first, second, third, fourth] = interpreters;
    expect(first?.path).toBe(path.join(bin1, "python3"));
    expect(first?.source).toBe("path");
    expect(first?.foundAt.map((f) => f.source)).toEqual(["path", "path", "pyenv"]);
    expect(first?.foundAt[1]?.path).toBe(path.join(bin2, "python3"));
    expect(second?.path).toBe(path.join(bin1, "python3.11"));
    expect(third?.path).toBe(path.join(bin2, "python3.13"));
    expect(fourth?.source).toBe("pyenv");
    expect(fourth?.executable).toMatch(/python3\.10$/);
    for (const i of interpreters) expect(i.executable).toBe(i.probe.realExecutable);
    expect(failures.map((f) => path.basename(f.path))).toEqual(["python3.99"]);
    expect(failures[0]?.reason).toMatch(/not a working Python interpreter/);
  });

  it("finds nothing on an empty PATH and no pyenv", async () => {
    const bare = { ...env, PATH: path.join(tmp, "empty"), PYENV_ROOT: path.join(tmp, "no-pyenv") };
    expect((await discoverInterpreters({ env: bare })).interpreters).toEqual([]);
    const err = await failure(findInterpreter(undefined, { env: bare }));
    expect(err.code).toBe("INTERPRETER_NOT_FOUND");
    expect(err.message).toMatch(/found no working interpreter on PATH or under pyenv/);
    expect(err.hint).toMatch(/SLIMENV_PYTHON/);
  });

  it("knows pyenv's root", () => {
    expect(pyenvRoot({ PYENV_ROOT: "/x/pyenv" })).toBe(path.resolve("/x/pyenv"));
    expect(pyenvRoot({ HOME: "/home/u" })).toBe(path.join("/home/u", ".pyenv"));
  });
});

describe("findInterpreter", () => {
  it("no request: the first on PATH", async () => {
    const found = await findInterpreter(undefined, { env });
    expect(found.path).toBe(path.join(bin1, "python3"));
    expect(found.probe.version[1]).toBe(12);
  });

  it("no request skips candidates that do not work", async () => {
    const broken = path.join(tmp, "broken-bin");
    mkdirSync(broken, { recursive: true });
    writeFileSync(path.join(broken, "python3"), "#!/bin/sh\nexit 1\n");
    chmodSync(path.join(broken, "python3"), 0o755);
    const found = await findInterpreter(undefined, {
      env: { ...env, PATH: [broken, bin2].join(path.delimiter) },
    });
    expect(found.path).toBe(path.join(bin2, "python3"));
  });

  it("SLIMENV_PYTHON is the default request", async () => {
    const found = await findInterpreter(undefined, { env: { ...env, SLIMENV_PYTHON: "3.10" } });
    expect(found.probe.version[1]).toBe(10);
    const list = await listInterpreters({ env: { ...env, SLIMENV_PYTHON: "3.13" } });
    expect(list.defaultExecutable).toMatch(/python3\.13$/);
    const none = await listInterpreters({ env: { ...env, SLIMENV_PYTHON: "3.99" } });
    expect(none.defaultExecutable).toBeUndefined();
    expect(none.defaultError).toMatch(/^SLIMENV_PYTHON=3\.99: no interpreter matches/);
    const bad = await failure(
      findInterpreter(undefined, { env: { ...env, SLIMENV_PYTHON: "3.x" } }),
    );
    expect(bad.code).toBe("INVALID_OPTION");
  });

  it("a version request gets the newest match", async () => {
    expect((await findInterpreter("3", { env })).probe.version[1]).toBe(13);
    expect((await findInterpreter("cpython3", { env })).probe.version[1]).toBe(13);
    expect((await findInterpreter("3.11", { env })).path).toBe(path.join(bin1, "python3.11"));
    expect((await findInterpreter("cpython@3.10", { env })).source).toBe("pyenv");
    const exact = byMinor(12).name;
    expect((await findInterpreter(exact, { env })).probe.version.join(".")).toBe(exact);
    expect((await findInterpreter("cpython3.13", { env })).probe.version[1]).toBe(13);
    expect((await findInterpreter("cp311", { env })).probe.version[1]).toBe(11);
  });

  it("an executable name means what the shell would run, else a version", async () => {
    // python3 on PATH is 3.12 although 3.13 exists: the command wins.
    const py3 = await findInterpreter("python3", { env });
    expect(py3.path).toBe(path.join(bin1, "python3"));
    expect(py3.probe.version[1]).toBe(12);
    expect((await findInterpreter("python3.13", { env })).path).toBe(path.join(bin2, "python3.13"));
    // No python3.10 command on PATH: the newest 3.10 found anywhere (pyenv).
    const py310 = await findInterpreter("python3.10", { env });
    expect(py310.source).toBe("pyenv");
    expect(py310.probe.version[1]).toBe(10);
    // A python3.99 command that does not work is not taken, and nothing else is 3.99.
    const err = await failure(findInterpreter("python3.99", { env }));
    expect(err.code).toBe("INTERPRETER_NOT_FOUND");
  });

  it("no match lists what was found", async () => {
    for (const req of ["3.9", "pypy@3.10", "3.13t", `3.12.${byMinor(12).name.split(".")[2]}9`]) {
      const err = await failure(findInterpreter(req, { env }));
      expect(err.code).toBe("INTERPRETER_NOT_FOUND");
      expect(err.message).toMatch(
        /^no interpreter matches .*; found: CPython 3\.12\.\d+ \(.*bin1\/python3\)/,
      );
      expect(err.hint).toMatch(/pyenv install/);
    }
  });

  it("an explicit path, relative path, ~ path or env folder", async () => {
    const file = await findInterpreter(path.join(bin2, "python3.13"), { env });
    expect(file.source).toBe("explicit");
    expect(file.probe.version[1]).toBe(13);
    const rel = await findInterpreter("./bin1/python3.11", { env, cwd: tmp });
    expect(rel.probe.version[1]).toBe(11);
    const home = await findInterpreter("~/bin1/python3.11", { env });
    expect(home.path).toBe(path.join(tmp, "bin1", "python3.11"));
    const folder = await findInterpreter(path.dirname(path.dirname(byMinor(10).exe)), { env });
    expect(folder.probe.version[1]).toBe(10);
  });

  it("a missing path, an empty folder, a non-Python file", async () => {
    const missing = await failure(findInterpreter(path.join(tmp, "nothing-here"), { env }));
    expect(missing.code).toBe("INTERPRETER_NOT_FOUND");
    expect(missing.message).toMatch(/no such file/);
    const empty = await failure(findInterpreter(path.join(tmp, "empty"), { env }));
    expect(empty.code).toBe("INTERPRETER_NOT_FOUND");
    expect(empty.message).toMatch(/is a folder with no bin\/python3 or bin\/python in it/);
    const notPython = await failure(findInterpreter(path.join(bin1, "python3.99"), { env }));
    expect(notPython.code).toBe("INTERPRETER_PROBE_FAILED");
  });

  it("a command name is searched on PATH", async () => {
    const found = await findInterpreter("mypython", { env });
    expect(found.source).toBe("command");
    expect(found.path).toBe(path.join(bin1, "mypython"));
    const err = await failure(findInterpreter("no-such-python-command", { env }));
    expect(err.code).toBe("INTERPRETER_NOT_FOUND");
    expect(err.message).toMatch(/no command "no-such-python-command" on PATH/);
  });

  it("a malformed request is INVALID_OPTION", async () => {
    const err = await failure(findInterpreter("cpython@", { env }));
    expect(err.code).toBe("INVALID_OPTION");
  });

  it("resolveTarget probes the interpreter or builds from a spec", async () => {
    const probed = await resolveTarget({ kind: "interpreter", request: "3.11" }, { env });
    expect(probed.interpreter?.probe.version[1]).toBe(11);
    expect(probed.target.tags[0]).toMatch(/^cp311-cp311-/);
    const spec = await resolveTarget({
      kind: "spec",
      spec: { pythonVersion: "3.12", platform: "win_amd64" },
    });
    expect(spec.interpreter).toBeUndefined();
    expect(spec.target.tags[0]).toBe("cp312-cp312-win_amd64");
  });
});
