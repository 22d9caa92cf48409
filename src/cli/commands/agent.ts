import { Command } from "commander";
import { agentSource } from "../../bundle/agent-source.ts";
import { writeFileAtomic } from "../../bundle/files.ts";
import { action } from "../action.ts";

/** `slimenv agent -o slimenv-agent.py`: the device agent, one stdlib-only Python file. */
export function agentCommand(): Command {
  return new Command("agent")
    .description("write the device agent: one Python file (CPython >= 3.8, standard library only)")
    .exitOverride()
    .option("-o, --output <file>", "where to write it (default: stdout)")
    .action(
      action<{ output?: string }>((opts, _args, out) => {
        const text = agentSource();
        if (opts.output === undefined) {
          process.stdout.write(text);
          return 0;
        }
        writeFileAtomic(opts.output, text, 0o755);
        if (out.json) out.data({ file: opts.output, size: Buffer.byteLength(text) });
        else out.info(`wrote ${opts.output}`);
        return 0;
      }),
    );
}
