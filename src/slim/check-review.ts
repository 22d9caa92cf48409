/**
 * The import-check half of `install --slim`'s review of candidate trees. A failure only
 * counts against slimming when slimming caused it, so every failure is compared with the
 * same package unslimmed:
 *
 * 0. A candidate slimming left exactly as the wheels have it (`--slim none`) is not checked:
 *    there is nothing to prove (`slimenv check` reports on an env's health).
 * 1. The slimmed candidate: every package is checked. Packages that fail (and are not
 *    already unslimmed by the policy) are the suspects — but a package slimming left exactly
 *    as its wheel has it (`--slim none`, or nothing matched) failed on its own: pre-existing.
 * 2. The baseline candidate: the suspects rebuilt unslimmed, and only the modules that
 *    failed are imported again (the others passed slimmed: nothing to compare). A
 *    suspect whose every failing module fails unslimmed too was not broken by slimming: its
 *    failures are pre-existing (an optional dependency, another platform's module, a module
 *    that refuses to be imported on its own), and it is slimmed again. The others stay
 *    unslimmed — or, with `strict`, the install fails and the environment stays as it was.
 * 3. When suspects are slimmed again, the final tree is built and accepted without a third
 *    check: each of its packages is exactly as one of the two checked candidates had it.
 */
import { type Reporter, SlimenvError } from "../base/index.ts";
import type { EnvManifest } from "../env/types.ts";
import { canonicalizeName } from "../standards/names.ts";
import { readCheckCache, writeCheckCache } from "./check-cache.ts";
import { type SlimPolicy, withSkipped } from "./policy.ts";
import type { PackageSlimSummary, SlimSummary } from "./transform.ts";
import type { SlimChecker, SlimCheckFailure } from "./transform-check.ts";

export interface CheckReviewOptions {
  check: SlimChecker;
  strict: boolean;
  reporter: Reporter;
  /** The check cache (check-cache.ts): where, and the key of a slimmed candidate. */
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

/** The modules failing when slimmed that do not fail unslimmed (empty: pre-existing). */
export function newlyBroken(
  slimmed: SlimCheckFailure,
  unslimmed: SlimCheckFailure | undefined,
): string[] {
  if (unslimmed === undefined) return failedModules(slimmed);
  const before = new Set(failedModules(unslimmed));
  if (before.has("*")) return [];
  return failedModules(slimmed).filter((m) => !before.has(m));
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
  let state: "slimmed" | "baseline" | "done" = "slimmed";
  let checked = false;
  let fromCache = false;
  let cacheKey: string | undefined;
  const suspects: SlimCheckFailure[] = [];
  let before: SlimPolicy | undefined;
  const unslimmed: SlimCheckFailure[] = [];
  const preexisting: SlimCheckFailure[] = [];

  /** Record the outcome, then rebuild with the broken packages unslimmed (or accept). */
  const conclude = (policy: SlimPolicy, broken: SlimCheckFailure[]): SlimPolicy | undefined => {
    if (cache !== undefined && cacheKey !== undefined && !fromCache) {
      writeCheckCache(cache.dir, cacheKey, { unslimmed: broken, preexisting });
    }
    if (broken.length > 0 && strict) throw strictError(broken);
    for (const f of broken) {
      reporter.log(
        "warn",
        `${f.name}: import check failed after slimming (${f.reason}); rebuilt unslimmed`,
      );
    }
    unslimmed.push(...broken);
    if (broken.length === 0) return undefined;
    return withSkipped(
      policy,
      broken.map((f) => f.name),
    );
  };

  return {
    unslimmed: () => unslimmed,
    preexisting: () => preexisting,
    checked: () => checked,
    checkMs: () => Math.round(spent),
    cached: () => fromCache,
    async review(candidate, policy) {
      if (state === "done") return undefined;
      if (state === "slimmed") {
        state = "done";
        const skipped = new Set(policy.skip);
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
            reporter.log("info", "import check: this set and policy were checked before (cache)");
            checked = true;
            fromCache = true;
            preexisting.push(...hit.preexisting);
            const broken = hit.unslimmed.filter((f) => !skipped.has(canonicalizeName(f.name)));
            // The candidate has the broken packages slimmed: build once more without.
            return conclude(policy, broken);
          }
        }
        const failures = await check(candidate);
        if (failures === undefined) return undefined;
        checked = true;
        const summaryOf = new Map(
          (summary?.packages ?? []).map((p) => [canonicalizeName(p.name), p]),
        );
        for (const f of failures) {
          const name = canonicalizeName(f.name);
          if (skipped.has(name)) continue;
          if (untouched(summaryOf.get(name))) preexisting.push(f);
          else suspects.push(f);
        }
        if (suspects.length === 0) return conclude(policy, []);
        const list = suspects.map((f) => f.name).join(", ");
        reporter.log("info", `import check failed for ${list} when slimmed; checking unslimmed`);
        state = "baseline";
        before = policy;
        return withSkipped(
          policy,
          suspects.map((f) => f.name),
        );
      }
      state = "done";
      const only = Object.fromEntries(
        suspects.map((f): [string, readonly string[] | "all"] => [
          canonicalizeName(f.name),
          f.modules ?? "all",
        ]),
      );
      const base = (await check(candidate, only)) ?? [];
      const baseOf = new Map(base.map((f) => [canonicalizeName(f.name), f]));
      const broken: SlimCheckFailure[] = [];
      const kept: SlimCheckFailure[] = [];
      for (const s of suspects) {
        const fresh = newlyBroken(s, baseOf.get(canonicalizeName(s.name)));
        (fresh.length === 0 ? kept : broken).push(s);
      }
      for (const f of kept) {
        reporter.log(
          "debug",
          `${f.name}: ${failedModules(f).length} module(s) fail to import unslimmed too (${f.reason}); kept slimmed`,
        );
      }
      preexisting.push(...kept);
      const next = conclude(before ?? policy, broken);
      // Every suspect broken: the baseline candidate is already the final tree.
      if (kept.length === 0) return undefined;
      return next ?? before ?? policy;
    },
  };
}
