/**
 * `slimenv runtime --table`: build every stdlib mode of one interpreter (as is, and with the
 * test suites dropped), then compare size, whether each copy works, and start-up and import
 * time as ratios against the status quo measured in the same run (interleaved runs, median).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Reporter } from "../base/index.ts";
import { silentReporter } from "../base/index.ts";
import type { FoundInterpreter } from "../python/discover.ts";
import { findInterpreter } from "../python/discover.ts";
import { runProcess } from "../python/process.ts";
import { buildRuntime, originalFacts } from "./build.ts";
import { runtimeEnv } from "./check.ts";
import { sourceLayout } from "./cpython-paths.ts";
import { parseDropGroups } from "./drop-groups.ts";
import type { StdlibMode } from "./modes.ts";
import { STDLIB_MODES, stdlibModeInfo } from "./modes.ts";
import type { StripMode } from "./native.ts";
import { parseStripMode } from "./native.ts";
import type { RuntimeSize } from "./size.ts";
import { measureRuntime } from "./size.ts";

export interface TableVariant {
  name: string;
  drops: string[];
}

export const DEFAULT_TABLE_VARIANTS: readonly TableVariant[] = [
  { name: "as is", drops: [] },
  { name: "test suites dropped", drops: ["tests"] },
];

export interface RuntimeTableOptions {
  python?: string | FoundInterpreter;
  variants?: readonly TableVariant[];
  modes?: readonly StdlibMode[];
  strip?: StripMode | string;
  /** Timed runs per copy and command (default 15). */
  rounds?: number;
  /** Where the copies are built (default: a temp folder, removed afterwards). */
  workDir?: string;
  env?: NodeJS.ProcessEnv;
  reporter?: Reporter;
}

export interface RuntimeTableRow {
  variant: string;
  drops: string[];
  mode: StdlibMode;
  label: string;
  size: RuntimeSize;
  /** (size − status quo) / status quo, on-disk bytes: whole copy and pure-Python part. */
  vsStatusQuo: { total: number; python: number };
  works: boolean;
  problems: string[];
  /** Tracebacks and inspect show sources: "yes", "no", or "n/a" (no sources shipped). */
  source: "yes" | "no" | "n/a";
  /** Median wall time of `python -c pass` and of importing the module set, in ms. */
  startupMs: number;
  importMs: number;
  /** Against the status quo of the same variant, same run. */
  startupRatio: number;
  importRatio: number;
}

export interface RuntimeTable {
  python: { executable: string; version: string };
  strip: StripMode;
  rounds: number;
  /** The modules the import timing and the check import. */
  moduleSet: string[];
  rows: RuntimeTableRow[];
}

