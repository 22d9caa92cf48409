/**
 * The python commands end to end, with a temp SLIMENV_HOME: bin/slimenv.js run by this Node
 * (the built bundle when fresh, else the sources) where an interpreter is found or probed,
 * in-process (runCli) for spec targets and usage errors.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeInterpreter } from "../../src/python/probe.ts";
import { targetFromProbe } from "../../src/python/target.ts";
import { targetFromSpec } from "../../src/python/target-spec.ts";
import { cliInProcess } from "../helpers/cli.ts";
import { pyenvPythons } from "./pythons.ts";

const BIN = path.resolve(import.meta.dirname, "..", "..", "bin", "slimenv.js");
let home: string;

beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), "slimenv-cli-python-"));
});
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
});

function slimenv(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, SLIMENV_HOME: home, NO_COLOR: "1" },
    timeout: 120_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** The same CLI in-process (runCli): for what needs no interpreter probe (spec targets, usage). */
function inProcess(...args: string[]) {
  return cliInProcess(args, { env: { ...process.env, SLIMENV_HOME: home, NO_COLOR: "1" } });
}

describe("slimenv python", () => {
  it("list --json lists interpreters with one default", () => {
    const res = slimenv("python", "list", "--json");
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    const data = JSON.parse(res.stdout) as {
      interpreters: { version: string; executable: string; source: string; default: boolean }[];
      default: string | null;
    };
    expect(data.interpreters.length).toBeGreaterThanOrEqual(pyenvPythons().length);
    expect(data.interpreters.filter((i) => i.default)).toHaveLength(1);
    expect(data.interpreters.find((i) => i.default)?.executable).toBe(data.default);
    for (const i of data.interpreters) {
      expect(existsSync(i.executable)).toBe(true);
      expect(i.version).toMatch(/^3\.\d+\.\d+$/);
      expect(["path", "pyenv"]).toContain(i.source);
    }
    for (const py of pyenvPythons()) {
      expect(data.interpreters.some((i) => i.version === py.name)).toBe(true);
    }
  });

  it("list prints a table", () => {
    const res = slimenv("python", "list");
    expect(res.status).toBe(0);
    expect(res.stdout.split("\n")[0]).toMatch(/VERSION\s+IMPLEMENTATION\s+FOUND\s+EXECUTABLE/);
    expect(res.stdout).toMatch(/^\*\s+3\.\d+\.\d+/m);
  });

  it("probe --tags prints the interpreter's tags, most preferred first", async () => {
    const py = pyenvPythons().at(-1);
    if (!py) throw new Error("no CPython under pyenv");
    const res = slimenv("python", "probe", "--python", py.exe, "--tags");
    expect(res.status).toBe(0);
    const want = targetFromProbe(
      await probeInterpreter(py.exe, { env: { ...process.env, SLIMENV_HOME: home } }),
    );
    expect(res.stdout.trimEnd().split("\n")).toEqual(want.tags);
  });

  it("probe prints a summary and --json the probe and target", () => {
    const py = pyenvPythons().at(-1);
    if (!py) throw new Error("no CPython under pyenv");
    const human = slimenv("python", "probe", "--python", py.exe);
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(
      new RegExp(`^python\\s+CPython ${py.name.replace(/\./g, "\\.")}$`, "m"),
    );
    expect(human.stdout).toMatch(/^platform\s+linux x86_64, glibc \d+\.\d+$/m);
    const json = slimenv("python", "probe", "--python", py.exe, "--json");
    expect(json.status).toBe(0);
    const data = JSON.parse(json.stdout);
    expect(data.target.source).toBe("probe");
    expect(data.probe.version.join(".")).toBe(py.name);
    expect(data.interpreter.source).toBe("explicit");
  });

  it("probe from a spec needs no interpreter", async () => {
    const spec = { pythonVersion: "3.11", platform: "manylinux_2_28_aarch64" };
    const want = targetFromSpec(spec);
    const tags = await inProcess(
      "python",
      "probe",
      "--python-version",
      "3.11",
      "--platform",
      spec.platform,
      "--tags",
    );
    expect(tags.status).toBe(0);
    expect(tags.stdout.trimEnd().split("\n")).toEqual(want.tags);
    const json = await inProcess(
      "python",
      "probe",
      "--python-version",
      "3.11",
      "--platform",
      spec.platform,
      "--json",
    );
    expect(JSON.parse(json.stdout)).toEqual({ target: want });
    const human = await inProcess(
      "python",
      "probe",
      "--python-version",
      "3.11",
      "--platform",
      spec.platform,
    );
    expect(human.stdout).toMatch(/^interpreter\s+none \(target built from a spec\)$/m);
    expect(human.stdout).toMatch(/^platform\s+linux aarch64, glibc 2\.28$/m);
  });

  it("a bad spec exits 1 with INVALID_TARGET", async () => {
    const res = await inProcess(
      "python",
      "probe",
      "--python-version",
      "3.11",
      "--platform",
      "manylinux_2_28_arm64",
    );
    expect(res.status).toBe(1);
    expect(res.stdout).toBe("");
    expect(res.stderr).toMatch(
      /^error: \[INVALID_TARGET\] invalid platform "manylinux_2_28_arm64"/,
    );
    expect(res.stderr).toMatch(/^hint: accepted forms:/m);
    const json = await inProcess(
      "python",
      "probe",
      "--python-version",
      "2.7",
      "--platform",
      "win_amd64",
      "--json",
    );
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout).error.code).toBe("INVALID_TARGET");
  });

  it("bad option combinations and requests exit 2 with INVALID_OPTION", async () => {
    const half = await inProcess("python", "probe", "--python-version", "3.11");
    expect(half.status).toBe(2);
    expect(half.stderr).toMatch(
      /\[INVALID_OPTION\] a target without an interpreter needs --platform/,
    );
    const both = await inProcess(
      "python",
      "probe",
      "--python",
      "3.11",
      "--platform",
      "win_amd64",
      "--python-version",
      "3.11",
    );
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/\[INVALID_OPTION\] --python cannot be combined/);
    const bad = await inProcess("python", "probe", "--python", "cpython@");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/\[INVALID_OPTION\] invalid Python request "cpython@"/);
    const missing = await inProcess("python", "probe", "--python", path.join(home, "no-python"));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(
      /\[INTERPRETER_NOT_FOUND\] no interpreter at .*no-python: no such file/,
    );
    const notPython = slimenv("python", "probe", "--python", "/bin/sh");
    expect(notPython.status).toBe(1);
    expect(notPython.stderr).toMatch(/\[INTERPRETER_PROBE_FAILED\]/);
  });
});
