/**
 * Where `check` finds an environment's interpreter and distributions: a slimenv env (its
 * manifest and `bin/python` launcher), a plain venv (`pyvenv.cfg`, `bin/python`) or a bare
 * site-packages folder (an interpreter given or guessed from `lib/pythonX.Y/site-packages`).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, realpathSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { SlimenvError } from "../../base/index.ts";
import { readEnvManifest } from "../../env/manifest.ts";
import type { EnvManifest } from "../../env/types.ts";
import { hostArch, normalizeArch, whichCommand } from "../strip/tool.ts";
import type { InterpreterCommand } from "./runner.ts";
import { DISCOVER_SCRIPT } from "./scripts.ts";

export interface LocatedEnv {
  root: string;
  layout: "prefix" | "target" | "venv" | "site-packages";
  manifest?: EnvManifest;
  interp: InterpreterCommand;
  /** Real paths under which a distribution belongs to the env (root, pth-mode store trees). */
  roots: string[];
}

export interface DiscoveredDist {
  name: string;
  version: string;
  distInfo: string;
  location: string;
  files: string[] | null;
  topLevel: string[] | null;
}

export interface Discovery {
  version: string;
  executable: string;
  extSuffixes: string[];
  path: string[];
  dists: DiscoveredDist[];
  /** sys.stdlib_module_names (3.10+), else the built-in modules. */
  stdlib: string[];
}

/** Variables that would change what the interpreter imports; `check` clears them. */
const CLEARED = ["PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONSAFEPATH"];

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

const HOST_OS: Record<string, string> = { linux: "linux", darwin: "macos", win32: "windows" };

/**
 * An env built for a spec target this machine cannot run (another OS or CPU), or whose
 * interpreter command is not installed here, is refused before anything runs: importing its
 * modules with the local interpreter would only report every native module as failed.
 */
function refuseForeignTarget(root: string, manifest: EnvManifest, env: NodeJS.ProcessEnv): void {
  if (manifest.target.source !== "spec") return;
  const t = manifest.target;
  const platform = t.spec?.platform ?? t.tags[0]?.split("-")[2] ?? `${t.os}_${t.arch}`;
  const label = `${t.implementation} ${t.spec?.pythonVersion ?? t.pythonVersion.join(".")} on ${platform}`;
  const hostOs = HOST_OS[process.platform] ?? process.platform;
  const host = `${hostOs} ${hostArch()}`;
  const hint = `pass --python with an interpreter of the target (CPython ${t.pythonVersion[0]}.${t.pythonVersion[1]} for ${t.arch}; for another CPU a wrapper script that runs it under qemu-user, e.g. qemu-${t.arch} PATH/python3)`;
  if (t.os !== hostOs || normalizeArch(t.arch) !== hostArch()) {
    throw new SlimenvError(
      "INVALID_TARGET",
      `${root} was built for ${label}; this machine is ${host}, so its modules cannot be imported here`,
      { hint },
    );
  }
  const command = env.SLIMENV_PYTHON_COMMAND ?? manifest.interpreterCommand;
  if (whichCommand(command, env.PATH) === undefined) {
    throw new SlimenvError(
      "INTERPRETER_NOT_FOUND",
      `${root} was built for ${label} and runs ${command}, which is not installed here`,
      { hint },
    );
  }
}

/** `python3.X` from a `…/lib/python3.X/site-packages` path, else `python3`. */
export function guessPython(dir: string): string {
  const m = /lib\/python(\d+\.\d+t?)\/(site|dist)-packages\/?$/.exec(dir.replace(/\\/g, "/"));
  return m === null ? "python3" : `python${m[1]}`;
}

