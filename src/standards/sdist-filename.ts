/**
 * Source distribution filenames: `{name}-{version}.tar.gz` (or the legacy `.zip`). A PEP 440
 * version holds no '-', so the name and version split at the last '-'.
 * Follows pypa/packaging's `parse_sdist_filename`.
 */
import { pointAt, SlimenvError } from "../base/index.ts";
import { canonicalizeName } from "./names.ts";
import { Version } from "./version.ts";

export interface SdistFilename {
  /** PEP 503 canonical name. */
  name: string;
  version: Version;
}

const SDIST_EXTENSIONS = [".tar.gz", ".zip"];

const HINT = "an sdist is named {name}-{version}.tar.gz (or .zip)";

function fail(filename: string, why: string, column?: number, cause?: unknown): SlimenvError {
  return new SlimenvError(
    "INVALID_SDIST_FILENAME",
    `invalid sdist filename ${JSON.stringify(filename)}: ${why}${column === undefined ? "" : ` at column ${column + 1}`}`,
    {
      hint: HINT,
      ...(column === undefined ? {} : { detail: pointAt(filename, column) }),
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

/** Parse an sdist filename. Throws INVALID_SDIST_FILENAME. */
export function parseSdistFilename(filename: string): SdistFilename {
  if (typeof filename !== "string") {
    throw new SlimenvError(
      "INVALID_SDIST_FILENAME",
      `an sdist filename must be a string, got ${typeof filename}`,
    );
  }
  const extension = SDIST_EXTENSIONS.find((ext) => filename.endsWith(ext));
  if (extension === undefined) {
    throw fail(filename, "the extension must be '.tar.gz' or '.zip'");
  }
  const stem = filename.slice(0, -extension.length);
  const dash = stem.lastIndexOf("-");
  if (dash < 0) throw fail(filename, "no '-' between name and version");
  if (dash === 0) throw fail(filename, "the project name is empty", 0);
  const name = canonicalizeName(stem.slice(0, dash));
  const versionText = stem.slice(dash + 1);
  let version: Version;
  try {
    version = new Version(versionText);
  } catch (err) {
    throw fail(filename, `invalid version ${JSON.stringify(versionText)}`, dash + 1, err);
  }
  return { name, version };
}

/** Like parseSdistFilename, but undefined instead of an error. */
export function tryParseSdistFilename(filename: string): SdistFilename | undefined {
  // Index pages list many files of other kinds (.exe, .egg, .tar.bz2): no error built for them.
  if (typeof filename === "string" && !SDIST_EXTENSIONS.some((ext) => filename.endsWith(ext))) {
    return undefined;
  }
  try {
    return parseSdistFilename(filename);
  } catch (err) {
    if (err instanceof SlimenvError) return undefined;
    throw err;
  }
}
