/**
 * `slimenv run DIR -- CMD…`: run any command with an environment active, the way its
 * launchers activate it, with DIR's scripts first on PATH.
 */
import { type StdioOptions, spawn } from "node:child_process";
import { constants } from "node:os";
import path from "node:path";
import { SlimenvError } from "../base/index.ts";
import { readEnvManifest } from "./manifest.ts";
import type { EnvManifest } from "./types.ts";

/** The variables that activate the environment at `dir` (a copy of `base`, changed). */
export function envActivation(
  dir: string,
  manifest: EnvManifest,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const root = path.resolve(dir);
  const env: NodeJS.ProcessEnv = { ...base };
  const bin = path.join(root, manifest.scheme.scripts);
  env.PATH = env.PATH ? `${bin}${path.delimiter}${env.PATH}` : bin;
  if (manifest.layout === "prefix") {
    env.PYTHONUSERBASE = root;
    delete env.PYTHONNOUSERSITE;
  } else if (manifest.layout === "target") {
    env.PYTHONPATH = env.PYTHONPATH ? `${root}${path.delimiter}${env.PYTHONPATH}` : root;
  } else {
    env.VIRTUAL_ENV = root;
    delete env.PYTHONHOME;
  }
  return env;
}

export interface RunOptions {
  /** The environment to start from (default process.env). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Default "inherit". */
  stdio?: StdioOptions;
}

/**
 * Run `argv` with the environment at `dir` active; resolves to the child's exit code
 * (128 + signal number when a signal ended it). Throws INVALID_ENV when `dir` is not an
 * environment, IO_ERROR when the command cannot be started.
 */
export async function runInEnv(
  dir: string,
  argv: readonly string[],
  options: RunOptions = {},
): Promise<number> {
  const manifest = readEnvManifest(dir);
  if (manifest === undefined) {
    throw new SlimenvError("INVALID_ENV", `${path.resolve(dir)} is not a slimenv environment`, {
      hint: "create it with slimenv install --prefix/--target/--venv DIR",
    });
  }
  const [command, ...args] = argv;
  if (command === undefined || command === "") {
    throw new SlimenvError("INVALID_OPTION", "no command to run", {
      hint: "slimenv run DIR -- COMMAND [ARGS…]",
    });
  }
  const env = envActivation(dir, manifest, options.env ?? process.env);
  return await new Promise<number>((resolve, reject) => {
    const child = spawn(command, args, {
      env,
      stdio: options.stdio ?? "inherit",
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    child.on("error", (err: NodeJS.ErrnoException) => {
      reject(
        new SlimenvError(
          "IO_ERROR",
          `cannot run ${command}: ${err.code === "ENOENT" ? "command not found" : err.message}`,
          { cause: err },
        ),
      );
    });
    child.on("close", (code, signal) => {
      if (code !== null) resolve(code);
      else resolve(128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)));
    });
  });
}
