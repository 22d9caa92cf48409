/**
 * Read a wheel's directory and metadata and check everything that can be checked without
 * unpacking it: zip structure, paths, places, limits, WHEEL, METADATA against the filename,
 * and RECORD against the archive's files. Unpacking (wheel-import.ts) then checks each
 * file's hash and size as it is written.
 */

import { readZipLocalHeader, type ZipLocalHeader } from "../archive/zip-local.ts";
import {
  type ByteSource,
  readZipDirectory,
  readZipEntry,
  type ZipDirectory,
  ZipDisagreementError,
  type ZipEntry,
} from "../archive/zip-read.ts";
import { isSlimenvError, type Reporter } from "../base/index.ts";
import { parseEmailHeaders, unfoldValue } from "../standards/email-headers.ts";
import { canonicalizeName } from "../standards/names.ts";
import { parseRecord, type RecordEntry } from "../standards/record.ts";
import { tryParseVersion } from "../standards/version.ts";
import { checkWheelVersion, parseWheelFile } from "../standards/wheel-file.ts";
import type { WheelFilename } from "../standards/wheel-filename.ts";
import { type HostileRule, HostileWheelError } from "./hostile.ts";
import type { WheelLimits } from "./types.ts";
import {
  type CheckedFile,
  checkDirectory,
  checkLocalHeaders,
  entryIsExecutable,
} from "./wheel-check.ts";
import { checkPlaces, checkScriptNames, checkSlimenvPaths } from "./wheel-places.ts";

export interface PlannedFile extends CheckedFile {
  /** The RECORD row (undefined for RECORD itself). */
  record: RecordEntry | undefined;
}

export interface InspectedWheel {
  source: ByteSource;
  filename: string;
  name: string;
  version: string;
  tags: string[];
  distInfo: string;
  rootIsPurelib: boolean;
  /** The Tag lines of the WHEEL file (the filename's tags are `tags`). */
  wheelTags: string[];
  recordText: string;
  /** Files to store, archive order: every file but RECORD signatures. */
  files: PlannedFile[];
}

function wrap(wheel: string, rule: HostileRule, err: unknown): HostileWheelError {
  if (err instanceof HostileWheelError) return err;
  if (err instanceof ZipDisagreementError) {
    return new HostileWheelError(wheel, "end-record-mismatch", err.message, err);
  }
  const why = isSlimenvError(err) ? err.message : String(err);
  return new HostileWheelError(wheel, rule, why, err);
}

