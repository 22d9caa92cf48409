/**
 * PEP 508 lexing shared by markers and requirements, the marker grammar, and marker
 * serialization. Token rules follow the ones pypa/packaging uses (context-sensitive: the
 * parser asks "is there a token of kind K here?"), with Python's Unicode notion of a word
 * boundary and of whitespace, so that the same inputs are accepted, the same errors are
 * found at the same column, and the same canonical text comes out.
 */
import type { ErrorCode } from "../base/index.ts";
import { pointAt, SlimenvError } from "../base/index.ts";
import { canonicalizeName } from "./names.ts";

// --- lexing ------------------------------------------------------------------------------

/** A word character as Python's `re` sees it in a str pattern (\w). */
const W = "[\\p{L}\\p{N}_]";
const NOT_AFTER_WORD = `(?<!${W})`;
const NOT_BEFORE_WORD = `(?!${W})`;
const WORD_BOUNDARY = `(?:(?<=${W})(?!${W})|(?<!${W})(?=${W}))`;

/** Python's `str.isspace()` set, which is what `\s` means in a Python str pattern. */
const PY_SPACE =
  "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

/** PEP 440 specifier as one token: operator, optional whitespace, version (or ===anything). */
function specifierPattern(): string {
  const sp = `[${PY_SPACE}]*`;
  const release = "v?(?:[0-9]+!)?[0-9]+(?:\\.[0-9]+)*";
  const release2 = "v?(?:[0-9]+!)?[0-9]+(?:\\.[0-9]+)+";
  const pre = "(?:[-_.]?(?:alpha|beta|preview|pre|a|b|c|rc)[-_.]?[0-9]*)?";
  const post = "(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?";
  const dev = "(?:[-_.]?dev[-_.]?[0-9]*)?";
  const local = "(?:\\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?";
  // Python matches the ~= branch case-insensitively in Unicode mode, where "ſ" is an "s"
  // and "ı"/"İ" are an "i"; the other branches are ASCII-only.
  const preU = pre.replace("preview", "prev[i\\u0130\\u0131]ew");
  const postU = post.replace("post", "po[s\\u017f]t");
  return [
    `===${sp}[^${PY_SPACE};)]+`,
    `(?:==|!=)${sp}${release}(?:\\.\\*|${pre}${post}${dev}${local})?`,
    `~=${sp}${release2}${preU}${postU}${dev}`,
    `(?:<=|>=|<|>)${sp}${release}${pre}${post}${dev}`,
  ].join("|");
}

const RULES = {
  LPAREN: /\(/y,
  RPAREN: /\)/y,
  LBRACKET: /\[/y,
  RBRACKET: /\]/y,
  SEMICOLON: /;/y,
  COMMA: /,/y,
  AT: /@/y,
  QUOTED: /'[^']*'|"[^"]*"/y,
  OP: /===|==|~=|!=|<=|>=|<|>/y,
  BOOLOP: new RegExp(`${NOT_AFTER_WORD}(?:or|and)${NOT_BEFORE_WORD}`, "yu"),
  IN: new RegExp(`${NOT_AFTER_WORD}in${NOT_BEFORE_WORD}`, "yu"),
  NOT: new RegExp(`${NOT_AFTER_WORD}not${NOT_BEFORE_WORD}`, "yu"),
  VARIABLE: new RegExp(
    `${NOT_AFTER_WORD}(?:python_version|python_full_version|os[._]name|sys[._]platform` +
      "|platform_(?:release|system)|platform[._](?:version|machine|python_implementation)" +
      `|python_implementation|implementation_(?:name|version)|extras?|dependency_groups)${NOT_BEFORE_WORD}`,
    "yu",
  ),
  IDENTIFIER: new RegExp(`${NOT_AFTER_WORD}[a-zA-Z0-9][a-zA-Z0-9._-]*${WORD_BOUNDARY}`, "yu"),
  SPECIFIER: new RegExp(specifierPattern(), "yi"),
  // No whitespace at all in a URL, Unicode's included (RFC 3986; packaging 26.4).
  URL: new RegExp(`[^${PY_SPACE}]+`, "y"),
  PREFIX_TRAIL: /\.\*/y,
  LOCAL_TRAIL: /\+[a-z0-9]+(?:[-_.][a-z0-9]+)*/y,
  WS: /[ \t]+/y,
} as const;

export type TokenKind = keyof typeof RULES;

/** Reads tokens of a requested kind from a string; reports errors with a column and caret. */
export class Scanner {
  readonly source: string;
  readonly code: ErrorCode;
  readonly what: string;
  pos = 0;

