import { existsSync } from "node:fs";
import { Command } from "commander";
import { SlimenvError } from "../../base/index.ts";
import { generateSigningKey, writeKeyPair } from "../../bundle/keys.ts";
import { action } from "../action.ts";

/** `slimenv keygen -o NAME`: NAME.key (0600, keep it on CI) and NAME.pub (for devices). */
export function keygenCommand(): Command {
  return new Command("keygen")
    .description(
      "make an ed25519 signing key: NAME.key (secret, mode 0600) and NAME.pub (for devices)",
    )
    .exitOverride()
    .requiredOption("-o, --output <name>", "path and name of the pair, without extension")
    .action(
      action<{ output: string }>((opts, _args, out) => {
        const taken = [`${opts.output}.key`, `${opts.output}.pub`].filter((f) => existsSync(f));
        if (taken.length > 0) {
          throw new SlimenvError("INVALID_OPTION", `${taken.join(" and ")} already exist`, {
            hint: "keygen never overwrites a key: choose another -o NAME or move the old pair away",
          });
        }
        const key = generateSigningKey();
        let written: { key: string; pub: string };
        try {
          written = writeKeyPair(key, opts.output);
        } catch (cause) {
          throw new SlimenvError(
            "IO_ERROR",
            `cannot write ${opts.output}.key: ${(cause as Error).message}`,
            {
              cause,
              hint: "-o must name a file in a writable directory",
            },
          );
        }
        const summary = { ...written, keyid: key.publicKey.keyid };
        if (out.json) out.data(summary);
        else {
          out.line(`wrote ${written.key} (secret) and ${written.pub}, key id ${summary.keyid}`);
        }
        return 0;
      }),
    );
}
