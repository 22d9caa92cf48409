/**
 * Core metadata (METADATA in wheels and .dist-info, PKG-INFO in sdists), versions 1.0–2.5:
 * parse to a typed {@link CoreMetadata} and format back. The file format is email headers
 * as Python's email.parser (compat32) reads them; see email-headers.ts.
 */
import { SlimenvError } from "../base/index.ts";
import {
  formatHeader,
  parseEmailHeaders,
  unescapeMultiline,
  unfoldValue,
} from "./email-headers.ts";
import type { CoreMetadata, FieldSpec, ListKey, SingleKey } from "./metadata-fields.ts";
import {
  emptyMetadata,
  FIELDS,
  FIELDS_BY_LOWER,
  KNOWN_METADATA_VERSIONS,
  MAX_METADATA_MAJOR,
} from "./metadata-fields.ts";
import {
  compareMetadataVersions,
  licenseExpressionProblem,
  licenseFileProblem,
  NORMALIZED_EXTRA,
  parseMetadataVersion,
  splitKeywords,
  splitProjectUrl,
} from "./metadata-values.ts";
import { isValidName } from "./names.ts";
import { Requirement } from "./requirement.ts";
import { SpecifierSet } from "./specifiers.ts";
import { tryParseVersion } from "./version.ts";

export type { CoreMetadata, ProjectUrl, UnknownField } from "./metadata-fields.ts";
export { emptyMetadata } from "./metadata-fields.ts";

export interface ParseMetadataOptions {
  /**
   * Called for things the specification says to warn about: a Metadata-Version newer than
   * this module knows (same major), a field newer than the file's Metadata-Version, an extra
   * name that is valid but not normalized.
   */
  onWarning?: (message: string) => void;
}

/** A header value with where it came from. */
interface Seen {
  value: string;
  line: number;
  /** The name as written. */
  written: string;
}

function fail(line: number, message: string, detail?: string, hint?: string): never {
  throw new SlimenvError("INVALID_METADATA", `invalid METADATA at line ${line}: ${message}`, {
    ...(detail === undefined ? {} : { detail }),
    ...(hint === undefined ? {} : { hint }),
  });
}

