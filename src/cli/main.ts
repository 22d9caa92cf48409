/**
 * The slimenv command line: parses argv, dispatches to one command file per command.
 * This folder is the only place that prints, reads argv or sets the exit code.
 */
import { Command, CommanderError } from "commander";
import { checkCommand } from "./commands/check.ts";
import { exportCommand } from "./commands/export.ts";
import { installCommand } from "./commands/install.ts";
import { lockCommand } from "./commands/lock.ts";
import { pythonCommand } from "./commands/python.ts";
import { runCommand } from "./commands/run.ts";
import { runtimeCommand } from "./commands/runtime.ts";
import { sizeCommand } from "./commands/size.ts";
import { storeCommand } from "./commands/store.ts";
import { syncCommand } from "./commands/sync.ts";
import { zipCommand } from "./commands/zip.ts";
import { repeatGlobalOptions } from "./global-options.ts";
import { Output } from "./output.ts";
import { slimenvVersion } from "./version.ts";

export function buildProgram(): Command {
  const program = new Command("slimenv")
    .description("Isolated, reproducible Python environments at the smallest disk cost")
    .version(slimenvVersion(), "-V, --version")
    .option("--json", "machine-readable output on stdout")
    .option("-q, --quiet", "print only results and errors")
    .option("-v, --verbose", "print debug information")
    .showHelpAfterError()
    .enablePositionalOptions()
    .exitOverride();
  program.addCommand(pythonCommand());
  program.addCommand(lockCommand());
  program.addCommand(exportCommand());
  program.addCommand(installCommand());
  program.addCommand(syncCommand());
  program.addCommand(runCommand());
  program.addCommand(storeCommand());
  program.addCommand(runtimeCommand());
  program.addCommand(sizeCommand());
  program.addCommand(checkCommand());
  program.addCommand(zipCommand());
  repeatGlobalOptions(program);
  exitOverrideEverywhere(program);
  return program;
}

/** Usage errors in any subcommand reach main() (exit 2) instead of exiting inside commander. */
function exitOverrideEverywhere(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) exitOverrideEverywhere(sub);
}

/** A reader that stops early (`slimenv … | head`) is not an error: end quietly. */
function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

export async function main(argv: string[]): Promise<void> {
  exitQuietlyOnClosedPipe(process.stdout);
  exitQuietlyOnClosedPipe(process.stderr);
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed help or the usage error.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    process.exitCode = new Output().error(err);
  }
}
