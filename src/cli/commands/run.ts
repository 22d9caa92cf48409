import { existsSync } from "node:fs";
import { Command } from "commander";
import { readEnvManifest } from "../../env/manifest.ts";
import { runInEnv } from "../../env/run.ts";
import { action } from "../action.ts";
import { cliIo } from "../context.ts";

/**
 * The variables `run` starts from. The env's `bin` goes first on PATH, so its launchers look
 * for the interpreter further down PATH — where a pyenv shim would find the env's own
 * launcher again (pyenv falls back to PATH). With the interpreter the env was built with
 * still present, the launchers are pointed at it directly (unless the caller chose one).
 */
function baseEnv(dir: string): NodeJS.ProcessEnv {
  const manifest = readEnvManifest(dir);
  const env = { ...cliIo().env };
  const exe = manifest?.interpreter;
  if (env.SLIMENV_PYTHON_COMMAND === undefined && exe !== undefined && existsSync(exe)) {
    env.SLIMENV_PYTHON_COMMAND = exe;
  }
  return env;
}

/** `slimenv run DIR -- CMD…`: run a command with an environment active; its exit code is ours. */
export function runCommand(): Command {
  return (
    new Command("run")
      .description("run a command with an environment active (DIR/bin first on PATH)")
      .argument("<dir>", "the environment")
      .argument("<command...>", "the command and its arguments, after --")
      .usage("DIR [--] COMMAND [ARGS...]")
      // Everything after DIR is the command's, options included (`run .venv python --version`).
      .passThroughOptions()
      .action(
        action<object>(async (_opts, args, out) => {
          const [dir = ".", ...rest] = args;
          const argv = rest[0] === "--" ? rest.slice(1) : rest;
          return await runInEnv(dir, argv, { env: baseEnv(dir), reporter: out.reporter() });
        }),
      )
  );
}
