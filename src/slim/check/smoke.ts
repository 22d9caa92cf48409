/**
 * `check --smoke CMD`: run a shell command with the environment active and record its exit
 * code and output.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readSync, rmSync, statSync } from "node:fs";
import { constants } from "node:os";
import path from "node:path";
import { runInEnv } from "../../env/run.ts";
import type { LocatedEnv } from "./env.ts";
import type { SmokeResult } from "./types.ts";

const OUTPUT_KEEP = 64 * 1024;

function tail(file: string): string {
  const size = statSync(file).size;
  const length = Math.min(size, OUTPUT_KEEP);
  const buf = Buffer.alloc(length);
  const fd = openSync(file, "r");
  try {
    readSync(fd, buf, 0, length, size - length);
  } finally {
    closeSync(fd);
  }
  return buf.toString("utf8");
}

function spawnPlain(argv: string[], env: NodeJS.ProcessEnv, cwd: string, fd: number) {
  return new Promise<number>((resolve, reject) => {
    const [command = "sh", ...args] = argv;
    const child = spawn(command, args, { env, cwd, stdio: ["ignore", fd, fd] });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code !== null) resolve(code);
      else resolve(128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)));
    });
  });
}

/** Run `command` with `sh -c` in the located environment (cwd: the caller's directory). */
export async function runSmoke(
  located: LocatedEnv,
  command: string,
  cwd: string = process.cwd(),
): Promise<SmokeResult> {
  const outFile = path.join(located.interp.cwd, "smoke-output.txt");
  const fd = openSync(outFile, "w");
  const started = Date.now();
  const argv = ["/bin/sh", "-c", command];
  let exitCode: number;
  try {
    if (located.manifest !== undefined) {
      exitCode = await runInEnv(located.root, argv, {
        env: located.interp.env,
        cwd,
        stdio: ["ignore", fd, fd],
      });
    } else {
      const env = { ...located.interp.env };
      const bin = path.join(located.root, "bin");
      if (located.layout === "venv") env.PATH = `${bin}${path.delimiter}${env.PATH ?? ""}`;
      // A bare site-packages folder: the command's Python finds it on PYTHONPATH.
      if (located.layout === "site-packages") env.PYTHONPATH = located.root;
      exitCode = await spawnPlain(argv, env, cwd, fd);
    }
  } finally {
    closeSync(fd);
  }
  const output = tail(outFile);
  rmSync(outFile, { force: true });
  return { command, exitCode, output, durationMs: Date.now() - started, ok: exitCode === 0 };
}
