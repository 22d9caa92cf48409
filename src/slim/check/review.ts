/**
 * The import-check half of `install --slim`'s review of candidate trees. A failure only
 * counts against slimming when slimming caused it, so every failure is compared with the
 * environment unslimmed:
 *
 * 0. A candidate in which slimming changed no file (`--slim none`) is not checked: there is
 *    nothing to prove (`slimenv check` reports on an env's health).
 * 1. The slimmed candidate: every package is checked.
 * 2. The baseline candidate: every package unslimmed; only the modules that failed are
 *    imported again. A module that fails there too, the same way, failed on its own (an
 *    optional dependency, another platform's module, a module that refuses to be imported on
 *    its own): its package keeps its slimming. A package with a module that imports
 *    unslimmed is broken by slimming — its own, or another package's (a module that reads
 *    another package's source). With `strict` the install fails here, the env unchanged.
 * 3. The final candidate: the policy with the broken packages unslimmed; their modules that
 *    imported in the baseline are imported once more. When they pass, it is switched in. When one still fails,
 *    another package's slimming broke it, and which one cannot be told cheaply: the baseline
 *    (everything unslimmed, which those modules passed) is built once more and switched in.
 * Unslimming a package only adds files, so a module that passed slimmed passes in these.
 */
import { type Reporter, SlimenvError } from "../../base/index.ts";
import type { EnvManifest } from "../../env/types.ts";
import { canonicalizeName } from "../../standards/names.ts";
import { type SlimPolicy, withSkipped } from "../policy.ts";
import type { PackageSlimSummary, SlimSummary } from "../transform/summary.ts";
import { readCheckCache, writeCheckCache } from "./cache.ts";
import type { SlimChecker, SlimCheckFailure } from "./slim-checker.ts";

export interface CheckReviewOptions {
  check: SlimChecker;
  strict: boolean;
  reporter: Reporter;
  /** The check cache (cache.ts): where, and the key of a slimmed candidate. */
  cache?: {
    dir: string;
    key(candidate: { dir: string; manifest: EnvManifest }): Promise<string | undefined>;
    /** Check anyway and overwrite the entry (`--recheck`). */
    refresh?: boolean;
  };
}

export interface CheckReview {
  /** The next policy to build with, or undefined when the check accepts the candidate. */
  review(
    candidate: { dir: string; manifest: EnvManifest },
    policy: SlimPolicy,
  ): Promise<SlimPolicy | undefined>;
  /** Packages left unslimmed because slimming broke them. */
  unslimmed(): SlimCheckFailure[];
  /** Packages kept slimmed whose failures are the same unslimmed. */
  preexisting(): SlimCheckFailure[];
  /** True once a check ran (false for a cross target). */
  checked(): boolean;
  /** Milliseconds spent in checks. */
  checkMs(): number;
  /** True when the outcome came from the check cache (no module imported). */
  cached(): boolean;
}

/** The modules of a failure, `*` standing for the package as a whole. */
function failedModules(f: SlimCheckFailure): string[] {
  return f.modules ?? ["*"];
}

/**
 * The modules failing slimmed that do not fail unslimmed the same way (empty: the failure is
 * the package's own). The same way: the same exception type, or timeout, or crash.
 */
export function newlyBroken(
  slimmed: SlimCheckFailure,
  unslimmed: SlimCheckFailure | undefined,
): string[] {
  if (unslimmed === undefined) return failedModules(slimmed);
  const before = new Map(failedModules(unslimmed).map((m, i) => [m, unslimmed.causes?.[i]]));
  if (before.has("*")) return [];
  return failedModules(slimmed).filter((m, i) => {
    if (!before.has(m)) return true;
    const was = before.get(m);
    const now = slimmed.causes?.[i];
    return was !== undefined && now !== undefined && was !== now;
  });
}

/** True when slimming left the package's files exactly as its wheel has them. */
export function untouched(p: PackageSlimSummary | undefined): boolean {
  if (p === undefined) return false;
  return (
    (p.bytecode === "source" || p.bytecode === "unslimmed") &&
    p.droppedFiles === 0 &&
    p.compiled === 0 &&
    p.stripped === 0 &&
    (p.zipModules ?? []).length === 0
  );
}

function strictError(broken: readonly SlimCheckFailure[]): SlimenvError {
  const list = broken.map((f) => `${f.name} (${f.reason})`).join("; ");
  return new SlimenvError(
    "SLIM_CHECK_FAILED",
    `after slimming, the import check fails for ${list}; the environment is unchanged`,
    { hint: "drop --strict to rebuild failing packages unslimmed, or list them in slim-skip" },
  );
}

/** `only` for a check of just these failures' modules. */
function onlyOf(failures: readonly SlimCheckFailure[]): Record<string, readonly string[] | "all"> {
  return Object.fromEntries(
    failures.map((f): [string, readonly string[] | "all"] => [
      canonicalizeName(f.name),
      f.modules ?? "all",
    ]),
  );
}

/** A timeout or a crash may be the machine's, not the tree's: such an outcome is not cached. */
function flaky(failures: readonly SlimCheckFailure[]): boolean {
  return failures.some((f) => (f.causes ?? []).some((c) => c === "timeout" || c === "crash"));
}

