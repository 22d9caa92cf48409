/**
 * Explanations of a failed resolution, PubGrub style: the derivation tree of the root
 * incompatibility printed as sentences ("Because a==1.0 depends on b>=2 and b>=2.0 requires
 * Python >=3.12, a==1.0 is forbidden."), numbering the lines that later lines refer back to.
 * The walk follows the report algorithm of Pub's solver documentation.
 */
import { type Incompatibility, negate, ROOT, type Term } from "./incompatibility.ts";
import { countBits, type Universe } from "./version-set.ts";

export interface ReportContext {
  universe(pkg: string): Universe;
}

interface Line {
  message: string;
  number: number | undefined;
}

export class Explanation {
  readonly #ctx: ReportContext;
  readonly #derivations = new Map<Incompatibility, number>();
  readonly #lineNumbers = new Map<Incompatibility, number>();
  readonly #lines: Line[] = [];
  readonly #referenced = new Set<number>();

  constructor(ctx: ReportContext) {
    this.#ctx = ctx;
  }

  /** The explanation of the failure `root` (an incompatibility that forbids the root). */
  explain(root: Incompatibility): string {
    this.#count(root);
    if (root.cause.kind === "conflict") this.#visit(root, true);
    else
      this.#lines.push({
        message: `Because ${this.describe(root)}, no solution exists.`,
        number: undefined,
      });
    // Number only the lines referred to later, 1, 2, … in order.
    const renumber = new Map<number, number>();
    for (const line of this.#lines) {
      if (line.number !== undefined && this.#referenced.has(line.number)) {
        renumber.set(line.number, renumber.size + 1);
      }
    }
    const padding = renumber.size === 0 ? 0 : `(${renumber.size}) `.length;
    const out: string[] = [];
    for (const line of this.#lines) {
      if (line.message === "") {
        if (out.length > 0 && out[out.length - 1] !== "") out.push("");
        continue;
      }
      const n = line.number === undefined ? undefined : renumber.get(line.number);
      const prefix = n === undefined ? "" : `(${n}) `;
      const message = line.message.replace(/\uE000(\d+)\uE000/g, (_, d: string) =>
        String(renumber.get(Number(d))),
      );
      out.push(prefix.padEnd(padding) + message);
    }
    return out.join("\n");
  }

  /** A reference to a numbered line, resolved when the lines are renumbered. */
  #ref(n: number): string {
    this.#referenced.add(n);
    return `\uE000${n}\uE000`;
  }

  #count(inc: Incompatibility): void {
    const seen = this.#derivations.get(inc) ?? 0;
    this.#derivations.set(inc, seen + 1);
    if (seen === 0 && inc.cause.kind === "conflict") {
      this.#count(inc.cause.conflict);
      this.#count(inc.cause.other);
    }
  }

  /** A term as the user would write it: "a>=2, <3", "a==1.0", "a" (any version). */
  term(t: Term, every = false): string {
    if (t.pkg === ROOT) return "the root";
    const universe = this.#ctx.universe(t.pkg);
    if (every && t.set.label === undefined && universe.size > 0 && universe.isFull(t.set)) {
      return `every version of ${t.pkg}`;
    }
    return `${t.pkg}${universe.render(t.set)}`;
  }

  /** One incompatibility as a clause of a sentence. */
  describe(inc: Incompatibility): string {
    const c = inc.cause;
    const [first, second] = inc.terms;
    switch (c.kind) {
      case "root":
        return "the root is required";
      case "dependency":
        if (first === undefined || second === undefined) break;
        if (first.pkg === ROOT) return `you require ${this.term(second)}`;
        return `${this.term(first, true)} depends on ${this.term(second)}`;
      case "constraint":
        if (first === undefined) break;
        return `${this.term(first, true)} is forbidden by the constraint ${c.text}`;
      case "noVersions":
        if (first === undefined) break;
        return this.#noVersions(first);
      case "requiresPython":
        if (first === undefined) break;
        return `${this.term(first, true)} requires Python ${c.spec}`;
      case "unavailable":
        if (first === undefined) break;
        return `${this.term(first, true)} ${this.#isAre(first)} unavailable (${c.reason})`;
      case "yanked":
        if (first === undefined) break;
        return `${this.term(first, true)} ${this.#isAre(first)} yanked (a yanked version is used only when pinned with ==)`;
      case "prerelease": {
        if (first === undefined) break;
        const why =
          c.mode === "disallow"
            ? "pre-releases are disallowed"
            : `pre-releases of ${first.pkg} were not asked for`;
        return `${this.term(first, true)} ${this.#isAre(first, "a pre-release", "pre-releases")} (${why})`;
      }
      case "conflict":
        return this.#derived(inc);
    }
    return "the requirements conflict";
  }

  #isAre(t: Term, one = "", many = ""): string {
    const universe = this.#ctx.universe(t.pkg);
    const single =
      countBits(t.set.bits & universe.full) === 1 ||
      (t.set.label === undefined && universe.isFull(t.set));
    const verb = single ? "is" : "are";
    return one === "" ? verb : `${verb} ${single ? one : many}`;
  }

  #noVersions(t: Term): string {
    const universe = this.#ctx.universe(t.pkg);
    if (universe.size === 0) return `there is no version of ${t.pkg}`;
    const label = t.set.label;
    if (label?.startsWith(" @ ")) {
      const pinned = universe.entries.find((e) => e.url !== undefined)?.url;
      const asked = label.slice(3);
      return pinned === undefined
        ? `${t.pkg} @ ${asked} is not available (a URL must be given by a top-level requirement or constraint)`
        : `${t.pkg} is pinned to ${pinned}, not ${asked}`;
    }
    if (label !== undefined) return `no version of ${t.pkg} matches ${label}`;
    return `no version of ${t.pkg} is left`;
  }

  #derived(inc: Incompatibility): string {
    if (inc.isFailure) return "no solution exists";
    const terms = inc.terms;
    const [only] = terms;
    if (terms.length === 1 && only !== undefined) {
      return only.positive
        ? `${this.term(only, true)} is forbidden`
        : `${this.term(negate(only))} is required`;
    }
    const positive = terms.filter((t) => t.positive).map((t) => this.term(t, true));
    const negative = terms.filter((t) => !t.positive).map((t) => this.term(negate(t)));
    if (positive.length > 0 && negative.length > 0) {
      if (positive.length === 1) return `${positive[0]} requires ${negative.join(" or ")}`;
      return `if ${positive.join(" and ")} then ${negative.join(" or ")}`;
    }
    if (positive.length === 2) return `${positive[0]} is incompatible with ${positive[1]}`;
    if (positive.length > 0) return `one of ${positive.join(" or ")} must be false`;
    return `one of ${negative.join(" or ")} must be true`;
  }

  #and(a: Incompatibility, b: Incompatibility, aLine?: number, bLine?: number): string {
    const ref = (n: number | undefined) => (n === undefined ? "" : ` (${this.#ref(n)})`);
    if (aLine === undefined && bLine === undefined) {
      const special =
        this.#requiresBoth(a, b) ?? this.#requiresThrough(a, b) ?? this.#requiresThrough(b, a);
      if (special !== undefined) return special;
    }
    return `${this.describe(a)}${ref(aLine)} and ${this.describe(b)}${ref(bLine)}`;
  }

  /** "you require both x and y" / "a==1.0 depends on both x and y". */
  #requiresBoth(a: Incompatibility, b: Incompatibility): string | undefined {
    if (a.cause.kind !== "dependency" || b.cause.kind !== "dependency") return undefined;
    const [aFrom, aTo] = a.terms;
    const [bFrom, bTo] = b.terms;
    if (aFrom === undefined || aTo === undefined || bFrom === undefined || bTo === undefined) {
      return undefined;
    }
    if (aFrom.pkg !== bFrom.pkg || aFrom.set.bits !== bFrom.set.bits) return undefined;
    const subject = aFrom.pkg === ROOT ? "you require" : `${this.term(aFrom, true)} depends on`;
    return `${subject} both ${this.term(aTo)} and ${this.term(bTo)}`;
  }

  /** "a==1.0 depends on b>=2 which requires Python >=3.13". */
  #requiresThrough(prior: Incompatibility, latter: Incompatibility): string | undefined {
    if (prior.cause.kind !== "dependency") return undefined;
    const [from, to] = prior.terms;
    const [subject, target] = latter.terms;
    if (from === undefined || to === undefined || subject === undefined || !subject.positive) {
      return undefined;
    }
    if (subject.pkg !== to.pkg) return undefined;
    const full = this.#ctx.universe(to.pkg).full;
    if ((to.set.bits & full & ~subject.set.bits) !== 0n) return undefined;
    const c = latter.cause;
    let tail: string;
    if (c.kind === "dependency" && target !== undefined) tail = `depends on ${this.term(target)}`;
    else if (c.kind === "requiresPython" && latter.terms.length === 1)
      tail = `requires Python ${c.spec}`;
    else return undefined;
    const head =
      from.pkg === ROOT
        ? `you require ${this.term(to)}`
        : `${this.term(from, true)} depends on ${this.term(to)}`;
    return `${head} which ${tail}`;
  }

  #write(inc: Incompatibility, message: string, numbered: boolean): void {
    if (numbered) {
      const number = this.#lineNumbers.size + 1;
      this.#lineNumbers.set(inc, number);
      this.#lines.push({ message, number });
    } else {
      this.#lines.push({ message, number: undefined });
    }
  }

  #visit(inc: Incompatibility, conclusion = false): void {
    const numbered = conclusion || (this.#derivations.get(inc) ?? 0) > 1;
    const conjunction = numbered ? "So," : "And";
    const text = this.describe(inc);
    const cause = inc.cause;
    if (cause.kind !== "conflict") return;
    const { conflict, other } = cause;
    if (conflict.isDerived && other.isDerived) {
      const conflictLine = this.#lineNumbers.get(conflict);
      const otherLine = this.#lineNumbers.get(other);
      if (conflictLine !== undefined && otherLine !== undefined) {
        this.#write(
          inc,
          `Because ${this.#and(conflict, other, conflictLine, otherLine)}, ${text}.`,
          numbered,
        );
      } else if (conflictLine !== undefined || otherLine !== undefined) {
        const withLine = conflictLine !== undefined ? conflict : other;
        const withoutLine = conflictLine !== undefined ? other : conflict;
        const line = this.#lineNumbers.get(withLine);
        this.#visit(withoutLine);
        this.#write(
          inc,
          `${conjunction} because ${this.describe(withLine)} (${this.#ref(line ?? 0)}), ${text}.`,
          numbered,
        );
      } else {
        const singleConflict = isSingleLine(conflict);
        const singleOther = isSingleLine(other);
        if (singleConflict || singleOther) {
          const first = singleOther ? conflict : other;
          const second = singleOther ? other : conflict;
          this.#visit(first);
          this.#visit(second);
          this.#write(inc, `Thus, ${text}.`, numbered);
        } else {
          this.#visit(conflict, true);
          this.#lines.push({ message: "", number: undefined });
          this.#visit(other);
          this.#write(
            inc,
            `${conjunction} because ${this.describe(conflict)} (${this.#ref(this.#lineNumbers.get(conflict) ?? 0)}), ${text}.`,
            numbered,
          );
        }
      }
    } else if (conflict.isDerived || other.isDerived) {
      const derived = conflict.isDerived ? conflict : other;
      const external = conflict.isDerived ? other : conflict;
      const derivedLine = this.#lineNumbers.get(derived);
      if (derivedLine !== undefined) {
        this.#write(
          inc,
          `Because ${this.#and(external, derived, undefined, derivedLine)}, ${text}.`,
          numbered,
        );
      } else if (this.#isCollapsible(derived) && derived.cause.kind === "conflict") {
        const inner = derived.cause;
        const collapsedDerived = inner.conflict.isDerived ? inner.conflict : inner.other;
        const collapsedExternal = inner.conflict.isDerived ? inner.other : inner.conflict;
        this.#visit(collapsedDerived);
        this.#write(
          inc,
          `${conjunction} because ${this.#and(collapsedExternal, external)}, ${text}.`,
          numbered,
        );
      } else {
        this.#visit(derived);
        this.#write(inc, `${conjunction} because ${this.describe(external)}, ${text}.`, numbered);
      }
    } else {
      this.#write(inc, `Because ${this.#and(conflict, other)}, ${text}.`, numbered);
    }
  }

  #isCollapsible(inc: Incompatibility): boolean {
    if ((this.#derivations.get(inc) ?? 0) > 1) return false;
    const cause = inc.cause;
    if (cause.kind !== "conflict") return false;
    if (cause.conflict.isDerived === cause.other.isDerived) return false;
    const complex = cause.conflict.isDerived ? cause.conflict : cause.other;
    return !this.#lineNumbers.has(complex);
  }
}

function isSingleLine(inc: Incompatibility): boolean {
  const cause = inc.cause;
  return cause.kind === "conflict" && !cause.conflict.isDerived && !cause.other.isDerived;
}
