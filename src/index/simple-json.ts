/**
 * PEP 691 JSON project pages (with PEP 700 `size` / `upload-time`, PEP 714 `core-metadata`):
 * checked field by field, so a malformed page is an INDEX_ERROR naming the page and the field.
 */
import { SlimenvError } from "../base/index.ts";
import { normalizeHashes, parseHashPair } from "./hashes.ts";
import type { RawLink } from "./project.ts";
import { stripCredentials, stripFragment } from "./source-url.ts";

export interface JsonPage {
  apiVersion: string;
  name: string | undefined;
  links: RawLink[];
}

function malformed(pageUrl: string, why: string, cause?: unknown): SlimenvError {
  return new SlimenvError(
    "INDEX_ERROR",
    `malformed project page ${stripCredentials(pageUrl)}: ${why}`,
    cause === undefined ? {} : { cause },
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringMap(
  value: unknown,
  pageUrl: string,
  where: string,
): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") throw malformed(pageUrl, `${where}.${k} must be a string`);
    out[k] = v;
  }
  return out;
}

function coreMetadata(
  value: unknown,
  pageUrl: string,
  where: string,
): false | true | Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "boolean") return value;
  const map = stringMap(value, pageUrl, where);
  if (map === undefined) {
    throw malformed(pageUrl, `${where} must be a boolean or a dictionary of hashes`);
  }
  return normalizeHashes(map);
}

/**
 * An absolute http(s) URL that new URL() returns unchanged: a lower-case host, no userinfo,
 * port, query, fragment, percent-escape or dot segment.
 */
const PLAIN_URL = /^https?:\/\/[a-z0-9-]+(?:\.[a-z0-9-]+)*\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/;

/** Parse a PEP 691 JSON page (text already decoded). `pageUrl` is the final URL. */
export function parseJsonPage(text: string, pageUrl: string): JsonPage {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw malformed(pageUrl, "not valid JSON", cause);
  }
  if (!isObject(doc)) throw malformed(pageUrl, "the document must be a JSON object");
  const meta = doc.meta;
  if (!isObject(meta) || typeof meta["api-version"] !== "string") {
    throw malformed(pageUrl, "meta.api-version is missing");
  }
  const apiVersion = meta["api-version"];
  if (doc.name !== undefined && typeof doc.name !== "string") {
    throw malformed(pageUrl, "name must be a string");
  }
  if (!Array.isArray(doc.files)) throw malformed(pageUrl, "files must be an array");

  const links: RawLink[] = [];
  doc.files.forEach((entry: unknown, i: number) => {
    const where = `files[${i}]`;
    if (!isObject(entry)) throw malformed(pageUrl, `${where} must be an object`);
    const { filename, url } = entry;
    if (typeof filename !== "string" || filename === "" || filename.includes("/")) {
      throw malformed(pageUrl, `${where}.filename must be a file name`);
    }
    if (typeof url !== "string" || url === "") {
      throw malformed(pageUrl, `${where}.url must be a string`);
    }
    // The common case, a plain absolute URL with no credentials, fragment or characters a
    // URL parser would rewrite, is kept as it is: parsing 50k of them is the page's main cost.
    const plain = PLAIN_URL.test(url) && !url.includes("/.");
    let resolved: URL | undefined;
    if (!plain) {
      try {
        resolved = new URL(url, pageUrl);
      } catch (cause) {
        throw malformed(pageUrl, `${where}.url is not a URL`, cause);
      }
    }
    let hashes: Record<string, string> = {};
    if (entry.hashes !== undefined) {
      const map = stringMap(entry.hashes, pageUrl, `${where}.hashes`);
      if (map === undefined) throw malformed(pageUrl, `${where}.hashes must be a dictionary`);
      hashes = normalizeHashes(map);
    }
    if (resolved !== undefined && Object.keys(hashes).length === 0 && resolved.hash.length > 1) {
      hashes = parseHashPair(resolved.hash.slice(1)) ?? {};
    }
    const link: RawLink = {
      filename,
      url: resolved === undefined ? url : stripCredentials(stripFragment(resolved).href),
      hashes,
    };

    const rp = entry["requires-python"];
    if (rp !== undefined && rp !== null) {
      if (typeof rp !== "string")
        throw malformed(pageUrl, `${where}.requires-python must be a string`);
      if (rp.trim() !== "") link.requiresPython = rp.trim();
    }

    const yanked = entry.yanked;
    if (yanked !== undefined && yanked !== null) {
      if (typeof yanked === "string") link.yanked = yanked.trim() === "" ? true : yanked;
      else if (yanked === true) link.yanked = true;
      else if (yanked !== false) {
        throw malformed(pageUrl, `${where}.yanked must be a boolean or a string`);
      }
    }

    // PEP 714: core-metadata wins; dist-info-metadata is the older spelling.
    const core =
      coreMetadata(entry["core-metadata"], pageUrl, `${where}.core-metadata`) ??
      coreMetadata(entry["dist-info-metadata"], pageUrl, `${where}.dist-info-metadata`);
    if (core !== undefined) link.coreMetadata = core;

    const size = entry.size;
    if (size !== undefined && size !== null) {
      if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
        throw malformed(pageUrl, `${where}.size must be a non-negative integer`);
      }
      link.size = size;
    }

    const uploadTime = entry["upload-time"];
    if (uploadTime !== undefined && uploadTime !== null) {
      if (typeof uploadTime !== "string" || Number.isNaN(Date.parse(uploadTime))) {
        throw malformed(pageUrl, `${where}.upload-time must be an ISO 8601 date-time string`);
      }
      link.uploadTime = uploadTime;
    }
    links.push(link);
  });
  return { apiVersion, name: typeof doc.name === "string" ? doc.name : undefined, links };
}
