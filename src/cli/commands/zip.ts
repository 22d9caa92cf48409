import { Command } from "commander";
import { formatBytes, SlimenvError } from "../../base/index.ts";
import { type ZipTargetResult, zipTarget } from "../../report/zip.ts";
import { action } from "../action.ts";
import type { Output } from "../output.ts";
import { parseSize } from "./store.ts";

/** How many packages the summary lists. */
const SHOWN = 10;

export const MAX_SIZE_HELP =
  "fail, writing no zip, when the unzipped size is over SIZE (AWS Lambda: 250M, its limit for function and layers unzipped)";

/** `slimenv zip DIR -o FILE [--max-size SIZE]`: a deterministic deployment zip of a flat folder. */
export function zipCommand(): Command {
  return new Command("zip")
    .description(
      "a deterministic zip of a --target folder (AWS Lambda and the like), without .slimenv/, checked against an unzipped size budget",
    )
    .argument("<dir>", "the folder to zip: its contents become the zip's root")
    .option("-o, --output <file>", "the zip to write (replaced atomically)")
    .option("--max-size <size>", MAX_SIZE_HELP)
    .exitOverride()
    .action(
      action<{ output?: string; maxSize?: string }>((opts, args, out) => {
        if (opts.output === undefined) {
          throw new SlimenvError("INVALID_OPTION", "slimenv zip needs -o FILE, the zip to write", {
            hint: "e.g. slimenv zip ./lambda -o lambda.zip --max-size 250M",
          });
        }
        const maxSize = opts.maxSize === undefined ? undefined : parseSize(opts.maxSize);
        const result = zipTarget({
          dir: args[0] as string,
          out: opts.output,
          ...(maxSize !== undefined ? { maxSize } : {}),
          reporter: out.reporter(),
        });
        if (out.json) out.data(result);
        else renderZip(out, result);
        return 0;
      }),
    );
}

/** The summary: what was written, sizes against the budget, the biggest packages, notes. */
export function renderZip(out: Output, result: ZipTargetResult): void {
  const budget =
    result.maxSize === undefined
      ? ""
      : `, ${formatBytes(result.maxSize - result.unzipped)} under the ${formatBytes(result.maxSize)} budget`;
  out.line(
    `wrote ${result.out}: ${result.files} files, ${formatBytes(result.zipped)} zipped, ${formatBytes(result.unzipped)} unzipped${budget}`,
  );
  if (result.excluded.length > 0) out.info(`left out: ${result.excluded.join(", ")}`);
  const rows = result.parts
    .slice(0, SHOWN)
    .map((p) => [p.name, p.version ?? "", String(p.files), formatBytes(p.unzipped)]);
  if (result.parts.length > SHOWN) {
    const rest = result.parts.slice(SHOWN);
    rows.push([
      `… ${rest.length} more`,
      "",
      String(rest.reduce((n, p) => n + p.files, 0)),
      formatBytes(rest.reduce((n, p) => n + p.unzipped, 0)),
    ]);
  }
  out.table(["package", "version", "files", "unzipped"], rows);
  for (const note of result.notes) out.warn(note);
}
