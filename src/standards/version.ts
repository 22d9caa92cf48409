/**
 * PEP 440 versions: parsing with all the normalizations of the spec (case, `v` prefix,
 * surrounding whitespace, alternate separators and spellings, implicit numbers, implicit
 * post-releases, local labels, integer normalization, epochs) and the spec's total order.
 * Behaves as pypa/packaging's `Version`.
 */
import { pointAt, SlimenvError } from "../base/index.ts";
import {
  compareParts,
  formatParts,
  isParseFailure,
  type PreLetter,
  parseVersionParts,
  type VersionParts,
} from "./version-parse.ts";

let partsOf: (v: Version) => VersionParts;

/**
 * A parsed, normalized PEP 440 version. Numeric fields are JavaScript numbers (exact up to
 * 2^53); ordering, equality and `toString()` use the exact digits, so bigger numbers still
 * compare and print correctly.
 */
export class Version {
  readonly epoch: number;
  readonly release: readonly number[];
  readonly pre: readonly [PreLetter, number] | undefined;
  readonly post: number | undefined;
  readonly dev: number | undefined;
  /** Normalized local label, e.g. "ubuntu.1"; undefined when there is none. */
  readonly local: string | undefined;
  readonly #parts: VersionParts;
  readonly #text: string;

  static {
    partsOf = (v) => v.#parts;
  }

  /** @throws SlimenvError INVALID_VERSION */
  constructor(text: string) {
    if (typeof text !== "string") {
      throw new SlimenvError(
        "INVALID_VERSION",
        `Invalid version: expected a string, got ${typeof text}`,
      );
    }
    const parsed = parseVersionParts(text);
    if (isParseFailure(parsed)) {
      throw new SlimenvError(
        "INVALID_VERSION",
        `Invalid version ${JSON.stringify(text)}: ${parsed.reason} at column ${parsed.column + 1}`,
        {
          detail: pointAt(text, parsed.column),
          hint: "PEP 440 versions look like 1.2.3, 1.0a1, 2.0.post1, 1.0.dev3, 1!2.0 or 1.0+local.1",
        },
      );
    }
    this.#parts = parsed;
    this.#text = formatParts(parsed);
    this.epoch = Number(parsed.epoch);
    this.release = parsed.release.map(Number);
    this.pre = parsed.pre === undefined ? undefined : [parsed.pre[0], Number(parsed.pre[1])];
    this.post = parsed.post === undefined ? undefined : Number(parsed.post);
    this.dev = parsed.dev === undefined ? undefined : Number(parsed.dev);
    this.local = parsed.local === undefined ? undefined : parsed.local.join(".");
  }

  /** A pre-release or a development release. */
  get isPrerelease(): boolean {
    return this.#parts.pre !== undefined || this.#parts.dev !== undefined;
  }

  get isPostrelease(): boolean {
    return this.#parts.post !== undefined;
  }

  get isDevrelease(): boolean {
    return this.#parts.dev !== undefined;
  }

  /** The version without its local label. */
  get public(): string {
    const plus = this.#text.indexOf("+");
    return plus < 0 ? this.#text : this.#text.slice(0, plus);
  }

  /** Epoch and release only, e.g. "1!2.0" for "1!2.0rc1.post2+x". */
  get baseVersion(): string {
    const p = this.#parts;
    const release = p.release.join(".");
    return p.epoch === "0" ? release : `${p.epoch}!${release}`;
  }

  get major(): number {
    return this.release[0] ?? 0;
  }

  get minor(): number {
    return this.release[1] ?? 0;
  }

  get micro(): number {
    return this.release[2] ?? 0;
  }

  /** -1, 0 or 1 in PEP 440 order. */
  compare(other: Version): number {
    return compareParts(this.#parts, other.#parts);
  }

  /** PEP 440 equality: `1.0 == 1.0.0 == v1.0`, but `1.0 != 1.0+local`. */
  equals(other: Version): boolean {
    return compareParts(this.#parts, other.#parts) === 0;
  }

  /** Normalized form, as packaging's `str(Version)`. */
  toString(): string {
    return this.#text;
  }

  toJSON(): string {
    return this.#text;
  }
}

/** Same as `new Version(text)`. @throws SlimenvError INVALID_VERSION */
export function parseVersion(text: string): Version {
  return new Version(text);
}

/** The version, or undefined when `text` is not a valid PEP 440 version. */
export function tryParseVersion(text: string): Version | undefined {
  if (typeof text !== "string") return undefined;
  const parsed = parseVersionParts(text);
  return isParseFailure(parsed) ? undefined : new Version(text);
}

/** -1, 0 or 1 in PEP 440 order; usable as a sort comparator. */
export function compareVersions(a: Version, b: Version): number {
  return a.compare(b);
}

/** The exact parts of a version (digit strings), for code that needs numbers beyond 2^53. */
export function versionParts(v: Version): VersionParts {
  return partsOf(v);
}