function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function timeRun(exe: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const start = process.hrtime.bigint();
  const res = await runProcess(exe, args, { env, timeoutMs: 120_000 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return res.status === 0 ? ms : Number.NaN;
}

/** Build, check, measure and time every mode of every variant. */
export async function runtimeTable(options: RuntimeTableOptions = {}): Promise<RuntimeTable> {
  const env = options.env ?? process.env;
  const reporter = options.reporter ?? silentReporter;
  const strip = parseStripMode(options.strip ?? "none");
  const variants = options.variants ?? DEFAULT_TABLE_VARIANTS;
  for (const v of variants) parseDropGroups(v.drops);
  const modes = options.modes ?? STDLIB_MODES.map((m) => m.mode);
  const rounds = Math.max(1, options.rounds ?? 15);
  const found =
    options.python !== undefined && typeof options.python !== "string"
      ? options.python
      : await findInterpreter(options.python, { env, reporter });
  const layout = await sourceLayout(found.probe);
  const facts = await originalFacts(layout, env);
  const work = options.workDir ?? (await mkdtemp(path.join(os.tmpdir(), "slimenv-runtime-table-")));
  const runEnv = runtimeEnv(env);
  const importCode = `import ${facts.modules.join(", ")}`;
  const rows: RuntimeTableRow[] = [];
  try {
    for (const [vi, variant] of variants.entries()) {
      const built: {
        mode: StdlibMode;
        exe: string;
        size: RuntimeSize;
        works: boolean;
        problems: string[];
        source: RuntimeTableRow["source"];
      }[] = [];
      for (const mode of modes) {
        const out = path.join(work, `v${vi}-${mode.replace(/[^a-z0-9-]/g, "_")}`);
        reporter.log("info", `${variant.name}: building ${mode}`);
        const result = await buildRuntime({
          python: found,
          out,
          mode,
          drops: variant.drops,
          strip,
          env,
          reporter,
          facts,
          keepBroken: true,
        });
        const info = stdlibModeInfo(mode);
        const sourceProblem = result.check.problems.some((p) => /traceback|inspect/.test(p));
        built.push({
          mode,
          exe: result.executable,
          size: await measureRuntime(out, `${layout.stdlibRel}/${layout.dynloadInStdlib}`),
          works: result.check.ok,
          problems: result.check.problems,
          source: info.sources === "none" ? "n/a" : sourceProblem ? "no" : "yes",
        });
      }
      // Interleaved timing: one warm-up run each, then rounds in rotating order.
      const startup = built.map(() => [] as number[]);
      const imports = built.map(() => [] as number[]);
      for (const b of built) {
        await timeRun(b.exe, ["-c", "pass"], runEnv);
        await timeRun(b.exe, ["-c", importCode], runEnv);
      }
      reporter.log("info", `${variant.name}: timing ${built.length} copies, ${rounds} rounds`);
      for (let r = 0; r < rounds; r++) {
        for (let k = 0; k < built.length; k++) {
          const i = (k + r) % built.length;
          const b = built[i];
          if (b === undefined) continue;
          startup[i]?.push(await timeRun(b.exe, ["-c", "pass"], runEnv));
          imports[i]?.push(await timeRun(b.exe, ["-c", importCode], runEnv));
        }
      }
      const baseIndex = built.findIndex((b) => b.mode === "status-quo");
      const base = built[baseIndex >= 0 ? baseIndex : 0];
      const baseStart = median(startup[baseIndex >= 0 ? baseIndex : 0] ?? []);
      const baseImport = median(imports[baseIndex >= 0 ? baseIndex : 0] ?? []);
      built.forEach((b, i) => {
        const startupMs = median(startup[i] ?? []);
        const importMs = median(imports[i] ?? []);
        rows.push({
          variant: variant.name,
          drops: [...variant.drops],
          mode: b.mode,
          label: stdlibModeInfo(b.mode).label,
          size: b.size,
          vsStatusQuo: {
            total: base ? b.size.total.onDisk / base.size.total.onDisk - 1 : 0,
            python: base ? b.size.python.onDisk / base.size.python.onDisk - 1 : 0,
          },
          works: b.works,
          problems: b.problems,
          source: b.source,
          startupMs,
          importMs,
          startupRatio: startupMs / baseStart,
          importRatio: importMs / baseImport,
        });
      });
    }
  } finally {
    if (options.workDir === undefined) await rm(work, { recursive: true, force: true });
  }
  return {
    python: { executable: layout.executable, version: found.probe.version.join(".") },
    strip,
    rounds,
    moduleSet: facts.modules,
    rows,
  };
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function pct(f: number): string {
  if (!Number.isFinite(f)) return "?";
  const v = Math.round(f * 100);
  return v === 0 ? "0%" : `${v > 0 ? "+" : "−"}${Math.abs(v)}%`;
}

function ratio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : "—";
}

/** The table as rows of cells (header first), for the CLI and the benchmark page. */
export function tableCells(table: RuntimeTable): string[][] {
  const header = [
    "variant",
    "stdlib mode",
    "size on disk",
    "vs status quo",
    "pure-Python part",
    "vs status quo",
    "works",
    "source in tracebacks",
    "start-up",
    "import set",
  ];
  const rows = table.rows.map((r) => [
    r.variant,
    r.mode,
    mib(r.size.total.onDisk),
    pct(r.vsStatusQuo.total),
    mib(r.size.python.onDisk),
    pct(r.vsStatusQuo.python),
    r.works ? "yes" : `NO: ${r.problems[0] ?? ""}`,
    r.source,
    `${ratio(r.startupRatio)} (${r.startupMs.toFixed(0)} ms)`,
    `${ratio(r.importRatio)} (${r.importMs.toFixed(0)} ms)`,
  ]);
  return [header, ...rows];
}

/** The table as a Markdown table. */
export function tableMarkdown(table: RuntimeTable): string {
  const [header, ...rows] = tableCells(table);
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [
    line(header ?? []),
    line((header ?? []).map((_, i) => (i >= 2 && i !== 6 && i !== 7 ? "---:" : "---"))),
    ...rows.map(line),
  ].join("\n");
}
