/**
 * The RFC 822-style header format that METADATA, PKG-INFO and WHEEL use, read the way
 * Python's `email.parser` (compat32 policy) reads it — but strictly: a line that is neither
 * a `Name: value` header nor an indented continuation is an error with its line number,
 * where email.parser would quietly start the body there.
 */
import type { ErrorCode } from "../base/index.ts";
import { SlimenvError } from "../base/index.ts";

/** One header as written: its value split into its physical lines. */
export interface RawHeader {
  /** The field name as written (case kept). */
  name: string;
  /**
   * The value's lines: first the text after the colon with leading spaces and tabs removed,
   * then each continuation line exactly as written (leading whitespace kept).
   */
  lines: string[];
  /** 1-based line number of the header's first line. */
  line: number;
}

export interface RawMessage {
  headers: RawHeader[];
  /** Everything after the first blank line, or undefined when there is no blank line. */
  body: string | undefined;
  /** 1-based line number where the body starts (meaningful when body is defined). */
  bodyLine: number;
}

/** Printable ASCII except space and colon: what email.parser accepts in a field name. */
const HEADER_LINE = /^([\x21-\x39\x3b-\x7e]+):(.*)$/s;

/**
 * Split `text` into headers and body. Line ends may be `\n`, `\r\n` or `\r`; a leading
 * byte-order mark is ignored. `what` names the file in messages ("METADATA", "WHEEL").
 */
export function parseEmailHeaders(text: string, code: ErrorCode, what: string): RawMessage {
  const input = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  const headers: RawHeader[] = [];
  let pos = 0;
  let lineNo = 0;
  while (pos < input.length) {
    const nl = input.indexOf("\n", pos);
    const end = nl === -1 ? input.length : nl;
    const line = input.slice(pos, end);
    const next = nl === -1 ? input.length : nl + 1;
    lineNo += 1;
    if (line === "") {
      return { headers, body: input.slice(next), bodyLine: lineNo + 1 };
    }
    const first = line.charAt(0);
    if (first === " " || first === "\t") {
      const last = headers[headers.length - 1];
      if (last === undefined) {
        throw new SlimenvError(
          code,
          `invalid ${what} at line ${lineNo}: a continuation line (starting with whitespace) comes before any field`,
          { detail: line },
        );
      }
      last.lines.push(line);
    } else {
      const m = HEADER_LINE.exec(line);
      if (m === null) {
        const colon = line.indexOf(":");
        const why =
          colon === -1
            ? "expected 'Field: value' (no colon)"
            : colon === 0
              ? "the field name is empty"
              : `the field name ${JSON.stringify(line.slice(0, colon))} has a character not allowed in a field name`;
        throw new SlimenvError(code, `invalid ${what} at line ${lineNo}: ${why}`, {
          detail: line,
          hint: "fields are 'Name: value' lines; continuation lines start with whitespace; a blank line ends the fields",
        });
      }
      headers.push({
        name: m[1] ?? "",
        lines: [(m[2] ?? "").replace(/^[ \t]+/, "")],
        line: lineNo,
      });
    }
    pos = next;
  }
  return { headers, body: undefined, bodyLine: lineNo + 1 };
}

/**
 * A one-line value: the lines unfolded (each trimmed, joined with one space, empty
 * continuation lines dropped).
 */
export function unfoldValue(lines: readonly string[]): string {
  return lines
    .map((l) => l.trim())
    .filter((l, i) => i === 0 || l !== "")
    .join(" ")
    .trim();
}

/** Continuation prefix written for multi-line values: 7 spaces and a pipe. */
export const MULTILINE_PREFIX = "       |";

/**
 * A multi-line value (Description, License): continuation lines lose the `7 spaces + |`
 * prefix the core metadata spec defines, or else up to 8 leading spaces (what distutils and
 * setuptools write), or else one leading tab. Lines are joined with `\n`.
 */
export function unescapeMultiline(lines: readonly string[]): string {
  const out: string[] = [];
  lines.forEach((l, i) => {
    if (i === 0) {
      out.push(l);
    } else if (l.startsWith(MULTILINE_PREFIX)) {
      out.push(l.slice(MULTILINE_PREFIX.length));
    } else if (l.startsWith("\t")) {
      out.push(l.slice(1));
    } else {
      out.push(l.replace(/^ {1,8}/, ""));
    }
  });
  return out.join("\n");
}

/** One `Name: value` header, multi-line values escaped with {@link MULTILINE_PREFIX}. */
export function formatHeader(name: string, value: string): string {
  const [first = "", ...rest] = value.split("\n");
  const head = `${name}: ${first}`;
  return rest.length === 0 ? head : [head, ...rest.map((l) => MULTILINE_PREFIX + l)].join("\n");
}
