/**
 * The compact form of a project page: what a page says, checked and classified once, in a
 * shape that is cheap to read again (page-encode.ts writes it).
 *
 * - The header (JSON) holds, per version as the filenames spell it (in the order the page
 *   first names each): the version text, the filenames (sorted), and per file its tag set and
 *   requires-python (indexes into tables of the distinct texts), yanked state and build tag:
 *   all that choosing files for a target needs, with no filename to split or parse again.
 * - The blob holds, per version, one JSON array with the rest of each file (URL, hashes, size,
 *   upload time, core metadata), read only when that version's files are asked for.
 *
 * The blob may stay on disk (page-cache.ts reads a cached page's details from its entry only
 * for the versions asked for): a `DetailsSource` gives its bytes by range.
 *
 * Only files that `classifyFilename` accepts for the page's project are kept (the rest are
 * counted as skipped). The constructor checks the shape of what it reads and throws a plain
 * Error on anything else; the page cache then treats the entry as damaged.
 */
import type { Version } from "../standards/version.ts";
import { type ListedFile, listedTags, listedVersion } from "./listed-file.ts";
import type { Build, Details, EncodedPage, Header } from "./page-encode.ts";
import type { DistributionFile } from "./project.ts";

/** The blob of a compact page, wherever it is: bytes `start` to `end` on request. */
export interface DetailsSource {
  readonly byteLength: number;
  read(start: number, end: number): Uint8Array;
}

/** An encoded page whose blob may be a DetailsSource instead of bytes in memory. */
export interface StoredPage {
  header: Buffer;
  parsed?: unknown;
  blob: Uint8Array | DetailsSource;
}

function inMemory(blob: Uint8Array): DetailsSource {
  return { byteLength: blob.byteLength, read: (start, end) => blob.subarray(start, end) };
}

function fullUrl(stored: unknown, filename: string): string | undefined {
  if (typeof stored === "string") return stored.endsWith("/") ? stored + filename : stored;
  if (Array.isArray(stored) && stored.length === 1 && typeof stored[0] === "string") {
    return stored[0];
  }
  return undefined;
}

