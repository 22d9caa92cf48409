/**
 * The PubGrub loop (after Natalie Weizenbaum's description of Pub's solver): unit
 * propagation over incompatibilities, decisions with the "most constrained package first"
 * heuristic, and conflict resolution that learns a new incompatibility and backjumps to the
 * decision level where it becomes almost satisfied. Fetching is asynchronous; everything
 * else is plain synchronous bookkeeping.
 *
 * Two refinements keep a resolution against a real index short:
 *   - conflict tracking: when the decision of one package (the culprit) keeps rejecting the
 *     versions of a package decided after it (the affected), CONFLICT_THRESHOLD times —
 *     counted at each backjump, and each time a version is rejected as soon as its
 *     dependencies are read — the affected is decided before everything else from then on,
 *     the culprit after everything else, and the solver backtracks to just before the
 *     culprit's decision. Without it, a new release of a small package (python-dateutil 4)
 *     taken early makes the solver walk every version of a package with a thousand releases
 *     (boto3) one metadata fetch at a time, or down to a release so old that it no longer
 *     depends on the culprit (packse's wrong-backtracking scenarios). Each package changes
 *     priority at most once, so this cannot loop.
 *   - merging: the incompatibility "x==1.1 depends on y<3" joins an existing "x==1.0 depends
 *     on y<3" into "x>=1.0, <1.2 depends on y<3" when the versions are neighbours (the same
 *     for "is unavailable" and "requires Python" with the same reason), which propagates
 *     further and explains in ranges. It uses only metadata already fetched.
 */
import type { Reporter } from "../base/index.ts";
import { CONFLICT_THRESHOLD, ConflictTracker } from "./conflict-tracker.ts";
import {
  type Cause,
  difference,
  Incompatibility,
  negate,
  ROOT,
  type Term,
} from "./incompatibility.ts";
import { baseName, extraOf } from "./package-ids.ts";
import { PartialSolution } from "./partial-solution.ts";
import type { Problem } from "./problem.ts";
import { bit, countBits, lowestBit } from "./version-set.ts";

/** Thrown when the root incompatibility is derived: no solution exists. */
export class SolveFailure extends Error {
  readonly incompatibility: Incompatibility;
  constructor(incompatibility: Incompatibility) {
    super("no solution");
    this.incompatibility = incompatibility;
  }
}

const CONFLICT = Symbol("conflict");

/** The set is one run of consecutive versions. */
function isRun(bits: bigint): boolean {
  if (bits === 0n) return false;
  const x = bits >> BigInt(lowestBit(bits));
  return (x & (x + 1n)) === 0n;
}

/** Why a conflict ended: the learned incompatibility, and whether the solver restarted. */
interface ConflictOutcome {
  learned: Incompatibility;
  restarted: boolean;
}

export class Solver {
  readonly #problem: Problem;
  readonly #reporter: Reporter;
  readonly #solution = new PartialSolution();
  readonly #byPkg = new Map<string, Incompatibility[]>();
  /** External incompatibilities that a neighbouring version's twin may extend, by key. */
  readonly #mergeable = new Map<string, Incompatibility>();
  readonly #conflicts: ConflictTracker;
  /** Set when #choose backtracked for a change of priorities (see ConflictTracker). */
  #restarted = false;