export function checkReview(options: CheckReviewOptions): CheckReview {
  const { strict, reporter, cache } = options;
  let spent = 0;
  const check: SlimChecker = async (candidate, only) => {
    const started = performance.now();
    try {
      return await options.check(candidate, only);
    } finally {
      spent += performance.now() - started;
    }
  };
  let state: "slimmed" | "baseline" | "final" | "done" = "slimmed";
  let checked = false;
  let fromCache = false;
  let cacheKey: string | undefined;
  let failures: SlimCheckFailure[] = [];
  const broken: SlimCheckFailure[] = [];
  /** The broken packages' modules that import unslimmed: the final tree must import them. */
  const proof: SlimCheckFailure[] = [];
  let before: SlimPolicy | undefined;
  let everything: string[] = [];
  const unslimmed: SlimCheckFailure[] = [];
  const preexisting: SlimCheckFailure[] = [];

  const remember = (volatile: boolean) => {
    if (cache !== undefined && cacheKey !== undefined && !fromCache && !volatile) {
      writeCheckCache(cache.dir, cacheKey, { unslimmed, preexisting });
    }
  };
  const warn = (list: readonly SlimCheckFailure[], why: string) => {
    for (const f of list) {
      reporter.log("warn", `${f.name}: ${why} (${f.reason}); rebuilt unslimmed`);
    }
  };

  return {
    unslimmed: () => unslimmed,
    preexisting: () => preexisting,
    checked: () => checked,
    checkMs: () => Math.round(spent),
    cached: () => fromCache,
    async review(candidate, policy) {
      const names = candidate.manifest.packages.map((p) => p.name);
      if (state === "slimmed") {
        state = "done";
        const summary = candidate.manifest.slim?.summary as SlimSummary | undefined;
        if (summary?.packages.every((p) => untouched(p))) {
          reporter.log("info", "slimming changed no file: nothing for the import check to prove");
          return undefined;
        }
        if (cache !== undefined) {
          cacheKey = await cache.key(candidate);
          const hit =
            cacheKey === undefined || cache.refresh === true
              ? undefined
              : readCheckCache(cache.dir, cacheKey);
          if (hit !== undefined) {
            reporter.log("info", "import check: this tree was checked before (cache)");
            checked = true;
            fromCache = true;
            preexisting.push(...hit.preexisting);
            if (hit.unslimmed.length > 0 && strict) throw strictError(hit.unslimmed);
            unslimmed.push(...hit.unslimmed);
            warn(hit.unslimmed, "import check failed after slimming, as before");
            if (hit.unslimmed.length === 0) return undefined;
            return withSkipped(
              policy,
              hit.unslimmed.map((f) => f.name),
            );
          }
        }
        const found = await check(candidate);
        if (found === undefined) return undefined;
        checked = true;
        if (found.length === 0) {
          remember(false);
          return undefined;
        }
        failures = found;
        before = policy;
        everything = names;
        reporter.log(
          "info",
          `import check failed for ${found.map((f) => f.name).join(", ")} when slimmed; checking unslimmed`,
        );
        state = "baseline";
        return withSkipped(policy, everything);
      }
      if (state === "baseline") {
        state = "done";
        const base = (await check(candidate, onlyOf(failures))) ?? [];
        const baseOf = new Map(base.map((f) => [canonicalizeName(f.name), f]));
        for (const f of failures) {
          const fresh = newlyBroken(f, baseOf.get(canonicalizeName(f.name)));
          if (fresh.length === 0) preexisting.push(f);
          else {
            broken.push(f);
            proof.push({ ...f, modules: fresh.includes("*") ? undefined : fresh });
          }
        }
        if (broken.length > 0 && strict) {
          remember(flaky(failures) || flaky(base));
          throw strictError(broken);
        }
        if (broken.length === 0) {
          remember(flaky(failures) || flaky(base));
          return before ?? policy; // the slimmed tree again: nothing was broken by slimming
        }
        state = "final";
        return withSkipped(
          before ?? policy,
          broken.map((f) => f.name),
        );
      }
      if (state === "final") {
        state = "done";
        const again = (await check(candidate, onlyOf(proof))) ?? [];
        if (again.length === 0) {
          unslimmed.push(...broken);
          warn(broken, "import check failed after slimming");
          remember(flaky(failures));
          return undefined;
        }
        // Another package's slimming broke them: fall back to the baseline, all unslimmed.
        const first = again[0] as SlimCheckFailure;
        const cause: SlimCheckFailure = {
          name: first.name,
          reason: `${first.reason} — with ${broken.map((f) => f.name).join(", ")} unslimmed, still; another package's slimming breaks it`,
        };
        const userSkipped = new Set((before ?? policy).skip);
        for (const name of everything) {
          if (userSkipped.has(canonicalizeName(name))) continue;
          const own = broken.find((f) => canonicalizeName(f.name) === canonicalizeName(name));
          unslimmed.push(own ?? { ...cause, name });
        }
        warn([cause], "import check failed after slimming");
        reporter.log("warn", "every package rebuilt unslimmed");
        remember(flaky(failures) || flaky(again));
        return withSkipped(before ?? policy, everything);
      }
      return undefined;
    },
  };
}
