/**
 * The compatibility tag value type (PEP 425): one (interpreter, abi, platform) triple, and
 * parsing of compressed tag sets (`py2.py3-none-any`) with errors that point at the spot.
 */
import { pointAt, SlimenvError } from "../base/index.ts";

const FORBIDDEN_IN_PART = /-/;

/** One (interpreter, abi, platform) triple. All three parts are lower-cased. */
export class Tag {
  readonly interpreter: string;
  readonly abi: string;
  readonly platform: string;

  constructor(interpreter: string, abi: string, platform: string) {
    this.interpreter = checkPart(interpreter, "interpreter");
    this.abi = checkPart(abi, "abi");
    this.platform = checkPart(platform, "platform");
  }

  /** `cp311-cp311-manylinux_2_17_x86_64` */
  toString(): string {
    return `${this.interpreter}-${this.abi}-${this.platform}`;
  }

  equals(other: Tag): boolean {
    return (
      other.interpreter === this.interpreter &&
      other.abi === this.abi &&
      other.platform === this.platform
    );
  }
}

function checkPart(value: string, what: string): string {
  if (typeof value !== "string" || value === "" || FORBIDDEN_IN_PART.test(value)) {
    throw new SlimenvError("INVALID_TAG", `invalid tag ${what}: ${JSON.stringify(value)}`, {
      hint: "a tag part is non-empty and holds no '-', e.g. 'cp311', 'abi3', 'win_amd64'",
    });
  }
  return value.toLowerCase();
}

export interface ParseTagOptions {
  /** Require each compressed component to be in sorted order, as PEP 425 asks. */
  validateOrder?: boolean;
  /** The most tags a compressed set may expand to. */
  limit?: number;
}

const IDENTIFIER = /^[\p{XID_Start}_]\p{XID_Continue}*$/u;

/** Compare by code point, as Python compares str. */
export function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = (x[i]?.codePointAt(0) ?? 0) - (y[i]?.codePointAt(0) ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
}

const TAG_HINT =
  "a tag is <interpreter>-<abi>-<platform>, each part a '.'-separated set, e.g. 'py2.py3-none-any'";

/**
 * Parse a tag triple, expanding a compressed tag set ("py2.py3-none-any" → two tags).
 * The result holds each tag once, in interpreter × abi × platform order. Throws INVALID_TAG.
 */
export function parseTag(text: string, options: ParseTagOptions = {}): Tag[] {
  if (typeof text !== "string") {
    throw new SlimenvError("INVALID_TAG", `a tag must be a string, got ${typeof text}`);
  }
  const { validateOrder = false, limit } = options;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
    throw new SlimenvError("INVALID_OPTION", `tag limit must be a non-negative integer: ${limit}`);
  }
  const components = text.split("-");
  let column = 0;
  const split: string[][] = [];
  for (const component of components) {
    const parts = component.split(".");
    if (parts.includes("")) {
      const at = column + emptyPartOffset(parts);
      throw new SlimenvError(
        "INVALID_TAG",
        `tag ${JSON.stringify(text)} has an empty component at column ${at + 1}`,
        { detail: pointAt(text, at), hint: TAG_HINT },
      );
    }
    if (validateOrder) {
      const sorted = [...parts].sort(compareCodePoints);
      if (sorted.some((p, i) => p !== parts[i])) {
        throw new SlimenvError(
          "INVALID_TAG",
          `tag component ${JSON.stringify(component)} is not in sorted order (PEP 425) at column ${column + 1}`,
          {
            detail: pointAt(text, column),
            hint: `write it as ${JSON.stringify(sorted.join("."))}`,
          },
        );
      }
    }
    split.push(parts);
    column += component.length + 1;
  }
  const count = split.reduce((n, parts) => n * parts.length, 1);
  if (limit !== undefined && count > limit) {
    throw new SlimenvError(
      "INVALID_TAG",
      `compressed tag set ${JSON.stringify(text)} would expand to ${count} tags, more than the limit of ${limit}`,
    );
  }
  const [interpreters, abis, platforms] = split;
  if (split.length !== 3 || !interpreters || !abis || !platforms) {
    throw new SlimenvError(
      "INVALID_TAG",
      `tag ${JSON.stringify(text)} has ${split.length} component${split.length === 1 ? "" : "s"}, not 3`,
      { hint: TAG_HINT },
    );
  }
  for (const interpreter of interpreters) {
    if (!IDENTIFIER.test(interpreter)) {
      const at = text.indexOf(interpreter);
      throw new SlimenvError(
        "INVALID_TAG",
        `tag ${JSON.stringify(text)} has an invalid interpreter ${JSON.stringify(interpreter)} at column ${at + 1}`,
        {
          detail: pointAt(text, at),
          hint: "an interpreter tag is an identifier such as 'py3', 'cp311' or 'pp310'",
        },
      );
    }
  }
  const seen = new Set<string>();
  const tags: Tag[] = [];
  for (const interpreter of interpreters) {
    for (const abi of abis) {
      for (const platform of platforms) {
        const tag = new Tag(interpreter, abi, platform);
        const key = tag.toString();
        if (!seen.has(key)) {
          seen.add(key);
          tags.push(tag);
        }
      }
    }
  }
  return tags;
}

function emptyPartOffset(parts: string[]): number {
  let offset = 0;
  for (const part of parts) {
    if (part === "") return offset;
    offset += part.length + 1;
  }
  return offset;
}
