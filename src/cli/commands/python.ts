import { Command } from "commander";

/** `slimenv python …`: find and probe interpreters. Subcommands are added by their own files. */
export function pythonCommand(): Command {
  return new Command("python").description("find and probe Python interpreters");
}
