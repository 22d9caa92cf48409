/**
 * PEP 508 dependency specifiers: `name[extra1,extra2] (>=1.0,<2) ; marker` or
 * `name[extras] @ url ; marker`. Parsing and canonical text match pypa/packaging (newest).
 */
import { isSlimenvError, pointAt, SlimenvError } from "../base/index.ts";
import { Marker } from "./markers.ts";
import type { MarkerGroup } from "./markers-parse.ts";
import { parseMarkerExpression, Scanner } from "./markers-parse.ts";
import { SpecifierSet } from "./specifiers.ts";

interface ParsedDetails {
  specifier: string;
  specifierStart: number;
  url: string | undefined;
  marker: MarkerGroup | undefined;
}

export class Requirement {
  /** The project name as written (compare names through canonicalizeName). */
  readonly name: string;
  /**
   * The extras as written (not normalized, like packaging), without duplicates, sorted by
   * code point, which is the order packaging's str() prints them in.
   */
  readonly extras: readonly string[];
  /** Version specifiers; empty when none were given (or with a URL). */
  readonly specifier: SpecifierSet;
  /** The URL of a `name @ url` requirement. */
  readonly url: string | undefined;
  readonly marker: Marker | undefined;

  /** Parses a requirement; throws INVALID_REQUIREMENT pointing at the column that is wrong. */
  constructor(text: string) {
    const sc = new Scanner(text, "INVALID_REQUIREMENT", "requirement");
    sc.skipWs();
    const name = sc.expect("IDENTIFIER", "a project name at the start");
    sc.skipWs();
    const extras = parseExtras(sc);
    sc.skipWs();
    const details = parseDetails(sc);
    if (!sc.atEnd()) sc.fail("expected 'and', 'or' or the end of the requirement after the marker");

    this.name = name;
    this.extras = [...new Set(extras)].sort();
    this.url = details.url;
    this.specifier = makeSpecifierSet(text, details);
    this.marker = details.marker === undefined ? undefined : Marker.fromTree(details.marker);
  }

  /** Canonical text, as packaging's str(Requirement). */
  toString(): string {
    let out = this.name;
    if (this.extras.length > 0) out += `[${this.extras.join(",")}]`;
    if (this.specifier.specifiers.length > 0) out += this.specifier.toString();
    if (this.url !== undefined) {
      out += ` @ ${this.url}`;
      if (this.marker !== undefined) out += " ";
    }
    if (this.marker !== undefined) out += `; ${this.marker.toString()}`;
    return out;
  }
}

function makeSpecifierSet(text: string, details: ParsedDetails): SpecifierSet {
  try {
    return new SpecifierSet(details.specifier);
  } catch (err) {
    if (!isSlimenvError(err, "INVALID_SPECIFIER")) throw err;
    const col = [...text.slice(0, details.specifierStart)].length + 1;
    throw new SlimenvError(
      "INVALID_REQUIREMENT",
      `Invalid requirement at column ${col}: bad version specifier (${err.message})`,
      { detail: pointAt(text, col - 1), cause: err },
    );
  }
}

/** extras = "[" ws* (identifier (ws* "," ws* identifier)*)? ws* "]" */
function parseExtras(sc: Scanner): string[] {
  if (sc.peek("LBRACKET") === undefined) return [];
  const open = sc.pos;
  sc.take("LBRACKET");
  sc.skipWs();
  const extras: string[] = [];
  const first = sc.take("IDENTIFIER");
  if (first !== undefined) {
    extras.push(first);
    for (;;) {
      sc.skipWs();
      if (sc.peek("IDENTIFIER") !== undefined) sc.fail("expected a comma between extras");
      if (sc.take("COMMA") === undefined) break;
      sc.skipWs();
      extras.push(sc.expect("IDENTIFIER", "an extra name after the comma"));
    }
  }
  sc.skipWs();
  if (sc.take("RBRACKET") === undefined) {
    const what = extras.length === 0 ? "an extra name or ']'" : "',' or ']'";
    sc.fail(`expected ${what} to close the '[' at column ${sc.column(open)}`);
  }
  return extras;
}

