/**
 * The exact, lossless form of a PEP 440 version and the operations on it: parsing with every
 * normalization PEP 440 requires, formatting, and ordering. Numbers are kept as normalized
 * ASCII digit strings (no leading zeros) so releases like `1.99999999999999999999` keep their
 * value; `Version` (version.ts) wraps this with the public API.
 */

export type PreLetter = "a" | "b" | "rc";

export interface VersionParts {
  /** Digit string, "0" when absent. */
  readonly epoch: string;
  /** One digit string per release component, as written (trailing zeros kept). */
  readonly release: readonly string[];
  readonly pre: readonly [PreLetter, string] | undefined;
  readonly post: string | undefined;
  readonly dev: string | undefined;
  /** Normalized local segments: digit strings (no leading zeros) or lower-case words. */
  readonly local: readonly string[] | undefined;
}

/** Where and why a version string failed to parse (column is 0-based into the input). */
export interface VersionParseFailure {
  readonly reason: string;
  readonly column: number;
}

const PY_WHITESPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001,
  0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f,
  0x205f, 0x3000,
]);

/** Whitespace as Python's `str.isspace()` / regex `\s` understand it. */
export function isPyWhitespace(ch: string): boolean {
  return ch.length === 1 && PY_WHITESPACE.has(ch.charCodeAt(0));
}

