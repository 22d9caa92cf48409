/**
 * Small TOML helpers for the lock file: writing strings, keys and inline values exactly,
 * and reading datetimes without losing precision (smol-toml's dates keep milliseconds
 * only; upload times carry microseconds).
 */
import { parse as parseToml, TomlDate } from "smol-toml";

/** Prefix of the string a protected datetime becomes; NUL cannot appear in TOML unescaped. */
const DATETIME_MARK = "\u0000datetime:";

/** A TOML datetime with a time part: offset or local date-time. */
const DATETIME_BODY = String.raw`\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2})?`;
const DATETIME_AT = new RegExp(DATETIME_BODY, "y");
/** The whole string is one TOML date-time with an offset or local time. */
export const TOML_DATETIME = new RegExp(`^${DATETIME_BODY}$`);
/** The whole string is one date-time in UTC (Z or a zero offset). */
export const UTC_DATETIME =
  /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]00:00)$/;

function skipString(text: string, i: number): number {
  const quote = text[i] as string;
  const triple = text.startsWith(quote.repeat(3), i);
  let j = i + (triple ? 3 : 1);
  while (j < text.length) {
    const ch = text[j];
    if (quote === '"' && ch === "\\") {
      j += 2;
      continue;
    }
    if (triple) {
      if (text.startsWith(quote.repeat(3), j)) {
        // Up to two more quotes may close the string ("""a"""" is `a"`).
        let end = j + 3;
        while (end < text.length && text[end] === quote && end < j + 5) end++;
        return end;
      }
    } else if (ch === quote || ch === "\n") {
      return j + 1;
    }
    j++;
  }
  return j;
}

/**
 * Replace every date-time value (outside strings and comments) with a marked basic string,
 * so parsing keeps its exact text. Use `unmarkDatetime` on the parsed strings.
 */
export function protectDatetimes(text: string): string {
  let out = "";
  let last = 0;
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"' || ch === "'") {
      i = skipString(text, i);
      continue;
    }
    if (ch === "#") {
      const end = text.indexOf("\n", i);
      i = end === -1 ? text.length : end;
      continue;
    }
    const before = i === 0 ? "" : (text[i - 1] as string);
    if (ch >= "0" && ch <= "9" && !/[A-Za-z0-9_.:+-]/.test(before)) {
      DATETIME_AT.lastIndex = i;
      const match = DATETIME_AT.exec(text);
      if (match !== null) {
        out += `${text.slice(last, i)}"\\u0000datetime:${match[0]}"`;
        i += match[0].length;
        last = i;
        continue;
      }
    }
    i++;
  }
  return out + text.slice(last);
}

/** The datetime text a protected value stood for, or undefined for any other value. */
export function unmarkDatetime(value: unknown): string | undefined {
  return typeof value === "string" && value.startsWith(DATETIME_MARK)
    ? value.slice(DATETIME_MARK.length)
    : undefined;
}

/**
 * Turn parsed data back into plain TOML values: protected datetimes become TomlDate (for
 * generic tables such as `[tool]`), null-prototype tables become plain objects.
 */
export function plainTomlValue(value: unknown): unknown {
  const datetime = unmarkDatetime(value);
  if (datetime !== undefined) return new TomlDate(datetime);
  if (Array.isArray(value)) return value.map(plainTomlValue);
  if (value instanceof Date) return value;
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = plainTomlValue(v);
    return out;
  }
  return value;
}

/** Parse with datetimes protected; throws smol-toml's TomlError on bad syntax. */
export function parseTomlKeepingDatetimes(text: string): Record<string, unknown> {
  try {
    return parseToml(protectDatetimes(text)) as Record<string, unknown>;
  } catch (err) {
    // Report the error against the text as written (columns shift where a datetime was).
    parseToml(text);
    throw err;
  }
}

// ---------------------------------------------------------------- writing

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/** A key, bare when it can be, else a basic string. */
export function tomlKey(key: string): string {
  return BARE_KEY.test(key) ? key : basicString(key);
}

/** A basic ("…") string with every character TOML requires escaped. */
export function basicString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * A string value: a literal ('…') string when the text allows one (no `'`, no control
 * characters), as the spec's examples write, else a basic string.
 */
export function tomlString(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is tested
  if (!/['\u0000-\u0008\u000a-\u001f\u007f]/.test(text)) return `'${text}'`;
  return basicString(text);
}

function tomlNumber(value: number): string {
  if (Number.isNaN(value)) return "nan";
  if (value === Number.POSITIVE_INFINITY) return "inf";
  if (value === Number.NEGATIVE_INFINITY) return "-inf";
  if (Number.isSafeInteger(value)) return String(value);
  const text = String(value);
  return /[.eE]/.test(text) ? text : `${text}.0`;
}

/** True for a table (not an array, date or primitive). */
export function isTomlTable(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date)
  );
}

/** Any TOML value written inline (inline tables and arrays on one line). */
export function inlineValue(value: unknown, where: string): string {
  if (typeof value === "string") return tomlString(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return tomlNumber(value);
  if (typeof value === "bigint") return value.toString();
  // TomlDate's toISOString() is TOML text (local or offset); a plain Date's is UTC.
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) {
    return `[${value.map((item, i) => inlineValue(item, `${where}[${i}]`)).join(", ")}]`;
  }
  if (isTomlTable(value)) {
    const parts = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${tomlKey(k)} = ${inlineValue(v, `${where}.${k}`)}`);
    return parts.length === 0 ? "{}" : `{${parts.join(", ")}}`;
  }
  throw new TypeError(`${where}: cannot write ${value === null ? "null" : typeof value} as TOML`);
}

/**
 * Write a generic table (e.g. `[tool]` data) under `header` (dotted, already quoted):
 * plain values first, then sub-tables as their own `[header.key]` sections. A table with
 * only sub-tables gets no header of its own, unless it is empty.
 */
export function emitTable(
  lines: string[],
  header: string,
  table: Record<string, unknown>,
  indent: string,
): void {
  const entries = Object.entries(table).filter(([, v]) => v !== undefined);
  const plain = entries.filter(([, v]) => !isTomlTable(v));
  const tables = entries.filter(([, v]) => isTomlTable(v));
  if (plain.length > 0 || tables.length === 0) {
    lines.push("", `${indent}[${header}]`);
    for (const [k, v] of plain)
      lines.push(`${indent}${tomlKey(k)} = ${inlineValue(v, `${header}.${k}`)}`);
  }
  for (const [k, v] of tables) {
    emitTable(lines, `${header}.${tomlKey(k)}`, v as Record<string, unknown>, indent);
  }
}
