/**
 * Wheel filenames (PEP 427, the binary distribution format specification):
 * `{name}-{version}(-{build})?-{python tag}-{abi tag}-{platform tag}.whl`.
 * Parsing follows pypa/packaging's `parse_wheel_filename`, check for check.
 */
import { pointAt, SlimenvError } from "../base/index.ts";
import { canonicalizeName, isValidName } from "./names.ts";
import { compareCodePoints, parseTag, type Tag } from "./tags.ts";
import { Version } from "./version.ts";

export interface WheelFilename {
  /** PEP 503 canonical name. */
  name: string;
  version: Version;
  /** The build tag split into its leading number and the rest, or undefined when absent. */
  build: readonly [number, string] | undefined;
  /** The expanded (compressed) tag set, each tag once. */
  tags: Tag[];
}

export interface ParseWheelFilenameOptions {
  /** Require compressed tag sets to be in sorted order, as PEP 425 asks. */
  validateOrder?: boolean;
}

/** An escaped project name: Unicode letters, digits, '_' and '.' (as Python's `[\w.]+`). */
const WHEEL_NAME = /^[\p{L}\p{N}_.]+$/u;

const HINT = "a wheel is named {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl";

function fail(filename: string, why: string, column?: number, cause?: unknown): SlimenvError {
  return new SlimenvError(
    "INVALID_WHEEL_FILENAME",
    `invalid wheel filename ${JSON.stringify(filename)}: ${why}${column === undefined ? "" : ` at column ${column + 1}`}`,
    {
      hint: HINT,
      ...(column === undefined ? {} : { detail: pointAt(filename, column) }),
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

/** Parse a wheel filename. Throws INVALID_WHEEL_FILENAME saying which part is wrong. */
export function parseWheelFilename(
  filename: string,
  options: ParseWheelFilenameOptions = {},
): WheelFilename {
  if (typeof filename !== "string") {
    throw new SlimenvError(
      "INVALID_WHEEL_FILENAME",
      `a wheel filename must be a string, got ${typeof filename}`,
    );
  }
  if (!filename.endsWith(".whl")) throw fail(filename, "the extension must be '.whl'");
  const stem = filename.slice(0, -4);
  const pieces = stem.split("-");
  const dashes = pieces.length - 1;
  if (dashes !== 4 && dashes !== 5) {
    throw fail(filename, `it has ${pieces.length} '-'-separated parts, not 5 or 6`);
  }
  const [namePart = "", versionPart = ""] = pieces;
  const buildPart = dashes === 5 ? (pieces[2] ?? "") : undefined;
  const tagPart = pieces.slice(-3).join("-");
  const versionAt = namePart.length + 1;
  const buildAt = versionAt + versionPart.length + 1;
  const tagAt = stem.length - tagPart.length;

  if (namePart.includes("__") || !WHEEL_NAME.test(namePart)) {
    const why =
      namePart === ""
        ? "the project name is empty"
        : namePart.includes("__")
          ? "the project name holds '__' (a name is escaped with single '_')"
          : `invalid project name ${JSON.stringify(namePart)}`;
    throw fail(filename, why, 0);
  }
  const name = canonicalizeName(namePart);

  let version: Version;
  try {
    version = new Version(versionPart);
  } catch (err) {
    throw fail(filename, `invalid version ${JSON.stringify(versionPart)}`, versionAt, err);
  }

  let build: readonly [number, string] | undefined;
  if (buildPart !== undefined) {
    // The build tag starts with a digit and holds no line break (packaging 26.4; 26.3 cut
    // the tag at the first one).
    const m = /^([0-9]+)([^\n]*)$/.exec(buildPart);
    if (m === null) {
      throw fail(
        filename,
        `invalid build tag ${JSON.stringify(buildPart)} (it must start with a digit, on one line)`,
        buildAt,
      );
    }
    const number = Number(m[1]);
    if (!Number.isSafeInteger(number)) {
      throw fail(filename, `build number ${m[1]} is too large`, buildAt);
    }
    build = [number, m[2] ?? ""];
  }

  let tags: Tag[];
  try {
    tags = parseTag(tagPart, { validateOrder: options.validateOrder ?? false });
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/ at column \d+$/, "") : String(err);
    throw fail(filename, `invalid tags (${why})`, tagAt, err);
  }
  return { name, version, build, tags };
}

/** Like parseWheelFilename, but undefined instead of an error. */
export function tryParseWheelFilename(
  filename: string,
  options: ParseWheelFilenameOptions = {},
): WheelFilename | undefined {
  try {
    return parseWheelFilename(filename, options);
  } catch (err) {
    if (err instanceof SlimenvError) return undefined;
    throw err;
  }
}

/** The escaped name used in wheel filenames: "Foo.Bar-baz" → "foo_bar_baz". */
export function escapeWheelName(name: string): string {
  if (typeof name !== "string" || !isValidName(name)) {
    throw new SlimenvError("INVALID_NAME", `invalid project name: ${JSON.stringify(name)}`, {
      hint: "a name is ASCII letters and digits, with '.', '_' or '-' between them",
    });
  }
  return canonicalizeName(name).replace(/-/g, "_");
}

/**
 * Compress a tag set into one tag string ("py2.py3-none-any"), each component sorted.
 * Throws INVALID_TAG when the set is not the full product of its parts and so cannot be
 * written as one compressed tag.
 */
export function compressTags(tags: readonly Tag[]): string {
  if (!Array.isArray(tags) || tags.length === 0) {
    throw new SlimenvError("INVALID_TAG", "a wheel needs at least one tag");
  }
  const keys = new Set(tags.map((t) => t.toString()));
  const sorted = (values: Iterable<string>) => [...new Set(values)].sort(compareCodePoints);
  const interpreters = sorted(tags.map((t) => t.interpreter));
  const abis = sorted(tags.map((t) => t.abi));
  const platforms = sorted(tags.map((t) => t.platform));
  if (interpreters.length * abis.length * platforms.length !== keys.size) {
    throw new SlimenvError(
      "INVALID_TAG",
      `tags ${[...keys].join(", ")} cannot be written as one compressed tag set`,
      { hint: "every interpreter must go with every abi and every platform" },
    );
  }
  return [interpreters, abis, platforms].map((c) => c.join(".")).join("-");
}

export interface WheelFilenameParts {
  name: string;
  version: Version | string;
  build?: readonly [number, string] | undefined;
  /** A tag string ("py3-none-any") or a tag set to compress. */
  tags: readonly Tag[] | string;
}

/** Build a wheel filename: escaped name, normalized version, build tag, compressed tags. */
export function formatWheelFilename(parts: WheelFilenameParts): string {
  const name = escapeWheelName(parts.name);
  let version: string;
  try {
    version = (
      typeof parts.version === "string" ? new Version(parts.version) : parts.version
    ).toString();
  } catch (err) {
    throw new SlimenvError(
      "INVALID_WHEEL_FILENAME",
      `invalid version for a wheel: ${JSON.stringify(String(parts.version))}`,
      { cause: err },
    );
  }
  let build = "";
  if (parts.build !== undefined) {
    const [number, rest] = parts.build;
    if (
      !Number.isSafeInteger(number) ||
      number < 0 ||
      /[-\s]/.test(rest) ||
      rest.includes(".whl")
    ) {
      throw new SlimenvError(
        "INVALID_WHEEL_FILENAME",
        `invalid build tag: ${JSON.stringify(parts.build)}`,
        { hint: "a build tag is a non-negative integer, optionally followed by text without '-'" },
      );
    }
    build = `-${number}${rest}`;
  }
  let tagString: string;
  if (typeof parts.tags === "string") {
    parseTag(parts.tags);
    tagString = parts.tags.toLowerCase();
  } else {
    tagString = compressTags(parts.tags);
  }
  return `${name}-${version}${build}-${tagString}.whl`;
}
