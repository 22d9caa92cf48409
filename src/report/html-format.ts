/**
 * Text helpers for the HTML size page: escaping for HTML text and attributes, JSON that is safe
 * inside a `<script>` element, and human-readable byte counts. Pure, no I/O.
 */

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML element content and for quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * JSON for a `<script type="application/json">` element. `<`, `>` and `&` become `\u003c`,
 * `\u003e` and `\u0026` so neither `</script>` nor `<!--` can appear in the element's text;
 * U+2028 and U+2029 are escaped too. `JSON.parse` of the element's text gives `value` back.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

export { formatBytes } from "../base/format.ts";

/** 1234567 → "1,234,567" (independent of the locale). */
export function formatCount(n: number): string {
  const sign = n < 0 ? "-" : "";
  return sign + String(Math.abs(Math.trunc(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** part / whole as "12.3%"; "0%" when whole is 0; "<0.1%" for a small non-zero share. */
export function formatShare(part: number, whole: number): string {
  if (whole <= 0 || part === 0) return "0%";
  const pct = (part / whole) * 100;
  if (pct > 0 && pct < 0.1) return "<0.1%";
  return `${pct.toFixed(1)}%`;
}
