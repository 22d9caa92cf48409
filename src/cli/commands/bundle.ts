import { Command, InvalidArgumentError, Option } from "commander";
import { formatBytes } from "../../base/index.ts";
import { loadSigningKey, parseHealth, writeFileAtomic } from "../../bundle/files.ts";
import { packEnv } from "../../bundle/pack.ts";
import type { Compression } from "../../bundle/types.ts";
import { sha256Hex } from "../../bundle/wire.ts";
import { storeRoot } from "../../store/layout.ts";
import { action } from "../action.ts";

interface BundleFlags {
  output: string;
  app: string;
  appVersion: string;
  sequence?: number;
  key: string;
  health?: string;
  healthTimeout?: number;
  from?: string[];
  compression?: Compression;
  agent: boolean;
}

function wholeNumber(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError("expected a whole number");
  }
  return n;
}

/** `slimenv bundle ENV -o FILE --app NAME --version V --key KEY [--from OLD]…` (see main.ts for --version). */
export function bundleCommand(): Command {
  return new Command("bundle")
    .description(
      "pack an env into a signed bundle for devices: in full, or a delta (--from) that carries only what the device lacks",
    )
    .argument("<env>", "a slimenv env (prefix or target layout)")
    .exitOverride()
    .requiredOption("-o, --output <file>", "the bundle file to write")
    .requiredOption("--app <name>", "the app's name on the device ([a-z0-9][a-z0-9._-]*)")
    .requiredOption("--app-version <v>", "the version people see (spelled --version too)")
    .requiredOption("--key <file>", "the signing key (NAME.key from slimenv keygen)")
    .option(
      "--sequence <n>",
      "strictly increasing per app (default: SOURCE_DATE_EPOCH, else the env's build time)",
      wholeNumber,
    )
    .option("--health <cmd>", "command the device runs after switching (cwd: the app tree)")
    .option(
      "--health-timeout <seconds>",
      "time limit of the health command (default 60)",
      wholeNumber,
    )
    .option(
      "--from <old...>",
      "make a delta from an old bundle, its manifest.json or a device's `status --json` (repeatable)",
    )
    .addOption(
      new Option("--compression <codec>", "payload compression (default xz when found)").choices([
        "xz",
        "gzip",
      ]),
    )
    .option("--no-agent", "leave the device agent (agent.py) out of the bundle")
    .action(
      action<BundleFlags>(async (opts, args, out) => {
        const key = loadSigningKey(opts.key);
        const health =
          opts.health === undefined ? null : parseHealth(opts.health, opts.healthTimeout ?? 60);
        const result = await packEnv(args[0] as string, {
          app: opts.app,
          version: opts.appVersion,
          key,
          health,
          agent: opts.agent,
          storeRoot: storeRoot(undefined, process.env),
          reporter: out.reporter(),
          ...(opts.sequence === undefined ? {} : { sequence: opts.sequence }),
          ...(opts.from === undefined ? {} : { from: opts.from }),
          ...(opts.compression === undefined ? {} : { compression: opts.compression }),
        });
        writeFileAtomic(opts.output, result.bytes);
        const summary = {
          file: opts.output,
          kind: result.kind,
          sha256: sha256Hex(result.bytes),
          size: result.bytes.length,
          app: result.manifest.app,
          version: result.manifest.version,
          sequence: result.manifest.sequence,
          files: result.files,
          treeBytes: result.treeBytes,
          objects: result.objects,
          patches: result.patches,
          held: result.held,
          skippedRuntimeCaches: result.skipped,
          base: result.manifest.base,
        };
        if (out.json) out.data(summary);
        else {
          out.line(
            `${opts.output}: ${result.kind} bundle of ${summary.app} ${summary.version} (sequence ${summary.sequence}), ${formatBytes(summary.size)}`,
          );
          out.line(
            `  ${summary.files} files (${formatBytes(summary.treeBytes)}), ${summary.objects} objects carried, ${summary.patches} patches${result.kind === "delta" ? `, ${summary.held} objects already on the device` : ""}`,
          );
        }
        return 0;
      }),
    );
}
