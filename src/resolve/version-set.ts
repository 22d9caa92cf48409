/**
 * Sets of versions of one package, over the finite list of versions the provider gave (the
 * package's "universe"). A set is a bit mask over that list, sorted ascending, so every PEP 440
 * specifier (`!=`, `==1.*`, `~=`, local versions, `===`) is represented exactly: a version is
 * in the set when the specifier admits it. A set may carry the text it came from (">=2") to
 * print it as the user wrote it; otherwise it prints as ranges between known versions.
 */
import type { Requirement } from "../standards/requirement.ts";
import type { SpecifierSet } from "../standards/specifiers.ts";
import type { Version } from "../standards/version.ts";
import type { Candidate } from "./types.ts";

export interface VersionSet {
  readonly bits: bigint;
  /** How to print the set (a specifier such as ">=2, <3" or " @ url"), when known. */
  readonly label?: string | undefined;
}

export interface UniverseEntry {
  readonly version: Version;
  readonly candidate: Candidate;
  /** Set for the version of a direct URL requirement. */
  readonly url?: string;
  /** The requirements of a direct URL version (from provider.directUrl). */
  readonly urlRequires?: readonly Requirement[];
}

/** Set bits per hexadecimal digit, by character code ("0"–"9", "a"–"f"). */
const NIBBLE_BITS = (() => {
  const table = new Uint8Array(128);
  for (let d = 0; d < 16; d++) {
    let n = 0;
    for (let v = d; v > 0; v >>= 1) n += v & 1;
    table[d.toString(16).charCodeAt(0)] = n;
  }
  return table;
})();

/**
 * Number of versions in a set. One hex string and a table look-up per digit: clearing the
 * lowest bit in a loop allocates a new BigInt per set bit, which for a project with
 * thousands of versions was the resolver's largest cost.
 */
export function countBits(bits: bigint): number {
  if (bits <= 0n) return 0;
  const hex = bits.toString(16);
  let n = 0;
  for (let i = 0; i < hex.length; i++) n += NIBBLE_BITS[hex.charCodeAt(i)] as number;
  return n;
}

/** Index of the highest version in the set, -1 when empty. */
export function highestBit(bits: bigint): number {
  if (bits <= 0n) return -1;
  const hex = bits.toString(16);
  return (hex.length - 1) * 4 + (31 - Math.clz32(Number.parseInt(hex[0] as string, 16)));
}

/** Index of the lowest version in the set, -1 when empty. */
export function lowestBit(bits: bigint): number {
  return bits === 0n ? -1 : highestBit(bits & -bits);
}

export function bit(index: number): bigint {
  return 1n << BigInt(index);
}

/** Prints a specifier set as "a>=2, <3" does: clauses in the order written, ", " between. */
export function specifierText(spec: SpecifierSet): string {
  return spec.specifiers.map(String).join(", ");
}

/** The versions of one package, ascending, and how to print sets over them. */
export class Universe {
  readonly entries: readonly UniverseEntry[];
  /** The set of every listed version. */
  readonly full: bigint;
  /**
   * A bit standing for "versions that do not exist". A requirement no listed version
   * satisfies gets it as its set, so the term is not empty (as a range would not be) and fails
   * through a "no version matches" incompatibility the explanation can name.
   */
  readonly phantom: bigint;

  constructor(entries: readonly UniverseEntry[]) {
    const sorted = [...entries].sort((a, b) => a.version.compare(b.version));
    const unique: UniverseEntry[] = [];
    for (const e of sorted) {
      const last = unique[unique.length - 1];
      if (last === undefined || !last.version.equals(e.version)) unique.push(e);
    }
    this.entries = unique;
    this.full = (1n << BigInt(unique.length)) - 1n;
    this.phantom = 1n << BigInt(unique.length);
  }

  get size(): number {
    return this.entries.length;
  }

  entry(index: number): UniverseEntry {
    const e = this.entries[index];
    if (e === undefined) throw new RangeError(`no version at index ${index}`);
    return e;
  }

  /** The set of versions for which `test` holds. */
  where(test: (entry: UniverseEntry) => boolean): bigint {
    let bits = 0n;
    this.entries.forEach((e, i) => {
      if (test(e)) bits |= bit(i);
    });
    return bits;
  }

  /** Every listed version is in the set. */
  isFull(set: VersionSet): boolean {
    return (set.bits & this.full) === this.full;
  }

  /** Set text after the package name: "" for every version, else "==1.0", ">=2.0, <3.0"… */
  render(set: VersionSet): string {
    if (set.label !== undefined) return set.label;
    const bits = set.bits & this.full;
    if (bits === this.full) return "";
    if (bits === 0n) return " (no version)";
    const runs: [number, number][] = [];
    let start = -1;
    for (let i = 0; i <= this.entries.length; i++) {
      const inSet = i < this.entries.length && (bits & bit(i)) !== 0n;
      if (inSet && start < 0) start = i;
      if (!inSet && start >= 0) {
        runs.push([start, i - 1]);
        start = -1;
      }
    }
    const missing = this.full & ~bits;
    if (runs.length > 1 && countBits(missing) === 1) {
      return `!=${this.entry(lowestBit(missing)).version}`;
    }
    return runs.map(([from, to]) => this.#renderRun(from, to)).join(" || ");
  }

  #renderRun(from: number, to: number): string {
    const last = this.entries.length - 1;
    if (from === to) return `==${this.entry(from).version}`;
    const parts: string[] = [];
    if (from > 0) parts.push(`>=${this.entry(from).version}`);
    if (to < last) parts.push(`<${this.entry(to + 1).version}`);
    return parts.join(", ");
  }
}
