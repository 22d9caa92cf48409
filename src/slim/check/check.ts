/**
 * `check`: import every importable module of every distribution of an environment in the
 * environment's own interpreter (subprocesses, batched per distribution, a time-out per
 * module, crashes isolated), optionally run a smoke command, and report per package.
 */
import { rmSync } from "node:fs";
import os from "node:os";
import { mapLimit, type Reporter, silentReporter } from "../../base/index.ts";
import { canonicalizeName } from "../../standards/names.ts";
import { type DiscoveredDist, discover, isInside, locateEnv } from "./env.ts";
import { KNOWN_FAILURES, type KnownFailure, knownFailure, missingModule } from "./known.ts";
import { importableModules, isTestModule } from "./modules.ts";
import { type ImportOutcome, importModules } from "./runner.ts";
import { runSmoke } from "./smoke.ts";
import type { CheckReport, CheckTotals, PackageCheck } from "./types.ts";

export interface CheckOptions {
  /** A shell command to run with the env active after the imports. */
  smoke?: string;
  /** Longest time one module may take to import (default 60 s). */
  timeoutMs?: number;
  /** Import processes at once (default: CPUs, at most 4). */
  concurrency?: number;
  reporter?: Reporter;
  /** The interpreter for a bare site-packages folder (default: guessed from its path). */
  python?: string;
  /** The variables to start from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Known-benign failures (default KNOWN_FAILURES). */
  knownFailures?: readonly KnownFailure[];
  /** Working directory of the smoke command (default process.cwd()). */
  cwd?: string;
  /** Modules per import process (default {@link BATCH_SIZE}). */
  batchSize?: number;
  /** For a bare site-packages folder: hide the interpreter's own site-packages. */
  isolated?: boolean;
  /**
   * Check only these distributions (canonical names), each with the modules to import
   * (`all`: every importable one); default every distribution, every module.
   */
  only?: Readonly<Record<string, readonly string[] | "all">>;
  /**
   * More modules to import per distribution (canonical name), beyond what its RECORD
   * lists — the modules slimming moved into the env's code zip.
   */
  extraModules?: Readonly<Record<string, readonly string[]>>;
}

/**
 * Modules per import process; a distribution with more is split. Each process pays for the
 * package's own heavy imports again (torch: seconds), so batches are large: on torch 2.13's
 * env, 1000 took the check from 58 s to 24 s (200 before), with the same results.
 */
export const BATCH_SIZE = 1000;

interface Job {
  dist: number;
  modules: string[];
}

/** The distributions that belong to the env (first on sys.path wins for a name). */
function envDists(dists: readonly DiscoveredDist[], roots: readonly string[]): DiscoveredDist[] {
  const seen = new Set<string>();
  const out: DiscoveredDist[] = [];
  for (const d of dists) {
    if (!roots.some((r) => isInside(d.distInfo, r))) continue;
    const name = canonicalizeName(d.name);
    if (seen.has(name)) continue;
    seen.add(name);
    out.push(d);
  }
  return out.sort((a, b) => canonicalizeName(a.name).localeCompare(canonicalizeName(b.name)));
}

