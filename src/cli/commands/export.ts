import { Command, Option } from "commander";
import { exportLockFile } from "../../resolve/lock-run.ts";
import { action } from "../action.ts";
import { cliIo } from "../context.ts";

interface ExportOptions {
  format: string;
  output?: string;
  emitIndexUrl?: boolean;
}

/** `slimenv export`: a lock file in another format (a hashed requirements.txt). */
export function exportCommand(): Command {
  return new Command("export")
    .description("write a lock as a hashed requirements.txt that pip installs exactly")
    .argument("[lock]", "the lock file", "pylock.toml")
    .addOption(
      new Option("--format <format>", "the output format")
        .choices(["requirements", "requirements.txt"])
        .default("requirements"),
    )
    .option("-o, --output <file>", "write to this file (default: standard output)")
    .option(
      "--emit-index-url",
      "also write --index-url / --extra-index-url / --find-links lines for the lock's sources",
    )
    .action(
      action<ExportOptions>((opts, args, out) => {
        const text = exportLockFile({
          cwd: cliIo().cwd,
          lockFile: args[0] ?? "pylock.toml",
          format: opts.format,
          ...(opts.output === undefined ? {} : { output: opts.output }),
          emitIndexUrls: opts.emitIndexUrl === true,
        });
        if (out.json) out.data({ format: "requirements", output: opts.output ?? null, text });
        else if (opts.output === undefined) out.line(text.trimEnd());
        else out.info(`wrote ${opts.output}`);
        return 0;
      }),
    );
}
