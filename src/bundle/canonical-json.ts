/**
 * Canonical JSON (docs/fleet.md): keys sorted by code point, no insignificant whitespace,
 * integers only, UTF-8 — byte for byte what Python's
 * `json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` writes, so a
 * signature made here covers the exact bytes the device agent reads.
 */
import { SlimenvError } from "../base/index.ts";

function bad(why: string): SlimenvError {
  return new SlimenvError("INTERNAL", `not canonical JSON: ${why}`);
}

/** Compare by Unicode code point (JS `<` on strings compares UTF-16 code units). */
function byCodePoint(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const cx = x.value.codePointAt(0) ?? 0;
    const cy = y.value.codePointAt(0) ?? 0;
    if (cx !== cy) return cx - cy;
  }
}

function str(s: string): string {
  if (!s.isWellFormed()) throw bad("a string holds a lone surrogate");
  // JSON.stringify escapes exactly what Python's ensure_ascii=False escapes.
  return JSON.stringify(s);
}

function encode(value: unknown, out: string[]): void {
  if (value === null) out.push("null");
  else if (value === true) out.push("true");
  else if (value === false) out.push("false");
  else if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw bad(`number ${value} is not a safe integer`);
    out.push(String(value));
  } else if (typeof value === "string") out.push(str(value));
  else if (Array.isArray(value)) {
    out.push("[");
    value.forEach((v, i) => {
      if (i > 0) out.push(",");
      encode(v, out);
    });
    out.push("]");
  } else if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(
      ([, v]) => v !== undefined,
    );
    entries.sort(([a], [b]) => byCodePoint(a, b));
    out.push("{");
    entries.forEach(([k, v], i) => {
      if (i > 0) out.push(",");
      out.push(str(k), ":");
      encode(v, out);
    });
    out.push("}");
  } else {
    throw bad(`a ${typeof value} has no JSON form`);
  }
}

/** The canonical JSON text of `value` (undefined object members are left out). */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  encode(value, out);
  return out.join("");
}

/** The canonical JSON bytes (UTF-8) of `value`. */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}
