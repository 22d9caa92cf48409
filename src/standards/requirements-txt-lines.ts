/**
 * The line layer of requirements files, as pip reads them: split into physical lines,
 * join backslash continuations, drop comments and blank lines, expand `${VAR}`, then
 * break a logical line into its requirement part and its option part, and split the
 * option part the way a POSIX shell would.
 */

/** One logical line: its text and the number of the physical line it starts on (1-based). */
export interface LogicalLine {
  line: number;
  text: string;
}

/** Python's str.splitlines() terminators. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these control characters end lines in Python
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

/** A comment starts at `#` at the start of a line or after whitespace, and runs to the end. */
const COMMENT = /(^|\s+)#.*$/s;
const COMMENT_AT_START = /^(?:|\s+)#/;

/** `${NAME}` with NAME made of upper-case ASCII letters, digits and `_` (POSIX names). */
const ENV_VAR = /\$\{([A-Z0-9_]+)\}/g;

/** Split text into physical lines like Python's str.splitlines() (no trailing empty line). */
export function splitPhysicalLines(text: string): string[] {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  if (body === "") return [];
  const lines = body.split(LINE_BREAK);
  if (lines[lines.length - 1] === "") {
    lines.pop();
  }
  return lines;
}

function stripBackslashes(line: string): string {
  let start = 0;
  let end = line.length;
  while (start < end && line[start] === "\\") start++;
  while (end > start && line[end - 1] === "\\") end--;
  return line.slice(start, end);
}

/**
 * Join lines ending in a backslash with the next one (a comment line never continues);
 * the joined line keeps the number of its first line. Like pip, every backslash at either
 * end of a continued line is removed, and nothing is inserted at the join.
 */
export function joinContinuations(lines: readonly string[]): LogicalLine[] {
  const out: LogicalLine[] = [];
  let pending: string[] = [];
  let firstLine = 0;
  lines.forEach((raw, index) => {
    const number = index + 1;
    const isComment = COMMENT_AT_START.test(raw);
    if (!raw.endsWith("\\") || isComment) {
      const line = isComment ? ` ${raw}` : raw;
      if (pending.length > 0) {
        pending.push(line);
        out.push({ line: firstLine, text: pending.join("") });
        pending = [];
      } else {
        out.push({ line: number, text: line });
      }
    } else {
      if (pending.length === 0) firstLine = number;
      pending.push(stripBackslashes(raw));
    }
  });
  if (pending.length > 0) out.push({ line: firstLine, text: pending.join("") });
  return out;
}

/** Remove comments and surrounding whitespace; drop lines left empty. */
export function stripComments(lines: readonly LogicalLine[]): LogicalLine[] {
  const out: LogicalLine[] = [];
  for (const { line, text } of lines) {
    const stripped = text.replace(COMMENT, "").trim();
    if (stripped !== "") out.push({ line, text: stripped });
  }
  return out;
}

/**
 * Expand `${NAME}` from `env`. A variable that is unset or empty is left as written
 * (pip does the same); `$NAME` and `${lower}` are never expanded.
 */
export function expandEnvVars(text: string, env: Record<string, string | undefined>): string {
  return text.replace(ENV_VAR, (whole, name: string) => {
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    return value === undefined || value === "" ? whole : value;
  });
}

/**
 * Split a logical line at the first space-separated token that starts with `-`: what is
 * before is the requirement (not shell-split, as markers hold quotes), the rest the options.
 * Only the space character separates tokens here, as in pip.
 */
export function breakArgsOptions(text: string): { args: string; options: string } {
  const tokens = text.split(" ");
  const index = tokens.findIndex((token) => token.startsWith("-"));
  if (index === -1) return { args: text, options: "" };
  return { args: tokens.slice(0, index).join(" "), options: tokens.slice(index).join(" ") };
}

/** Thrown by shellSplit with a reason; the caller adds file and line. */
export class ShellSplitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ShellSplitError";
  }
}

const SHELL_SPACE = /[ \t\r\n]/;

/**
 * Split like Python's shlex.split (POSIX mode): whitespace separates words, single quotes
 * are literal, double quotes allow `\"` and `\\`, a backslash outside quotes escapes the
 * next character. Throws ShellSplitError on an unclosed quote or a trailing backslash.
 */
export function shellSplit(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (SHELL_SPACE.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end === -1) throw new ShellSplitError("no closing quotation");
      word += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (ch === '"') {
      i++;
      let closed = false;
      while (i < text.length) {
        const c = text[i] as string;
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        if (c === "\\" && i + 1 < text.length && (text[i + 1] === '"' || text[i + 1] === "\\")) {
          word += text[i + 1];
          i += 2;
        } else {
          word += c;
          i++;
        }
      }
      if (!closed) throw new ShellSplitError("no closing quotation");
      inWord = true;
    } else if (ch === "\\") {
      if (i + 1 >= text.length) throw new ShellSplitError("no escaped character");
      word += text[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += ch;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}
