/**
 * `install --slim PRESET`: materialize with the policy, import-check the candidate tree
 * before it is switched in, and by default rebuild every package that fails the check
 * unslimmed (the same policy with those packages skipped) and say so; with `strict` the
 * install fails instead (SLIM_CHECK_FAILED) and the environment stays as it was.
 */
import { type Reporter, SlimenvError, silentReporter } from "../base/index.ts";
import { type InstallRequest, type InstallResult, install } from "../env/install.ts";
import { MAX_REVIEWS } from "../env/materialize.ts";
import type { EnvManifest, SlimTransform } from "../env/types.ts";
import { canonicalizeName } from "../standards/names.ts";
import { type SlimPolicy, withSkipped } from "./policy.ts";
import { type SlimTransformOptions, slimTransform } from "./transform.ts";
import { defaultSlimChecker, type SlimChecker, type SlimCheckFailure } from "./transform-check.ts";
import { type UsageOutcome, usagePruning } from "./usage.ts";

export interface SlimInstallOptions extends Omit<SlimTransformOptions, "policy"> {
  policy: SlimPolicy;
  /** Fail (SLIM_CHECK_FAILED) instead of rebuilding failing packages unslimmed. */
  strict?: boolean;
  /** The check (default: {@link defaultSlimChecker}); tests pass their own. */
  check?: SlimChecker;
  /** Skip the check entirely. */
  noCheck?: boolean;
  /** Usage-based pruning: a shell command traced in the candidate env (see usage.ts). */
  keepUsedBy?: string;
  /** Working directory of the traced command (default: the request's cwd). */
  keepUsedByCwd?: string;
}

export interface SlimInstallResult extends InstallResult {
  /** The policy the environment finally got (failing packages added to `skip`). */
  policy: SlimPolicy;
  /** Packages rebuilt unslimmed because the check failed for them. */
  unslimmed: SlimCheckFailure[];
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
  const unslimmed: SlimCheckFailure[] = [];
  let checked = false;
  const check =
    options.noCheck === true
      ? undefined
      : (options.check ?? defaultSlimChecker({ env: request.env, reporter }));
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
  const afterCheck = async (candidate: {
    dir: string;
    manifest: EnvManifest;
  }): Promise<SlimTransform | undefined> => {
    if (usageStage === undefined) return undefined;
    const next = await usageStage.review(candidate, policy, candidates >= MAX_REVIEWS);
    if (next === undefined) return undefined;
    policy = next;
    return transformFor(policy);
  };
  const review: InstallRequest["review"] =
    check === undefined && usageStage === undefined
      ? undefined
      : async (candidate) => {
          candidates++;
          // A pruned candidate is proved by the command, not by importing every module.
          if (check === undefined || usageStage?.pruning() === true) return afterCheck(candidate);
          const failures = await check(candidate);
          if (failures === undefined) return afterCheck(candidate);
          checked = true;
          const skipped = new Set(policy.skip);
          const ours = failures.filter((f) => !skipped.has(canonicalizeName(f.name)));
          if (ours.length === 0) return afterCheck(candidate);
          const list = ours.map((f) => `${f.name} (${f.reason})`).join("; ");
          if (options.strict === true) {
            throw new SlimenvError(
              "SLIM_CHECK_FAILED",
              `after slimming, the import check fails for ${list}; the environment is unchanged`,
              {
                hint: "drop --strict to rebuild failing packages unslimmed, or list them in slim-skip",
              },
            );
          }
          for (const f of ours) {
            reporter.log(
              "warn",
              `${f.name}: import check failed after slimming (${f.reason}); rebuilt unslimmed`,
            );
          }
          unslimmed.push(...ours);
          policy = withSkipped(
            policy,
            ours.map((f) => f.name),
          );
          return transformFor(policy);
        };
  const result = await install({
    ...request,
    slim: transformFor(policy),
    ...(review === undefined ? {} : { review }),
  });
  const usage = usageStage?.outcome();
  return { ...result, policy, unslimmed, checked, ...(usage === undefined ? {} : { usage }) };
}
