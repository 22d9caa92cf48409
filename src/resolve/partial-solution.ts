/**
 * PubGrub's partial solution: the chronological list of assignments (decisions, and
 * derivations made by unit propagation), each at a decision level, with the accumulated term
 * per package for fast relation checks, and backtracking to a decision level.
 */
import {
  type Incompatibility,
  intersect,
  isDisjoint,
  isSubset,
  type Term,
} from "./incompatibility.ts";
import { bit } from "./version-set.ts";

export interface Assignment {
  readonly term: Term;
  readonly level: number;
  readonly index: number;
  /** The incompatibility that forced a derivation; undefined for a decision. */
  readonly cause: Incompatibility | undefined;
}

export type Relation = "satisfied" | "contradicted" | "inconclusive";

export class PartialSolution {
  #assignments: Assignment[] = [];
  /** Intersection of every assignment per package. */
  #accumulated = new Map<string, Term>();
  /** Decided version (universe index) per package. */
  #decisions = new Map<string, number>();
  #level = 0;

  get level(): number {
    return this.#level;
  }

  get decisions(): ReadonlyMap<string, number> {
    return this.#decisions;
  }

  /** The package decided at a decision level (root at level 1); undefined for level 0. */
  decisionAt(level: number): string | undefined {
    for (const a of this.#assignments) {
      if (a.level === level && a.cause === undefined) return a.term.pkg;
      if (a.level > level) break;
    }
    return undefined;
  }

  /** Every package with an assignment, in the order first assigned. */
  assigned(): string[] {
    return [...this.#accumulated.keys()];
  }

  accumulated(pkg: string): Term | undefined {
    return this.#accumulated.get(pkg);
  }

  decide(pkg: string, index: number): void {
    this.#level++;
    this.#decisions.set(pkg, index);
    this.#push({ pkg, positive: true, set: { bits: bit(index) } }, undefined);
  }

  derive(term: Term, cause: Incompatibility): void {
    this.#push(term, cause);
  }

  #push(term: Term, cause: Incompatibility | undefined): void {
    this.#assignments.push({ term, level: this.#level, index: this.#assignments.length, cause });
    const prev = this.#accumulated.get(term.pkg);
    this.#accumulated.set(term.pkg, prev === undefined ? term : intersect(prev, term));
  }

  /** Drops every assignment above `level`. */
  backtrack(level: number): void {
    const kept = this.#assignments.filter((a) => a.level <= level);
    this.#assignments = [];
    this.#accumulated.clear();
    this.#decisions.clear();
    this.#level = level;
    for (const a of kept) {
      this.#assignments.push(a);
      const prev = this.#accumulated.get(a.term.pkg);
      this.#accumulated.set(a.term.pkg, prev === undefined ? a.term : intersect(prev, a.term));
      if (a.cause === undefined) {
        const idx = a.term.set.bits.toString(2).length - 1;
        this.#decisions.set(a.term.pkg, idx);
      }
    }
  }

  relation(term: Term): Relation {
    const acc = this.#accumulated.get(term.pkg);
    if (acc === undefined) return "inconclusive";
    if (isSubset(acc, term)) return "satisfied";
    if (isDisjoint(acc, term)) return "contradicted";
    return "inconclusive";
  }

  satisfies(term: Term): boolean {
    return this.relation(term) === "satisfied";
  }

  /** The earliest assignment after which the assignments so far satisfy `term`. */
  satisfier(term: Term): Assignment {
    let acc: Term | undefined;
    for (const a of this.#assignments) {
      if (a.term.pkg !== term.pkg) continue;
      acc = acc === undefined ? a.term : intersect(acc, a.term);
      if (isSubset(acc, term)) return a;
    }
    throw new Error(`internal: no satisfier for a term of ${JSON.stringify(term.pkg)}`);
  }

  /** Packages required (positive) but not decided yet, in the order first assigned. */
  undecided(): Term[] {
    const out: Term[] = [];
    for (const [pkg, term] of this.#accumulated) {
      if (term.positive && !this.#decisions.has(pkg)) out.push(term);
    }
    return out;
  }
}
