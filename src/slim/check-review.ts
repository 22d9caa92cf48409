/**
 * The import-check half of `install --slim`'s review of candidate trees. A failure only
 * counts against slimming when slimming caused it, so every failure is compared with the
 * same package unslimmed:
 *
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
import { type SlimPolicy, withSkipped } from "./policy.ts";
import type { PackageSlimSummary, SlimSummary } from "./transform.ts";
import type { SlimChecker, SlimCheckFailure } from "./transform-check.ts";

export interface CheckReviewOptions {
  check: SlimChecker;
  strict: boolean;
  reporter: Reporter;
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

export function checkReview(options: CheckReviewOptions): CheckReview {
  const { strict, reporter } = options;
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
  const suspects: SlimCheckFailure[] = [];
  let before: SlimPolicy | undefined;
  const unslimmed: SlimCheckFailure[] = [];
  const preexisting: SlimCheckFailure[] = [];
  return {
    unslimmed: () => unslimmed,
    preexisting: () => preexisting,
    checked: () => checked,
    checkMs: () => Math.round(spent),
    async review(candidate, policy) {
      if (state === "done") return undefined;
      if (state === "slimmed") {
        const failures = await check(candidate);
        state = "done";
        if (failures === undefined) return undefined;
        checked = true;
        const skipped = new Set(policy.skip);
        const summary = candidate.manifest.slim?.summary as SlimSummary | undefined;
        const summaryOf = new Map(
          (summary?.packages ?? []).map((p) => [canonicalizeName(p.name), p]),
        );
        for (const f of failures) {
          const name = canonicalizeName(f.name);
          if (skipped.has(name)) continue;
          if (untouched(summaryOf.get(name))) preexisting.push(f);
          else suspects.push(f);
        }
        if (suspects.length === 0) return undefined;
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
      for (const s of suspects) {
        const fresh = newlyBroken(s, baseOf.get(canonicalizeName(s.name)));
        if (fresh.length === 0) preexisting.push(s);
        else broken.push(s);
      }
      if (broken.length > 0 && strict) {
        const list = broken.map((f) => `${f.name} (${f.reason})`).join("; ");
        throw new SlimenvError(
          "SLIM_CHECK_FAILED",
          `after slimming, the import check fails for ${list}; the environment is unchanged`,
          {
            hint: "drop --strict to rebuild failing packages unslimmed, or list them in slim-skip",
          },
        );
      }
      for (const f of preexisting) {
        reporter.log(
          "debug",
          `${f.name}: ${failedModules(f).length} module(s) fail to import unslimmed too (${f.reason}); kept slimmed`,
        );
      }
      for (const f of broken) {
        reporter.log(
          "warn",
          `${f.name}: import check failed after slimming (${f.reason}); rebuilt unslimmed`,
        );
      }
      unslimmed.push(...broken);
      if (preexisting.length === 0) return undefined; // this candidate is the final tree
      return withSkipped(
        before ?? policy,
        broken.map((f) => f.name),
      );
    },
  };
}
