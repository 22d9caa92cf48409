/**
 * The PubGrub loop (after Natalie Weizenbaum's description of Pub's solver): unit
 * propagation over incompatibilities, decisions with the "most constrained package first"
 * heuristic, and conflict resolution that learns a new incompatibility and backjumps to the
 * decision level where it becomes almost satisfied. Fetching is asynchronous; everything
 * else is plain synchronous bookkeeping.
 */
import type { Reporter } from "../base/index.ts";
import { difference, Incompatibility, negate, ROOT, type Term } from "./incompatibility.ts";
import { PartialSolution } from "./partial-solution.ts";
import { baseName, extraOf, type Problem } from "./problem.ts";
import { bit, countBits } from "./version-set.ts";

/** Thrown when the root incompatibility is derived: no solution exists. */
export class SolveFailure extends Error {
  readonly incompatibility: Incompatibility;
  constructor(incompatibility: Incompatibility) {
    super("no solution");
    this.incompatibility = incompatibility;
  }
}

const CONFLICT = Symbol("conflict");

export class Solver {
  readonly #problem: Problem;
  readonly #reporter: Reporter;
  readonly #solution = new PartialSolution();
  readonly #byPkg = new Map<string, Incompatibility[]>();

  constructor(problem: Problem, reporter: Reporter) {
    this.#problem = problem;
    this.#reporter = reporter;
  }