export function locateEnv(
  dir: string,
  options: {
    python?: string;
    env?: NodeJS.ProcessEnv;
    /** For a bare site-packages folder: hide the interpreter's own site-packages. */
    isolated?: boolean;
  } = {},
): LocatedEnv {
  const root = path.resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) {
    throw new SlimenvError("INVALID_ENV", `${root} is not a directory`, {
      hint: "pass an environment, a venv or a site-packages folder",
    });
  }
  const base: NodeJS.ProcessEnv = { ...(options.env ?? process.env) };
  for (const name of CLEARED) delete base[name];
  base.PYTHONDONTWRITEBYTECODE = "1";
  const manifest = readEnvManifest(root);
  if (manifest !== undefined && options.python === undefined)
    refuseForeignTarget(root, manifest, base);
  const cwd = mkdtempSync(path.join(os.tmpdir(), "slimenv-check-"));
  if (manifest !== undefined) {
    const exe = path.join(root, manifest.scheme.scripts, "python");
    if (!existsSync(exe)) {
      throw new SlimenvError("INVALID_ENV", `${root} has no ${exe}`, {
        hint: "rebuild the environment with slimenv install",
      });
    }
    if (options.python !== undefined) {
      // An interpreter of the env's target (e.g. a wrapper that runs one under qemu-user).
      base.SLIMENV_PYTHON_COMMAND = options.python;
    } else if (
      base.SLIMENV_PYTHON_COMMAND === undefined &&
      manifest.interpreter !== undefined &&
      existsSync(manifest.interpreter)
    ) {
      base.SLIMENV_PYTHON_COMMAND = manifest.interpreter;
    }
    if (manifest.layout !== "venv") delete base.VIRTUAL_ENV;
    const trees = manifest.packages.flatMap((p) => (p.tree === undefined ? [] : [p.tree]));
    return {
      root,
      layout: manifest.layout,
      manifest,
      interp: { command: exe, args: [], env: base, cwd },
      roots: [root, ...trees].map(realOrSelf),
    };
  }
  if (existsSync(path.join(root, "pyvenv.cfg"))) {
    const exe = path.join(root, "bin", "python");
    if (!existsSync(exe)) {
      throw new SlimenvError("INVALID_ENV", `${root} is a venv without bin/python`);
    }
    return {
      root,
      layout: "venv",
      interp: { command: exe, args: [], env: { ...base, VIRTUAL_ENV: root }, cwd },
      roots: [realOrSelf(root)],
    };
  }
  const env = {
    ...base,
    PYTHONNOUSERSITE: "1",
    SLIMENV_CHECK_SITEDIR: root,
    ...(options.isolated === true ? { SLIMENV_CHECK_ISOLATED: "1" } : {}),
  };
  return {
    root,
    layout: "site-packages",
    interp: {
      command: options.python ?? guessPython(root),
      args: options.isolated === true ? ["-S"] : [],
      env,
      cwd,
    },
    roots: [realOrSelf(root)],
  };
}

/** Ask the env's interpreter for its version, extension suffixes and distributions. */
export function discover(interp: InterpreterCommand, timeoutMs = 120_000): Promise<Discovery> {
  return new Promise((resolve, reject) => {
    const child = spawn(interp.command, [...interp.args, "-c", DISCOVER_SCRIPT], {
      env: interp.env,
      cwd: interp.cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr = (stderr + c).slice(-8192);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new SlimenvError(
          "INTERPRETER_NOT_FOUND",
          `cannot run ${interp.command}: ${err.code === "ENOENT" ? "not found" : err.message}`,
          { cause: err, hint: "for a bare site-packages folder, pass --python" },
        ),
      );
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      try {
        if (code !== 0) throw new Error(stderr.trim().split("\n").pop() ?? `exit code ${code}`);
        resolve(JSON.parse(stdout) as Discovery);
      } catch (err) {
        reject(
          new SlimenvError(
            "INTERPRETER_PROBE_FAILED",
            `${interp.command} could not list the environment's distributions: ${(err as Error).message}`,
            { cause: err, ...(stderr === "" ? {} : { detail: stderr.trim() }) },
          ),
        );
      }
    });
  });
}

/** True when `p` is `root` or inside it (both real paths). */
export function isInside(p: string, root: string): boolean {
  return p === root || p.startsWith(root.endsWith("/") ? root : `${root}/`);
}
