/**
 * PEP 440 version specifiers: one clause (`Specifier`) and comma-separated sets of them
 * (`SpecifierSet`). Matching, pre-release handling and canonical text follow the newest
 * pypa/packaging (26.x):
 *   - `contains` on a single version admits a pre-release unless pre-releases are turned off
 *     (by the call's option, else the set's / specifier's own setting);
 *   - `filter` drops pre-releases when a final release matches, and returns the matching
 *     pre-releases when nothing else does (PEP 440 "only available version");
 *   - a clause naming a pre-release (`>=1.0a1`) turns pre-releases on for its set;
 *   - `===` is case-insensitive string equality on the text as given.
 */
import { SlimenvError } from "../base/index.ts";
import { clauseAdmits, type SpecTarget } from "./specifier-match.ts";
import { parseClause, type SpecifierOperator } from "./specifier-parse.ts";
import { tryParseVersion, Version, versionParts } from "./version.ts";
import { formatParts, stripPyWhitespace } from "./version-parse.ts";

export type { SpecifierOperator } from "./specifier-parse.ts";

export interface PrereleaseOptions {
  /** true: admit pre-releases; false: never; undefined: the PEP 440 default. */
  prereleases?: boolean;
}

function coerce(item: Version | string): Version | undefined {
  return typeof item === "string" ? tryParseVersion(item) : item;
}

/** Python's `str.lower()`: per character, without JavaScript's final-sigma rule. */
function pyLower(text: string): string {
  let out = "";
  for (const ch of text) out += ch.toLowerCase();
  return out;
}

/** Python string order (by code point). */
function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const cx = (x[i] as string).codePointAt(0) as number;
    const cy = (y[i] as string).codePointAt(0) as number;
    if (cx !== cy) return cx - cy;
  }
  return x.length - y.length;
}

/** One version clause such as `>=1.0`, `!=1.3.*`, `~=2.2` or `===foobar`. */
export class Specifier {
  readonly operator: SpecifierOperator;
  /** The version as written (whitespace removed), e.g. "1.0.*"; not normalized. */
  readonly version: string;
  readonly #target: SpecTarget | undefined;
  readonly #prereleases: boolean | undefined;

  /** @throws SlimenvError INVALID_SPECIFIER */
  constructor(text: string, options: PrereleaseOptions = {}) {
    if (typeof text !== "string") {
      throw new SlimenvError(
        "INVALID_SPECIFIER",
        `Invalid specifier: expected a string, got ${typeof text}`,
      );
    }
    const clause = parseClause(text);
    this.operator = clause.operator;
    this.version = clause.version;
    this.#target = clause.target;
    this.#prereleases = options.prereleases;
  }

