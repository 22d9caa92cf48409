/**
 * The pages of the test index (see index-server.ts): PEP 503 HTML and PEP 691 JSON simple
 * pages (with PEP 592 yanked, PEP 658/714 core metadata, PEP 700 versions/size/upload-time),
 * a flat find-links page, and Accept-header content negotiation as PyPI does it.
 */
import { canonicalizeName } from "../../src/standards/names.ts";
import { tryParseSdistFilename } from "../../src/standards/sdist-filename.ts";
import type { Version } from "../../src/standards/version.ts";
import { tryParseWheelFilename } from "../../src/standards/wheel-filename.ts";
import { sha256Hex } from "./wheels.ts";

export interface IndexFile {
  filename: string;
  bytes: Uint8Array;
  /** METADATA / PKG-INFO text; needed for a PEP 658 `.metadata` file. */
  metadata?: string;
}

export interface IndexEntry {
  file: IndexFile;
  /** PEP 592: a reason, or true for yanked without a reason. */
  yanked?: string | true;
  requiresPython?: string;
  /** PEP 700 upload-time (ISO 8601, e.g. "2024-01-02T03:04:05.000000Z"); omitted if unset. */
  uploadTime?: string;
  /** Offer the PEP 658 `.metadata` file (default true when `file.metadata` is set). */
  serveMetadata?: boolean;
  /** Hashes to advertise instead of the right `{ sha256 }` (`{}` advertises none). */
  hashes?: Record<string, string>;
}

export type IndexProjects = Record<string, readonly IndexEntry[]>;

export type SimpleFormat = "json" | "html";

export const JSON_V1 = "application/vnd.pypi.simple.v1+json";
export const HTML_V1 = "application/vnd.pypi.simple.v1+html";

/** Accept media types the index understands, and what each one answers with. */
const NEGOTIABLE: ReadonlyMap<string, { format: SimpleFormat; contentType: string }> = new Map([
  [JSON_V1, { format: "json", contentType: JSON_V1 }],
  ["application/vnd.pypi.simple.latest+json", { format: "json", contentType: JSON_V1 }],
  [HTML_V1, { format: "html", contentType: HTML_V1 }],
  ["application/vnd.pypi.simple.latest+html", { format: "html", contentType: HTML_V1 }],
  ["text/html", { format: "html", contentType: "text/html; charset=utf-8" }],
  ["text/*", { format: "html", contentType: "text/html; charset=utf-8" }],
  ["*/*", { format: "html", contentType: "text/html; charset=utf-8" }],
]);

export interface Negotiated {
  format: SimpleFormat;
  contentType: string;
}

/**
 * Choose the answer's format from an Accept header: the supported type with the highest q
 * (q=0 excludes), earlier in the header on ties; no header means text/html. An index serving
 * one format answers with it whatever was asked. Undefined: nothing acceptable (406).
 */
