import { Command } from "commander";
import { pythonListCommand } from "./python-list.ts";
import { pythonProbeCommand } from "./python-probe.ts";

/** `slimenv python …`: find and probe interpreters. Subcommands are added by their own files. */
export function pythonCommand(): Command {
  return new Command("python")
    .description("find and probe Python interpreters")
    .addCommand(pythonListCommand())
    .addCommand(pythonProbeCommand());
}
