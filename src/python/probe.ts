/**
 * Probing an interpreter: one run of `python -I -S -c PROBE_SCRIPT` that reports everything
 * later stages need (version, ABI flags, platform and C library, install schemes, the PEP
 * 508 marker environment, pyc magic). Results are cached (see probe-cache.ts) under
 * cacheDir("probes"), keyed by the executable's realpath, size and mtime.
 *
 * Wrapper scripts (a file starting with `#!`, such as pyenv shims) may run a different
 * interpreter each time (`pyenv local`, `pyenv global`), so they are always run; the result
 * is cached under the real executable the wrapper started.
 */
import { open, realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { Reporter } from "../base/index.ts";
import { SlimenvError, silentReporter } from "../base/index.ts";
import { probeCacheKey, readProbeCache, writeProbeCache } from "./probe-cache.ts";
import { PROBE_SCRIPT } from "./probe-script.ts";
import type { InterpreterProbe } from "./probe-types.ts";
import { isProbe, MIN_PYTHON } from "./probe-types.ts";
import { runProcess } from "./process.ts";

export interface ProbeOptions {
  env?: NodeJS.ProcessEnv;
  reporter?: Reporter;
  /** Use and fill the probe cache (default true). */
  cache?: boolean;
  timeoutMs?: number;
}

export type { InterpreterProbe, ProbeElf, ProbeScheme } from "./probe-types.ts";
export { isProbe, isSupportedProbe, MIN_PYTHON } from "./probe-types.ts";

const MARK = "@@SLIMENV-PROBE@@";

/** Probe the interpreter at `exe` (a file path), through the cache. */
export async function probeInterpreter(
  exe: string,
  options: ProbeOptions = {},
): Promise<InterpreterProbe> {
  const env = options.env ?? process.env;
  const reporter = options.reporter ?? silentReporter;
  const useCache = options.cache ?? true;
  const file = path.resolve(exe);
  const info = await stat(file).catch((cause: NodeJS.ErrnoException) => {
    throw new SlimenvError(
      "INTERPRETER_NOT_FOUND",
      `no interpreter at ${file}: ${cause.code === "ENOENT" ? "no such file" : cause.message}`,
      {
        hint: "pass an existing interpreter with --python, or a version such as --python 3.12",
        cause,
      },
    );
  });
  if (!info.isFile()) {
    throw new SlimenvError("INTERPRETER_PROBE_FAILED", `${file} is not a file`, {
      hint: "pass the interpreter executable (e.g. .venv/bin/python), not a folder",
    });
  }
  const real = await realpath(file);
  const wrapper = await isScript(real);
  if (useCache && !wrapper) {
    const cached = await readProbeCache(real, probeCacheKey(real, info), env, reporter);
    if (cached !== undefined) return cached;
  }
  const probe = await runProbe(file, { env, reporter, timeoutMs: options.timeoutMs });
  if (useCache) {
    let target = real;
    let targetInfo = info;
    if (wrapper) {
      // Cache under the executable the wrapper ran, which is what the probe describes.
      target = probe.realExecutable;
      const got = await stat(target).catch(() => undefined);
      if (got === undefined || !got.isFile() || (await isScript(target))) return probe;
      targetInfo = got;
    }
    await writeProbeCache(target, probeCacheKey(target, targetInfo), probe, env, reporter);
  }
  return probe;
}

/** Probe without the cache: one interpreter run. */
export async function runProbe(
  exe: string,
  options: { env?: NodeJS.ProcessEnv; reporter?: Reporter; timeoutMs?: number } = {},
): Promise<InterpreterProbe> {
  const env = options.env ?? process.env;
  const reporter = options.reporter ?? silentReporter;
  reporter.log("debug", `probing ${exe}`);
  const res = await runProcess(exe, ["-I", "-S", "-c", PROBE_SCRIPT], {
    env,
    timeoutMs: options.timeoutMs,
  });
  const hint = "pass a Python 3.6+ interpreter with --python (a path, a command or a version)";
  if (res.error !== undefined && !res.timedOut) {
    throw new SlimenvError(
      "INTERPRETER_PROBE_FAILED",
      `cannot run ${exe}: ${res.error.code ?? res.error.message}`,
      { hint, cause: res.error },
    );
  }
  if (res.timedOut) {
    throw new SlimenvError("INTERPRETER_PROBE_FAILED", `${exe} did not finish probing in time`, {
      hint,
    });
  }
  const at = res.stdout.lastIndexOf(MARK);
  if (res.status !== 0 || at < 0) {
    if (/Unknown option:? -I|unknown option -I/i.test(res.stderr)) {
      const old = await oldPythonVersion(exe, env);
      throw new SlimenvError(
        "INTERPRETER_PROBE_FAILED",
        `${exe} is ${old ?? "a Python too old for -I"}; slimenv needs Python ${MIN_PYTHON.join(".")} or newer`,
        { hint },
      );
    }
    const said = (res.stderr.trim() || res.stdout.trim())
      .split("\n")
      .slice(-8)
      .map((l) => (l.length > 200 ? `${l.slice(0, 200)}…` : l))
      .join("\n");
    throw new SlimenvError(
      "INTERPRETER_PROBE_FAILED",
      `${exe} is not a working Python interpreter (probe ${res.status === null ? `killed by ${res.signal}` : `exited with status ${res.status}`}${at < 0 && res.status === 0 ? ", no probe output" : ""})`,
      { hint, ...(said ? { detail: said } : {}) },
    );
  }
  const line = res.stdout.slice(at + MARK.length).split("\n", 1)[0] ?? "";
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch (cause) {
    throw new SlimenvError("INTERPRETER_PROBE_FAILED", `${exe} printed a broken probe result`, {
      hint,
      cause,
    });
  }
  if (!isProbe(data)) {
    throw new SlimenvError(
      "INTERPRETER_PROBE_FAILED",
      `${exe} printed an incomplete probe result`,
      {
        hint,
      },
    );
  }
  return data;
}

async function isScript(file: string): Promise<boolean> {
  const handle = await open(file, "r").catch(() => undefined);
  if (handle === undefined) return false;
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await handle.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf.toString("latin1") === "#!";
  } finally {
    await handle.close();
  }
}

async function oldPythonVersion(exe: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const res = await runProcess(
    exe,
    [
      "-E",
      "-s",
      "-S",
      "-c",
      "import sys; sys.stdout.write('Python %d.%d.%d' % tuple(sys.version_info[:3]))",
    ],
    { env, timeoutMs: 10_000 },
  );
  return res.status === 0 && /^Python \d+\.\d+\.\d+$/.test(res.stdout) ? res.stdout : undefined;
}
