/**
 * Writing pylock.toml deterministically, in the layout of the spec's example: top-level
 * keys in the spec's order, one `[[packages]]` per package sorted by name then version,
 * source tables and `[[packages.wheels]]` indented under their package, hashes and
 * dependencies as inline tables, literal strings where possible. The same lock always
 * gives the same bytes, and readPylock(writePylock(lock)) equals lock when its packages
 * are in that order.
 */
import { SlimenvError } from "../base/index.ts";
import { readPylock } from "./pylock-read.ts";
import type { Pylock, PylockHashes, PylockPackage } from "./pylock-types.ts";
import { emitTable, inlineValue, tomlKey, UTC_DATETIME } from "./toml-text.ts";
import { tryParseVersion } from "./version.ts";

const INDENT = "    ";

function fail(key: string, message: string): never {
  throw new SlimenvError("INVALID_PYLOCK", `cannot write pylock.toml: ${key}: ${message}`);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Packages by name, then version (PEP 440 order; no version first); otherwise as given. */
export function sortPylockPackages(packages: readonly PylockPackage[]): PylockPackage[] {
  return [...packages].sort((a, b) => {
    const byName = compareText(a.name, b.name);
    if (byName !== 0) return byName;
    if (a.version === undefined || b.version === undefined) {
      return (a.version === undefined ? 0 : 1) - (b.version === undefined ? 0 : 1);
    }
    const va = tryParseVersion(a.version);
    const vb = tryParseVersion(b.version);
    if (va !== undefined && vb !== undefined) {
      const c = va.compare(vb);
      if (c !== 0) return c;
    }
    return compareText(a.version, b.version);
  });
}

class Writer {
  readonly lines: string[] = [];

  value(indent: string, key: string, value: unknown, where: string): void {
    if (value === undefined) return;
    this.lines.push(`${indent}${tomlKey(key)} = ${inlineValue(value, where)}`);
  }

  datetime(indent: string, key: string, value: string | undefined, where: string): void {
    if (value === undefined) return;
    if (!UTC_DATETIME.test(value)) fail(where, `${JSON.stringify(value)} is not a UTC date-time`);
    this.lines.push(`${indent}${key} = ${value}`);
  }

  hashes(indent: string, hashes: PylockHashes, where: string): void {
    this.value(indent, "hashes", hashes, where);
  }

  header(text: string): void {
    this.lines.push("", `${INDENT}${text}`);
  }

  package(pkg: PylockPackage, where: string): void {
    const i = INDENT;
    this.lines.push("", "[[packages]]");
    this.value("", "name", pkg.name, `${where}.name`);
    this.value("", "version", pkg.version, `${where}.version`);
    this.value("", "marker", pkg.marker, `${where}.marker`);
    this.value("", "requires-python", pkg.requiresPython, `${where}.requires-python`);
    if (pkg.dependencies !== undefined) {
      if (pkg.dependencies.length === 0) this.lines.push("dependencies = []");
      else {
        this.lines.push("dependencies = [");
        pkg.dependencies.forEach((dep, n) => {
          this.lines.push(`${i}${inlineValue(dep, `${where}.dependencies[${n}]`)},`);
        });
        this.lines.push("]");
      }
    }
    this.value("", "index", pkg.index, `${where}.index`);
    if (pkg.wheels !== undefined && pkg.wheels.length === 0) this.lines.push("wheels = []");
    if (pkg.vcs !== undefined) {
      const v = pkg.vcs;
      const w = `${where}.vcs`;
      this.header("[packages.vcs]");
      this.value(i, "type", v.type, `${w}.type`);
      this.value(i, "url", v.url, `${w}.url`);
      this.value(i, "path", v.path, `${w}.path`);
      this.value(i, "requested-revision", v.requestedRevision, `${w}.requested-revision`);
      this.value(i, "commit-id", v.commitId, `${w}.commit-id`);
      this.value(i, "subdirectory", v.subdirectory, `${w}.subdirectory`);
    }
    if (pkg.directory !== undefined) {
      const d = pkg.directory;
      const w = `${where}.directory`;
      this.header("[packages.directory]");
      this.value(i, "path", d.path, `${w}.path`);
      this.value(i, "editable", d.editable, `${w}.editable`);
      this.value(i, "subdirectory", d.subdirectory, `${w}.subdirectory`);
    }
    if (pkg.archive !== undefined) {
      const a = pkg.archive;
      const w = `${where}.archive`;
      this.header("[packages.archive]");
      this.value(i, "url", a.url, `${w}.url`);
      this.value(i, "path", a.path, `${w}.path`);
      this.value(i, "size", a.size, `${w}.size`);
      this.datetime(i, "upload-time", a.uploadTime, `${w}.upload-time`);
      this.hashes(i, a.hashes, `${w}.hashes`);
      this.value(i, "subdirectory", a.subdirectory, `${w}.subdirectory`);
    }
    if (pkg.sdist !== undefined) {
      const s = pkg.sdist;
      const w = `${where}.sdist`;
      this.header("[packages.sdist]");
      this.value(i, "name", s.name, `${w}.name`);
      this.datetime(i, "upload-time", s.uploadTime, `${w}.upload-time`);
      this.value(i, "url", s.url, `${w}.url`);
      this.value(i, "path", s.path, `${w}.path`);
      this.value(i, "size", s.size, `${w}.size`);
      this.hashes(i, s.hashes, `${w}.hashes`);
    }
    for (const [n, wheel] of (pkg.wheels ?? []).entries()) {
      const w = `${where}.wheels[${n}]`;
      this.header("[[packages.wheels]]");
      this.value(i, "name", wheel.name, `${w}.name`);
      this.datetime(i, "upload-time", wheel.uploadTime, `${w}.upload-time`);
      this.value(i, "url", wheel.url, `${w}.url`);
      this.value(i, "path", wheel.path, `${w}.path`);
      this.value(i, "size", wheel.size, `${w}.size`);
      this.hashes(i, wheel.hashes, `${w}.hashes`);
    }
    for (const [n, identity] of (pkg.attestationIdentities ?? []).entries()) {
      const w = `${where}.attestation-identities[${n}]`;
      this.header("[[packages.attestation-identities]]");
      // Publisher keys in the order given (the spec's example has them sorted).
      for (const [k, v] of Object.entries(identity)) this.value(i, k, v, `${w}.${k}`);
    }
    if (pkg.tool !== undefined) emitTable(this.lines, "packages.tool", pkg.tool, INDENT);
  }
}

/**
 * Write a lock as pylock.toml text. Throws INVALID_PYLOCK when the lock would not read
 * back as a valid lock file (the output is checked with readPylock).
 */
export function writePylock(lock: Pylock): string {
  const w = new Writer();
  w.value("", "lock-version", lock.lockVersion, "lock-version");
  w.value("", "environments", lock.environments, "environments");
  w.value("", "requires-python", lock.requiresPython, "requires-python");
  w.value("", "extras", lock.extras, "extras");
  w.value("", "dependency-groups", lock.dependencyGroups, "dependency-groups");
  w.value("", "default-groups", lock.defaultGroups, "default-groups");
  w.value("", "created-by", lock.createdBy, "created-by");
  const packages = sortPylockPackages(lock.packages);
  if (packages.length === 0) w.lines.push("packages = []");
  packages.forEach((pkg, n) => {
    w.package(pkg, `packages[${n}] (${pkg.name})`);
  });
  if (lock.tool !== undefined) emitTable(w.lines, "tool", lock.tool, "");
  const text = `${w.lines.join("\n")}\n`;
  try {
    readPylock(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new SlimenvError("INVALID_PYLOCK", `cannot write an invalid lock: ${why}`, {
      cause: err,
    });
  }
  return text;
}
