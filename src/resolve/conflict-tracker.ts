/**
 * The solver's conflict tracking (see solver.ts): conflicts counted per (affected, culprit)
 * pair of base names, at each backjump and at each version rejected as soon as its
 * dependencies are read. At CONFLICT_THRESHOLD the affected is decided before every other
 * package from then on and the culprit after every other one, and the solver backtracks to
 * just before the culprit's decision. Each package changes priority at most once. A direct
 * requirement is never put after a package that is not one.
 */
import type { Reporter } from "../base/index.ts";
import { ROOT, type Term } from "./incompatibility.ts";
import { baseName } from "./package-ids.ts";
import type { PartialSolution } from "./partial-solution.ts";

/** Conflicts between the same two packages before their priorities change (default). */
export const CONFLICT_THRESHOLD = 5;

/** Decision tiers: "early" before every other package, "late" after every other one. */
type Tier = "early" | "late";

function tierRank(tier: Tier | undefined): number {
  return tier === "early" ? 0 : tier === undefined ? 1 : 2;
}

export class ConflictTracker {
  readonly #solution: PartialSolution;
  readonly #reporter: Reporter;
  readonly #threshold: number;
  readonly #isDirect: (name: string) => boolean;
  /** Conflicts per "affected\0culprit" pair of base names. */
  readonly #conflicts = new Map<string, number>();
  readonly #tiers = new Map<string, Tier>();

  /** `isDirect(name)`: whether the user requires that package (a requirement of the root). */
  constructor(
    solution: PartialSolution,
    reporter: Reporter,
    threshold = CONFLICT_THRESHOLD,
    isDirect: (name: string) => boolean = () => false,
  ) {
    this.#solution = solution;
    this.#reporter = reporter;
    this.#threshold = Math.max(1, Math.floor(threshold));
    this.#isDirect = isDirect;
  }

  /** Where a package comes in the decision order: 0 early, 1 unchanged, 2 late. */
  rank(pkg: string): number {
    return tierRank(this.#tiers.get(baseName(pkg)));
  }

  /**
   * Counts a conflict between the package whose decision was just undone (affected) and the
   * one decided at the level the solver went back to (culprit). At the threshold the
   * affected is decided first from now on and the culprit last, and the solver backtracks to
   * before the culprit's decision; true when it did.
   */
  noteConflict(
    affected: string | undefined,
    culprit: string | undefined,
    culpritLevel: number,
  ): boolean {
    if (affected === undefined || culprit === undefined) return false;
    if (affected === ROOT || culprit === ROOT || culpritLevel < 2) return false;
    const a = baseName(affected);
    const c = baseName(culprit);
    if (a === c) return false;
    // What the user asked for is not put after what only another package needs: a direct
    // requirement keeps its newest version, and the transitive package walks down instead
    // (packse's wrong-backtracking-indirect, as uv locks it; docs/resolver.md).
    if (this.#isDirect(c) && !this.#isDirect(a)) return false;
    const key = `${a}\0${c}`;
    const count = (this.#conflicts.get(key) ?? 0) + 1;
    this.#conflicts.set(key, count);
    if (count !== this.#threshold) return false;
    let changed = false;
    if (!this.#tiers.has(a)) {
      this.#tiers.set(a, "early");
      changed = true;
    }
    if (!this.#tiers.has(c)) {
      this.#tiers.set(c, "late");
      changed = true;
    }
    if (!changed) return false;
    this.#reporter.log(
      "debug",
      `resolver: ${c} conflicted with ${a} ${count} times; deciding ${a} before ${c}`,
    );
    this.#solution.backtrack(culpritLevel - 1);
    return true;
  }

  /**
   * A version of `pkg` was just rejected, before being decided, because earlier assignments
   * contradict some of its dependencies: counts a conflict between `pkg` (affected) and the
   * package decided at the level of each contradicting assignment (culprit), as a backjump
   * does (uv counts these rejections too). Without it, a package decided early that every
   * newer version of a later package rejects (wrong-backtracking-basic: a==2.0.0 against
   * b>=2.0.0) is never reconsidered: the solver walks down the later package to a release
   * old enough not to care. True when the priorities changed and the solver backtracked.
   */
  noteRejection(pkg: string, rejecting: readonly Term[]): boolean {
    for (const term of rejecting) {
      const level = this.#solution.satisfier(term).level;
      const culprit = this.#solution.decisionAt(level);
      if (this.noteConflict(pkg, culprit, level)) return true;
    }
    return false;
  }
}
