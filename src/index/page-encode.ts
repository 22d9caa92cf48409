/**
 * Encoding a project page's links into the compact form page-compact.ts reads (the layout is
 * described there): classified once, grouped by version, the details of each version as one
 * JSON array in the blob.
 */
import type { Reporter } from "../base/index.ts";
import { canonicalizeName } from "../standards/names.ts";
import { filenameParts } from "./listed-file.ts";
import { classifyFilename, type RawLink } from "./project.ts";

/** What a page says about itself. */
export interface PageFacts {
  /** PEP 691 meta.api-version, or PEP 629 pypi:repository-version (HTML); may be absent. */
  apiVersion: string | undefined;
  name: string | undefined;
}

export interface EncodedPage {
  /** JSON text (UTF-8). */
  header: Buffer;
  blob: Buffer;
  /** The header before it became text (a page just encoded is read without parsing it back). */
  parsed?: unknown;
}

export type Yanked = 0 | 1 | string;
/**
 * [url, hashes, size, upload time, core metadata]; absent values are null. A URL that ends
 * with "/" + the filename (as PyPI's do) is kept without the filename; any other URL that ends
 * with "/" is kept as [url].
 */
export type Details = [
  string | [string],
  Record<string, string>,
  number | null,
  string | null,
  boolean | Record<string, string> | null,
];

export type Build = readonly [number, string];

/**
 * One version: its text, the filenames (sorted), then per file (one value when all alike):
 * the tag set (index into `t`; -1 for an sdist), requires-python (index into `rp`; -1: none),
 * yanked (0: no, 1: yes, or the reason), the build tag (0: none).
 */
export type Group = [
  string,
  string[],
  number | number[],
  number | number[],
  Yanked | Yanked[],
  0 | (Build | 0)[],
];

export interface Header {
  api: string | null;
  name: string | null;
  skipped: number;
  /** Distinct wheel tag sets ("py3-none-any"). */
  t: string[];
  /** Distinct requires-python texts. */
  rp: string[];
  g: Group[];
  /** Byte offsets of each version's details in the blob (one more than versions). */
  o: number[];
}

interface Pending {
  text: string;
  files: {
    name: string;
    tag: number;
    rp: number;
    yanked: Yanked;
    build: Build | 0;
    rest: Details;
  }[];
}

/** One value when every item is alike, else the list. */
function oneOrAll<T>(items: T[]): T | T[] {
  const first = items[0] as T;
  return items.every((i) => i === first) ? first : items;
}

function interned(table: Map<string, number>, text: string): number {
  let at = table.get(text);
  if (at === undefined) {
    at = table.size;
    table.set(text, at);
  }
  return at;
}

/**
 * Classify and group the links of a page of `project`. Files that are not wheels or sdists
 * of it are skipped with a debug log, as `toDistributionFile` does.
 */
export function encodePage(
  links: readonly RawLink[],
  facts: PageFacts,
  project: string,
  reporter: Reporter,
): EncodedPage {
  const canonical = canonicalizeName(project);
  const groups = new Map<string, Pending>();
  const tagIndex = new Map<string, number>();
  const rpIndex = new Map<string, number>();
  let skipped = 0;
  for (const link of links) {
    const kind = classifyFilename(link.filename);
    if (kind === undefined || kind.name !== canonical) {
      reporter.log(
        "debug",
        kind === undefined
          ? `skipping ${link.filename}: not a wheel or sdist filename`
          : `skipping ${link.filename}: it belongs to ${kind.name}, not ${canonical}`,
      );
      skipped++;
      continue;
    }
    const parts = filenameParts(link.filename, kind.kind);
    let group = groups.get(parts.version);
    if (group === undefined) {
      group = { text: parts.version, files: [] };
      groups.set(parts.version, group);
    }
    const build = kind.kind === "wheel" ? kind.wheel.build : undefined;
    group.files.push({
      name: link.filename,
      tag: parts.tags === undefined ? -1 : interned(tagIndex, parts.tags),
      rp: link.requiresPython === undefined ? -1 : interned(rpIndex, link.requiresPython),
      yanked: link.yanked === undefined ? 0 : link.yanked === true ? 1 : link.yanked,
      build: build === undefined ? 0 : build,
      rest: [
        shortUrl(link.url, link.filename),
        link.hashes,
        link.size ?? null,
        link.uploadTime ?? null,
        link.coreMetadata ?? null,
      ],
    });
  }
  const blobs: Buffer[] = [];
  const offsets = [0];
  const g: Group[] = [];
  let at = 0;
  for (const group of groups.values()) {
    // Sorted by filename, as a resolver orders them (a stable sort: equal names keep their order).
    const files = group.files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const builds = files.map((f) => f.build);
    g.push([
      group.text,
      files.map((f) => f.name),
      oneOrAll(files.map((f) => f.tag)),
      oneOrAll(files.map((f) => f.rp)),
      oneOrAll(files.map((f) => f.yanked)),
      builds.every((b) => b === 0) ? 0 : builds,
    ]);
    const bytes = Buffer.from(JSON.stringify(files.map((f) => f.rest)), "utf8");
    blobs.push(bytes);
    at += bytes.byteLength;
    offsets.push(at);
  }
  const header: Header = {
    api: facts.apiVersion ?? null,
    name: facts.name ?? null,
    skipped,
    t: [...tagIndex.keys()],
    rp: [...rpIndex.keys()],
    g,
    o: offsets,
  };
  return {
    header: Buffer.from(JSON.stringify(header), "utf8"),
    blob: Buffer.concat(blobs),
    parsed: header,
  };
}

function shortUrl(url: string, filename: string): string | [string] {
  if (url.endsWith(`/${filename}`)) return url.slice(0, url.length - filename.length);
  return url.endsWith("/") ? [url] : url;
}
