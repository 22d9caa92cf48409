/**
 * Shared by bench/build.ts and bench/build-sdist.ts: the interpreter, the bench folder and
 * SLIMENV_HOME, running slimenv and an env's python, and size formatting.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { benchPython, ROOT } from "./report.ts";

export const PY = benchPython();
export const DIR =
  process.env.BENCH_DIR ?? mkdtempSync(path.join(os.tmpdir(), "slimenv-bench-build-"));
export const HOME = process.env.BENCH_HOME ?? path.join(DIR, "home");
mkdirSync(DIR, { recursive: true });
const BIN = path.join(ROOT, "bin", "slimenv.js");

/** Run slimenv with the bench's home (or `home`); its wall time in seconds. Throws if it fails. */
export function slimenv(args: string[], home = HOME): { seconds: number; out: string } {
  const started = performance.now();
  const res = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, SLIMENV_HOME: home, SLIMENV_FROM_SOURCE: "1", NO_COLOR: "1" },
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  const seconds = (performance.now() - started) / 1000;
  if (res.status !== 0) {
    throw new Error(`slimenv ${args.join(" ")} failed:\n${res.stderr.slice(-4000)}`);
  }
  return { seconds, out: res.stdout + res.stderr };
}

/** Run `python` of a prefix env (its launcher finds python3.X on PATH). */
export function py(env: string, args: string[]): { status: number; out: string } {
  const res = spawnSync(path.join(env, "bin", "python"), args, {
    encoding: "utf8",
    env: { ...process.env, PATH: `${path.dirname(PY)}:${process.env.PATH ?? ""}` },
    cwd: DIR,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: res.status ?? -1, out: `${res.stdout}${res.stderr}` };
}

export const MiB = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
export const KiB = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
export const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)}%`;
