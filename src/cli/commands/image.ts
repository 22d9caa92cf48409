import path from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { formatBytes } from "../../base/index.ts";
import { buildImage } from "../../bundle/image.ts";
import { describeSpec, IMAGE_FORMATS, parseBlockSize } from "../../bundle/image-options.ts";
import { storeRoot } from "../../store/paths.ts";
import { action } from "../action.ts";
import { cliIo } from "../context.ts";

interface ImageFlags {
  output: string;
  format: string;
  compression?: string;
  level?: number;
  blockSize?: string;
}

function wholeNumber(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError("expected a whole number");
  return Number(text);
}

/** `slimenv image ENV -o FILE [--format squashfs|erofs] [--compression C] [--level N] [--block-size S]`. */
export function imageCommand(): Command {
  return new Command("image")
    .description(
      "build a read-only filesystem image (squashfs or erofs) of an env's app tree, for devices to mount",
    )
    .argument("<env>", "a slimenv env (prefix or target layout)")
    .exitOverride()
    .requiredOption("-o, --output <file>", "the image file to write")
    .addOption(
      new Option("--format <format>", "image format")
        .choices([...IMAGE_FORMATS])
        .default("squashfs"),
    )
    .option(
      "--compression <codec>",
      "squashfs: zstd (default), xz, lz4, gzip; erofs: lz4hc (default), lz4, none",
    )
    .option(
      "--level <n>",
      "compression level: zstd 1-22 (19), gzip 1-9 (9), lz4hc 0-12 (12)",
      wholeNumber,
    )
    .option(
      "--block-size <size>",
      "squashfs block size, 4K-1M (128K); erofs largest compressed cluster, 4K-1M (4K)",
    )
    .action(
      action<ImageFlags>(async (opts, args, out) => {
        const { cwd, env } = cliIo();
        const output = path.resolve(cwd, opts.output);
        const result = await buildImage(path.resolve(cwd, args[0] as string), output, {
          format: opts.format,
          ...(opts.compression === undefined ? {} : { compression: opts.compression }),
          ...(opts.level === undefined ? {} : { level: opts.level }),
          ...(opts.blockSize === undefined ? {} : { blockSize: parseBlockSize(opts.blockSize) }),
          storeRoot: storeRoot(undefined, env),
          env,
          reporter: out.reporter(),
        });
        const summary = {
          file: opts.output,
          format: result.spec.format,
          compression: result.spec.compression,
          level: result.spec.level,
          blockSize: result.spec.blockSize,
          sha256: result.sha256,
          size: result.size,
          files: result.files,
          symlinks: result.symlinks,
          treeBytes: result.treeBytes,
          time: result.time,
          uuid: result.uuid === "" ? null : result.uuid,
          tool: result.tool,
          skippedRuntimeCaches: result.skipped,
        };
        if (out.json) out.data(summary);
        else {
          const ratio = result.treeBytes === 0 ? 0 : result.size / result.treeBytes;
          out.line(
            `${opts.output}: ${result.spec.format} image (${describeSpec(result.spec)}), ${formatBytes(result.size)} — ${ratio.toFixed(2)}× the tree`,
          );
          out.line(
            `  ${result.files} files (${formatBytes(result.treeBytes)}), ${result.symlinks} symlinks, sha256 ${result.sha256}`,
          );
        }
        return 0;
      }),
    );
}