  constructor(source: string, code: ErrorCode, what: string) {
    this.source = source;
    this.code = code;
    this.what = what;
  }

  /** The text of a `kind` token at the current position, without consuming it. */
  peek(kind: TokenKind): string | undefined {
    const re = RULES[kind];
    re.lastIndex = this.pos;
    const m = re.exec(this.source);
    return m === null ? undefined : m[0];
  }

  /** Consume and return a `kind` token at the current position, if there is one. */
  take(kind: TokenKind): string | undefined {
    const text = this.peek(kind);
    if (text !== undefined) this.pos += text.length;
    return text;
  }

  /** Consume a `kind` token or fail with "expected <expected>". */
  expect(kind: TokenKind, expected: string): string {
    const text = this.take(kind);
    if (text === undefined) this.fail(`expected ${expected}`);
    return text;
  }

  skipWs(): void {
    this.take("WS");
  }

  atEnd(): boolean {
    return this.pos >= this.source.length;
  }

  /** 1-based column, counted in code points, of a position in the source. */
  column(pos: number = this.pos): number {
    return columnOf(this.source, pos);
  }

  fail(message: string, pos: number = this.pos, hint?: string): never {
    const col = columnOf(this.source, pos);
    throw new SlimenvError(this.code, `Invalid ${this.what} at column ${col}: ${message}`, {
      detail: pointAt(this.source, col - 1),
      ...(hint === undefined ? {} : { hint }),
    });
  }
}

function columnOf(source: string, pos: number): number {
  let n = 1;
  for (const _ of source.slice(0, pos)) n++;
  return n;
}

// --- quoted strings ----------------------------------------------------------------------

const SIMPLE_ESCAPES: Record<string, string> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

/**
 * The value of a quoted marker string. Like packaging (which hands the token to Python's
 * literal evaluation), backslash escapes are Python string escapes. Returns an error text
 * when the literal is not a valid Python string. `\N{name}` escapes are not supported.
 */
export function decodeQuoted(token: string): string | { error: string } {
  if (token.includes("\0")) return { error: "a NUL character is not allowed" };
  const body = token.slice(1, -1).replace(/\r\n?/g, "\n");
  let out = "";
  let i = 0;
  while (i < body.length) {
    const ch = body[i] as string;
    if (ch === "\n") return { error: "a line break is not allowed inside quotes" };
    if (ch !== "\\") {
      out += ch;
      i++;
      continue;
    }
    const next = body[i + 1];
    if (next === undefined) return { error: "the closing quote is escaped by a backslash" };
    i += 2;
    if (next === "\n") continue;
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      out += simple;
    } else if (next >= "0" && next <= "7") {
      const m = /^[0-7]{0,2}/.exec(body.slice(i)) as RegExpExecArray;
      out += String.fromCodePoint(Number.parseInt(next + m[0], 8));
      i += m[0].length;
    } else if (next === "x" || next === "u" || next === "U") {
      const len = next === "x" ? 2 : next === "u" ? 4 : 8;
      const hex = body.slice(i, i + len);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) {
        return { error: `truncated \\${next} escape` };
      }
      const cp = Number.parseInt(hex, 16);
      if (cp > 0x10ffff) return { error: `\\${next}${hex} is not a Unicode character` };
      out += String.fromCodePoint(cp);
      i += len;
    } else if (next === "N") {
      return { error: "\\N{...} escapes are not supported" };
    } else {
      out += `\\${next}`;
    }
  }
  return out;
}

// --- marker grammar ----------------------------------------------------------------------

export type MarkerOperand =
  | { readonly kind: "variable"; readonly name: string }
  | { readonly kind: "value"; readonly value: string };

export type MarkerOp = "<" | "<=" | "==" | "!=" | ">=" | ">" | "~=" | "===" | "in" | "not in";

export interface MarkerComparison {
  readonly type: "comparison";
  readonly left: MarkerOperand;
  readonly op: MarkerOp;
  readonly right: MarkerOperand;
}

/** `items[0] joins[0] items[1] ...`; a parenthesized group is a nested MarkerGroup. */
export interface MarkerGroup {
  readonly type: "group";
  readonly items: readonly MarkerNode[];
  readonly joins: readonly ("and" | "or")[];
}

export type MarkerNode = MarkerComparison | MarkerGroup;

/** Variables whose compared literal is PEP 685-normalized at parse time. */
const SET_VARIABLES = new Set(["extras", "dependency_groups"]);

/** Parentheses a marker may nest, as CPython's parser and packaging 26.4 allow. */
export const MAX_MARKER_NESTING = 200;

