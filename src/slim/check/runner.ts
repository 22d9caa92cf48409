/**
 * Importing modules in subprocesses of the environment's interpreter: one process per batch,
 * a time-out per module, and crashes isolated (the module being imported when the process
 * died is re-run alone to confirm it is the culprit; the rest of the batch goes on in a new
 * process).
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { Readable, Writable } from "node:stream";
import { SlimenvError } from "../../base/index.ts";
import { IMPORT_SCRIPT } from "./scripts.ts";

/** How to start the environment's interpreter. */
export interface InterpreterCommand {
  command: string;
  /** Arguments before `-c SCRIPT`. */
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export type ImportStatus = "ok" | "error" | "timeout" | "crash";

export interface ImportOutcome {
  module: string;
  status: ImportStatus;
  /** The error's last line (error), or what ended the process (timeout, crash). */
  error?: string;
}

interface BatchRun {
  results: ImportOutcome[];
  /** Set when the process ended before the batch was done. */
  stopped?: { module: string; kind: "timeout" | "crash"; message: string };
  /** Modules after the culprit, not yet imported. */
  remaining: string[];
}

const STDERR_KEEP = 8192;

function signalName(signal: NodeJS.Signals | null, code: number | null): string {
  if (signal !== null) return `killed by ${signal}`;
  if (code !== null && code > 128) {
    const name = Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0];
    if (name !== undefined) return `killed by ${name}`;
  }
  return `the interpreter exited with code ${code ?? "?"}`;
}

function crashMessage(how: string, stderr: string): string {
  const fatal = stderr
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l.startsWith("Fatal Python error"));
  return fatal === undefined ? `crashed: ${how}` : `crashed: ${how} (${fatal})`;
}

/** Import `modules` in order in one process. */
export function runBatch(
  interp: InterpreterCommand,
  modules: readonly string[],
  timeoutMs: number,
): Promise<BatchRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(interp.command, [...interp.args, "-c", IMPORT_SCRIPT], {
      env: interp.env,
      cwd: interp.cwd,
      stdio: ["pipe", "ignore", "pipe", "pipe"],
      detached: true,
    });
    const results: ImportOutcome[] = [];
    const done = new Set<string>();
    let current: string | undefined;
    let ended = false;
    let timedOut = false;
    let stderr = "";
    let buffer = "";
    let timer: NodeJS.Timeout | undefined;
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    };
    const arm = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, timeoutMs);
    };
    arm();
    const onLine = (line: string) => {
      if (line.trim() === "") return;
      let msg: { start?: string; done?: string; ok?: boolean; error?: string; end?: boolean };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        return;
      }
      if (msg.start !== undefined) {
        current = msg.start;
        arm();
      } else if (msg.done !== undefined) {
        done.add(msg.done);
        results.push(
          msg.ok === true
            ? { module: msg.done, status: "ok" }
            : { module: msg.done, status: "error", error: msg.error ?? "import failed" },
        );
        current = undefined;
        arm();
      } else if (msg.end === true) {
        ended = true;
      }
    };
    const fd3 = child.stdio[3] as Readable;
    fd3.setEncoding("utf8");
    fd3.on("data", (chunk: string) => {
      buffer += chunk;
      let nl = buffer.indexOf("\n");
      while (nl >= 0) {
        onLine(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf("\n");
      }
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP);
    });
    child.on("error", (err: NodeJS.ErrnoException) => {
      if (timer !== undefined) clearTimeout(timer);
      reject(
        new SlimenvError("IO_ERROR", `cannot run ${interp.command}: ${err.message}`, {
          cause: err,
        }),
      );
    });
    child.on("close", (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      if (buffer !== "") onLine(buffer);
      if (ended) {
        resolve({ results, remaining: [] });
        return;
      }
      const culprit = current ?? modules.find((m) => !done.has(m));
      if (culprit === undefined) {
        resolve({ results, remaining: [] });
        return;
      }
      const index = modules.indexOf(culprit);
      const remaining = modules.slice(index + 1).filter((m) => !done.has(m));
      const stopped = timedOut
        ? {
            module: culprit,
            kind: "timeout" as const,
            message: `timed out: no result after ${Math.round(timeoutMs / 100) / 10} s`,
          }
        : {
            module: culprit,
            kind: "crash" as const,
            message: crashMessage(signalName(signal, code), stderr),
          };
      resolve({ results, stopped, remaining });
    });
    const stdin = child.stdin as Writable;
    stdin.on("error", () => {});
    stdin.end(JSON.stringify(modules));
  });
}

/**
 * Import every module of `modules` (in order), whatever some of them do: a hang costs one
 * time-out, a crash one extra process to confirm the culprit alone.
 */
export async function importModules(
  interp: InterpreterCommand,
  modules: readonly string[],
  timeoutMs: number,
): Promise<ImportOutcome[]> {
  const out: ImportOutcome[] = [];
  let queue = [...modules];
  while (queue.length > 0) {
    const run = await runBatch(interp, queue, timeoutMs);
    out.push(...run.results);
    if (run.stopped === undefined) break;
    const { module, kind, message } = run.stopped;
    if (kind === "crash" && queue.length > 1) {
      // Pin the culprit: does it crash on its own too?
      const alone = await runBatch(interp, [module], timeoutMs);
      if (alone.stopped === undefined) {
        const outcome = alone.results[0];
        out.push(
          outcome === undefined
            ? { module, status: "crash", error: message }
            : outcome.status === "ok"
              ? {
                  module,
                  status: "crash",
                  error: `${message}; imports alone, so an earlier module of the batch is involved`,
                }
              : outcome,
        );
      } else {
        out.push({ module, status: alone.stopped.kind, error: alone.stopped.message });
      }
    } else {
      out.push({ module, status: kind, error: message });
    }
    queue = run.remaining;
  }
  return out;
}
