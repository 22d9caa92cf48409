/**
 * A file as a project listing holds it before anyone needs all of it: what choosing among the
 * files of a version takes (filename, kind, version, wheel tags and build tag, yanked,
 * requires-python), and `file()` for the whole DistributionFile (URL, hashes, size, upload
 * time, core metadata), built on first use. Pages list tens of thousands of files of which a
 * resolution uses a few dozen, so the rest never become full objects.
 *
 * Versions and tag sets are shared between the files that spell them alike (read-only).
 */
import { parseTag, type Tag } from "../standards/tags.ts";
import { Version } from "../standards/version.ts";
import type { DistributionFile } from "./project.ts";

export interface ListedFile {
  readonly filename: string;
  readonly kind: "wheel" | "sdist";
  readonly version: Version;
  /** The wheel's compressed tag set as its filename spells it ("py2.py3-none-any"); undefined for an sdist. */
  readonly tagText: string | undefined;
  /** The wheel's build tag, split into its number and the rest. */
  readonly build: readonly [number, string] | undefined;
  readonly yanked: string | true | undefined;
  readonly requiresPython: string | undefined;
  /** The whole file, as the index listed it. */
  file(): DistributionFile;
}

/** A DistributionFile already built (find-links, tests) seen as a ListedFile. */
export class KnownFile implements ListedFile {
  readonly #file: DistributionFile;

  constructor(file: DistributionFile) {
    this.#file = file;
  }
  get filename(): string {
    return this.#file.filename;
  }
  get kind(): "wheel" | "sdist" {
    return this.#file.kind;
  }
  get version(): Version {
    return this.#file.version;
  }
  get tagText(): string | undefined {
    return this.#file.wheel === undefined ? undefined : filenameParts(this.filename, "wheel").tags;
  }
  get build(): readonly [number, string] | undefined {
    return this.#file.wheel?.build;
  }
  get yanked(): string | true | undefined {
    return this.#file.yanked;
  }
  get requiresPython(): string | undefined {
    return this.#file.requiresPython;
  }
  file(): DistributionFile {
    return this.#file;
  }
}

const MEMO_LIMIT = 50_000;
const versions = new Map<string, Version>();
const tagSets = new Map<string, readonly Tag[]>();

function memo<T>(map: Map<string, T>, key: string, make: (key: string) => T): T {
  let value = map.get(key);
  if (value === undefined) {
    value = make(key);
    if (map.size >= MEMO_LIMIT) map.clear();
    map.set(key, value);
  }
  return value;
}

/** A version text a listed filename holds (shared, memoized). Throws when invalid. */
export function listedVersion(text: string): Version {
  return memo(versions, text, (t) => new Version(t));
}

/** A wheel's tag set text, expanded (shared, memoized: do not change it). Throws when invalid. */
export function listedTags(text: string): readonly Tag[] {
  return memo(tagSets, text, (t) => parseTag(t));
}

/**
 * The version and tag set texts of a filename `classifyFilename` accepted as `kind`: the
 * version between the name and the tags (wheel) or after the last '-' (sdist), the last three
 * '-'-separated parts as the tag set.
 */
export function filenameParts(
  filename: string,
  kind: "wheel" | "sdist",
): { version: string; tags: string | undefined } {
  if (kind === "wheel") {
    const pieces = filename.slice(0, -4).split("-");
    const n = pieces.length;
    return {
      version: pieces[1] as string,
      tags: `${pieces[n - 3]}-${pieces[n - 2]}-${pieces[n - 1]}`,
    };
  }
  const stem = filename.endsWith(".zip") ? filename.slice(0, -4) : filename.slice(0, -7);
  return { version: stem.slice(stem.lastIndexOf("-") + 1), tags: undefined };
}
