/**
 * Running an interpreter (or anything that claims to be one) and collecting its output,
 * without ever throwing for a failed run: callers turn the outcome into a clear error.
 */
import { spawn } from "node:child_process";

export interface RunResult {
  /** Exit status, or null when the process was killed or never started. */
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when the process could not be started (ENOENT, EACCES…) or timed out. */
  error?: NodeJS.ErrnoException;
  timedOut: boolean;
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** Output beyond this many bytes per stream is dropped. */
  maxBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

/** Run `command args…` with stdin closed; resolves with whatever happened. */
export function runProcess(
  command: string,
  args: string[],
  options: RunOptions,
): Promise<RunResult> {
  return new Promise((resolve) => {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let timedOut = false;
    let startError: NodeJS.ErrnoException | undefined;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(command, args, {
        env: options.env,
        cwd: options.cwd,
        stdio: ["ignore", "pipe", "pipe"],
        windowsHide: true,
      });
    } catch (e) {
      resolve({
        status: null,
        signal: null,
        stdout: "",
        stderr: "",
        error: e as NodeJS.ErrnoException,
        timedOut: false,
      });
      return;
    }
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.stdout?.on("data", (chunk: Buffer) => {
      if (outBytes < maxBytes) out.push(chunk);
      outBytes += chunk.length;
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      if (errBytes < maxBytes) err.push(chunk);
      errBytes += chunk.length;
    });
    child.on("error", (e: NodeJS.ErrnoException) => {
      startError = e;
    });
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      const result: RunResult = {
        status,
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        timedOut,
      };
      if (startError !== undefined) result.error = startError;
      resolve(result);
    });
  });
}
