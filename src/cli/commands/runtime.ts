import { Command } from "commander";
import { formatBytes, SlimenvError } from "../../base/index.ts";
import { buildRuntime } from "../../runtime/build.ts";
import { DEFAULT_RUNTIME_DROPS, DROP_GROUPS, parseDropGroups } from "../../runtime/drop-groups.ts";
import { DEFAULT_STDLIB_MODE, parseStdlibMode, STDLIB_MODES } from "../../runtime/modes.ts";
import { DEFAULT_RUNTIME_STRIP, parseStripMode } from "../../runtime/native.ts";
import { runtimeTable, tableCells } from "../../runtime/table.ts";
import { action } from "../action.ts";

interface RuntimeOptions {
  python?: string;
  out?: string;
  stdlib?: string;
  drop?: string[];
  strip?: string;
  table?: boolean;
  rounds?: string;
  groups?: boolean;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `slimenv runtime`: a slim copy of an installed CPython, or a table comparing every stdlib mode. */
export function runtimeCommand(): Command {
  return new Command("runtime")
    .description(
      "build a slim, working copy of an installed CPython (--out DIR), or compare every stdlib layout (--table)",
    )
    .option("--python <python>", "the interpreter to copy (version, path or command)")
    .option("--out <dir>", "the folder to build the copy in (new, empty, or a previous runtime)")
    .option(
      "--stdlib <mode>",
      `how the stdlib ships: ${STDLIB_MODES.map((m) => m.mode).join(", ")} (default ${DEFAULT_STDLIB_MODE}; status-quo ships it as distributors do)`,
    )
    .option(
      "--drop <groups>",
      `leave out groups, comma-separated: ${DROP_GROUPS.map((g) => g.name).join(", ")} (default ${DEFAULT_RUNTIME_DROPS.join(",")}; --drop none keeps all)`,
      collect,
    )
    .option(
      "--strip <mode>",
      `strip native code: debug, unneeded or none (default ${DEFAULT_RUNTIME_STRIP}, none for --table)`,
    )
    .option(
      "--table",
      "build every stdlib mode in temp folders and compare size, checks and timings",
    )
    .option("--rounds <n>", "timed runs per copy for --table (default 15)")
    .option("--groups", "list the drop groups, their paths and reasons, and the stdlib modes")
    .action(
      action<RuntimeOptions>(async (opts, _args, out) => {
        if (opts.groups) {
          if (out.json) out.data({ modes: STDLIB_MODES, groups: DROP_GROUPS });
          else {
            out.line("stdlib modes:");
            for (const m of STDLIB_MODES) out.line(`  ${m.mode.padEnd(18)} ${m.description}`);
            out.line("drop groups:");
            for (const g of DROP_GROUPS) {
              out.line(`  ${g.name.padEnd(11)} ${g.reason}`);
              out.line(`  ${"".padEnd(11)} paths: ${g.patterns.join(", ")}`);
            }
          }
          return 0;
        }
        // Validate every option before doing anything.
        const mode = opts.stdlib === undefined ? undefined : parseStdlibMode(opts.stdlib);
        const drops = parseDropGroups(opts.drop ?? []).map((g) => g.name);
        const strip = opts.strip === undefined ? undefined : parseStripMode(opts.strip);
        const reporter = out.reporter();
        if (opts.table) {
          if (opts.out !== undefined) {
            throw new SlimenvError(
              "INVALID_OPTION",
              "--table builds in temp folders; it takes no --out",
              {
                hint: "drop --out, or drop --table to build one copy",
              },
            );
          }
          const rounds = opts.rounds === undefined ? undefined : Number(opts.rounds);
          if (rounds !== undefined && (!Number.isInteger(rounds) || rounds < 1)) {
            throw new SlimenvError(
              "INVALID_OPTION",
              `--rounds ${opts.rounds} is not a positive whole number`,
            );
          }
          const table = await runtimeTable({
            python: opts.python,
            ...(opts.drop !== undefined
              ? { variants: [{ name: drops.length ? `drop ${drops.join(",")}` : "as is", drops }] }
              : {}),
            ...(mode !== undefined
              ? { modes: ["status-quo", ...(mode === "status-quo" ? [] : [mode])] }
              : {}),
            strip: strip ?? "none",
            ...(rounds !== undefined ? { rounds } : {}),
            reporter,
          });
          if (out.json) out.data(table);
          else {
            out.line(
              `Python ${table.python.version} (${table.python.executable}), strip ${table.strip}, ${table.rounds} interleaved runs; times are medians, ratios against the status quo of the same variant`,
            );
            const [header, ...rows] = tableCells(table);
            out.table(header ?? [], rows);
          }
          return table.rows.every((r) => r.works) ? 0 : 1;
        }
        if (opts.out === undefined) {
          throw new SlimenvError("INVALID_OPTION", "slimenv runtime needs --out DIR (or --table)", {
            hint: "e.g. slimenv runtime --python 3.12 --out ./py312-slim --drop tests",
          });
        }
        const result = await buildRuntime({
          python: opts.python,
          out: opts.out,
          ...(mode !== undefined ? { mode } : {}),
          ...(opts.drop !== undefined ? { drops } : {}),
          ...(strip !== undefined ? { strip } : {}),
          reporter,
        });
        if (out.json) {
          out.data(result);
          return 0;
        }
        const dropped = Object.entries(result.files.dropped)
          .map(([g, n]) => `${g} (${n} files)`)
          .join(", ");
        out.line(
          `built ${result.out} from Python ${result.python.version} (${result.python.executable})`,
        );
        out.line(`  stdlib      ${result.mode}`);
        out.line(`  dropped     ${dropped || "nothing"}`);
        out.line(`  strip       ${result.strip}`);
        out.line(
          `  native      ${result.native.libraries.length ? `copied ${result.native.libraries.join(", ")}; ` : ""}${result.native.searchPathChanges.length} search paths made relative`,
        );
        out.line(
          `  checked     starts, sys.prefix, ${result.checked.modules.length} modules, ${result.checked.dynload.length} lib-dynload extensions${result.checked.source ? ", sources in tracebacks" : ""}`,
        );
        out.line(
          `  size        ${formatBytes(result.size.total.onDisk)} on disk (${formatBytes(result.size.python.onDisk)} pure Python, ${formatBytes(result.size.native.onDisk)} native), ${result.size.total.files} files`,
        );
        out.line(`  run         ${result.executable}`);
        for (const note of result.notes) out.warn(note);
        return 0;
      }),
    );
}