  /** Decided version index per package id (root included). */
  async solve(): Promise<ReadonlyMap<string, number>> {
    this.#add(
      new Incompatibility([{ pkg: ROOT, positive: false, set: { bits: 1n } }], { kind: "root" }),
    );
    let next: string | undefined = ROOT;
    while (next !== undefined) {
      this.#propagate(next);
      next = await this.#choose();
    }
    return this.#solution.decisions;
  }

  #add(incompatibility: Incompatibility): void {
    for (const t of incompatibility.terms) {
      let list = this.#byPkg.get(t.pkg);
      if (list === undefined) {
        list = [];
        this.#byPkg.set(t.pkg, list);
      }
      list.push(incompatibility);
    }
  }

  #addPending(): void {
    const pending = this.#problem.newIncompatibilities;
    for (const inc of pending.splice(0, pending.length)) this.#add(inc);
  }

  #propagate(start: string): void {
    const changed = new Set<string>([start]);
    while (changed.size > 0) {
      const pkg = changed.values().next().value as string;
      changed.delete(pkg);
      const list = this.#byPkg.get(pkg) ?? [];
      for (let i = list.length - 1; i >= 0; i--) {
        const inc = list[i] as Incompatibility;
        const result = this.#propagateOne(inc);
        if (result === CONFLICT) {
          const rootCause = this.#resolveConflict(inc);
          changed.clear();
          const again = this.#propagateOne(rootCause);
          if (typeof again !== "string") throw new Error("internal: learned clause not unit");
          changed.add(again);
          break;
        }
        if (result !== undefined) changed.add(result);
      }
    }
  }

  /** Derives the one undetermined term's inverse; CONFLICT when every term is satisfied. */
  #propagateOne(inc: Incompatibility): string | typeof CONFLICT | undefined {
    let unsatisfied: Term | undefined;
    for (const t of inc.terms) {
      const relation = this.#solution.relation(t);
      if (relation === "contradicted") return undefined;
      if (relation === "inconclusive") {
        if (unsatisfied !== undefined) return undefined;
        unsatisfied = t;
      }
    }
    if (unsatisfied === undefined) return CONFLICT;
    this.#solution.derive(negate(unsatisfied), inc);
    return unsatisfied.pkg;
  }

  #resolveConflict(start: Incompatibility): Incompatibility {
    let inc = start;
    let learned = false;
    while (!inc.isFailure) {
      let mostRecentTerm: Term | undefined;
      let mostRecent: ReturnType<PartialSolution["satisfier"]> | undefined;
      let diff: Term | undefined;
      let previousLevel = 1;
      for (const term of inc.terms) {
        const satisfier = this.#solution.satisfier(term);
        if (mostRecent === undefined) {
          mostRecent = satisfier;
          mostRecentTerm = term;
        } else if (mostRecent.index < satisfier.index) {
          previousLevel = Math.max(previousLevel, mostRecent.level);
          mostRecent = satisfier;
          mostRecentTerm = term;
          diff = undefined;
        } else {
          previousLevel = Math.max(previousLevel, satisfier.level);
        }
        if (mostRecentTerm === term) {
          diff = difference(mostRecent.term, term);
          if (diff !== undefined) {
            previousLevel = Math.max(previousLevel, this.#solution.satisfier(negate(diff)).level);
          }
        }
      }
      if (mostRecent === undefined || mostRecentTerm === undefined) break;
      if (previousLevel < mostRecent.level || mostRecent.cause === undefined) {
        this.#solution.backtrack(previousLevel);
        if (learned) this.#add(inc);
        return inc;
      }
      const cause = mostRecent.cause;
      const terms: Term[] = inc.terms.filter((t) => t !== mostRecentTerm);
      for (const t of cause.terms) if (t.pkg !== mostRecent.term.pkg) terms.push(t);
      if (diff !== undefined) terms.push(negate(diff));
      inc = new Incompatibility(terms, { kind: "conflict", conflict: inc, other: cause });
      learned = true;
    }
    throw new SolveFailure(inc);
  }

  /** Picks the next package and version; undefined when every required package is decided. */
  async #choose(): Promise<string | undefined> {
    const undecided = this.#solution.undecided();
    if (undecided.length === 0) return undefined;
    let best: Term | undefined;
    let bestReal = 0n;
    let bestCount = 0;
    for (const t of undecided) {
      const real = t.set.bits & this.#problem.universe(t.pkg).full;
      const count = countBits(real);
      if (
        best === undefined ||
        count < bestCount ||
        (count === bestCount &&
          this.#problem.discoveryIndex(t.pkg) < this.#problem.discoveryIndex(best.pkg))
      ) {
        best = t;
        bestReal = real;
        bestCount = count;
      }
    }
    if (best === undefined) return undefined;
    const pkg = best.pkg;
    if (bestReal === 0n) {
      this.#add(new Incompatibility([best], { kind: "noVersions" }));
      return pkg;
    }
    const index = pkg === ROOT ? 0 : this.#pickVersion(pkg, bestReal);
    if (pkg !== ROOT && extraOf(pkg) === undefined) {
      const unusable = this.#problem.unusable(pkg, index);
      if (unusable !== undefined) {
        this.#add(
          new Incompatibility(
            [{ pkg, positive: true, set: { bits: unusable.bits } }],
            unusable.cause,
          ),
        );
        return pkg;
      }
    }
    const deps = await this.#problem.dependencies(pkg, index);
    this.#addPending();
    const versionTerm: Term = { pkg, positive: true, set: { bits: bit(index) } };
    if (deps.kind === "requiresPython") {
      this.#add(new Incompatibility([versionTerm], { kind: "requiresPython", spec: deps.spec }));
      return pkg;
    }
    let conflict = false;
    for (const target of deps.targets) {
      const inc = new Incompatibility(
        [versionTerm, { pkg: target.id, positive: false, set: target.set }],
        { kind: "dependency" },
      );
      this.#add(inc);
      conflict ||= inc.terms.every((t) => t.pkg === pkg || this.#solution.satisfies(t));
    }
    if (!conflict) {
      this.#solution.decide(pkg, index);
      if (pkg !== ROOT) {
        const v = this.#problem.universe(pkg).entry(index).version;
        this.#reporter.log("debug", `resolver: selected ${pkg}==${v}`);
      }
    }
    return pkg;
  }

  /** The version for a package: the one its base or sibling extras took, else the strategy's. */
  #pickVersion(pkg: string, bits: bigint): number {
    const base = baseName(pkg);
    for (const [other, index] of this.#solution.decisions) {
      if (
        other !== pkg &&
        other !== ROOT &&
        baseName(other) === base &&
        (bits & bit(index)) !== 0n
      ) {
        return index;
      }
    }
    return this.#problem.preferredIndex(base, bits);
  }
}
