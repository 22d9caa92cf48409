/**
 * Checks for the values of individual core metadata fields. Each returns undefined when the
 * value is fine, or a short reason (no field name, no line: the caller adds those).
 */

/** Extra names under metadata 2.3+ (PEP 685): already normalized. */
export const NORMALIZED_EXTRA = /^[a-z0-9]+(-[a-z0-9]+)*$/;

const LICENSE_ID = /^[A-Za-z0-9.-]+\+?$/;
const LICENSE_REF = /^(DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$/;
const EXCEPTION_ID = /^[A-Za-z0-9.-]+$/;
const EXCEPTION_REF = /^(DocumentRef-[A-Za-z0-9.-]+:)?AdditionRef-[A-Za-z0-9.-]+$/;
const OPERATORS = new Set(["and", "or", "with"]);

/**
 * Syntax check of an SPDX license expression (License-Expression, metadata 2.4): license
 * ids (optionally `+`), `LicenseRef-…`, `AND`, `OR`, `WITH exception`, parentheses.
 * Operators are accepted in upper or lower case. Whether an id is on the SPDX list is not
 * checked here.
 */
export function licenseExpressionProblem(text: string): string | undefined {
  const tokens = text.match(/\(|\)|[^\s()]+/g) ?? [];
  if (tokens.length === 0) return "the expression is empty";
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const isOp = (t: string | undefined, op: string): boolean => t?.toLowerCase() === op;

  // expr := term (OR term)* ; term := factor (AND factor)* ;
  // factor := "(" expr ")" | license [WITH exception]
  const expr = (): string | undefined => {
    let problem = term();
    while (problem === undefined && isOp(peek(), "or")) {
      i += 1;
      problem = term();
    }
    return problem;
  };
  const term = (): string | undefined => {
    let problem = factor();
    while (problem === undefined && isOp(peek(), "and")) {
      i += 1;
      problem = factor();
    }
    return problem;
  };
  const factor = (): string | undefined => {
    const t = peek();
    if (t === undefined) return "the expression ends where a license was expected";
    if (t === "(") {
      i += 1;
      const problem = expr();
      if (problem !== undefined) return problem;
      if (peek() !== ")") return "a '(' is not closed";
      i += 1;
      return undefined;
    }
    if (t === ")" || OPERATORS.has(t.toLowerCase())) {
      return `expected a license, got ${JSON.stringify(t)}`;
    }
    if (!LICENSE_ID.test(t) && !LICENSE_REF.test(t)) {
      return `${JSON.stringify(t)} is not a license identifier`;
    }
    i += 1;
    if (isOp(peek(), "with")) {
      i += 1;
      const e = peek();
      if (e === undefined || e === "(" || e === ")" || OPERATORS.has(e.toLowerCase())) {
        return "WITH must be followed by an exception identifier";
      }
      if (!EXCEPTION_ID.test(e) && !EXCEPTION_REF.test(e)) {
        return `${JSON.stringify(e)} is not an exception identifier`;
      }
      i += 1;
    }
    return undefined;
  };

  const problem = expr();
  if (problem !== undefined) return problem;
  const rest = peek();
  if (rest !== undefined) return `unexpected ${JSON.stringify(rest)}`;
  return undefined;
}

/**
 * License-File (metadata 2.4): a relative path with `/` separators, no `..` parts, not
 * absolute, not empty.
 */
export function licenseFileProblem(path: string): string | undefined {
  if (path === "") return "the path is empty";
  if (path.includes("\\")) return "paths use '/' as the separator, not '\\'";
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return "the path must be relative";
  const parts = path.split("/");
  if (parts.includes("..")) return "the path must not contain '..'";
  if (parts.some((p) => p === "")) return "the path has an empty part";
  return undefined;
}

/** Split a Project-URL value `label, url` at its first comma. */
export function splitProjectUrl(value: string): { label: string; url: string } | undefined {
  const comma = value.indexOf(",");
  if (comma === -1) return undefined;
  return { label: value.slice(0, comma).trim(), url: value.slice(comma + 1).trim() };
}

/** Split a Keywords value at commas (the de-facto format), dropping empty items. */
export function splitKeywords(value: string): string[] {
  return value
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
}

/** Metadata-Version `X.Y` as numbers, or undefined when it is not of that form. */
export function parseMetadataVersion(text: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)$/.exec(text);
  if (m === null) return undefined;
  return [Number(m[1]), Number(m[2])];
}

/** -1, 0 or 1 comparing two [major, minor] pairs. */
export function compareMetadataVersions(
  a: readonly [number, number],
  b: readonly [number, number],
): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return 0;
}
