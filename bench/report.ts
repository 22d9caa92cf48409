/**
 * Shared bits for benchmarks: run a command many times, summarize, and write a section of
 * docs/benchmarks.md between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` markers.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "..");
const DOC = path.join(ROOT, "docs", "benchmarks.md");

export interface Timing {
  label: string;
  samples: number[];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

/** Wall time of one run in milliseconds; throws if the command fails. */
export function timeOnce(cmd: string, args: string[], env?: NodeJS.ProcessEnv): number {
  const start = process.hrtime.bigint();
  const res = spawnSync(cmd, args, { env: env ?? process.env, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${res.stderr}`);
  return ms;
}

/** Replace (or append) the named section of docs/benchmarks.md, atomically. */
export function writeSection(name: string, markdown: string): void {
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const block = `${open}\n${markdown.trim()}\n${close}`;
  const current = existsSync(DOC) ? readFileSync(DOC, "utf8") : "# Benchmarks\n";
  const start = current.indexOf(open);
  const end = current.indexOf(close);
  const next =
    start >= 0 && end > start
      ? current.slice(0, start) + block + current.slice(end + close.length)
      : `${current.trimEnd()}\n\n${block}\n`;
  const tmp = `${DOC}.tmp-${process.pid}`;
  writeFileSync(tmp, next);
  renameSync(tmp, DOC);
}

/** $BENCH_PYTHON, else pyenv's newest CPython 3.12, else python3. */
export function benchPython(): string {
  if (process.env.BENCH_PYTHON) return process.env.BENCH_PYTHON;
  const pyenv = path.join(os.homedir(), ".pyenv", "versions");
  if (existsSync(pyenv)) {
    const v = readdirSync(pyenv)
      .filter((x) => /^3\.12\.\d+$/.test(x))
      .pop();
    if (v !== undefined) return path.join(pyenv, v, "bin", "python3.12");
  }
  return "python3";
}

export interface Ran {
  stdout: string;
  stderr: string;
  status: number | null;
  /** Wall time in milliseconds. */
  ms: number;
}

/** A command runner with one environment and working folder: throws (with stderr) on failure. */
export function commandRunner(
  env: NodeJS.ProcessEnv,
  workDir: string,
): (cmd: string, args: string[], cwd?: string) => Ran {
  return (cmd, args, cwd = workDir) => {
    const start = performance.now();
    const res = spawnSync(cmd, args, { env, cwd, encoding: "utf8", maxBuffer: 1 << 28 });
    const ms = performance.now() - start;
    if (res.status !== 0) {
      throw new Error(`${cmd} ${args.join(" ")} failed (${res.status}): ${res.stderr}`);
    }
    return { stdout: res.stdout, stderr: res.stderr, status: res.status, ms };
  };
}
