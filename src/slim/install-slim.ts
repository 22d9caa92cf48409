/**
 * `install --slim PRESET`: materialize with the policy, import-check the candidate tree
 * before it is switched in, and by default rebuild every package that slimming broke
 * unslimmed (the same policy with those packages skipped) and say so — a failure the package
 * has unslimmed too is not slimming's (check/review.ts); with `strict` the install fails
 * instead (SLIM_CHECK_FAILED) and the environment stays as it was. Then, with `keepUsedBy`,
 * usage-based pruning (usage/pruning.ts).
 */
import { type Reporter, silentReporter } from "../base/index.ts";
import { type InstallRequest, type InstallResult, install } from "../env/install.ts";
import { MAX_REVIEWS } from "../env/materialize.ts";
import type { SlimTransform } from "../env/types.ts";
import { checkCacheKey } from "./check/cache.ts";
import { checkReview } from "./check/review.ts";
import {
  candidatePython,
  defaultSlimChecker,
  type SlimChecker,
  type SlimCheckFailure,
} from "./check/slim-checker.ts";
import type { SlimPolicy } from "./policy.ts";
import { type SlimTransformOptions, slimTransform } from "./transform/transform.ts";
import { type UsageOutcome, usagePruning } from "./usage/pruning.ts";

export interface SlimInstallOptions extends Omit<SlimTransformOptions, "policy"> {
  policy: SlimPolicy;
  /** Fail (SLIM_CHECK_FAILED) instead of rebuilding failing packages unslimmed. */
  strict?: boolean;
  /** The check (default: {@link defaultSlimChecker}); tests pass their own. */
  check?: SlimChecker;
  /** Skip the check entirely. */
  noCheck?: boolean;
  /** The check cache folder (check/cache.ts); none when absent. */
  checkCacheDir?: string;
  /** Check even when the cache knows the outcome (and refresh the entry). */
  recheck?: boolean;
  /** Usage-based pruning: a shell command traced in the candidate env (see usage/pruning.ts). */
  keepUsedBy?: string;
  /** Working directory of the traced command (default: the request's cwd). */
  keepUsedByCwd?: string;
}

export interface SlimInstallResult extends InstallResult {
  /** The policy the environment finally got (failing packages added to `skip`). */
  policy: SlimPolicy;
  /** Packages rebuilt unslimmed because slimming broke their import check. */
  unslimmed: SlimCheckFailure[];
  /** Packages kept slimmed whose failing modules fail unslimmed too. */
  preexisting: SlimCheckFailure[];
  /** Milliseconds the import checks took (0 when none ran). */
  checkMs: number;
  /** True when the check's outcome came from the check cache. */
  checkCached: boolean;
  /** False when no check ran (cross target, noCheck, or nothing rebuilt). */
  checked: boolean;
  /** What usage-based pruning did (with `keepUsedBy`, when the env was rebuilt). */
  usage?: UsageOutcome;
}

/** Install with slimming; see the module comment. */
export async function installSlim(
  request: InstallRequest,
  options: SlimInstallOptions,
): Promise<SlimInstallResult> {
  const reporter: Reporter = request.reporter ?? silentReporter;
  const transformFor = (policy: SlimPolicy): SlimTransform =>
    slimTransform({
      ...options,
      policy,
      env: options.env ?? request.env,
      cwd: options.cwd ?? request.cwd,
    });
  let policy = options.policy;
  const check =
    options.noCheck === true
      ? undefined
      : checkReview({
          check: options.check ?? defaultSlimChecker({ env: request.env, reporter }),
          strict: options.strict === true,
          reporter,
          ...(options.checkCacheDir === undefined
            ? {}
            : {
                cache: {
                  dir: options.checkCacheDir,
                  refresh: options.recheck === true,
                  key: async ({ manifest }) => {
                    const python = candidatePython(manifest, request.env);
                    return python === undefined
                      ? undefined
                      : checkCacheKey(manifest, python, request.env);
                  },
                },
              }),
        });
  const usageStage =
    options.keepUsedBy === undefined
      ? undefined
      : usagePruning({
          command: options.keepUsedBy,
          env: request.env,
          cwd: options.keepUsedByCwd ?? request.cwd,
          reporter,
        });
  let candidates = 0;
  const review: InstallRequest["review"] =
    check === undefined && usageStage === undefined
      ? undefined
      : async (candidate) => {
          candidates++;
          // A pruned candidate is proved by the command, not by importing every module.
          if (check !== undefined && usageStage?.pruning() !== true) {
            const next = await check.review(candidate, policy);
            if (next !== undefined) {
              policy = next;
              return transformFor(policy);
            }
          }
          if (usageStage === undefined) return undefined;
          const next = await usageStage.review(candidate, policy, candidates >= MAX_REVIEWS);
          if (next === undefined) return undefined;
          policy = next;
          return transformFor(policy);
        };
  const result = await install({
    ...request,
    slim: transformFor(policy),
    ...(review === undefined ? {} : { review }),
  });
  const usage = usageStage?.outcome();
  return {
    ...result,
    policy,
    unslimmed: check?.unslimmed() ?? [],
    preexisting: check?.preexisting() ?? [],
    checked: check?.checked() ?? false,
    checkMs: check?.checkMs() ?? 0,
    checkCached: check?.cached() ?? false,
    ...(usage === undefined ? {} : { usage }),
  };
}