function bad(why: string): Error {
  return new Error(`not a compact page: ${why}`);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

/** One file of a compact page. */
class PageFile implements ListedFile {
  readonly filename: string;
  readonly kind: "wheel" | "sdist";
  readonly version: Version;
  readonly tagText: string | undefined;
  readonly build: Build | undefined;
  readonly yanked: string | true | undefined;
  readonly requiresPython: string | undefined;
  readonly #page: CompactPage;
  readonly #group: number;
  readonly #slot: number;

  constructor(
    page: CompactPage,
    group: number,
    slot: number,
    filename: string,
    version: Version,
    tagText: string | undefined,
    build: Build | undefined,
    yanked: string | true | undefined,
    requiresPython: string | undefined,
  ) {
    this.filename = filename;
    this.kind = tagText === undefined ? "sdist" : "wheel";
    this.version = version;
    this.tagText = tagText;
    this.build = build;
    this.yanked = yanked;
    this.requiresPython = requiresPython;
    this.#page = page;
    this.#group = group;
    this.#slot = slot;
  }

  file(): DistributionFile {
    return this.#page.file(this.#group, this.#slot);
  }
}

/** A decoded compact page: its files grouped by version, full files built on demand. */
export class CompactPage {
  readonly apiVersion: string | undefined;
  readonly name: string | undefined;
  /** Files the page lists that are not wheels or sdists of the project. */
  readonly skipped: number;
  /** Per version (as the filenames spell it), in the order the page first names each. */
  readonly groups: readonly (readonly ListedFile[])[];
  readonly #details: DetailsSource;
  readonly #offsets: number[];
  readonly #project: string;
  readonly #index: string;
  readonly #files: (DistributionFile[] | undefined)[];

  /**
   * Read an encoded page. `project` (canonical name) and `index` (without credentials) are
   * what DistributionFile.name and .index say. Throws a plain Error when the bytes are not a
   * compact page.
   */
  constructor(encoded: EncodedPage | StoredPage, project: string, index: string) {
    let header: Header;
    try {
      header = (encoded.parsed ?? JSON.parse(encoded.header.toString("utf8"))) as Header;
    } catch {
      throw bad("the header is not JSON");
    }
    if (typeof header !== "object" || header === null) throw bad("the header is not an object");
    const { api, name, skipped, t, rp, g, o } = header;
    if (api !== null && typeof api !== "string") throw bad("api");
    if (name !== null && typeof name !== "string") throw bad("name");
    if (
      typeof skipped !== "number" ||
      !isStringArray(t) ||
      !isStringArray(rp) ||
      !Array.isArray(g)
    ) {
      throw bad("skipped, t, rp or g");
    }
    if (!Array.isArray(o) || o.length !== g.length + 1) throw bad("offsets");
    for (let i = 0; i < o.length; i++) {
      const at = o[i];
      if (!Number.isSafeInteger(at) || (at as number) < (i === 0 ? 0 : (o[i - 1] as number))) {
        throw bad("offsets");
      }
    }
    const details = encoded.blob instanceof Uint8Array ? inMemory(encoded.blob) : encoded.blob;
    if (o[o.length - 1] !== details.byteLength) throw bad("the blob's length");
    this.apiVersion = api ?? undefined;
    this.name = name ?? undefined;
    this.skipped = skipped;
    this.#details = details;
    this.#offsets = o;
    this.#project = project;
    this.#index = index;
    this.#files = new Array(g.length);
    const tables = { tags: t, rp };
    this.groups = g.map((group, gi) => decodeGroup(this, gi, group, tables));
  }

  /** The whole file `slot` of version group `group`. */
  file(group: number, slot: number): DistributionFile {
    let files = this.#files[group];
    if (files === undefined) {
      files = this.#decodeDetails(group);
      this.#files[group] = files;
    }
    const file = files[slot];
    if (file === undefined) throw new RangeError(`no file ${slot} in version group ${group}`);
    return file;
  }

  #decodeDetails(group: number): DistributionFile[] {
    const entries = this.groups[group] ?? [];
    const start = this.#offsets[group] as number;
    const end = this.#offsets[group + 1] as number;
    const bytes = this.#details.read(start, end);
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let details: Details[];
    try {
      details = JSON.parse(text.toString("utf8")) as Details[];
    } catch {
      throw bad(`the details of version group ${group} are not JSON`);
    }
    if (!Array.isArray(details) || details.length !== entries.length) {
      throw bad(`the details of version group ${group}`);
    }
    return entries.map((entry, i) => this.#toFile(entry, details[i] as Details));
  }

  #toFile(entry: ListedFile, details: Details): DistributionFile {
    const [stored, hashes, size, uploadTime, coreMetadata] = details;
    const url = fullUrl(stored, entry.filename);
    if (url === undefined || typeof hashes !== "object" || hashes === null) {
      throw bad(`the details of ${entry.filename}`);
    }
    const file: DistributionFile = {
      filename: entry.filename,
      url,
      kind: entry.kind,
      name: this.#project,
      version: entry.version,
      hashes,
      index: this.#index,
    };
    if (entry.kind === "wheel") {
      file.wheel = {
        name: this.#project,
        version: entry.version,
        build: entry.build,
        tags: [...listedTags(entry.tagText ?? "")],
      };
    }
    if (entry.requiresPython !== undefined) file.requiresPython = entry.requiresPython;
    if (entry.yanked !== undefined) file.yanked = entry.yanked;
    if (size !== null) file.size = size;
    if (uploadTime !== null) file.uploadTime = uploadTime;
    if (coreMetadata !== null) file.coreMetadata = coreMetadata;
    return file;
  }
}

/** Item `i` of a per-file value (one value when all alike). */
function nth(value: unknown, i: number): unknown {
  return Array.isArray(value) ? value[i] : value;
}

function decodeGroup(
  page: CompactPage,
  gi: number,
  group: unknown,
  tables: { tags: string[]; rp: string[] },
): readonly ListedFile[] {
  if (!Array.isArray(group) || group.length !== 6) throw bad(`version group ${gi}`);
  const [text, names, tags, rps, yanked, builds] = group as unknown[];
  if (typeof text !== "string" || !isStringArray(names) || names.length === 0) {
    throw bad(`version group ${gi}`);
  }
  const version = listedVersion(text);
  return names.map((filename, i) => {
    const tag = nth(tags, i);
    const rp = nth(rps, i);
    const y = nth(yanked, i);
    const build = builds === 0 ? 0 : nth(builds, i);
    if (typeof tag !== "number" || typeof rp !== "number") throw bad(`version group ${gi}`);
    const tagSet = tag === -1 ? undefined : tables.tags[tag];
    const requiresPython = rp === -1 ? undefined : tables.rp[rp];
    if ((tag !== -1 && tagSet === undefined) || (rp !== -1 && requiresPython === undefined)) {
      throw bad(`version group ${gi}`);
    }
    if (y !== 0 && y !== 1 && typeof y !== "string") throw bad(`yanked of group ${gi}`);
    if (build !== 0 && !isBuild(build)) throw bad(`build of group ${gi}`);
    return new PageFile(
      page,
      gi,
      i,
      filename,
      version,
      tagSet,
      build === 0 ? undefined : build,
      y === 0 ? undefined : y === 1 ? true : y,
      requiresPython,
    );
  });
}

function isBuild(value: unknown): value is Build {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    typeof value[0] === "number" &&
    typeof value[1] === "string"
  );
}
