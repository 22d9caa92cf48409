/**
 * `resolve`: requirements in, a set of package versions out (or NO_SOLUTION with the
 * explanation). Sets up the problem, runs the PubGrub solver, and folds the virtual extra
 * packages back into their real packages.
 */
import { SlimenvError, silentReporter } from "../base/index.ts";
import { canonicalizeName } from "../standards/names.ts";
import type { Requirement } from "../standards/requirement.ts";
import { Version } from "../standards/version.ts";
import { Explanation } from "./explain.ts";
import { Fetcher } from "./fetcher.ts";
import { ROOT } from "./incompatibility.ts";
import { baseName, extraOf } from "./package-ids.ts";
import { Problem } from "./problem.ts";
import { SolveFailure, Solver } from "./solver.ts";
import type { Resolution, ResolvedPackage, ResolveOptions } from "./types.ts";

const NO_SOLUTION_MESSAGE = "no version of the requirements can be satisfied";

function canonicalKeys<T>(map: Map<string, T> | undefined): Map<string, T> {
  const out = new Map<string, T>();
  for (const [k, v] of map ?? []) out.set(canonicalizeName(k), v);
  return out;
}

export async function resolve(
  requirements: Requirement[],
  options: ResolveOptions,
): Promise<Resolution> {
  const reporter = options.reporter ?? silentReporter;
  const upgrade =
    options.upgrade instanceof Set
      ? new Set([...options.upgrade].map(canonicalizeName))
      : (options.upgrade ?? false);
  const fetcher = new Fetcher(options.provider, options.concurrency ?? 16);
  const problem = new Problem(requirements, options.constraints ?? [], {
    fetcher,
    environment: options.environment,
    pythonVersion: options.pythonVersion,
    prereleases: options.prereleases ?? "if-necessary-or-explicit",
    strategy: options.strategy ?? "highest",
    preferences: canonicalKeys(options.preferences),
    upgrade,
  });
  problem.rootUniverse = Problem.rootUniverseFor(new Version("0"));
  const solver = new Solver(problem, reporter, options.conflictThreshold);
  let decisions: ReadonlyMap<string, number>;
  try {
    decisions = await solver.solve();
  } catch (err) {
    if (err instanceof SolveFailure) {
      const detail = new Explanation({ universe: (pkg) => problem.universe(pkg) }).explain(
        err.incompatibility,
      );
      // The failure (with its derivation) stays reachable as `cause`, for callers that look
      // for the reasons involved (see `unavailableReasons`).
      throw new SlimenvError("NO_SOLUTION", NO_SOLUTION_MESSAGE, { detail, cause: err });
    }
    throw err;
  }
  return { packages: await collect(problem, decisions) };
}

async function collect(
  problem: Problem,
  decisions: ReadonlyMap<string, number>,
): Promise<ResolvedPackage[]> {
  const byName = new Map<string, ResolvedPackage>();
  const ids = [...decisions.keys()].filter((id) => id !== ROOT);
  for (const id of ids) {
    const name = baseName(id);
    if (byName.has(name)) continue;
    const index = decisions.get(name) ?? (decisions.get(id) as number);
    const entry = problem.universe(name).entry(index);
    const pkg: ResolvedPackage = {
      name,
      version: entry.version,
      extras: [],
      direct: problem.isDirect(name),
      dependencies: [],
    };
    if (entry.url !== undefined) pkg.url = entry.url;
    byName.set(name, pkg);
  }
  for (const id of ids) {
    const name = baseName(id);
    const pkg = byName.get(name);
    if (pkg === undefined) continue;
    const extra = extraOf(id);
    if (extra !== undefined) pkg.extras.push(extra);
    const deps = await problem.dependencies(id, decisions.get(id) as number);
    if (deps.kind !== "ok") continue;
    const names = new Set(pkg.dependencies);
    for (const t of deps.targets) {
      const dep = baseName(t.id);
      if (dep !== name) names.add(dep);
    }
    pkg.dependencies = [...names];
  }
  const out = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const p of out) {
    p.extras.sort();
    p.dependencies.sort();
  }
  return out;
}
