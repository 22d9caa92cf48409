/**
 * Where a CLI run reads and writes: the process (bin/slimenv.js) or what runCli() was given
 * (tests run the CLI in-process this way). Commands read stdout, stderr, env and cwd through
 * here, never from `process` directly, and set their exit code here.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export type CliStream = NodeJS.WritableStream & { isTTY?: boolean };

export interface CliIo {
  stdout: CliStream;
  stderr: CliStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

interface CliRun {
  io: CliIo;
  exitCode: number;
}

const runs = new AsyncLocalStorage<CliRun>();

/** The current run's streams, env and cwd; the process's outside runCli(). */
export function cliIo(): CliIo {
  return (
    runs.getStore()?.io ?? {
      stdout: process.stdout,
      stderr: process.stderr,
      env: process.env,
      cwd: process.cwd(),
    }
  );
}

/** Set the exit code of the current run (the process's outside runCli()). */
export function setExitCode(code: number): void {
  const run = runs.getStore();
  if (run === undefined) process.exitCode = code;
  else run.exitCode = code;
}

/** Run `body` with `io` as the CLI's streams, env and cwd; resolve to the exit code it set. */
export async function withCliIo(io: CliIo, body: () => Promise<void>): Promise<number> {
  const run: CliRun = { io, exitCode: 0 };
  await runs.run(run, body);
  return run.exitCode;
}

/** Whether a runCli() run (not the process) is current. */
export function inCliRun(): boolean {
  return runs.getStore() !== undefined;
}