/** marker = atom (("and" | "or") atom)*, stopping before anything else. */
export function parseMarkerExpression(sc: Scanner, depth = 0): MarkerGroup {
  const items: MarkerNode[] = [parseAtom(sc, depth)];
  const joins: ("and" | "or")[] = [];
  for (;;) {
    const join = sc.take("BOOLOP");
    if (join === undefined) break;
    joins.push(join as "and" | "or");
    items.push(parseAtom(sc, depth));
  }
  return { type: "group", items, joins };
}

function parseAtom(sc: Scanner, depth: number): MarkerNode {
  sc.skipWs();
  let node: MarkerNode;
  if (sc.peek("LPAREN") !== undefined) {
    const open = sc.pos;
    if (depth >= MAX_MARKER_NESTING) {
      sc.fail(`the marker is nested more than ${MAX_MARKER_NESTING} levels deep`, open);
    }
    sc.take("LPAREN");
    sc.skipWs();
    node = parseMarkerExpression(sc, depth + 1);
    sc.skipWs();
    if (sc.take("RPAREN") === undefined) {
      sc.fail(`expected 'and', 'or' or ')' to close the '(' at column ${sc.column(open)}`);
    }
  } else {
    node = parseComparison(sc);
  }
  sc.skipWs();
  return node;
}

function parseComparison(sc: Scanner): MarkerComparison {
  sc.skipWs();
  const left = parseOperand(sc);
  sc.skipWs();
  const op = parseOp(sc);
  sc.skipWs();
  const right = parseOperand(sc);
  sc.skipWs();
  return normalizeExtraLiteral({ type: "comparison", left, op, right });
}

function parseOperand(sc: Scanner): MarkerOperand {
  const variable = sc.take("VARIABLE");
  if (variable !== undefined) {
    const name = variable.replace(".", "_");
    return {
      kind: "variable",
      name: name === "python_implementation" ? "platform_python_implementation" : name,
    };
  }
  const quoted = sc.take("QUOTED");
  if (quoted !== undefined) {
    const value = decodeQuoted(quoted);
    if (typeof value !== "string") sc.fail(`invalid quoted string ${quoted} (${value.error})`);
    return { kind: "value", value };
  }
  return sc.fail(
    "expected a marker variable (such as python_version or extra) or a quoted string",
    sc.pos,
    sc.peek("IDENTIFIER") !== undefined
      ? 'Marker values are quoted, e.g. os_name == "posix"; variables are listed in PEP 508.'
      : undefined,
  );
}

function parseOp(sc: Scanner): MarkerOp {
  if (sc.take("IN") !== undefined) return "in";
  if (sc.take("NOT") !== undefined) {
    sc.expect("WS", "whitespace after 'not'");
    sc.expect("IN", "'in' after 'not'");
    return "not in";
  }
  const op = sc.take("OP");
  if (op !== undefined) return op as MarkerOp;
  return sc.fail("expected a marker operator (<, <=, ==, !=, >=, >, ~=, ===, in, not in)");
}

/** PEP 685: the literal compared with `extra` (or tested `in extras`) is normalized. */
function normalizeExtraLiteral(c: MarkerComparison): MarkerComparison {
  const { left, right } = c;
  if (left.kind === "variable" && left.name === "extra" && right.kind === "value") {
    return { ...c, right: { kind: "value", value: canonicalizeName(right.value) } };
  }
  if (right.kind === "variable" && left.kind === "value") {
    if (right.name === "extra" || SET_VARIABLES.has(right.name)) {
      return { ...c, left: { kind: "value", value: canonicalizeName(left.value) } };
    }
  }
  return c;
}

// --- serialization -----------------------------------------------------------------------

function formatOperand(operand: MarkerOperand): string {
  if (operand.kind === "variable") return operand.name;
  const v = operand.value;
  if (!v.includes('"')) return `"${v}"`;
  if (!v.includes("'")) return `'${v}'`;
  throw new SlimenvError(
    "INVALID_MARKER",
    `Cannot write marker value ${JSON.stringify(v)}: it contains both quote characters`,
  );
}

/** Canonical text: double quotes where possible, single spaces, only needed parentheses. */
export function formatMarker(node: MarkerNode, top = true): string {
  if (node.type === "comparison") {
    return `${formatOperand(node.left)} ${node.op} ${formatOperand(node.right)}`;
  }
  const first = node.items[0];
  if (node.items.length === 1 && first !== undefined) return formatMarker(first, top);
  const parts: string[] = [];
  node.items.forEach((item, i) => {
    if (i > 0) parts.push(node.joins[i - 1] as string);
    parts.push(formatMarker(item, false));
  });
  const text = parts.join(" ");
  return top ? text : `(${text})`;
}
