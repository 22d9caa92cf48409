/**
 * Parsing one PEP 440 version clause (`>=1.0`, `== 1.2.*`, `===foo`) into operator and
 * version, with the grammar pypa/packaging accepts and a precise reason when it is not one.
 */
import { pointAt, SlimenvError } from "../base/index.ts";
import type { SpecTarget } from "./specifier-match.ts";
import {
  hasPyWhitespace,
  isParseFailure,
  isPyWhitespace,
  parseVersionParts,
} from "./version-parse.ts";

export type SpecifierOperator = "~=" | "==" | "!=" | "<=" | ">=" | "<" | ">" | "===";

/** Longest first, so `===` wins over `==` and `<=` over `<`. */
const OPERATORS: readonly SpecifierOperator[] = ["===", "~=", "==", "!=", "<=", ">=", "<", ">"];

export interface ParsedClause {
  readonly operator: SpecifierOperator;
  /** The version text as written (whitespace stripped), e.g. "1.0.*" or "V1.0". */
  readonly version: string;
  /** Parsed version for every operator but `===`. */
  readonly target: SpecTarget | undefined;
}

/** Where the clause sits in a larger input (a specifier set), for error columns. */
export interface ClauseContext {
  readonly input: string;
  readonly offset: number;
}

function fail(
  ctx: ClauseContext,
  clause: string,
  reason: string,
  at: number,
  hint?: string,
): never {
  const column = ctx.offset + at;
  const where = ctx.input === clause ? "" : ` in ${JSON.stringify(ctx.input)}`;
  throw new SlimenvError(
    "INVALID_SPECIFIER",
    `Invalid specifier ${JSON.stringify(clause)}${where}: ${reason} at column ${column + 1}`,
    {
      detail: pointAt(ctx.input, column),
      hint: hint ?? "a specifier is an operator (~= == != <= >= < > ===) and a version, e.g. >=1.0",
    },
  );
}

/**
 * Parse one clause. `text` may carry surrounding whitespace.
 * @throws SlimenvError INVALID_SPECIFIER
 */
export function parseClause(
  text: string,
  ctx: ClauseContext = { input: text, offset: 0 },
): ParsedClause {
  let start = 0;
  while (start < text.length && isPyWhitespace(text.charAt(start))) start++;
  let end = text.length;
  while (end > start && isPyWhitespace(text.charAt(end - 1))) end--;
  if (start === end) fail(ctx, text, "the specifier is empty", start);
  const operator = OPERATORS.find((op) => text.startsWith(op, start));
  if (operator === undefined) {
    fail(ctx, text, "expected a comparison operator (~= == != <= >= < > ===)", start);
  }
  let vStart = start + operator.length;
  while (vStart < end && isPyWhitespace(text.charAt(vStart))) vStart++;
  const version = text.slice(vStart, end);

  if (operator === "===") {
    // Arbitrary equality: any run of characters but whitespace, ";" and ")" — at least one
    // (PEP 508's version is one or more characters; packaging ≥ 26.4 agrees).
    if (version === "") fail(ctx, text, "expected a version after ===", vStart);
    for (let i = 0; i < version.length; i++) {
      const ch = version.charAt(i);
      if (ch === ";" || ch === ")" || isPyWhitespace(ch)) {
        fail(ctx, text, `unexpected ${JSON.stringify(ch)} in an arbitrary version`, vStart + i);
      }
    }
    return { operator, version, target: undefined };
  }

  if (version === "") fail(ctx, text, `expected a version after ${operator}`, vStart);
  const wildcard = version.endsWith(".*");
  const core = wildcard ? version.slice(0, -2) : version;
  const parts = parseVersionParts(core);
  if (isParseFailure(parts) || hasPyWhitespace(core)) {
    let at = isParseFailure(parts) ? parts.column : 0;
    if (!isParseFailure(parts)) while (!isPyWhitespace(core.charAt(at))) at++;
    const reason = isParseFailure(parts) ? parts.reason : "unexpected whitespace";
    fail(ctx, text, `invalid version: ${reason}`, vStart + at);
  }
  const plus = core.indexOf("+");
  const hasLocal = parts.local !== undefined;
  if (wildcard) {
    if (operator !== "==" && operator !== "!=") {
      fail(ctx, text, `a prefix match (.*) is only allowed with == and !=`, end - 2);
    }
    if (
      parts.pre !== undefined ||
      parts.post !== undefined ||
      parts.dev !== undefined ||
      hasLocal
    ) {
      fail(
        ctx,
        text,
        "a prefix match (.*) must follow a release number (no pre, post, dev or local part)",
        end - 2,
      );
    }
  }
  if (hasLocal && operator !== "==" && operator !== "!=") {
    fail(ctx, text, "a local version label (+...) is only allowed with == and !=", vStart + plus);
  }
  if (operator === "~=" && parts.release.length < 2) {
    fail(
      ctx,
      text,
      "the compatible release operator ~= needs a version with at least two release numbers",
      vStart,
      `write e.g. ~=${parts.release[0] ?? "1"}.0, or use >=${version}`,
    );
  }
  return { operator, version, target: { operator, version: parts, wildcard, hasLocal } };
}