async function readSmall(
  wheel: string,
  source: ByteSource,
  directory: ZipDirectory,
  entry: ZipEntry,
  limits: WheelLimits,
  undecodable?: HostileRule,
): Promise<string> {
  if (entry.size > limits.maxMetadataSize) {
    throw new HostileWheelError(
      wheel,
      "too-large",
      `${entry.name} is ${entry.size} bytes (limit ${limits.maxMetadataSize})`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await readZipEntry(source, directory, entry, wheel, limits.maxMetadataSize);
  } catch (err) {
    throw wrap(wheel, "zip-structure", err);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (cause) {
    const rule =
      undecodable ?? (entry.name.endsWith("/RECORD") ? "invalid-record" : "invalid-metadata");
    throw new HostileWheelError(wheel, rule, `${entry.name} is not valid UTF-8`, cause);
  }
}

/**
 * How the WHEEL file's tags disagree with the filename's (a different set, or
 * Root-Is-Purelib false for a wheel whose tags are all pure), or undefined.
 */
export function wheelTagsDisagree(
  fileTags: readonly string[],
  wheelTags: readonly string[],
  rootIsPurelib: boolean,
): string | undefined {
  const a = new Set(fileTags);
  const b = new Set(wheelTags);
  if (b.size > 0 && (a.size !== b.size || [...a].some((t) => !b.has(t)))) {
    return `its WHEEL file's tags (${[...b].join(", ")}) are not its filename's (${[...a].join(", ")})`;
  }
  if (!rootIsPurelib && fileTags.every((t) => t.endsWith("-none-any"))) {
    return "its WHEEL file says Root-Is-Purelib: false, its filename that it is pure (none-any)";
  }
  return undefined;
}

function header(text: string, field: string, what: string): string | undefined {
  const message = parseEmailHeaders(text, "INVALID_METADATA", what);
  const found = message.headers.find((h) => h.name.toLowerCase() === field.toLowerCase());
  return found === undefined ? undefined : unfoldValue(found.lines).trim();
}

function isSignature(path: string, distInfo: string): boolean {
  return path === `${distInfo}/RECORD.jws` || path === `${distInfo}/RECORD.p7s`;
}

export async function inspectWheel(
  source: ByteSource,
  parsed: WheelFilename,
  filename: string,
  limits: WheelLimits,
  reporter: Reporter,
): Promise<InspectedWheel> {
  const wheel = filename;
  let directory: ZipDirectory;
  try {
    directory = await readZipDirectory(source, wheel);
  } catch (err) {
    throw wrap(wheel, "zip-structure", err);
  }
  const entries = directory.entries;
  checkDirectory(wheel, entries, limits);
  const locals: ZipLocalHeader[] = [];
  for (const entry of entries) {
    try {
      locals.push(await readZipLocalHeader(source, entry, wheel));
    } catch (err) {
      throw wrap(wheel, "zip-structure", err);
    }
  }
  checkLocalHeaders(wheel, entries, locals, directory.centralDirectoryOffset);
  const version = parsed.version;
  const distInfo = checkPlaces(wheel, entries, parsed.name, version);
  checkSlimenvPaths(wheel, entries, distInfo);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const need = (file: string, rule: HostileRule): ZipEntry => {
    const entry = byName.get(`${distInfo}/${file}`);
    if (entry === undefined) {
      throw new HostileWheelError(wheel, rule, `it has no ${distInfo}/${file}`);
    }
    return entry;
  };
  const wheelEntry = need("WHEEL", "invalid-wheel-file");
  const metadataEntry = need("METADATA", "invalid-metadata");
  const recordEntry = need("RECORD", "record-missing");

  const wheelText = await readSmall(wheel, source, directory, wheelEntry, limits);
  let rootIsPurelib: boolean;
  let wheelTags: string[];
  try {
    const wheelFile = parseWheelFile(wheelText);
    rootIsPurelib = wheelFile.rootIsPurelib;
    wheelTags = wheelFile.tags;
    try {
      const check = checkWheelVersion(wheelFile.wheelVersion);
      if (check.newer) {
        reporter.log(
          "warn",
          `${wheel} has Wheel-Version ${wheelFile.wheelVersion}, newer than this slimenv knows; installing it anyway`,
        );
      }
    } catch (err) {
      throw wrap(wheel, "wheel-version", err);
    }
  } catch (err) {
    throw wrap(wheel, "invalid-wheel-file", err);
  }

  const fileTags = parsed.tags.map((t) => t.toString());
  const disagreement = wheelTagsDisagree(fileTags, wheelTags, rootIsPurelib);
  if (disagreement !== undefined) reporter.log("warn", `${wheel}: ${disagreement}`);

  const entryPointsEntry = byName.get(`${distInfo}/entry_points.txt`);
  if (entryPointsEntry !== undefined) {
    checkScriptNames(
      wheel,
      await readSmall(wheel, source, directory, entryPointsEntry, limits, "invalid-metadata"),
    );
  }

  const metadataText = await readSmall(wheel, source, directory, metadataEntry, limits);
  let metaName: string | undefined;
  let metaVersion: string | undefined;
  try {
    metaName = header(metadataText, "Name", "METADATA");
    metaVersion = header(metadataText, "Version", "METADATA");
  } catch (err) {
    throw wrap(wheel, "invalid-metadata", err);
  }
  if (metaName === undefined || metaVersion === undefined) {
    throw new HostileWheelError(wheel, "invalid-metadata", "METADATA lacks Name or Version");
  }
  if (canonicalizeName(metaName) !== parsed.name) {
    throw new HostileWheelError(
      wheel,
      "name-mismatch",
      `METADATA names project ${JSON.stringify(metaName)}, the filename ${parsed.name}`,
    );
  }
  const metaParsed = tryParseVersion(metaVersion);
  if (metaParsed === undefined || !metaParsed.equals(version)) {
    throw new HostileWheelError(
      wheel,
      "version-mismatch",
      `METADATA says version ${JSON.stringify(metaVersion)}, the filename ${version}`,
    );
  }

  const recordText = await readSmall(wheel, source, directory, recordEntry, limits);
  let rows: RecordEntry[];
  try {
    rows = parseRecord(recordText, { kind: "wheel" });
  } catch (err) {
    throw wrap(wheel, "invalid-record", err);
  }
  const recordPath = `${distInfo}/RECORD`;
  const rowByPath = new Map(rows.map((r) => [r.path, r]));
  for (const row of rows) {
    const entry = byName.get(row.path);
    if (entry === undefined || entry.name.endsWith("/")) {
      if (row.hash === undefined) continue; // RECORD signatures, maybe absent
      throw new HostileWheelError(
        wheel,
        "record-entry-without-file",
        `RECORD lists ${JSON.stringify(row.path)}, which the wheel does not contain`,
      );
    }
    if (row.hash === undefined && row.path !== recordPath && !isSignature(row.path, distInfo)) {
      throw new HostileWheelError(
        wheel,
        "invalid-record",
        `RECORD gives no hash for ${JSON.stringify(row.path)}`,
      );
    }
  }

  const files: PlannedFile[] = [];
  entries.forEach((entry, i) => {
    if (entry.name.endsWith("/")) return;
    if (isSignature(entry.name, distInfo)) return;
    const local = locals[i] as ZipLocalHeader;
    const exec = entryIsExecutable(entry);
    if (entry.name === recordPath) {
      files.push({ entry, local, exec, record: undefined });
      return;
    }
    const row = rowByPath.get(entry.name);
    if (row === undefined) {
      throw new HostileWheelError(
        wheel,
        "file-not-in-record",
        `${JSON.stringify(entry.name)} is not listed in RECORD`,
      );
    }
    if (row.size !== undefined && row.size !== entry.size) {
      throw new HostileWheelError(
        wheel,
        "size-mismatch",
        `RECORD gives ${JSON.stringify(entry.name)} ${row.size} bytes, the archive ${entry.size}`,
      );
    }
    files.push({ entry, local, exec, record: row });
  });

  return {
    source,
    filename,
    name: parsed.name,
    version: version.toString(),
    tags: fileTags,
    distInfo,
    rootIsPurelib,
    wheelTags,
    recordText,
    files,
  };
}
