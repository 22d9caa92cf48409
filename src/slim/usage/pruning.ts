/**
 * `--keep-used-by CMD`, as a review of candidate trees (see materialize's `review`):
 *
 * 1. The policy-only candidate: CMD runs under the tracer (tracer.ts); its exit code
 *    and stdout are the reference; what it touched, closed over what the kept ELF files need
 *    (elf-closure.ts), becomes the policy's `used` input, and the tree is built again with it
 *    (a new candidate: derived objects, nothing edited in place).
 * 2. The pruned candidate: CMD runs again (no tracer). Same exit code and exactly the same
 *    stdout: the pruned tree is switched in. Otherwise the tree is built again without
 *    `used` (the policy-only env) and the outcome says why.
 */
import { type Reporter, SlimenvError } from "../../base/index.ts";
import type { EnvManifest } from "../../env/types.ts";
import { type SlimPolicy, withUsage } from "../policy.ts";
import type { SlimSummary } from "../transform/summary.ts";
import { elfClosure } from "./elf-closure.ts";
import { type CommandOutcome, runCommandIn, siteUsage, traceCommand, treeBytes } from "./tracer.ts";

export interface UsageOutcome {
  command: string;
  /** True when the pruned env was kept; false when it fell back to the policy-only env. */
  kept: boolean;
  /** Why the pruned env was not kept. */
  reason?: string;
  /** Exit code of the traced (unpruned) run. */
  exitCode: number;
  /** Python processes the tracer heard from. */
  processes: number;
  /** Site files the command touched. */
  usedFiles: number;
  /**
   * Site files kept back, not touched, because a kept ELF file needs them (DT_NEEDED through
   * RUNPATH/RPATH, transitively): a bundled library the loader did not open in this run.
   */
  dependencyFiles: number;
  /** DT_NEEDED names of the kept ELF files found nowhere in the site dir (libc.so.6…). */
  systemLibraries: string[];
  /** Bytes of the files touched (the floor). */
  floorBytes: number;
  /** Bytes of the pruned env's tree. */
  prunedBytes?: number;
  /** Bytes of the policy-only env's tree. */
  policyBytes: number;
  /** Bytes of the packages' files as their wheels have them. */
  unslimmedBytes?: number;
}

export interface UsagePruningOptions {
  command: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  reporter: Reporter;
}

export interface UsagePruning {
  /** The next policy to build with, or undefined to switch the candidate in. */
  /** `lastCandidate`: materialize allows no further rebuild (MAX_REVIEWS reached). */
  review(
    candidate: { dir: string; manifest: EnvManifest },
    policy: SlimPolicy,
    lastCandidate?: boolean,
  ): Promise<SlimPolicy | undefined>;
  /** True once the trace ran: later candidates are not import-checked again. */
  pruning(): boolean;
  outcome(): UsageOutcome | undefined;
}

function tail(text: string): string {
  const lines = text.trim().split("\n");
  return lines.slice(-3).join(" | ").slice(0, 300);
}

/** Why `after` does not match `before`, or undefined when it does. */
export function outputDifference(
  before: CommandOutcome,
  after: CommandOutcome,
): string | undefined {
  if (before.code !== after.code) {
    return `the command exits ${after.code} in the pruned env, ${before.code} before${after.stderr.trim() === "" ? "" : `: ${tail(after.stderr)}`}`;
  }
  if (before.stdout === after.stdout) return undefined;
  const a = before.stdout.split("\n");
  const b = after.stdout.split("\n");
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return `the command's output differs in the pruned env at line ${i + 1}: ${JSON.stringify(b[i] ?? "")} instead of ${JSON.stringify(a[i] ?? "")}`;
}

export function usagePruning(options: UsagePruningOptions): UsagePruning {
  const { command, reporter } = options;
  let state: "trace" | "prove" | "fallback" | "done" = "trace";
  let reference: CommandOutcome | undefined;
  let outcome: UsageOutcome | undefined;
  const run = { env: options.env, cwd: options.cwd };
  return {
    pruning: () => state !== "trace",
    outcome: () => outcome,
    async review(candidate, policy, lastCandidate = false) {
      if (state === "trace" && lastCandidate) {
        state = "done";
        reporter.log(
          "warn",
          "--keep-used-by: no rebuild left after the import check; nothing pruned",
        );
        return undefined;
      }
      if (state === "trace") {
        const site = `${candidate.dir}/${candidate.manifest.scheme.purelib}`;
        reporter.log("info", `tracing ${command}`);
        const traced = await traceCommand(candidate.dir, candidate.manifest, command, run);
        reference = traced;
        const usage = await siteUsage(site, traced.files);
        const closure = await elfClosure(site, usage.used);
        if (closure.added.length > 0) {
          reporter.log(
            "info",
            `keeping ${closure.added.length} file(s) that kept native files need: ${closure.added.slice(0, 5).join(", ")}${closure.added.length > 5 ? ", …" : ""}`,
          );
        }
        const summary = candidate.manifest.slim?.summary as SlimSummary | undefined;
        outcome = {
          command,
          kept: false,
          exitCode: traced.code,
          processes: traced.processes,
          usedFiles: usage.used.length,
          dependencyFiles: closure.added.length,
          systemLibraries: closure.system,
          floorBytes: usage.floorBytes,
          policyBytes: await treeBytes(candidate.dir),
          ...(summary?.inputBytes === undefined ? {} : { unslimmedBytes: summary.inputBytes }),
        };
        const refuse = (reason: string) => {
          state = "done";
          if (outcome !== undefined) outcome.reason = reason;
          reporter.log("warn", `--keep-used-by: ${reason}; nothing pruned`);
          return undefined;
        };
        if (traced.code !== 0) {
          return refuse(
            `the command fails in the unpruned env (exit ${traced.code}${traced.stderr.trim() === "" ? "" : `: ${tail(traced.stderr)}`})`,
          );
        }
        if (traced.processes === 0) {
          return refuse("the command ran no Python of the environment");
        }
        state = "prove";
        return withUsage(policy, [...usage.used, ...closure.added], command);
      }
      if (state === "prove") {
        const again = await runCommandIn(candidate.dir, candidate.manifest, command, run);
        if (outcome !== undefined) outcome.prunedBytes = await treeBytes(candidate.dir);
        const diff = reference === undefined ? undefined : outputDifference(reference, again);
        if (diff === undefined) {
          state = "done";
          if (outcome !== undefined) outcome.kept = true;
          return undefined;
        }
        state = "fallback";
        if (outcome !== undefined) outcome.reason = diff;
        if (lastCandidate) {
          throw new SlimenvError(
            "SLIM_FAILED",
            `--keep-used-by: ${diff}; no rebuild is left to fall back to the unpruned env`,
            { hint: "install again without --keep-used-by, or list failing packages in slim-skip" },
          );
        }
        reporter.log("warn", `--keep-used-by: ${diff}; keeping the unpruned env`);
        return withUsage(policy, undefined);
      }
      state = "done";
      return undefined;
    },
  };
}
