/**
 * A slimmed environment's policy read back from its manifest record, so `sync` rebuilds it
 * with the same policy instead of unslimmed.
 */
import { type Reporter, SlimenvError, silentReporter } from "../base/index.ts";
import type { SlimRecord, SlimTransform } from "../env/types.ts";
import { DROP_GROUPS } from "./drop/rules.ts";
import { BYTECODE_MODES, type SlimPolicy, STRIP_MODES, withUsage } from "./policy.ts";
import { slimTransform } from "./transform/transform.ts";

function strings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

/** The policy a manifest recorded. INVALID_ENV when the record is not a policy. */
export function policyFromRecord(record: SlimRecord): SlimPolicy {
  const p = record.policy as Record<string, unknown> | null;
  const bad = () =>
    new SlimenvError(
      "INVALID_ENV",
      "the environment's manifest records an unreadable slim policy",
      {
        hint: "install the environment again with --slim",
      },
    );
  if (typeof p !== "object" || p === null) throw bad();
  const { preset, bytecode, strip, drop, keep, dropGlobs, skip, used, usedBy } = p;
  if (
    typeof preset !== "string" ||
    typeof bytecode !== "string" ||
    !([...BYTECODE_MODES, "smallest"] as string[]).includes(bytecode) ||
    typeof strip !== "string" ||
    !(STRIP_MODES as readonly string[]).includes(strip) ||
    !strings(drop) ||
    !drop.every((g) => (DROP_GROUPS as readonly string[]).includes(g)) ||
    !strings(keep) ||
    !strings(dropGlobs) ||
    !strings(skip) ||
    (used !== undefined && !strings(used)) ||
    (usedBy !== undefined && typeof usedBy !== "string")
  ) {
    throw bad();
  }
  return {
    preset,
    bytecode: bytecode as SlimPolicy["bytecode"],
    strip: strip as SlimPolicy["strip"],
    drop: drop as SlimPolicy["drop"],
    keep,
    dropGlobs,
    skip,
    ...(used === undefined ? {} : { used }),
    ...(usedBy === undefined ? {} : { usedBy: usedBy as string }),
  };
}

/**
 * The transform for `sync` (SyncRequest.slimFor): the recorded policy; its usage-based
 * pruning only when the packages are the same (new files of changed packages were never
 * traced), with a warning otherwise.
 */
export function syncSlimTransform(
  options: { env?: NodeJS.ProcessEnv; cwd?: string; reporter?: Reporter } = {},
): (record: SlimRecord, samePackages: boolean) => SlimTransform {
  const reporter = options.reporter ?? silentReporter;
  return (record, samePackages) => {
    let policy = policyFromRecord(record);
    if (policy.used !== undefined && !samePackages) {
      reporter.log(
        "warn",
        `the packages changed: usage-based pruning is not carried over (run install --keep-used-by ${JSON.stringify(policy.usedBy ?? "CMD")} again)`,
      );
      policy = withUsage(policy, undefined);
    }
    return slimTransform({
      policy,
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
  };
}