/** `str.strip()` with Python's notion of whitespace. */
export function stripPyWhitespace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && PY_WHITESPACE.has(text.charCodeAt(start))) start++;
  while (end > start && PY_WHITESPACE.has(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

/** True when `text` holds any Python whitespace character. */
export function hasPyWhitespace(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (PY_WHITESPACE.has(text.charCodeAt(i))) return true;
  return false;
}

// The permissive PEP 440 grammar (Appendix B), ASCII case-insensitive.
const BODY =
  "v?(?:([0-9]+)!)?([0-9]+(?:\\.[0-9]+)*)" +
  "(?:[._-]?(alpha|a|beta|b|preview|pre|c|rc)[._-]?([0-9]+)?)?" +
  "(?:-([0-9]+)|[._-]?(post|rev|r)[._-]?([0-9]+)?)?" +
  "(?:[._-]?(dev)[._-]?([0-9]+)?)?" +
  "(?:\\+([a-z0-9]+(?:[._-][a-z0-9]+)*))?";
const FULL = new RegExp(`^${BODY}$`, "i");
const PREFIX = new RegExp(`^${BODY}`, "i");

const PRE_SPELLINGS: Record<string, PreLetter> = {
  a: "a",
  alpha: "a",
  b: "b",
  beta: "b",
  c: "rc",
  rc: "rc",
  pre: "rc",
  preview: "rc",
};

/** Integer normalization: `007` → `7`, `000` → `0`. */
export function normalizeDigits(digits: string): string {
  let i = 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 48) i++;
  return i === 0 ? digits : digits.slice(i);
}

const DIGITS = /^[0-9]+$/;

/** A plain release ("2.31.0"): nothing to normalize but leading zeros. */
const PLAIN_RELEASE = /^[0-9]+(?:\.[0-9]+)*$/;

/** Parse a version string into its normalized parts, or say where it stops being one. */
export function parseVersionParts(text: string): VersionParts | VersionParseFailure {
  // Most versions an index lists are plain releases: the same parts as the grammar gives them,
  // without its dozen capture groups.
  if (PLAIN_RELEASE.test(text)) {
    return {
      epoch: "0",
      release: text.split(".").map(normalizeDigits),
      pre: undefined,
      post: undefined,
      dev: undefined,
      local: undefined,
    };
  }
  let start = 0;
  let end = text.length;
  while (start < end && PY_WHITESPACE.has(text.charCodeAt(start))) start++;
  while (end > start && PY_WHITESPACE.has(text.charCodeAt(end - 1))) end--;
  const body = text.slice(start, end);
  if (body === "") return { reason: "the version is empty", column: start };
  const m = FULL.exec(body);
  if (m === null) {
    const prefix = PREFIX.exec(body);
    if (prefix === null) {
      return { reason: "expected a release number such as 1.0", column: start };
    }
    const at = start + prefix[0].length;
    return { reason: `unexpected ${JSON.stringify(text.charAt(at))}`, column: at };
  }
  const [, epoch, release, preL, preN, postN1, postL, postN2, devL, devN, local] = m;
  const postNumber = postN1 ?? postN2;
  return {
    epoch: epoch === undefined ? "0" : normalizeDigits(epoch),
    release: (release ?? "0").split(".").map(normalizeDigits),
    pre:
      preL === undefined
        ? undefined
        : [PRE_SPELLINGS[preL.toLowerCase()] ?? "a", normalizeDigits(preN ?? "0")],
    post:
      postN1 !== undefined || postL !== undefined ? normalizeDigits(postNumber ?? "0") : undefined,
    dev: devL === undefined ? undefined : normalizeDigits(devN ?? "0"),
    local:
      local === undefined
        ? undefined
        : local
            .toLowerCase()
            .split(/[._-]/)
            .map((seg) => (DIGITS.test(seg) ? normalizeDigits(seg) : seg)),
  };
}

export function isParseFailure(x: VersionParts | VersionParseFailure): x is VersionParseFailure {
  return "reason" in x;
}

/** Release without trailing zeros; `keepOne` leaves a single `0` for an all-zero release. */
export function trimRelease(release: readonly string[], keepOne: boolean): readonly string[] {
  let end = release.length;
  const min = keepOne ? 1 : 0;
  while (end > min && release[end - 1] === "0") end--;
  return end === release.length ? release : release.slice(0, end);
}

/** Normalized text, as packaging's `str(Version)`; `trimZeros` drops trailing release zeros. */
export function formatParts(p: VersionParts, trimZeros = false): string {
  let out = (trimZeros ? trimRelease(p.release, true) : p.release).join(".");
  if (p.epoch !== "0") out = `${p.epoch}!${out}`;
  if (p.pre !== undefined) out += p.pre[0] + p.pre[1];
  if (p.post !== undefined) out += `.post${p.post}`;
  if (p.dev !== undefined) out += `.dev${p.dev}`;
  if (p.local !== undefined) out += `+${p.local.join(".")}`;
  return out;
}

/** Compare normalized digit strings by numeric value. */
export function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Add one to a normalized digit string. */
export function incrementDigits(digits: string): string {
  return (BigInt(digits) + 1n).toString();
}

/** Length of a release without its trailing zeros. */
function trimmedLength(release: readonly string[]): number {
  let end = release.length;
  while (end > 0 && release[end - 1] === "0") end--;
  return end;
}

function compareReleases(a: readonly string[], b: readonly string[]): number {
  const la = trimmedLength(a);
  const lb = trimmedLength(b);
  const n = Math.min(la, lb);
  for (let i = 0; i < n; i++) {
    const c = compareDigits(a[i] as string, b[i] as string);
    if (c !== 0) return c;
  }
  return la === lb ? 0 : la < lb ? -1 : 1;
}

const PRE_RANK: Record<PreLetter, number> = { a: 0, b: 1, rc: 2 };

/** Where pre, post and dev put a version after its release (PEP 440), by rank then number. */
function preRank(p: VersionParts): number {
  if (p.pre !== undefined) return PRE_RANK[p.pre[0]];
  if (p.post === undefined && p.dev !== undefined) return -1; // X.devN sorts before X.aN
  return 3; // no pre-release: after rc
}

/** Compares the pre, post and dev parts (no arrays made: this runs for every sort step). */
function compareSuffixes(a: VersionParts, b: VersionParts): number {
  const rank = preRank(a) - preRank(b);
  if (rank !== 0) return rank < 0 ? -1 : 1;
  let c = compareDigits(a.pre?.[1] ?? "0", b.pre?.[1] ?? "0");
  if (c !== 0) return c;
  const post = (a.post === undefined ? 0 : 1) - (b.post === undefined ? 0 : 1);
  if (post !== 0) return post < 0 ? -1 : 1;
  c = compareDigits(a.post ?? "0", b.post ?? "0");
  if (c !== 0) return c;
  const dev = (a.dev === undefined ? 1 : 0) - (b.dev === undefined ? 1 : 0);
  if (dev !== 0) return dev < 0 ? -1 : 1;
  return compareDigits(a.dev ?? "0", b.dev ?? "0");
}

function compareLocal(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    const xNum = DIGITS.test(x);
    const yNum = DIGITS.test(y);
    // A numeric segment sorts after any alphanumeric one.
    if (xNum !== yNum) return xNum ? 1 : -1;
    const c = xNum ? compareDigits(x, y) : x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** PEP 440 ordering: -1, 0 or 1. `ignoreLocal` compares public versions only. */
export function compareParts(a: VersionParts, b: VersionParts, ignoreLocal = false): number {
  let c = compareDigits(a.epoch, b.epoch);
  if (c !== 0) return c;
  c = compareReleases(a.release, b.release);
  if (c !== 0) return c;
  c = compareSuffixes(a, b);
  if (c !== 0) return c;
  if (ignoreLocal) return 0;
  if (a.local === undefined || b.local === undefined) {
    if (a.local === b.local) return 0;
    return a.local === undefined ? -1 : 1;
  }
  return compareLocal(a.local, b.local);
}

/** Same epoch and release (ignoring trailing zeros): the same "release family". */
export function sameRelease(a: VersionParts, b: VersionParts): boolean {
  return a.epoch === b.epoch && compareReleases(a.release, b.release) === 0;
}
