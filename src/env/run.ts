/**
 * `slimenv run DIR -- CMD…`: run any command with an environment active, the way its
 * launchers activate it, with DIR's scripts first on PATH.
 */
import { type StdioOptions, spawn, spawnSync } from "node:child_process";
import {
  accessSync,
  closeSync,
  constants as fsConstants,
  openSync,
  readSync,
  realpathSync,
} from "node:fs";
import { constants } from "node:os";
import path from "node:path";
import { type Reporter, SlimenvError } from "../base/index.ts";
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
  /** Told (a warning) when the command, or the module `python -m` runs, is not the env's. */
  reporter?: Reporter;
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function inside(p: string, root: string): boolean {
  return p === root || p.startsWith(`${root}${path.sep}`);
}

/** `command` as the child's PATH finds it (a name with a slash: itself), or undefined. */
function onPath(command: string, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  if (command.includes("/")) return path.resolve(cwd, command);
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const full = path.join(dir, command);
    try {
      accessSync(full, fsConstants.X_OK);
      return full;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Whether `file` is a Python script (`#!…python…` on its first line) or a pyenv shim. */
function pythonScript(file: string): boolean {
  try {
    const fd = openSync(file, "r");
    try {
      const buf = Buffer.alloc(256);
      const n = readSync(fd, buf, 0, buf.length, 0);
      const text = buf.subarray(0, n).toString("latin1");
      const first = text.split("\n")[0] ?? "";
      return (first.startsWith("#!") && /python/.test(first)) || /pyenv/.test(text);
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

const FIND_SPEC =
  "import importlib.util, sys\ns = importlib.util.find_spec(sys.argv[1])\nprint(s.origin if s and s.origin else '')";

/**
 * Why `argv` would not run what the environment holds, or undefined: the command is found
 * outside the env on PATH, or `python -m MOD` imports MOD from outside the env (a prefix env
 * sees the interpreter's own site-packages unless made `--isolated`).
 */
export function outsideEnv(
  dir: string,
  manifest: EnvManifest,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string = process.cwd(),
): string | undefined {
  const [command, ...args] = argv;
  if (command === undefined) return undefined;
  const root = real(dir);
  const found = onPath(command, env, cwd);
  if (found === undefined) return undefined;
  const isPython = /^python(\d+(\.\d+t?)?)?$/.test(path.basename(command));
  // A target dir has no interpreter of its own: the shared one runs it through PYTHONPATH.
  const shared = isPython && manifest.layout === "target";
  const outside = !inside(path.resolve(found), path.resolve(dir)) && !inside(real(found), root);
  // Only Python's: a system `ls` or `make` is meant to come from outside.
  if (!shared && outside && (isPython || pythonScript(found))) {
    return `${command} is not in the environment: it runs ${found}`;
  }
  if (!isPython || args[0] !== "-m" || args[1] === undefined) return undefined;
  const module = args[1];
  const res = spawnSync(found, ["-c", FIND_SPEC, module], {
    env,
    cwd,
    encoding: "utf8",
    timeout: 30_000,
  });
  const origin = res.status === 0 ? res.stdout.trim() : "";
  if (origin === "" || !/[/\\](site|dist)-packages[/\\]/.test(origin)) return undefined;
  if (inside(real(origin), root) || inside(path.resolve(origin), path.resolve(dir)))
    return undefined;
  const why =
    manifest.layout === "prefix" && !manifest.isolated
      ? " (a prefix env sees the interpreter's own site-packages; make it with --isolated to hide them)"
      : "";
  return `${module} is not in the environment: python -m ${module} runs ${origin}${why}`;
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
  if (options.reporter !== undefined) {
    const why = outsideEnv(dir, manifest, argv, env, options.cwd);
    if (why !== undefined) options.reporter.log("warn", why);
  }
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
