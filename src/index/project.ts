/**
 * One downloadable file of a project as an index (or a find-links source) lists it, and the
 * step that turns a listed link into one: classify the filename (wheel or sdist), check it
 * belongs to the project asked for, and keep what the index said about it.
 */
import type { Reporter } from "../base/index.ts";
import { canonicalizeName } from "../standards/names.ts";
import { tryParseSdistFilename } from "../standards/sdist-filename.ts";
import type { Version } from "../standards/version.ts";
import { tryParseWheelFilename, type WheelFilename } from "../standards/wheel-filename.ts";

export interface DistributionFile {
  filename: string;
  /** Absolute URL, without credentials and without a `#hash` fragment (`file:` for local files). */
  url: string;
  kind: "wheel" | "sdist";
  /** PEP 503 canonical project name. */
  name: string;
  version: Version;
  /** The parsed wheel filename (kind "wheel" only). */
  wheel?: WheelFilename;
  /** Hash algorithm (lower-case) → hex digest (lower-case), as the index declared them. */
  hashes: Record<string, string>;
  requiresPython?: string;
  /** PEP 592: the reason, or true when yanked without one. Absent when not yanked. */
  yanked?: string | true;
  size?: number;
  /** PEP 700, ISO 8601 as the index gave it. */
  uploadTime?: string;
  /** PEP 658/714: whether a `<url>.metadata` file exists, with its hashes when declared. */
  coreMetadata?: false | true | Record<string, string>;
  /** The index URL or find-links source (directory or page URL) that listed the file. */
  index: string;
}

/** What a page says about one link, before the filename is understood. */
export interface RawLink {
  filename: string;
  url: string;
  hashes: Record<string, string>;
  requiresPython?: string | undefined;
  yanked?: string | true | undefined;
  size?: number | undefined;
  uploadTime?: string | undefined;
  coreMetadata?: false | true | Record<string, string> | undefined;
}

/** Classify a filename: a wheel, an sdist, or neither (undefined). */
export function classifyFilename(
  filename: string,
):
  | { kind: "wheel"; name: string; version: Version; wheel: WheelFilename }
  | { kind: "sdist"; name: string; version: Version }
  | undefined {
  if (filename.endsWith(".whl")) {
    const wheel = tryParseWheelFilename(filename);
    return wheel === undefined
      ? undefined
      : { kind: "wheel", name: wheel.name, version: wheel.version, wheel };
  }
  const sdist = tryParseSdistFilename(filename);
  return sdist === undefined
    ? undefined
    : { kind: "sdist", name: sdist.name, version: sdist.version };
}

/**
 * Turn a listed link into a DistributionFile of `project` (canonicalized here), or undefined
 * (with a debug log) when the filename is neither a valid wheel nor sdist, or names another
 * project. `project` undefined accepts any project (flat find-links listings).
 */
export function toDistributionFile(
  link: RawLink,
  project: string | undefined,
  index: string,
  reporter: Reporter,
): DistributionFile | undefined {
  const kind = classifyFilename(link.filename);
  if (kind === undefined) {
    reporter.log("debug", `skipping ${link.filename}: not a wheel or sdist filename`);
    return undefined;
  }
  if (project !== undefined && kind.name !== canonicalizeName(project)) {
    reporter.log(
      "debug",
      `skipping ${link.filename}: it belongs to ${kind.name}, not ${canonicalizeName(project)}`,
    );
    return undefined;
  }
  const file: DistributionFile = {
    filename: link.filename,
    url: link.url,
    kind: kind.kind,
    name: kind.name,
    version: kind.version,
    hashes: link.hashes,
    index,
  };
  if (kind.kind === "wheel") file.wheel = kind.wheel;
  if (link.requiresPython !== undefined) file.requiresPython = link.requiresPython;
  if (link.yanked !== undefined) file.yanked = link.yanked;
  if (link.size !== undefined) file.size = link.size;
  if (link.uploadTime !== undefined) file.uploadTime = link.uploadTime;
  if (link.coreMetadata !== undefined) file.coreMetadata = link.coreMetadata;
  return file;
}

/** The last path segment of a URL, percent-decoded (the distribution filename). */
export function filenameFromUrl(url: URL): string {
  const last = url.pathname.split("/").pop() ?? "";
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}
