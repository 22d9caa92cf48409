/**
 * The glue between commander and a command's body: builds the Output from the global
 * options, runs the body, renders any error and sets the exit code.
 */
import type { Command } from "commander";
import { cliIo, setExitCode } from "./context.ts";
import { Output } from "./output.ts";

export interface GlobalOptions {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

/**
 * Wrap a command body. The body receives its own options (with the globals merged in),
 * its positional arguments and the Output; it returns an exit code or nothing (0).
 */
export function action<O extends object>(
  body: (
    opts: O & GlobalOptions,
    args: string[],
    out: Output,
  ) => Promise<number | undefined> | number | undefined,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const opts = cmd.optsWithGlobals() as O & GlobalOptions;
    const { stdout, stderr, env } = cliIo();
    const out = new Output({
      json: opts.json,
      quiet: opts.quiet,
      verbose: opts.verbose,
      stdout,
      stderr,
      env,
    });
    try {
      const code = await body(opts, cmd.args, out);
      setExitCode(code ?? 0);
    } catch (err) {
      setExitCode(out.error(err));
    }
  };
}
