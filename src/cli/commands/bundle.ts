import { Command, InvalidArgumentError, Option } from "commander";
import { cacheDir, formatBytes, SlimenvError } from "../../base/index.ts";
import { loadSigningKey, parseHealth, writeFileAtomic } from "../../bundle/files.ts";
import { packLock } from "../../bundle/from-lock.ts";
import { sha256Hex } from "../../bundle/hashing.ts";
import { type PackOptions, packEnv } from "../../bundle/pack.ts";
import type { Compression } from "../../bundle/types.ts";
import { slimPolicy } from "../../slim/policy.ts";
import { PRESET_NAMES } from "../../slim/presets.ts";
import { storeRoot } from "../../store/paths.ts";
import { action } from "../action.ts";
import { addIndexOptions, type IndexOptionValues, settingsFromOptions } from "../index-options.ts";
import { addTargetOptions, type TargetOptionValues, targetSelection } from "../target-options.ts";
import { slimenvVersion } from "../version.ts";

interface BundleFlags extends IndexOptionValues, TargetOptionValues {
  lock?: string;
  slim?: string;
  output: string;
  app: string;
  appVersion: string;
  sequence?: number;
  key: string;
  health?: string;
  healthTimeout?: number;
  from?: string[];
  compression?: Compression;
  agent?: boolean;
  image?: string;
  imageCompression?: string;
}

function wholeNumber(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError("expected a whole number");
  }
  return n;
}

function imageRequest(opts: BundleFlags): Pick<PackOptions, "image"> {
  if (opts.image === undefined) {
    if (opts.imageCompression !== undefined) {
      throw new SlimenvError("INVALID_OPTION", "--image-compression goes with --image", {
        hint: "--image squashfs|erofs",
      });
    }
    return {};
  }
  return {
    image: {
      format: opts.image,
      ...(opts.imageCompression === undefined ? {} : { compression: opts.imageCompression }),
    },
  };
}

/** `slimenv bundle ENV -o FILE --app NAME --version V --key KEY [--from OLD]…` (see main.ts for --version). */
export function bundleCommand(): Command {
  const command = new Command("bundle")
    .description(
      "pack an env into a signed bundle for devices: in full, or a delta (--from) that carries only what the device lacks",
    )
    .argument("[env]", "a slimenv env (prefix or target layout); or --lock")
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
      "make a delta from an old bundle, a tree document (the device's manifests/SEQ.tree.json) or a device's `status --json` (repeatable)",
    )
    .addOption(
      new Option("--compression <codec>", "payload compression (default xz when found)").choices([
        "xz",
        "gzip",
      ]),
    )
    .option(
      "--agent",
      "carry the device agent (agent.py) in a delta too (a full bundle does by default)",
    )
    .option("--no-agent", "leave the device agent (agent.py) out of a full bundle")
    .addOption(
      new Option(
        "--image <format>",
        "carry a read-only image of the tree instead of its files: the device mounts it (root) or unpacks it",
      ).choices(["squashfs", "erofs"]),
    )
    .option(
      "--image-compression <codec>",
      "the image's compression (squashfs: zstd, xz, lz4, gzip; erofs: lz4hc, lz4, none)",
    )
    .option(
      "--lock <pylock.toml>",
      "no env: install this lock for the target (--python, or --python-version + --platform) into a temp env and bundle that",
    )
    .addOption(
      new Option("--slim <preset>", "with --lock: slim the temp env").choices([...PRESET_NAMES]),
    );
  addIndexOptions(command, false);
  return addTargetOptions(command).action(
    action<BundleFlags>(async (opts, args, out) => {
      const key = loadSigningKey(opts.key);
      const health =
        opts.health === undefined ? null : parseHealth(opts.health, opts.healthTimeout ?? 60);
      const envDir = args[0];
      if ((envDir === undefined) === (opts.lock === undefined)) {
        throw new SlimenvError(
          "INVALID_OPTION",
          "bundle takes an env directory or --lock, one of them",
          {
            hint: "slimenv bundle ./env … or slimenv bundle --lock pylock.toml --python 3.12 …",
          },
        );
      }
      if (opts.slim !== undefined && opts.lock === undefined) {
        throw new SlimenvError("INVALID_OPTION", "--slim goes with --lock", {
          hint: "an existing env is bundled as it is: slim it with install --slim",
        });
      }
      const packOptions: PackOptions = {
        app: opts.app,
        version: opts.appVersion,
        key,
        health,
        ...(opts.agent === undefined ? {} : { agent: opts.agent }),
        reporter: out.reporter(),
        ...(opts.sequence === undefined ? {} : { sequence: opts.sequence }),
        ...(opts.from === undefined ? {} : { from: opts.from }),
        ...(opts.compression === undefined ? {} : { compression: opts.compression }),
        ...imageRequest(opts),
      };
      const settings = settingsFromOptions(opts, process.cwd());
      const v = settings.values;
      const result =
        envDir !== undefined
          ? await packEnv(envDir, { ...packOptions, storeRoot: storeRoot(undefined, process.env) })
          : await packLock(
              {
                cwd: process.cwd(),
                env: process.env,
                settings,
                selection: targetSelection(opts, v),
                lockFile: opts.lock as string,
                userAgent: `slimenv/${slimenvVersion()}`,
                reporter: out.reporter(),
                ...(opts.slim === undefined
                  ? {}
                  : {
                      slim: slimPolicy({
                        preset: opts.slim,
                        keep: v["slim-keep"] ?? [],
                        dropGlobs: v["slim-drop"] ?? [],
                        skip: v["slim-skip"] ?? [],
                      }),
                      checkCacheDir: cacheDir("checks"),
                    }),
              },
              packOptions,
            );
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
        tree: result.manifest.tree,
        agent: result.manifest.agent !== null,
        image: result.image,
      };
      if (out.json) out.data(summary);
      else {
        out.line(
          `${opts.output}: ${result.kind} bundle of ${summary.app} ${summary.version} (sequence ${summary.sequence}), ${formatBytes(summary.size)}`,
        );
        out.line(
          `  ${summary.files} files (${formatBytes(summary.treeBytes)}), ${result.image === null ? "" : `a ${result.image.spec.format} image of ${formatBytes(result.image.size)}, `}${summary.objects} objects carried, ${summary.patches} patches${result.kind === "delta" ? `, ${summary.held} objects already on the device` : ""}; tree ${summary.tree.encoding} ${formatBytes(summary.tree.stored.size)}`,
        );
      }
      return 0;
    }),
  );
}