export function negotiate(
  accept: string | undefined,
  formats: readonly SimpleFormat[],
): Negotiated | undefined {
  const html: Negotiated = { format: "html", contentType: "text/html; charset=utf-8" };
  if (formats.length === 1) {
    return formats[0] === "json" ? { format: "json", contentType: JSON_V1 } : html;
  }
  if (accept === undefined || accept.trim() === "") return html;
  let best: { n: Negotiated; q: number } | undefined;
  for (const part of accept.split(",")) {
    const [type = "", ...params] = part.split(";").map((s) => s.trim());
    const known = NEGOTIABLE.get(type.toLowerCase());
    if (known === undefined) continue;
    let q = 1;
    for (const p of params) {
      const m = /^q\s*=\s*([0-9.]+)$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    if (!(q > 0)) continue;
    if (best === undefined || q > best.q) best = { n: known, q };
  }
  return best?.n;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Whether the `.metadata` file of an entry is offered. */
export function offersMetadata(entry: IndexEntry): boolean {
  return entry.file.metadata !== undefined && entry.serveMetadata !== false;
}

function advertisedHashes(entry: IndexEntry): Record<string, string> {
  return entry.hashes ?? { sha256: sha256Hex(entry.file.bytes) };
}

function metadataHash(entry: IndexEntry): string {
  return sha256Hex(new TextEncoder().encode(entry.file.metadata ?? ""));
}

/** How pages link files: absolute URLs under `origin`, or relative to the page. */
export interface UrlStyle {
  origin: string;
  relative: boolean;
}

function fileUrl(filename: string, style: UrlStyle, fromPage: string): string {
  const tail = `files/${encodeURIComponent(filename)}`;
  if (!style.relative) return `${style.origin}/${tail}`;
  const depth = fromPage.split("/").filter((s) => s !== "").length;
  return `${"../".repeat(depth)}${tail}`;
}

function fileVersion(filename: string): Version | undefined {
  if (filename.endsWith(".whl")) return tryParseWheelFilename(filename)?.version;
  return tryParseSdistFilename(filename)?.version;
}

function anchor(entry: IndexEntry, style: UrlStyle, page: string): string {
  const hashes = advertisedHashes(entry);
  const first = Object.entries(hashes)[0];
  const fragment = first === undefined ? "" : `#${first[0]}=${first[1]}`;
  const attrs = [`href="${escapeHtml(fileUrl(entry.file.filename, style, page) + fragment)}"`];
  if (entry.requiresPython !== undefined) {
    attrs.push(`data-requires-python="${escapeHtml(entry.requiresPython)}"`);
  }
  if (offersMetadata(entry)) {
    const value = `sha256=${metadataHash(entry)}`;
    attrs.push(`data-dist-info-metadata="${value}"`, `data-core-metadata="${value}"`);
  }
  if (entry.yanked !== undefined) {
    attrs.push(`data-yanked="${entry.yanked === true ? "" : escapeHtml(entry.yanked)}"`);
  }
  return `    <a ${attrs.join(" ")}>${escapeHtml(entry.file.filename)}</a><br />`;
}

function htmlPage(title: string, body: string[]): string {
  return [
    "<!DOCTYPE html>",
    "<html>",
    "  <head>",
    '    <meta name="pypi:repository-version" content="1.1">',
    `    <title>${escapeHtml(title)}</title>`,
    "  </head>",
    "  <body>",
    `    <h1>${escapeHtml(title)}</h1>`,
    ...body,
    "  </body>",
    "</html>",
    "",
  ].join("\n");
}

/** Project names by canonical name. */
export function canonicalProjects(projects: IndexProjects): Map<string, readonly IndexEntry[]> {
  const out = new Map<string, IndexEntry[]>();
  for (const [name, entries] of Object.entries(projects)) {
    const key = canonicalizeName(name);
    out.set(key, [...(out.get(key) ?? []), ...entries]);
  }
  return out;
}

export function indexPage(names: readonly string[], format: SimpleFormat): string {
  const sorted = [...names].sort();
  if (format === "json") {
    return `${JSON.stringify({ meta: { "api-version": "1.1" }, projects: sorted.map((name) => ({ name })) })}\n`;
  }
  return htmlPage(
    "Simple index",
    sorted.map((n) => `    <a href="${escapeHtml(n)}/">${escapeHtml(n)}</a><br />`),
  );
}

export function projectPage(
  name: string,
  entries: readonly IndexEntry[],
  format: SimpleFormat,
  style: UrlStyle,
): string {
  const page = `/simple/${name}/`;
  if (format === "html") {
    return htmlPage(
      `Links for ${name}`,
      entries.map((e) => anchor(e, style, page)),
    );
  }
  const versions = new Map<string, Version>();
  for (const e of entries) {
    const v = fileVersion(e.file.filename);
    if (v !== undefined) versions.set(v.toString(), v);
  }
  const files = entries.map((e) => {
    const meta = offersMetadata(e) ? { sha256: metadataHash(e) } : undefined;
    return {
      filename: e.file.filename,
      url: fileUrl(e.file.filename, style, page),
      hashes: advertisedHashes(e),
      ...(e.requiresPython === undefined ? {} : { "requires-python": e.requiresPython }),
      ...(meta === undefined ? {} : { "core-metadata": meta, "dist-info-metadata": meta }),
      yanked: e.yanked ?? false,
      size: e.file.bytes.length,
      ...(e.uploadTime === undefined ? {} : { "upload-time": e.uploadTime }),
    };
  });
  return `${JSON.stringify({
    meta: { "api-version": "1.1" },
    name,
    versions: [...versions.values()].sort((a, b) => a.compare(b)).map(String),
    files,
  })}\n`;
}

/** A flat find-links page: every file of every project, as one list of anchors. */
export function linksPage(projects: Map<string, readonly IndexEntry[]>, style: UrlStyle): string {
  const anchors: string[] = [];
  for (const name of [...projects.keys()].sort()) {
    for (const e of projects.get(name) ?? []) anchors.push(anchor(e, style, "/links/"));
  }
  return htmlPage("Links", anchors);
}
