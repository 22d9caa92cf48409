/**
 * The global options (`--json`, `-q`, `-v`) are accepted after a command's name too
 * (`slimenv lock app -q`): the program parses its own options only before the command
 * (`enablePositionalOptions`, so that `slimenv run DIR python --version` hands `--version` to
 * python), so every command declares them again; `optsWithGlobals` merges both places.
 */
import type { Command } from "commander";

const GLOBALS: readonly [flags: string, long: string, description: string][] = [
  ["--json", "--json", "machine-readable output on stdout"],
  ["-q, --quiet", "--quiet", "print only results and errors"],
  ["-v, --verbose", "--verbose", "print debug information"],
];

/** Declare the global options on every command below `program` that lacks them. */
export function repeatGlobalOptions(program: Command): void {
  for (const sub of program.commands) {
    for (const [flags, long, description] of GLOBALS) {
      if (!sub.options.some((o) => o.long === long)) sub.option(flags, description);
    }
    repeatGlobalOptions(sub);
  }
}
