/**
 * Reading pylock.toml (PEP 751) with every check the spec asks of a reader: supported
 * lock-version, required keys and their types, normalized names, valid versions, markers
 * and specifiers, one kind of source per package, hashes for every file, and wheel file
 * names that agree with the package's name and version. Errors are INVALID_PYLOCK and
 * name the package and key (`packages[2] (numpy).wheels[0].hashes`).
 */
import { TomlError } from "smol-toml";
import { pointAt, SlimenvError } from "../base/index.ts";
import { canonicalizeName, isValidName } from "./names.ts";
import { LockReader, messageOf, typeName } from "./pylock-reader.ts";
import type {
  Pylock,
  PylockArchive,
  PylockAttestationIdentity,
  PylockDirectory,
  PylockPackage,
  PylockSdist,
  PylockVcs,
  PylockWheel,
} from "./pylock-types.ts";
import { parseTomlKeepingDatetimes, plainTomlValue } from "./toml-text.ts";
import { Version } from "./version.ts";
import { parseWheelFilename } from "./wheel-filename.ts";

export interface ReadPylockOptions {
  /** Name used in messages (default "pylock.toml"). */
  file?: string;
  /** Told about keys this reader does not know in a newer 1.x lock file. */
  onWarning?: (message: string) => void;
}

type Table = Record<string, unknown>;

const TOP_KEYS = [
  "lock-version",
  "environments",
  "requires-python",
  "extras",
  "dependency-groups",
  "default-groups",
  "created-by",
  "packages",
  "tool",
];
const PACKAGE_KEYS = [
  "name",
  "version",
  "marker",
  "requires-python",
  "dependencies",
  "vcs",
  "directory",
  "archive",
  "index",
  "sdist",
  "wheels",
  "attestation-identities",
  "tool",
];
const VCS_KEYS = ["type", "url", "path", "requested-revision", "commit-id", "subdirectory"];
const DIRECTORY_KEYS = ["path", "editable", "subdirectory"];
const ARCHIVE_KEYS = ["url", "path", "size", "upload-time", "hashes", "subdirectory"];
const FILE_KEYS = ["name", "upload-time", "url", "path", "size", "hashes"];
const VCS_TYPES = ["git", "hg", "bzr", "svn"];

