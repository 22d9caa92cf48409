/**
 * Where slimenv keeps its files. `$SLIMENV_HOME` wins; otherwise the XDG cache dir
 * (`$XDG_CACHE_HOME/slimenv`, default `~/.cache/slimenv`). The environment is passed in so
 * callers (and tests) decide which one counts.
 */
import os from "node:os";
import path from "node:path";

export function slimenvHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SLIMENV_HOME) return path.resolve(env.SLIMENV_HOME);
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME ?? os.homedir(), ".cache");
  return path.join(base, "slimenv");
}

/** A named sub-folder of slimenv's home, e.g. `cacheDir("probes")`. */
export function cacheDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(slimenvHome(env), name);
}
