/**
 * A work folder for an end-to-end test against the real PyPI: its own slimenv home and pip
 * cache, and runners for commands and for the slimenv CLI there. Removed by `cleanup`.
 */
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..", "..");

export interface E2eWorld {
  base: string;
  env: NodeJS.ProcessEnv;
  run(cmd: string, args: string[]): SpawnSyncReturns<string>;
  slimenv(args: string[]): SpawnSyncReturns<string>;
  cleanup(): void;
}

export function e2eWorld(prefix: string): E2eWorld {
  const base = mkdtempSync(path.join(os.tmpdir(), prefix));
  const env = {
    ...process.env,
    SLIMENV_HOME: path.join(base, "home"),
    NO_COLOR: "1",
    PIP_DISABLE_PIP_VERSION_CHECK: "1",
    PIP_NO_INPUT: "1",
    PIP_CACHE_DIR: path.join(base, "pip-cache"),
  };
  const run = (cmd: string, args: string[]) =>
    spawnSync(cmd, args, { env, cwd: base, encoding: "utf8", maxBuffer: 1 << 28 });
  return {
    base,
    env,
    run,
    slimenv: (args) => run(process.execPath, [path.join(ROOT, "bin", "slimenv.js"), ...args]),
    cleanup: () => rmSync(base, { recursive: true, force: true }),
  };
}