export async function checkEnv(dir: string, options: CheckOptions = {}): Promise<CheckReport> {
  const started = Date.now();
  const reporter = options.reporter ?? silentReporter;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const concurrency = options.concurrency ?? Math.min(4, os.availableParallelism());
  const known = options.knownFailures ?? KNOWN_FAILURES;
  const batchSize = Math.max(1, options.batchSize ?? BATCH_SIZE);
  const located = locateEnv(dir, {
    ...(options.python === undefined ? {} : { python: options.python }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.isolated === undefined ? {} : { isolated: options.isolated }),
  });
  try {
    const info = await discover(located.interp);
    const all = envDists(info.dists, located.roots);
    const modulesOfAll = all.map((d) => {
      const own = importableModules(d.files ?? [], info.extSuffixes, d.topLevel ?? []);
      const extra = options.extraModules?.[canonicalizeName(d.name)] ?? [];
      return extra.length === 0 ? own : [...new Set([...own, ...extra])].sort();
    });
    // Top-level names whose absence is never "optional": the env's own and the stdlib's.
    const envTop = new Set([
      ...modulesOfAll.flatMap((mods) => mods.map((m) => m.split(".")[0] ?? m)),
      ...(info.stdlib ?? []),
    ]);
    const only = options.only;
    const chosen = all
      .map((d, i) => {
        const wanted = only?.[canonicalizeName(d.name)];
        const mods = wanted === undefined || wanted === "all" ? (modulesOfAll[i] ?? []) : wanted;
        return { d, mods: [...mods], wanted };
      })
      .filter(({ wanted }) => only === undefined || wanted !== undefined);
    const dists = chosen.map((c) => c.d);
    const modulesOf = chosen.map((c) => c.mods);
    const jobs: Job[] = [];
    modulesOf.forEach((mods, dist) => {
      for (let i = 0; i < mods.length; i += batchSize) {
        jobs.push({ dist, modules: mods.slice(i, i + batchSize) });
      }
    });
    const total = modulesOf.reduce((n, m) => n + m.length, 0);
    reporter.log("info", `importing ${total} modules of ${dists.length} distributions`);
    const task = reporter.task("importing modules", total, "modules");
    const outcomes: ImportOutcome[][] = dists.map(() => []);
    await mapLimit(jobs, concurrency, async (job) => {
      const got = await importModules(located.interp, job.modules, timeoutMs);
      outcomes[job.dist]?.push(...got);
      task.advance(job.modules.length);
    });
    task.done();
    const packages = dists.map((d, i): PackageCheck => {
      const pkg: PackageCheck = {
        name: canonicalizeName(d.name),
        version: d.version,
        modules: modulesOf[i]?.length ?? 0,
        ok: 0,
        failed: [],
        testFailures: [],
        skipped: [],
      };
      const sorted = [...(outcomes[i] ?? [])].sort((a, b) => (a.module < b.module ? -1 : 1));
      for (const o of sorted) {
        if (o.status === "ok") {
          pkg.ok++;
          continue;
        }
        const error = o.error ?? o.status;
        if (isTestModule(o.module)) {
          pkg.testFailures.push({ module: o.module, kind: o.status, error });
          continue;
        }
        if (o.status === "error") {
          const reason = benignReason(o.module, error, info.version, known, envTop);
          if (reason !== undefined) {
            pkg.skipped.push({ module: o.module, error, reason });
            continue;
          }
        }
        pkg.failed.push({ module: o.module, kind: o.status, error });
      }
      for (const f of pkg.failed) reporter.log("debug", `${pkg.name}: ${f.module}: ${f.error}`);
      return pkg;
    });
    const totals: CheckTotals = {
      packages: packages.length,
      modules: total,
      ok: packages.reduce((n, p) => n + p.ok, 0),
      failed: packages.reduce((n, p) => n + p.failed.length, 0),
      testFailures: packages.reduce((n, p) => n + p.testFailures.length, 0),
      skipped: packages.reduce((n, p) => n + p.skipped.length, 0),
    };
    const smoke =
      options.smoke === undefined ? undefined : await runSmoke(located, options.smoke, options.cwd);
    return {
      version: 1,
      path: located.root,
      layout: located.layout,
      python: info.version,
      packages,
      totals,
      ...(smoke === undefined ? {} : { smoke }),
      ok: totals.failed === 0 && (smoke === undefined || smoke.ok),
      durationMs: Date.now() - started,
    };
  } finally {
    rmSync(located.interp.cwd, { recursive: true, force: true });
  }
}

/**
 * Why a failed import is expected: a KNOWN_FAILURES entry, or — for a submodule — a
 * `ModuleNotFoundError` naming a top-level module no distribution of the env provides (an
 * optional dependency that is not installed). A top-level module failing that way is a real
 * failure: the package itself cannot be used.
 */
export function benignReason(
  module: string,
  error: string,
  pythonVersion: string,
  known: readonly KnownFailure[],
  envTopLevel: ReadonlySet<string>,
): string | undefined {
  const listed = knownFailure(module, error, pythonVersion, known);
  if (listed !== undefined) return listed;
  const missing = missingModule(error);
  if (missing !== undefined && module.includes(".") && !envTopLevel.has(missing)) {
    return `optional dependency '${missing}' is not installed`;
  }
  return undefined;
}
