/** Shared bits for the runtime tests: a real pyenv CPython, temp folders, running copies. */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { buildRuntime, type RuntimeBuildResult } from "../../src/runtime/build.ts";
import { runtimeEnv } from "../../src/runtime/check.ts";
import { pyenv } from "../helpers/prereq.ts";
import { tempDir as cleanedTempDir } from "../helpers/tmp.ts";

/** Every group: the smallest stdlib a test can build (each build then compiles ~560 modules). */
export const ALL_DROPS = [
  "tests",
  "idlelib",
  "tkinter",
  "turtledemo",
  "ensurepip",
  "lib2to3",
  "pydoc_data",
  "distutils",
  "devel",
];

/** pyenv CPython 3.12 (else 3.11): the interpreter the runtime tests copy. */
export const RUNTIME_PYTHON = pyenv("3.12", "3.11");

export function tempDir(label: string): string {
  return cleanedTempDir(`slimenv-runtime-${label}-`);
}

/** Run a copy's interpreter with the clean environment runtime checks use. */
export function py(
  exe: string,
  code: string,
  flags: readonly string[] = [],
): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync(exe, [...flags, "-c", code], {
    env: runtimeEnv(process.env),
    encoding: "utf8",
    cwd: os.tmpdir(),
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** Every file under `root`, relative, `/`-separated, sorted. */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(child);
      else out.push(child);
    }
  };
  walk("");
  return out.sort();
}

export const IMPORT_SET =
  "import json, decimal, sqlite3, ssl, asyncio, email.message, xml.etree.ElementTree, ctypes, unittest, argparse";

/** One runtime copy per mode, all groups dropped, under a fresh folder (removed by `remove`). */
export async function buildModes(
  python: string,
  label: string,
  modes: readonly string[],
): Promise<{ root: string; built: Record<string, RuntimeBuildResult> }> {
  const root = tempDir(label);
  const built: Record<string, RuntimeBuildResult> = {};
  for (const mode of modes) {
    built[mode] = await buildRuntime({
      python,
      out: path.join(root, mode.replace("+", "-")),
      mode,
      drops: ALL_DROPS,
      strip: "none",
    });
  }
  return { root, built };
}

/** Each copy starts, imports the module set, reports its own prefix and passed its check. */
export function expectEachStarts(built: Record<string, RuntimeBuildResult>): void {
  for (const [mode, r] of Object.entries(built)) {
    const res = py(r.executable, `import sys; ${IMPORT_SET}; print(sys.prefix)`);
    expect(res.stderr, mode).toBe("");
    expect(res.stdout, mode).toBe(`${r.out}\n`);
    expect(r.check.ok, mode).toBe(true);
  }
}
