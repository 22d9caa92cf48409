/**
 * The slimenv command line: parses argv, dispatches to one command file per command.
 * This folder is the only place that prints, reads argv or sets the exit code.
 */
import { Command, CommanderError } from "commander";
import { agentCommand } from "./commands/agent.ts";
import { bundleCommand } from "./commands/bundle.ts";
import { checkCommand } from "./commands/check.ts";
import { exportCommand } from "./commands/export.ts";
import { imageCommand } from "./commands/image.ts";
import { installCommand } from "./commands/install.ts";
import { keygenCommand } from "./commands/keygen.ts";
import { lockCommand } from "./commands/lock.ts";
import { publishCommand } from "./commands/publish.ts";
import { pythonCommand } from "./commands/python.ts";
import { runCommand } from "./commands/run.ts";
import { runtimeCommand } from "./commands/runtime.ts";
import { sizeCommand } from "./commands/size.ts";
import { storeCommand } from "./commands/store.ts";
import { syncCommand } from "./commands/sync.ts";
import { zipCommand } from "./commands/zip.ts";
import { type CliIo, type CliStream, cliIo, inCliRun, setExitCode, withCliIo } from "./context.ts";
import { type FastPathPending, fastPathAnswer, fastPathStart } from "./fast-path.ts";
import { fastPathRecord } from "./fast-path-record.ts";
import { repeatGlobalOptions } from "./global-options.ts";
import { Output } from "./output.ts";
import { slimenvVersion } from "./version.ts";
import { capYoungGeneration } from "./young-generation.ts";

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
  program.addCommand(bundleCommand());
  program.addCommand(imageCommand());
  program.addCommand(keygenCommand());
  program.addCommand(publishCommand());
  program.addCommand(agentCommand());
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

/** commander's own output (help, usage errors, --version) to the run's streams. */
function routeOutput(command: Command, io: CliIo): void {
  const width = (s: CliStream) => (s.isTTY ? (s as { columns?: number }).columns : undefined) ?? 80;
  const colors = (s: CliStream) => Boolean(s.isTTY) && io.env.NO_COLOR === undefined;
  command.configureOutput({
    writeOut: (text) => io.stdout.write(text),
    writeErr: (text) => io.stderr.write(text),
    getOutHelpWidth: () => width(io.stdout),
    getErrHelpWidth: () => width(io.stderr),
    getOutHasColors: () => colors(io.stdout),
    getErrHasColors: () => colors(io.stderr),
  });
  for (const sub of command.commands) routeOutput(sub, io);
}

/**
 * `slimenv bundle … --version V` names the app's version, but commander hands `--version`
 * anywhere on the line to the program's own flag: after `bundle` it becomes `--app-version`.
 */
export function appVersionFlag(argv: readonly string[]): string[] {
  const command = argv.findIndex((a) => !a.startsWith("-"));
  if (argv[command] !== "bundle") return [...argv];
  return argv.map((a, i) => {
    if (i <= command) return a;
    if (a === "--version") return "--app-version";
    return a.startsWith("--version=") ? `--app-version=${a.slice(10)}` : a;
  });
}

async function parse(argv: string[]): Promise<void> {
  const program = buildProgram();
  if (inCliRun()) routeOutput(program, cliIo());
  try {
    await program.parseAsync(appVersionFlag(argv), { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed help or the usage error.
      setExitCode(err.exitCode === 0 ? 0 : 2);
      return;
    }
    const { stdout, stderr, env } = cliIo();
    setExitCode(new Output({ stdout, stderr, env }).error(err));
  }
}

/**
 * The process's CLI (bin/slimenv.js): argv in, output on stdout/stderr, process.exitCode set.
 * `fast` is the no-op fast path's fingerprint (src/cli/fast-path.ts) when the caller (the
 * bundle's entry) already computed it and found no answer; otherwise main computes it and tries
 * it first. A successful run records its fingerprint.
 */
export async function main(
  argv: string[],
  fast?: { pending: FastPathPending | undefined },
): Promise<void> {
  exitQuietlyOnClosedPipe(process.stdout);
  exitQuietlyOnClosedPipe(process.stderr);
  let pending = fast?.pending;
  if (fast === undefined) {
    pending = fastPathStart(argv);
    if (fastPathAnswer(pending)) return;
  }
  capYoungGeneration();
  await parse(argv);
  if (!process.exitCode) fastPathRecord(pending);
}

/**
 * The CLI in this process with its own streams, env and cwd (tests use it): resolves to the
 * exit code and leaves process.exitCode alone. env and cwd default to the process's; the
 * command layer reads them from here (settings, lock, install, sync, export, run, store), while
 * core code a command calls without an env still reads process.env, and relative paths given
 * to other commands resolve against the process's cwd.
 */
export function runCli(
  argv: string[],
  io: Pick<CliIo, "stdout" | "stderr"> & Partial<CliIo>,
): Promise<number> {
  return withCliIo({ env: process.env, cwd: process.cwd(), ...io }, () => parse(argv));
}
