import { Command } from "commander";
import { formatBytes, writeFileAtomicSync } from "../../base/index.ts";
import { renderSizeHtml } from "../../report/html.ts";
import { sizeReport } from "../../report/size.ts";
import {
  SIZE_KINDS,
  type SizeFigures,
  type SizeKind,
  type SizeReport,
} from "../../report/types.ts";
import { action } from "../action.ts";
import type { Output } from "../output.ts";

/** `slimenv size PATH [--json] [--html FILE]`: where the bytes of an env, venv or folder go. */
export function sizeCommand(): Command {
  return (
    new Command("size")
      .description(
        "where the bytes go: per distribution, per kind, on disk and apparent, and what each slimming policy would save",
      )
      .argument("<path>", "an env, venv, site-packages or stdlib folder, or any directory")
      // Usage errors reach main() (exit 2): addCommand does not pass the program's override on.
      .exitOverride()
      .option("--html <file>", "also write one self-contained HTML page (treemap and tables)")
      .action(
        action<{ html?: string }>(async (opts, args, out) => {
          const report = sizeReport(args[0] as string, { reporter: out.reporter() });
          if (opts.html !== undefined) {
            writeFileAtomicSync(opts.html, renderSizeHtml(report), {
              mkdir: false,
              hint: "--html names the page to write; its directory must exist and be writable",
            });
            out.info(`wrote ${opts.html}`);
          }
          if (out.json) out.data(report);
          else renderSize(report, out);
          return 0;
        }),
      )
  );
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

function share(part: number, whole: number): string {
  return whole === 0 ? "0%" : `${((100 * part) / whole).toFixed(part * 1000 < whole ? 2 : 1)}%`;
}

/** The two largest kinds of a distribution with their share of its on-disk bytes. */
function biggestKinds(byKind: Record<SizeKind, SizeFigures>, onDisk: number): string {
  return SIZE_KINDS.filter((k) => byKind[k].onDisk > 0)
    .sort((a, b) => byKind[b].onDisk - byKind[a].onDisk)
    .slice(0, 2)
    .map((k) => `${k} ${share(byKind[k].onDisk, onDisk)}`)
    .join(", ");
}

/** The human tables: a summary line, distributions, kinds, savings. */
export function renderSize(report: SizeReport, out: Output): void {
  const t = report.total;
  out.line(
    `${report.path} (${report.layout}${report.python === undefined ? "" : `, Python ${report.python}`}): ${formatBytes(t.onDisk)} on disk, ${formatBytes(t.apparent)} apparent, ${count(t.files)} files`,
  );
  out.line();
  const row = (name: string, version: string, f: SizeFigures, kinds: string) => [
    name,
    version,
    formatBytes(f.onDisk),
    formatBytes(f.apparent),
    count(f.files),
    kinds,
  ];
  out.table(
    ["distribution", "version", "on disk", "apparent", "files", "biggest kinds"],
    [
      ...report.distributions.map((d) =>
        row(d.name, d.version, d.total, biggestKinds(d.byKind, d.total.onDisk)),
      ),
      row(
        "(unowned)",
        "",
        report.unowned.total,
        biggestKinds(report.unowned.byKind, report.unowned.total.onDisk),
      ),
      row("total", "", t, ""),
    ],
  );
  out.line();
  out.table(
    ["kind", "on disk", "apparent", "files", "share"],
    SIZE_KINDS.map((k) => {
      const f = report.byKind[k];
      return [
        k,
        formatBytes(f.onDisk),
        formatBytes(f.apparent),
        count(f.files),
        share(f.onDisk, t.onDisk),
      ];
    }),
  );
  out.line();
  out.table(
    ["policy (estimates; they overlap)", "saves", "share", "what"],
    report.savings.map((s) => [
      s.policy,
      formatBytes(s.bytes),
      share(s.bytes, t.onDisk),
      s.description,
    ]),
  );
  if (report.built !== undefined && report.built.length > 0) {
    out.line();
    out.table(
      ["built from source", "version", "build flags", "config settings"],
      report.built.map((b) => [
        b.name,
        b.version,
        `${b.flags}${b.useSystemLibs === true ? ", system libraries" : ""}`,
        (b.settings ?? []).join(" "),
      ]),
    );
  }
  const libs = report.systemLibraries ?? [];
  if (libs.length > 0) {
    out.line();
    out.table(
      ["system library (needed, not in the tree)", "needed by"],
      libs.map((l) => [
        l.name,
        `${l.neededBy[0] ?? ""}${l.count > 1 ? ` and ${l.count - 1} more` : ""}`,
      ]),
    );
  }
}