/** `@ URL (ws marker?)?` or `specifier ws? marker?` where marker = ";" expression ws? */
function parseDetails(sc: Scanner): ParsedDetails {
  const details: ParsedDetails = {
    specifier: "",
    specifierStart: sc.pos,
    url: undefined,
    marker: undefined,
  };
  if (sc.take("AT") !== undefined) {
    sc.skipWs();
    details.url = sc.expect("URL", "a URL after '@'");
    if (sc.atEnd()) return details;
    sc.skipWs();
    if (sc.atEnd()) return details;
    if (sc.take("SEMICOLON") === undefined) {
      sc.fail(
        "expected ';' (then a marker) or the end after the URL",
        sc.pos,
        "A URL ends at the first space; write `name @ url ; marker` with a space before ';'.",
      );
    }
  } else {
    details.specifierStart = sc.pos;
    details.specifier = parseSpecifier(sc);
    sc.skipWs();
    if (sc.atEnd()) return details;
    if (sc.take("SEMICOLON") === undefined) {
      sc.fail(
        details.specifier === ""
          ? "expected a version specifier, '[extras]', '@ URL', ';' or the end after the name"
          : "expected ',' (another specifier), ';' (a marker) or the end after the version specifier",
      );
    }
  }
  details.marker = parseMarkerExpression(sc);
  sc.skipWs();
  return details;
}

/** The specifier list up to ";", ")" or the end: printable ASCII and tabs (packaging 26.4). */
const SPECIFIER_LIST = /[\t\x20-\x28\x2a-\x3a\x3c-\x7e]*(?=[;)]|$)/y;

/**
 * The whole specifier list read as one SpecifierSet (split at commas), as packaging 26.4 does
 * first: so an arbitrary version stops at a comma and `===1.0, >=1` is two clauses (PEP 508
 * has no comma in a version). Empty items are allowed only as one trailing comma. Undefined
 * (nothing consumed) when that does not read: the token loop then reads it or says where.
 */
function takeSpecifierList(sc: Scanner): string | undefined {
  SPECIFIER_LIST.lastIndex = sc.pos;
  const text = SPECIFIER_LIST.exec(sc.source)?.[0];
  if (text === undefined || text === "") return undefined;
  let set: SpecifierSet;
  try {
    set = new SpecifierSet(text);
  } catch (err) {
    if (isSlimenvError(err, "INVALID_SPECIFIER")) return undefined;
    throw err;
  }
  const clauses = set.specifiers.length;
  const commas = text.split(",").length - 1;
  const trailingComma = clauses > 0 && clauses === commas && /,[ \t]*$/.test(text);
  if (clauses !== commas + 1 && !trailingComma) return undefined;
  sc.pos += text.length;
  return text;
}

/** specifier = "(" ws* many ws* ")" | ws* many ws*; many = (SPEC (ws* "," ws* SPEC)*)? */
function parseSpecifier(sc: Scanner): string {
  const open = sc.peek("LPAREN") === undefined ? undefined : sc.pos;
  if (open !== undefined) sc.take("LPAREN");
  sc.skipWs();
  const whole = takeSpecifierList(sc);
  let text = whole ?? "";
  while (whole === undefined) {
    const spec = sc.take("SPECIFIER");
    if (spec === undefined) break;
    text += spec;
    if (sc.peek("PREFIX_TRAIL") !== undefined) {
      const equality = spec.startsWith("!=") || (spec.startsWith("==") && !spec.startsWith("==="));
      sc.fail(
        equality
          ? "'.*' cannot follow a pre-release, post-release, dev or local version"
          : "'.*' is only allowed after == or !=",
        sc.pos + 1,
      );
    }
    if (sc.peek("LOCAL_TRAIL") !== undefined) {
      sc.fail("a local version label ('+...') is only allowed after == or !=");
    }
    sc.skipWs();
    if (sc.take("COMMA") === undefined) break;
    text += ",";
    sc.skipWs();
  }
  sc.skipWs();
  if (open !== undefined && sc.take("RPAREN") === undefined) {
    sc.fail(`expected ',' or ')' to close the '(' at column ${sc.column(open)}`);
  }
  return text;
}