/** Parse METADATA / PKG-INFO text. Throws INVALID_METADATA naming the field and line. */
export function parseMetadata(text: string, options: ParseMetadataOptions = {}): CoreMetadata {
  const warn = options.onWarning ?? (() => {});
  const raw = parseEmailHeaders(text, "INVALID_METADATA", "METADATA");

  const singles = new Map<string, Seen>();
  const lists = new Map<string, Seen[]>();
  const unknown: Seen[] = [];
  for (const h of raw.headers) {
    const spec = FIELDS_BY_LOWER.get(h.name.toLowerCase());
    if (spec === undefined) {
      unknown.push({ value: unescapeMultiline(h.lines), line: h.line, written: h.name });
      continue;
    }
    const textual = spec.shape.kind === "single" && spec.shape.text;
    if (spec.name === "Summary" && h.lines.length > 1) {
      warn(
        `METADATA line ${h.line}: Summary should be one line; its continuation lines are joined`,
      );
    }
    const seen = {
      value: textual ? unescapeMultiline(h.lines) : unfoldValue(h.lines),
      line: h.line,
      written: h.name,
    };
    if (spec.shape.kind === "list" || spec.shape.kind === "projectUrl") {
      const arr = lists.get(spec.name) ?? [];
      arr.push(seen);
      lists.set(spec.name, arr);
    } else {
      const before = singles.get(spec.name);
      if (before !== undefined) {
        fail(
          h.line,
          `field ${spec.name} appears again (first at line ${before.line}); it may be given only once`,
        );
      }
      singles.set(spec.name, seen);
    }
  }

  // Metadata-Version first: an unknown major version must fail before anything else.
  const mv = singles.get("Metadata-Version");
  if (mv === undefined) {
    fail(1, "the required field Metadata-Version is missing");
  }
  const mvNum = parseMetadataVersion(mv.value);
  if (mvNum === undefined) {
    fail(mv.line, `Metadata-Version ${JSON.stringify(mv.value)} is not of the form X.Y`);
  }
  if (mvNum[0] > MAX_METADATA_MAJOR) {
    fail(
      mv.line,
      `Metadata-Version ${mv.value} has major version ${mvNum[0]}; this slimenv reads up to ${MAX_METADATA_MAJOR}.x`,
      undefined,
      "a newer slimenv may read this metadata",
    );
  }
  if (mvNum[0] < 1) fail(mv.line, `Metadata-Version ${mv.value} does not exist`);
  if (!KNOWN_METADATA_VERSIONS.includes(mv.value)) {
    warn(`Metadata-Version ${mv.value} is not one this slimenv knows; reading it as ${mvNum[0]}.x`);
  }

  const name = singles.get("Name");
  if (name === undefined) fail(raw.headers.length + 1, "the required field Name is missing");
  if (!isValidName(name.value)) {
    fail(
      name.line,
      `Name ${JSON.stringify(name.value)} is not a valid distribution name`,
      undefined,
      "names are ASCII letters, digits, '.', '_' and '-', starting and ending with a letter or digit",
    );
  }
  const version = singles.get("Version");
  if (version === undefined) fail(raw.headers.length + 1, "the required field Version is missing");
  if (tryParseVersion(version.value) === undefined) {
    fail(version.line, `Version ${JSON.stringify(version.value)} is not a valid PEP 440 version`);
  }

  const meta = emptyMetadata(mv.value, name.value, version.value);
  const tooNew = (spec: FieldSpec, s: Seen) => {
    if (compareMetadataVersions(spec.since, mvNum) > 0) {
      warn(
        `METADATA line ${s.line}: field ${spec.name} is from metadata ${spec.since.join(".")} but the file says Metadata-Version ${mv.value}`,
      );
    }
  };

  for (const spec of FIELDS) {
    const shape = spec.shape;
    if (shape.kind === "single" || shape.kind === "keywords") {
      const s = singles.get(spec.name);
      if (s === undefined) continue;
      tooNew(spec, s);
      if (shape.kind === "keywords") meta.keywords = splitKeywords(s.value);
      else if (!["metadataVersion", "name", "version"].includes(shape.key)) {
        (meta as Record<SingleKey, string | undefined>)[shape.key] = s.value;
      }
      continue;
    }
    const values = lists.get(spec.name) ?? [];
    if (values.length > 0) tooNew(spec, values[0] as Seen);
    if (shape.kind === "projectUrl") {
      meta.projectUrls = values.map((s) => {
        const url = splitProjectUrl(s.value);
        if (url === undefined) {
          fail(s.line, `Project-URL ${JSON.stringify(s.value)} is not 'label, url'`);
        }
        return url;
      });
      continue;
    }
    (meta as Record<ListKey, string[]>)[shape.key] = values.map((s) => s.value);
  }

  checkFieldValues(meta, lists, singles, mvNum, warn);

  if (raw.body !== undefined && raw.body !== "") {
    const header = singles.get("Description");
    if (header === undefined) {
      meta.description = raw.body;
    } else if (raw.body.trim() !== "" && raw.body !== header.value) {
      fail(
        raw.bodyLine,
        `the file has both a Description field (line ${header.line}) and a different message body`,
      );
    }
  }

  meta.unknownFields = unknown.map((s) => ({ name: s.written, value: s.value }));
  return meta;
}

/** Parse METADATA bytes (UTF-8, as the specification requires). */
export function parseMetadataBytes(
  bytes: Uint8Array,
  options: ParseMetadataOptions = {},
): CoreMetadata {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new SlimenvError("INVALID_METADATA", "METADATA is not valid UTF-8", { cause });
  }
  return parseMetadata(text, options);
}

function checkFieldValues(
  meta: CoreMetadata,
  lists: Map<string, Seen[]>,
  singles: Map<string, Seen>,
  mvNum: [number, number],
  warn: (message: string) => void,
): void {
  for (const s of lists.get("Dynamic") ?? []) {
    const spec = FIELDS_BY_LOWER.get(s.value.toLowerCase());
    if (spec === undefined) {
      fail(s.line, `Dynamic ${JSON.stringify(s.value)} does not name a core metadata field`);
    }
    if (["Name", "Version", "Metadata-Version"].includes(spec.name)) {
      fail(s.line, `Dynamic may not name ${spec.name}`);
    }
  }
  meta.dynamic = meta.dynamic.map((d) => FIELDS_BY_LOWER.get(d.toLowerCase())?.name ?? d);

  const strictExtras = compareMetadataVersions(mvNum, [2, 3]) >= 0;
  for (const s of lists.get("Provides-Extra") ?? []) {
    if (strictExtras && !NORMALIZED_EXTRA.test(s.value)) {
      fail(
        s.line,
        `Provides-Extra ${JSON.stringify(s.value)} is not a normalized extra name (metadata 2.3+ requires lower-case letters, digits and single '-')`,
      );
    }
    if (!strictExtras && !isValidName(s.value)) {
      fail(s.line, `Provides-Extra ${JSON.stringify(s.value)} is not a valid extra name`);
    }
    if (!strictExtras && !NORMALIZED_EXTRA.test(s.value)) {
      warn(
        `METADATA line ${s.line}: Provides-Extra ${JSON.stringify(s.value)} is not normalized (required from metadata 2.3)`,
      );
    }
  }

  const expr = singles.get("License-Expression");
  if (expr !== undefined) {
    const problem = licenseExpressionProblem(expr.value);
    if (problem !== undefined) {
      fail(expr.line, `License-Expression ${JSON.stringify(expr.value)}: ${problem}`);
    }
  }
  for (const s of lists.get("License-File") ?? []) {
    const problem = licenseFileProblem(s.value);
    if (problem !== undefined) fail(s.line, `License-File ${JSON.stringify(s.value)}: ${problem}`);
  }
  for (const s of lists.get("Requires-Dist") ?? []) {
    if (s.value === "") fail(s.line, "Requires-Dist is empty");
  }
}

