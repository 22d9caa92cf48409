import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import { formatBytes, SlimenvError } from "../../base/index.ts";
import { loadSigningKey } from "../../bundle/files.ts";
import { publishBundle } from "../../bundle/publish.ts";
import { action } from "../action.ts";

interface PublishFlags {
  repo: string;
  channel: string;
  key: string;
  deltas?: number;
}

function count(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError("expected a whole number");
  return Number(text);
}

/** `slimenv publish BUNDLE --repo DIR --channel CH --key KEY [--deltas N]`. */
export function publishCommand(): Command {
  return new Command("publish")
    .description(
      "add a full bundle to a static repository channel, with deltas from the last N versions published there",
    )
    .argument("<bundle>", "a full bundle (slimenv bundle without --from)")
    .exitOverride()
    .requiredOption("--repo <dir>", "the repository folder (serve it with any web server)")
    .requiredOption("--channel <name>", "e.g. stable, beta")
    .requiredOption("--key <file>", "the signing key (the bundle must be signed by it)")
    .option("--deltas <n>", "deltas from the last N published versions (default 3)", count)
    .action(
      action<PublishFlags>(async (opts, args, out) => {
        const file = args[0] as string;
        let bytes: Uint8Array;
        try {
          bytes = new Uint8Array(readFileSync(file));
        } catch (cause) {
          throw new SlimenvError("INVALID_OPTION", `cannot read ${file}`, {
            cause,
            hint: "pass a bundle file written by slimenv bundle",
          });
        }
        const result = await publishBundle(bytes, {
          repo: opts.repo,
          channel: opts.channel,
          key: loadSigningKey(opts.key),
          reporter: out.reporter(),
          ...(opts.deltas === undefined ? {} : { deltas: opts.deltas }),
        });
        if (out.json) out.data(result);
        else {
          const i = result.index;
          out.line(
            `${i.app} ${i.version} (sequence ${i.sequence}) on ${i.channel}: full ${formatBytes(i.full.size)}`,
          );
          for (const d of i.deltas) out.line(`  delta from ${d.from}: ${formatBytes(d.size)}`);
          for (const s of result.skipped)
            out.line(`  no delta from ${s} (not smaller than the full)`);
        }
        return 0;
      }),
    );
}