/** The last path component of a URL (decoded) or a path. */
export function fileNameOf(location: string): string {
  let pathPart = location;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    try {
      pathPart = decodeURIComponent(new URL(location).pathname);
    } catch {
      pathPart = location.split(/[?#]/)[0] ?? location;
    }
  }
  return pathPart.slice(Math.max(pathPart.lastIndexOf("/"), pathPart.lastIndexOf("\\")) + 1);
}

function readLocation(r: LockReader, t: Table, key: string): { url?: string; path?: string } {
  const url = r.optString(t, "url", key);
  const path = r.optString(t, "path", key);
  if (url === undefined && path === undefined) r.fail(key, "needs a url or a path");
  return { ...(url === undefined ? {} : { url }), ...(path === undefined ? {} : { path }) };
}

function readVcs(r: LockReader, value: unknown, key: string): PylockVcs {
  const t = r.table(value, key);
  r.knownKeys(t, VCS_KEYS, key);
  if (t.type === undefined) r.fail(`${key}.type`, "is required");
  const type = r.string(t.type, `${key}.type`);
  if (!VCS_TYPES.includes(type))
    r.fail(`${key}.type`, `${JSON.stringify(type)} is not one of ${VCS_TYPES.join(", ")}`);
  const location = readLocation(r, t, key);
  const requestedRevision = r.optString(t, "requested-revision", key);
  if (t["commit-id"] === undefined) r.fail(`${key}.commit-id`, "is required");
  const commitId = r.string(t["commit-id"], `${key}.commit-id`);
  const subdirectory = r.optString(t, "subdirectory", key);
  return {
    type,
    ...location,
    ...(requestedRevision === undefined ? {} : { requestedRevision }),
    commitId,
    ...(subdirectory === undefined ? {} : { subdirectory }),
  };
}

function readDirectory(r: LockReader, value: unknown, key: string): PylockDirectory {
  const t = r.table(value, key);
  r.knownKeys(t, DIRECTORY_KEYS, key);
  if (t.path === undefined) r.fail(`${key}.path`, "is required");
  const out: PylockDirectory = { path: r.string(t.path, `${key}.path`) };
  if (t.editable !== undefined) {
    if (typeof t.editable !== "boolean")
      r.fail(`${key}.editable`, `must be a boolean, got ${typeName(t.editable)}`);
    out.editable = t.editable;
  }
  const subdirectory = r.optString(t, "subdirectory", key);
  if (subdirectory !== undefined) out.subdirectory = subdirectory;
  return out;
}

/** Shared by archive, sdist and wheels: name?, upload-time?, url/path, size?, hashes. */
function readFileEntry(r: LockReader, t: Table, key: string): PylockSdist {
  const out: PylockSdist = { hashes: {} };
  const name = r.optString(t, "name", key);
  if (name !== undefined) out.name = name;
  if (t["upload-time"] !== undefined)
    out.uploadTime = r.uploadTime(t["upload-time"], `${key}.upload-time`);
  Object.assign(out, readLocation(r, t, key));
  if (t.size !== undefined) out.size = r.size(t.size, `${key}.size`);
  out.hashes = r.hashes(t.hashes, `${key}.hashes`);
  return out;
}

function readArchive(r: LockReader, value: unknown, key: string): PylockArchive {
  const t = r.table(value, key);
  r.knownKeys(t, ARCHIVE_KEYS, key);
  const { name: _ignored, ...entry } = readFileEntry(r, t, key);
  const out: PylockArchive = entry;
  const subdirectory = r.optString(t, "subdirectory", key);
  if (subdirectory !== undefined) out.subdirectory = subdirectory;
  return out;
}

function readWheel(r: LockReader, value: unknown, key: string, pkg: PylockPackage): PylockWheel {
  const t = r.table(value, key);
  r.knownKeys(t, FILE_KEYS, key);
  const wheel = readFileEntry(r, t, key);
  const filename = wheel.name ?? fileNameOf(wheel.url ?? wheel.path ?? "");
  let parsed: ReturnType<typeof parseWheelFilename>;
  try {
    parsed = parseWheelFilename(filename);
  } catch (err) {
    r.fail(
      wheel.name === undefined
        ? `${key}.${wheel.url === undefined ? "path" : "url"}`
        : `${key}.name`,
      messageOf(err),
      err,
    );
  }
  if (parsed.name !== pkg.name) {
    r.fail(key, `wheel ${filename} is for ${parsed.name}, not ${pkg.name}`);
  }
  if (pkg.version !== undefined && !parsed.version.equals(new Version(pkg.version))) {
    r.fail(key, `wheel ${filename} is version ${parsed.version.toString()}, not ${pkg.version}`);
  }
  return wheel;
}

function readPackage(r: LockReader, value: unknown, index: number): PylockPackage {
  let key = `packages[${index}]`;
  const t = r.table(value, key);
  if (t.name === undefined) r.fail(`${key}.name`, "is required");
  const name = r.string(t.name, `${key}.name`);
  key = `${key} (${name})`;
  if (!isValidName(name)) r.fail(`${key}.name`, `${JSON.stringify(name)} is not a valid name`);
  if (canonicalizeName(name) !== name) {
    r.fail(
      `${key}.name`,
      `${JSON.stringify(name)} is not normalized (write ${JSON.stringify(canonicalizeName(name))})`,
    );
  }
  r.knownKeys(t, PACKAGE_KEYS, key);
  const pkg: PylockPackage = { name };
  if (t.version !== undefined) {
    const version = r.string(t.version, `${key}.version`);
    try {
      new Version(version);
    } catch (err) {
      r.fail(
        `${key}.version`,
        `invalid version ${JSON.stringify(version)}: ${messageOf(err)}`,
        err,
      );
    }
    pkg.version = version;
  }
  if (t.marker !== undefined) pkg.marker = r.marker(t.marker, `${key}.marker`);
  if (t["requires-python"] !== undefined) {
    pkg.requiresPython = r.specifiers(t["requires-python"], `${key}.requires-python`);
  }
  if (t.dependencies !== undefined) {
    pkg.dependencies = r
      .tables(t.dependencies, `${key}.dependencies`)
      .map((d) => plainTomlValue(d) as Record<string, unknown>);
  }
  const sources = ["vcs", "directory", "archive", "sdist", "wheels"].filter(
    (k) => t[k] !== undefined,
  );
  const kinds = new Set(sources.map((k) => (k === "wheels" ? "sdist" : k)));
  if (kinds.size > 1) {
    r.fail(
      key,
      `has ${sources.join(" and ")}: a package has one kind of source (vcs, directory, archive, or sdist/wheels)`,
    );
  }
  if (sources.length === 0) r.fail(key, "has no source (vcs, directory, archive, sdist or wheels)");
  if (t.vcs !== undefined) pkg.vcs = readVcs(r, t.vcs, `${key}.vcs`);
  if (t.directory !== undefined) pkg.directory = readDirectory(r, t.directory, `${key}.directory`);
  if (t.archive !== undefined) pkg.archive = readArchive(r, t.archive, `${key}.archive`);
  if (t.index !== undefined) pkg.index = r.string(t.index, `${key}.index`);
  if (t.sdist !== undefined) {
    const sdistTable = r.table(t.sdist, `${key}.sdist`);
    r.knownKeys(sdistTable, FILE_KEYS, `${key}.sdist`);
    pkg.sdist = readFileEntry(r, sdistTable, `${key}.sdist`);
  }
  if (t.wheels !== undefined) {
    if (!Array.isArray(t.wheels))
      r.fail(`${key}.wheels`, `must be an array of tables, got ${typeName(t.wheels)}`);
    pkg.wheels = t.wheels.map((w, i) => readWheel(r, w, `${key}.wheels[${i}]`, pkg));
  }
  if (t["attestation-identities"] !== undefined) {
    const k = `${key}.attestation-identities`;
    pkg.attestationIdentities = r.tables(t["attestation-identities"], k).map((a, i) => {
      if (a.kind === undefined) r.fail(`${k}[${i}].kind`, "is required");
      r.string(a.kind, `${k}[${i}].kind`);
      return plainTomlValue(a) as PylockAttestationIdentity;
    });
  }
  if (t.tool !== undefined) pkg.tool = plainTomlValue(r.table(t.tool, `${key}.tool`)) as Table;
  return pkg;
}

function parseDocument(text: string, file: string): Table {
  try {
    return parseTomlKeepingDatetimes(text);
  } catch (err) {
    if (err instanceof TomlError) {
      const first = (err.message.split("\n")[0] ?? err.message).replace(
        /^Invalid TOML document: /,
        "",
      );
      const lineText = text.split(/\r?\n/)[err.line - 1] ?? "";
      throw new SlimenvError(
        "INVALID_PYLOCK",
        `${file}:${err.line}:${err.column}: invalid TOML at line ${err.line}, column ${err.column}: ${first}`,
        { detail: pointAt(lineText, err.column - 1), cause: err },
      );
    }
    throw err;
  }
}

/**
 * Read and validate pylock.toml text. Throws INVALID_PYLOCK for bad TOML (line and
 * column), an unsupported lock-version, or anything the spec forbids (naming the key).
 */
export function readPylock(text: string, options: ReadPylockOptions = {}): Pylock {
  const file = options.file ?? "pylock.toml";
  const doc = parseDocument(text, file);
  const bootstrap: LockReader = new LockReader(file, true);
  if (doc["lock-version"] === undefined) bootstrap.fail("lock-version", "is required");
  const lockVersion = bootstrap.string(doc["lock-version"], "lock-version");
  const match = /^(\d+)\.(\d+)$/.exec(lockVersion);
  if (match === null)
    bootstrap.fail("lock-version", `${JSON.stringify(lockVersion)} is not a MAJOR.MINOR version`);
  if (match[1] !== "1") {
    throw new SlimenvError(
      "INVALID_PYLOCK",
      `${file}: lock-version: ${lockVersion} is not supported (this reads 1.x)`,
      { hint: "Use a newer slimenv, or re-lock with a tool that writes lock-version 1.0" },
    );
  }
  const r: LockReader = new LockReader(file, match[2] === "0", options.onWarning);
  r.knownKeys(doc, TOP_KEYS, "(top level)");
  const lock: Pylock = { lockVersion, createdBy: "", packages: [] };
  if (doc.environments !== undefined) {
    lock.environments = r.strings(doc.environments, "environments");
    for (const [i, m] of lock.environments.entries()) r.marker(m, `environments[${i}]`);
  }
  if (doc["requires-python"] !== undefined) {
    lock.requiresPython = r.specifiers(doc["requires-python"], "requires-python");
  }
  if (doc.extras !== undefined) lock.extras = r.names(doc.extras, "extras");
  if (doc["dependency-groups"] !== undefined) {
    lock.dependencyGroups = r.names(doc["dependency-groups"], "dependency-groups");
  }
  if (doc["default-groups"] !== undefined) {
    lock.defaultGroups = r.names(doc["default-groups"], "default-groups");
  }
  if (doc["created-by"] === undefined) r.fail("created-by", "is required");
  lock.createdBy = r.string(doc["created-by"], "created-by");
  if (doc.packages === undefined) r.fail("packages", "is required");
  if (!Array.isArray(doc.packages))
    r.fail("packages", `must be an array of tables, got ${typeName(doc.packages)}`);
  lock.packages = doc.packages.map((p, i) => readPackage(r, p, i));
  if (doc.tool !== undefined) lock.tool = plainTomlValue(r.table(doc.tool, "tool")) as Table;
  return lock;
}