  /**
   * Whether this clause by itself asks for pre-releases: its own setting if given, else
   * true when it names a pre-release (except `!=` and `==X.*`, which never do), undefined
   * when unknown (`===` with a non-version).
   */
  get prereleases(): boolean | undefined {
    if (this.#prereleases !== undefined) return this.#prereleases;
    if (this.operator === "!=") return false;
    const t = this.#target;
    if (t === undefined) return tryParseVersion(this.version)?.isPrerelease;
    if (t.wildcard) return false;
    return t.version.pre !== undefined || t.version.dev !== undefined;
  }

  /** The pre-release policy used when a call does not give one. */
  get #defaultPrereleases(): boolean | undefined {
    if (this.#prereleases !== undefined) return this.#prereleases;
    return this.prereleases === true ? true : undefined;
  }

  /** The clause test alone (no pre-release policy); `===` compares text. */
  admits(item: Version | string): boolean {
    if (this.#target === undefined) {
      return pyLower(typeof item === "string" ? item : item.toString()) === pyLower(this.version);
    }
    const v = coerce(item);
    return v !== undefined && clauseAdmits(this.#target, versionParts(v));
  }

  /**
   * Whether `item` satisfies this clause. An unparsable string never does (except for `===`).
   * A pre-release is admitted unless pre-releases are off (option, else this clause's setting).
   */
  contains(item: Version | string, options: PrereleaseOptions = {}): boolean {
    const pre = options.prereleases ?? this.#defaultPrereleases;
    if (!this.admits(item)) return false;
    return pre !== false || coerce(item)?.isPrerelease !== true;
  }

  /** Same clause: operator and version compared as packaging does (1.0 == 1.0.0, v1 == 1). */
  equals(other: Specifier): boolean {
    return this.canonicalKey === other.canonicalKey;
  }

  /** @internal Identity used to deduplicate clauses in a set. */
  get canonicalKey(): string {
    const t = this.#target;
    if (t === undefined || t.wildcard) return `${this.operator}${this.version}`;
    return `${this.operator}${formatParts(t.version, this.operator !== "~=")}`;
  }

  /** As packaging's `str(Specifier)`: operator and version as written, no space. */
  toString(): string {
    return `${this.operator}${this.version}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** Apply a pre-release policy to items that already matched every clause. */
function applyPrereleasePolicy<T extends Version | string>(
  matches: T[],
  prereleases: boolean | undefined,
): T[] {
  if (prereleases === true) return matches;
  const isPre = (item: T) => coerce(item)?.isPrerelease === true;
  if (prereleases === false) return matches.filter((item) => !isPre(item));
  // PEP 440 default: pre-releases only when no final release matched. Strings that are not
  // versions cannot be told apart and are kept.
  const hasFinal = matches.some((item) => coerce(item)?.isPrerelease === false);
  return hasFinal ? matches.filter((item) => !isPre(item)) : matches;
}

/**
 * A comma-separated list of clauses, all of which must hold ("" admits everything).
 * `toString()` is canonical: clauses deduplicated and sorted by text, joined by ",".
 */
export class SpecifierSet {
  readonly specifiers: readonly Specifier[];
  readonly #prereleases: boolean | undefined;
  readonly #hasArbitrary: boolean;

  /** @throws SlimenvError INVALID_SPECIFIER */
  constructor(text = "", options: PrereleaseOptions = {}) {
    if (typeof text !== "string") {
      throw new SlimenvError(
        "INVALID_SPECIFIER",
        `Invalid specifier set: expected a string, got ${typeof text}`,
      );
    }
    const specs: Specifier[] = [];
    let offset = 0;
    for (const piece of text.split(",")) {
      if (stripPyWhitespace(piece) !== "") {
        parseClause(piece, { input: text, offset }); // throws with the column in `text`
        specs.push(new Specifier(piece));
      }
      offset += piece.length + 1;
    }
    this.specifiers = specs;
    this.#prereleases = options.prereleases;
    this.#hasArbitrary = specs.some((s) => s.operator === "===");
  }

  /** No clauses at all. */
  get isEmpty(): boolean {
    return this.specifiers.length === 0;
  }

  /**
   * The set's pre-release policy: the `prereleases` option if given, else true when a
   * clause names a pre-release, else undefined (PEP 440 default).
   */
  get prereleases(): boolean | undefined {
    if (this.#prereleases !== undefined) return this.#prereleases;
    return this.specifiers.some((s) => s.prereleases === true) ? true : undefined;
  }

  /**
   * Whether `item` satisfies every clause. A single pre-release is admitted unless
   * pre-releases are off (the call's option, else the set's). An unparsable string only
   * matches an empty set or `===` clauses.
   */
  contains(item: Version | string, options: PrereleaseOptions = {}): boolean {
    if (item instanceof Version && !this.#hasArbitrary) {
      // What `filter([item])` answers, without its arrays: a resolver asks this for every
      // listed version of a package, per requirement on it.
      for (const s of this.specifiers) if (!s.admits(item)) return false;
      return !item.isPrerelease || (options.prereleases ?? this.prereleases) !== false;
    }
    // A string is matched against === as written; a Version by its normalized text.
    return this.filter([item], options).length === 1;
  }

  /**
   * The items (in order) that satisfy every clause, with the PEP 440 pre-release rule:
   * unless pre-releases are on, they are dropped when a final release matches, and kept when
   * only pre-releases match.
   */
  filter<T extends Version | string>(versions: Iterable<T>, options: PrereleaseOptions = {}): T[] {
    const prereleases = options.prereleases ?? this.prereleases;
    const items = Array.from(versions);
    if (this.specifiers.length === 0) return applyPrereleasePolicy(items, prereleases);
    if (this.#hasArbitrary) {
      const matches = items.filter((item) => this.specifiers.every((s) => s.admits(item)));
      return applyPrereleasePolicy(matches, prereleases);
    }
    // Only versions can match ordinary clauses; strings that are not versions are dropped.
    const matches = items.filter((item) => {
      const v = coerce(item);
      return v !== undefined && this.specifiers.every((s) => s.admits(v));
    });
    return applyPrereleasePolicy(matches, prereleases);
  }

  /** Both sets' clauses. Pre-release settings combine; true with false is an error. */
  and(other: SpecifierSet): SpecifierSet {
    const mine = this.#prereleases;
    const theirs = other.#prereleases;
    if (mine !== undefined && theirs !== undefined && mine !== theirs) {
      throw new SlimenvError(
        "INVALID_SPECIFIER",
        `Cannot combine specifier sets "${this}" and "${other}": one allows pre-releases and the other forbids them`,
      );
    }
    // Clause texts never hold a comma, so joining and re-parsing gives the same clauses.
    const text = [...this.specifiers, ...other.specifiers].map(String).join(",");
    return new SpecifierSet(text, { prereleases: mine ?? theirs });
  }

  /** Canonical text, as packaging's `str(SpecifierSet)`: deduplicated, sorted, "," joined. */
  toString(): string {
    const sorted = [...this.specifiers].sort((a, b) =>
      compareCodePoints(a.toString(), b.toString()),
    );
    const seen = new Set<string>();
    const out: string[] = [];
    for (const spec of sorted) {
      const key = spec.canonicalKey;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(spec.toString());
    }
    return out.join(",");
  }

  toJSON(): string {
    return this.toString();
  }
}
