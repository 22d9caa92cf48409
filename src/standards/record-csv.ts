/**
 * The CSV dialect RECORD uses: what the default reader and writer of Python's `csv` module
 * handle (`,` delimiter, `"` quote doubled inside quoted fields, `\n` or `\r\n` line ends).
 * Reading is strict where Python's reader is lenient about text after a closing quote.
 */
import { SlimenvError } from "../base/index.ts";

export interface CsvRow {
  fields: string[];
  /** 1-based line number where the row starts. */
  line: number;
}

/** Split CSV text into rows. Blank lines give no row (as Python's reader skips them). */
export function parseCsv(text: string, what = "RECORD"): CsvRow[] {
  const rows: CsvRow[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  const lineEndAt = (k: number): number => {
    const c = text.charAt(k);
    if (c === "\n") return 1;
    if (c === "\r") return text.charAt(k + 1) === "\n" ? 2 : 1;
    return 0;
  };
  while (i < n) {
    const startLine = line;
    const blank = lineEndAt(i);
    if (blank > 0) {
      i += blank;
      line += 1;
      continue;
    }
    const fields: string[] = [];
    for (;;) {
      let value = "";
      if (text.charAt(i) === '"') {
        const openLine = line;
        i += 1;
        for (;;) {
          if (i >= n) {
            throw new SlimenvError(
              "INVALID_RECORD",
              `invalid ${what} at line ${openLine}: a quoted field is not closed`,
            );
          }
          const c = text.charAt(i);
          if (c === '"') {
            if (text.charAt(i + 1) === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i += 1;
            break;
          }
          if (c === "\n" || (c === "\r" && text.charAt(i + 1) !== "\n")) line += 1;
          value += c;
          i += 1;
        }
        const after = text.charAt(i);
        if (i < n && after !== "," && lineEndAt(i) === 0) {
          throw new SlimenvError(
            "INVALID_RECORD",
            `invalid ${what} at line ${line}: ${JSON.stringify(after)} after a closing quote (expected ',' or the end of the line)`,
          );
        }
      } else {
        while (i < n && text.charAt(i) !== "," && lineEndAt(i) === 0) {
          value += text.charAt(i);
          i += 1;
        }
      }
      fields.push(value);
      if (i < n && text.charAt(i) === ",") {
        i += 1;
        continue;
      }
      const end = lineEndAt(i);
      if (end > 0) {
        i += end;
        line += 1;
      }
      break;
    }
    rows.push({ fields, line: startLine });
  }
  return rows;
}

/** One CSV field, quoted when it holds `,`, `"`, `\r` or `\n` (Python's QUOTE_MINIMAL). */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
