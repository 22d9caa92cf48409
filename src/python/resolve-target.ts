/**
 * The one call commands make to get a Target: either probe an interpreter (found from a
 * `--python` request, SLIMENV_PYTHON or the default) or build one from a spec alone.
 */
import type { DiscoveryOptions, FoundInterpreter } from "./discover.ts";
import { findInterpreter } from "./discover.ts";
import type { Target } from "./target.ts";
import { targetFromProbe } from "./target.ts";
import type { TargetSpec } from "./target-spec.ts";
import { targetFromSpec } from "./target-spec.ts";

export type TargetSelection =
  /** A real interpreter; no request = SLIMENV_PYTHON, else the default interpreter. */
  | { kind: "interpreter"; request?: string }
  /** No interpreter: the target a CPython of that version on that platform would be. */
  | { kind: "spec"; spec: TargetSpec };

export interface ResolvedTarget {
  target: Target;
  /** The interpreter probed (interpreter selections only). */
  interpreter?: FoundInterpreter;
}

export async function resolveTarget(
  selection: TargetSelection,
  options: DiscoveryOptions = {},
): Promise<ResolvedTarget> {
  if (selection.kind === "spec") return { target: targetFromSpec(selection.spec) };
  const interpreter = await findInterpreter(selection.request, options);
  return { target: targetFromProbe(interpreter.probe), interpreter };
}