  constructor(problem: Problem, reporter: Reporter, conflictThreshold = CONFLICT_THRESHOLD) {
    this.#problem = problem;
    this.#reporter = reporter;
    this.#conflicts = new ConflictTracker(this.#solution, reporter, conflictThreshold, (name) =>
      problem.isDirect(name),
    );
  }

  /** Decided version index per package id (root included). */
  async solve(): Promise<ReadonlyMap<string, number>> {
    this.#add(
      new Incompatibility([{ pkg: ROOT, positive: false, set: { bits: 1n } }], { kind: "root" }),
    );
    let next: string | undefined = ROOT;
    while (next !== undefined) {
      if (this.#restarted) {
        // A change of priorities undid decisions: propagate anew from what is still assigned.
        this.#restarted = false;
        this.#propagate(...this.#solution.assigned());
      } else {
        this.#propagate(next);
      }
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

  #remove(incompatibility: Incompatibility): void {
    for (const t of incompatibility.terms) {
      const list = this.#byPkg.get(t.pkg);
      const at = list?.indexOf(incompatibility) ?? -1;
      if (list !== undefined && at >= 0) list.splice(at, 1);
    }
  }

  /**
   * Adds an external incompatibility about version set `bits` of `pkg` (its first term),
   * merged with the one under the same key when their versions are neighbours.
   */
  #addMergeable(
    pkg: string,
    bits: bigint,
    rest: Term[],
    cause: Cause,
    key: string,
  ): Incompatibility {
    const fullKey = `${pkg}\0${key}`;
    const known = this.#mergeable.get(fullKey);
    const knownBits = known?.terms[0]?.set.bits;
    let set = bits;
    if (known !== undefined && knownBits !== undefined && isRun(knownBits | bits)) {
      set = knownBits | bits;
      this.#remove(known);
    }
    const inc = new Incompatibility([{ pkg, positive: true, set: { bits: set } }, ...rest], cause);
    this.#mergeable.set(fullKey, inc);
    this.#add(inc);
    return inc;
  }

  #addPending(): void {
    const pending = this.#problem.newIncompatibilities;
    for (const inc of pending.splice(0, pending.length)) this.#add(inc);
  }

  #propagate(...start: string[]): void {
    const changed = new Set<string>(start);
    while (changed.size > 0) {
      const pkg = changed.values().next().value as string;
      changed.delete(pkg);
      const list = this.#byPkg.get(pkg) ?? [];
      for (let i = list.length - 1; i >= 0; i--) {
        const inc = list[i] as Incompatibility;
        const result = this.#propagateOne(inc);
        if (result === CONFLICT) {
          const outcome = this.#resolveConflict(inc);
          changed.clear();
          if (outcome.restarted) {
            // Backtracked further than the learned incompatibility needs: propagate anew
            // from everything still assigned.
            for (const p of this.#solution.assigned()) changed.add(p);
            break;
          }
          const again = this.#propagateOne(outcome.learned);
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

  #resolveConflict(start: Incompatibility): ConflictOutcome {
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
        const affected = this.#solution.decisionAt(mostRecent.level);
        const culprit = this.#solution.decisionAt(previousLevel);
        this.#solution.backtrack(previousLevel);
        if (learned) this.#add(inc);
        const restarted = this.#conflicts.noteConflict(affected, culprit, previousLevel);
        return { learned: inc, restarted };
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
    let bestKey: [number, number, number] = [0, 0, 0];
    for (const t of undecided) {
      const real = t.set.bits & this.#problem.universe(t.pkg).full;
      const count = countBits(real);
      // The root, and a package with no version left (which fails at once), come first.
      const tier = t.pkg === ROOT || count === 0 ? -1 : this.#conflicts.rank(t.pkg);
      const key: [number, number, number] = [tier, count, this.#problem.discoveryIndex(t.pkg)];
      if (best === undefined || compareKeys(key, bestKey) < 0) {
        best = t;
        bestReal = real;
        bestKey = key;
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
        this.#addMergeable(pkg, unusable.bits, [], unusable.cause, causeKey(unusable.cause));
        return pkg;
      }
    }
    const deps = await this.#problem.dependencies(pkg, index);
    this.#addPending();
    const versionBits = bit(index);
    if (deps.kind !== "ok") {
      const cause: Cause =
        deps.kind === "requiresPython"
          ? { kind: "requiresPython", spec: deps.spec }
          : { kind: "unavailable", reason: deps.reason };
      this.#addMergeable(pkg, versionBits, [], cause, causeKey(cause));
      return pkg;
    }
    let conflict = false;
    /** Dependencies the partial solution already contradicts: they reject this version. */
    const rejecting: Term[] = [];
    for (const target of deps.targets) {
      const dependency: Term = { pkg: target.id, positive: false, set: target.set };
      const inc =
        pkg === ROOT
          ? new Incompatibility([{ pkg, positive: true, set: { bits: versionBits } }, dependency], {
              kind: "dependency",
            })
          : this.#addMergeable(
              pkg,
              versionBits,
              [dependency],
              { kind: "dependency" },
              `depends\0${target.id}\0${target.set.bits}\0${target.set.label ?? ""}`,
            );
      if (pkg === ROOT) this.#add(inc);
      if (inc.terms.every((t) => t.pkg === pkg || this.#solution.satisfies(t))) {
        conflict = true;
        rejecting.push(dependency);
      }
    }
    if (conflict && pkg !== ROOT) this.#restarted = this.#conflicts.noteRejection(pkg, rejecting);
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

function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** What makes two single-package incompatibilities the same but for their versions. */
function causeKey(cause: Cause): string {
  switch (cause.kind) {
    case "requiresPython":
      return `python\0${cause.spec}`;
    case "unavailable":
      return `unavailable\0${cause.reason}`;
    case "constraint":
      return `constraint\0${cause.text}`;
    default:
      return cause.kind;
  }
}