function metadataVersionAtLeast(meta: CoreMetadata, major: number, minor: number): boolean {
  const v = parseMetadataVersion(meta.metadataVersion);
  return v !== undefined && compareMetadataVersions(v, [major, minor]) >= 0;
}

function oneLine(field: string, value: string): string {
  if (value.includes("\n") || value.includes("\r")) {
    throw new SlimenvError(
      "INVALID_METADATA",
      `cannot write METADATA: field ${field} has a line break in its value`,
      { detail: value },
    );
  }
  return value;
}

/**
 * Format metadata as METADATA text: fields in specification order, one header per value
 * of a multiple-use field, the description in the message body for metadata 2.1+ (in a
 * Description header before that). `parseMetadata(formatMetadata(m))` gives back `m`.
 */
export function formatMetadata(meta: CoreMetadata): string {
  const out: string[] = [];
  for (const spec of FIELDS) {
    const shape = spec.shape;
    if (shape.kind === "keywords") {
      if (meta.keywords.length > 0) {
        out.push(formatHeader(spec.name, oneLine(spec.name, meta.keywords.join(","))));
      }
    } else if (shape.kind === "projectUrl") {
      for (const u of meta.projectUrls) {
        out.push(formatHeader(spec.name, oneLine(spec.name, `${u.label}, ${u.url}`)));
      }
    } else if (shape.kind === "list") {
      for (const v of meta[shape.key]) out.push(formatHeader(spec.name, oneLine(spec.name, v)));
    } else {
      const v = meta[shape.key];
      if (v === undefined) continue;
      if (shape.key === "description" && v !== "" && metadataVersionAtLeast(meta, 2, 1)) continue;
      out.push(formatHeader(spec.name, shape.text ? v : oneLine(spec.name, v)));
    }
  }
  for (const f of meta.unknownFields) {
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(f.name)) {
      throw new SlimenvError(
        "INVALID_METADATA",
        `cannot write METADATA: ${JSON.stringify(f.name)} is not a valid field name`,
      );
    }
    out.push(formatHeader(f.name, f.value));
  }
  let text = `${out.join("\n")}\n`;
  const d = meta.description;
  if (d !== undefined && d !== "" && metadataVersionAtLeast(meta, 2, 1)) text += `\n${d}`;
  return text;
}

function wrapValueError(field: string, value: string, err: unknown): never {
  const inner = err instanceof SlimenvError ? err : undefined;
  throw new SlimenvError(
    "INVALID_METADATA",
    `invalid METADATA: ${field} ${JSON.stringify(value)}: ${inner?.message ?? String(err)}`,
    { ...(inner?.detail === undefined ? {} : { detail: inner.detail }), cause: err },
  );
}

/**
 * The Requires-Dist entries parsed as PEP 508 requirements (the relaxed form with the
 * version specifier in parentheses is accepted). Throws INVALID_METADATA naming the entry.
 */
export function requiresDist(meta: CoreMetadata): Requirement[] {
  return meta.requiresDist.map((text) => {
    try {
      return new Requirement(text);
    } catch (err) {
      return wrapValueError("Requires-Dist", text, err);
    }
  });
}

/** Requires-Python as a specifier set, or undefined when absent. */
export function requiresPython(meta: CoreMetadata): SpecifierSet | undefined {
  const text = meta.requiresPython;
  if (text === undefined) return undefined;
  try {
    return new SpecifierSet(text);
  } catch (err) {
    return wrapValueError("Requires-Python", text, err);
  }
}
