/**
 * PubGrub terms and incompatibilities. A term says a package is (positive) or is not
 * (negative) selected at a version in a set; an incompatibility is a set of terms that must
 * not all hold at once. External incompatibilities come from the problem (requirements,
 * dependencies, unusable versions); derived ones are learned from conflicts and remember the
 * two incompatibilities they were derived from, which is what the explanation prints.
 */
import type { VersionSet } from "./version-set.ts";

/** The id of the root package (the user's requirements); no real package has an empty name. */
export const ROOT = "";

export interface Term {
  readonly pkg: string;
  readonly positive: boolean;
  readonly set: VersionSet;
}

function labelFor(bits: bigint, a: VersionSet, b: VersionSet): string | undefined {
  if (bits === a.bits && a.label !== undefined) return a.label;
  if (bits === b.bits) return b.label;
  return undefined;
}

function makeSet(bits: bigint, a: VersionSet, b: VersionSet): VersionSet {
  const label = labelFor(bits, a, b);
  return label === undefined ? { bits } : { bits, label };
}

export function negate(t: Term): Term {
  return { pkg: t.pkg, positive: !t.positive, set: t.set };
}

/** Both terms at once (same package). A negative result is never empty. */
export function intersect(a: Term, b: Term): Term {
  const x = a.set.bits;
  const y = b.set.bits;
  if (a.positive && b.positive)
    return { pkg: a.pkg, positive: true, set: makeSet(x & y, a.set, b.set) };
  if (a.positive) return { pkg: a.pkg, positive: true, set: makeSet(x & ~y, a.set, b.set) };
  if (b.positive) return { pkg: a.pkg, positive: true, set: makeSet(y & ~x, b.set, a.set) };
  return { pkg: a.pkg, positive: false, set: makeSet(x | y, a.set, b.set) };
}

/** `a` without `b`; undefined when nothing is left. */
export function difference(a: Term, b: Term): Term | undefined {
  const d = intersect(a, negate(b));
  return d.positive && d.set.bits === 0n ? undefined : d;
}

/** Every selection `a` allows, `b` allows too. */
export function isSubset(a: Term, b: Term): boolean {
  const x = a.set.bits;
  const y = b.set.bits;
  if (a.positive && b.positive) return (x & ~y) === 0n;
  if (a.positive) return (x & y) === 0n;
  if (b.positive) return false;
  return (y & ~x) === 0n;
}

/** No selection satisfies both. */
export function isDisjoint(a: Term, b: Term): boolean {
  const t = intersect(a, b);
  return t.positive && t.set.bits === 0n;
}

export type Cause =
  /** {not root}: the root must be selected. */
  | { kind: "root" }
  /** {depender, not dependency}: the first term depends on the inverse of the second. */
  | { kind: "dependency" }
  /** {p in S}: p in S is forbidden by a constraint (the constraint's own text). */
  | { kind: "constraint"; text: string }
  /** {p in S}: no version in S exists. */
  | { kind: "noVersions" }
  /** {p in S}: these versions need another Python. */
  | { kind: "requiresPython"; spec: string }
  /** {p in S}: no file of these versions can be installed on the target. */
  | { kind: "unavailable"; reason: string }
  | { kind: "yanked" }
  | { kind: "prerelease"; mode: "default" | "disallow" }
  /** Learned from two incompatibilities during conflict resolution. */
  | { kind: "conflict"; conflict: Incompatibility; other: Incompatibility };

let nextId = 0;

export class Incompatibility {
  readonly terms: readonly Term[];
  readonly cause: Cause;
  readonly id: number;

  constructor(terms: readonly Term[], cause: Cause) {
    let list = terms;
    // The root is always selected: in a learned incompatibility its positive term says nothing.
    if (cause.kind === "conflict" && list.length > 1 && list.some(isPositiveRoot)) {
      list = list.filter((t) => !isPositiveRoot(t));
    }
    if (list.length > 2 || (list.length === 2 && list[0]?.pkg === list[1]?.pkg)) {
      const byPkg = new Map<string, Term>();
      for (const t of list) {
        const prev = byPkg.get(t.pkg);
        byPkg.set(t.pkg, prev === undefined ? t : intersect(prev, t));
      }
      list = [...byPkg.values()];
    }
    this.terms = list;
    this.cause = cause;
    this.id = nextId++;
  }

  get isDerived(): boolean {
    return this.cause.kind === "conflict";
  }

  /** No terms, or only "root is selected": nothing can satisfy the requirements. */
  get isFailure(): boolean {
    const [only] = this.terms;
    return (
      this.terms.length === 0 ||
      (this.terms.length === 1 && only !== undefined && only.pkg === ROOT && only.positive)
    );
  }
}

function isPositiveRoot(t: Term): boolean {
  return t.pkg === ROOT && t.positive;
}

/**
 * The reasons of the "is unavailable" incompatibilities an incompatibility was derived from,
 * in the order first met (each once).
 */
export function unavailableReasons(root: Incompatibility): string[] {
  const reasons = new Set<string>();
  const seen = new Set<Incompatibility>();
  const stack: Incompatibility[] = [root];
  while (stack.length > 0) {
    const inc = stack.pop() as Incompatibility;
    if (seen.has(inc)) continue;
    seen.add(inc);
    const c = inc.cause;
    if (c.kind === "unavailable") reasons.add(c.reason);
    else if (c.kind === "conflict") stack.push(c.other, c.conflict);
  }
  return [...reasons];
}
