/**
 * Running the slimenv CLI from a test. In-process (runCli: no Node start-up, ~ms) for what
 * only needs the exit code and the output; as a real process (bin/slimenv.js, which runs the
 * built bundle dist/slimenv.js when it is newer than every source, else the sources) where
 * the process matters: the binary's exit code, signals, closed pipes, several processes.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { Writable } from "node:stream";
import { runCli } from "../../src/cli/main.ts";

export const BIN = path.resolve(import.meta.dirname, "..", "..", "bin", "slimenv.js");

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

class Collect extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** The CLI in this process, with its own stdout/stderr (not TTYs), env and cwd. */
export async function cliInProcess(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  const stdout = new Collect();
  const stderr = new Collect();
  const status = await runCli(args, {
    stdout,
    stderr,
    env: options.env ?? { ...process.env, NO_COLOR: "1" },
    cwd: options.cwd ?? process.cwd(),
  });
  return { status, stdout: stdout.text, stderr: stderr.text };
}

/** bin/slimenv.js as a real process, with this Node. */
export function cliProcess(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: options.cwd,
        env: options.env ?? { ...process.env, NO_COLOR: "1" },
        encoding: "utf8",
        timeout: options.timeoutMs ?? 60_000,
      },
      (error, stdout, stderr) => {
        const status = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ status, stdout, stderr });
      },
    );
  });
}
