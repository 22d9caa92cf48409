/**
 * Real, deterministic wheels and sdists for hermetic tests. A wheel from {@link buildWheel}
 * has a .dist-info with METADATA, WHEEL, optional entry_points.txt and a RECORD whose sha256
 * digests and sizes are right, so pip installs it; the same inputs give the same bytes (fixed
 * zip timestamps, fixed entry order). Zips are written with fflate (a dev dependency) — a
 * writer independent of slimenv's own zip reading code, so a reader bug is not mirrored here.
 *
 * `tamper` bends a wheel for hostile-input tests: entries that RECORD does not list (with any
 * path, `../evil` included), a rewritten RECORD, files left out of RECORD.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { type ZipOptions, type Zippable, zipSync } from "fflate";
import { formatRecord, type RecordEntry, recordHash } from "../../src/standards/record.ts";
import { parseTag } from "../../src/standards/tags.ts";
import { Version } from "../../src/standards/version.ts";
import { formatWheelFile } from "../../src/standards/wheel-file.ts";
import { escapeWheelName, formatWheelFilename } from "../../src/standards/wheel-filename.ts";
import { tempDir } from "./tmp.ts";

/** Every zip entry's timestamp: local-time fields, so the DOS date is the same in any zone. */
const ZIP_MTIME = new Date(2020, 0, 1, 12, 0, 0);
/** Every tar entry's mtime (2020-01-01T12:00:00Z). */
const TAR_MTIME = 1577880000;

export type FileData = string | Uint8Array;

export interface ExtraEntry {
  /** The zip entry name, written as is: may be `../evil`, `/abs`, a second RECORD… */
  path: string;
  data: FileData;
  /** Unix mode bits for the external attributes (default 0o644). */
  mode?: number;
  /** Also list it in RECORD with its right hash and size (default false). */
  inRecord?: boolean;
}

export interface WheelTamper {
  /** Entries added after the regular files (before the .dist-info files). */
  extraEntries?: ExtraEntry[];
  /** Replace RECORD's text: a string, or a function of the correct text. */
  recordOverride?: string | ((record: string) => string);
  /** Paths of regular files to leave out of RECORD (the files stay in the zip). */
  omitFromRecord?: string[];
  /** Use this filename instead of the correct one. */
  filename?: string;
  /** Replace METADATA's text (RECORD gets the hash of the new text). */
  metadataOverride?: string | ((metadata: string) => string);
  /** Replace WHEEL's text (RECORD gets the hash of the new text). */
  wheelFileOverride?: string | ((wheelFile: string) => string);
}

export interface WheelSpec {
  /** Project name as written in METADATA (the filename uses the escaped form). */
  name: string;
  version: string;
  /** Compressed tag string (default "py3-none-any"); WHEEL lists the expanded tags. */
  tags?: string;
  /** Files by path inside the wheel. Default: `<name>/__init__.py` with `__version__`. */
  files?: Record<string, FileData>;
  requiresDist?: string[];
  requiresPython?: string;
  /** Provides-Extra values. */
  extras?: string[];
  /** Raw header lines added to METADATA before the blank line (no trailing newline needed). */
  metadataExtra?: string;
  /** Build tag, e.g. "1" or "2b". */
  build?: string;
  /** entry_points.txt contents. */
  entryPoints?: string;
  /** Paths among `files` to store with mode 0755. */
  executable?: string[];
  /** Leave RECORD out of the wheel entirely. */
  omitRecord?: boolean;
  /** Root-Is-Purelib (default: true when every tag's platform is "any"). */
  purelib?: boolean;
  /** Deflate level 0–9 (0 = stored; default 6). */
  level?: ZipOptions["level"];
  tamper?: WheelTamper;
}

export interface BuiltWheel {
  filename: string;
  bytes: Uint8Array;
  /** METADATA text, as in the wheel (what a PEP 658 .metadata file serves). */
  metadata: string;
  /** Hex sha256 of `bytes`. */
  sha256: string;
  /** `<name>-<version>.dist-info`. */
  distInfo: string;
  /** RECORD text as written (after any override); undefined with omitRecord. */
  record: string | undefined;
}

const encoder = new TextEncoder();

function toBytes(data: FileData): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function normalizedVersion(version: string): string {
  return new Version(version).toString();
}

/** METADATA text for a spec: Metadata-Version 2.1 headers, then a short body. */
export function metadataText(spec: {
  name: string;
  version: string;
  requiresDist?: string[];
  requiresPython?: string;
  extras?: string[];
  metadataExtra?: string;
}): string {
  const lines = ["Metadata-Version: 2.1", `Name: ${spec.name}`, `Version: ${spec.version}`];
  lines.push(`Summary: test package ${spec.name}`);
  if (spec.requiresPython !== undefined) lines.push(`Requires-Python: ${spec.requiresPython}`);
  for (const extra of spec.extras ?? []) lines.push(`Provides-Extra: ${extra}`);
  for (const req of spec.requiresDist ?? []) lines.push(`Requires-Dist: ${req}`);
  if (spec.metadataExtra !== undefined && spec.metadataExtra !== "") {
    lines.push(spec.metadataExtra.replace(/\n+$/, ""));
  }
  return `${lines.join("\n")}\n\n${spec.name} ${spec.version}, generated for tests.\n`;
}

function override(text: string, by: string | ((text: string) => string) | undefined): string {
  if (by === undefined) return text;
  return typeof by === "string" ? by : by(text);
}

function unixAttrs(mode: number): number {
  return ((0o100000 | mode) << 16) >>> 0;
}

/** Build a wheel. Deterministic: the same spec gives the same bytes. */
export function buildWheel(spec: WheelSpec): BuiltWheel {
  const tamper = spec.tamper ?? {};
  const escaped = escapeWheelName(spec.name);
  const version = normalizedVersion(spec.version);
  const tagText = spec.tags ?? "py3-none-any";
  const tags = parseTag(tagText);
  const buildMatch = spec.build === undefined ? undefined : /^(\d+)(.*)$/.exec(spec.build);
  if (spec.build !== undefined && buildMatch === null) {
    throw new Error(`build tag ${JSON.stringify(spec.build)} must start with a digit`);
  }
  const filename =
    tamper.filename ??
    formatWheelFilename({
      name: spec.name,
      version,
      tags: tagText,
      ...(buildMatch ? { build: [Number(buildMatch[1]), buildMatch[2] ?? ""] as const } : {}),
    });
  const distInfo = `${escaped}-${version}.dist-info`;
  const files = spec.files ?? { [`${escaped}/__init__.py`]: `__version__ = "${version}"\n` };
  const executable = new Set(spec.executable ?? []);
  const omit = new Set(tamper.omitFromRecord ?? []);
  const metadata = override(metadataText(spec), tamper.metadataOverride);
  const wheelFile = override(
    formatWheelFile({
      wheelVersion: "1.0",
      generator: "slimenv-test",
      rootIsPurelib: spec.purelib ?? tags.every((t) => t.platform === "any"),
      tags: tags.map((t) => t.toString()),
      ...(spec.build === undefined ? {} : { build: spec.build }),
      unknownFields: [],
    }),
    tamper.wheelFileOverride,
  );

  const entries: [string, Uint8Array, number][] = [];
  const record: RecordEntry[] = [];
  const add = (p: string, data: FileData, mode: number, inRecord: boolean) => {
    const bytes = toBytes(data);
    entries.push([p, bytes, mode]);
    if (inRecord) record.push({ path: p, hash: recordHash(bytes), size: bytes.length });
  };
  for (const [p, data] of Object.entries(files)) {
    add(p, data, executable.has(p) ? 0o755 : 0o644, !omit.has(p));
  }
  for (const extra of tamper.extraEntries ?? []) {
    add(extra.path, extra.data, extra.mode ?? 0o644, extra.inRecord ?? false);
  }
  add(`${distInfo}/METADATA`, metadata, 0o644, true);
  add(`${distInfo}/WHEEL`, wheelFile, 0o644, true);
  if (spec.entryPoints !== undefined) {
    add(`${distInfo}/entry_points.txt`, spec.entryPoints, 0o644, true);
  }
  let recordText: string | undefined;
  if (spec.omitRecord !== true) {
    record.push({ path: `${distInfo}/RECORD` });
    const correct = formatRecord(record);
    const override = tamper.recordOverride;
    recordText =
      override === undefined
        ? correct
        : typeof override === "string"
          ? override
          : override(correct);
    entries.push([`${distInfo}/RECORD`, encoder.encode(recordText), 0o644]);
  }
  const bytes = zipEntries(entries, spec.level ?? 6);
  return { filename, bytes, metadata, sha256: sha256Hex(bytes), distInfo, record: recordText };
}

/**
 * Zip `[path, bytes, mode]` entries in order with fixed timestamps and Unix modes. Names must
 * be distinct (a later duplicate replaces the earlier one).
 */
export function zipEntries(
  entries: readonly (readonly [string, Uint8Array, number])[],
  level: ZipOptions["level"] = 6,
): Uint8Array {
  const zippable: Zippable = {};
  for (const [p, bytes, mode] of entries) {
    zippable[p] = [bytes, { os: 3, attrs: unixAttrs(mode), mtime: ZIP_MTIME, level }];
  }
  return zipSync(zippable, { mtime: ZIP_MTIME, level });
}

export interface SdistSpec {
  name: string;
  version: string;
  requiresDist?: string[];
  requiresPython?: string;
  extras?: string[];
  /** More files, by path relative to the sdist's top folder. */
  files?: Record<string, FileData>;
}

export interface BuiltSdist {
  filename: string;
  bytes: Uint8Array;
  /** PKG-INFO text. */
  metadata: string;
  sha256: string;
}

/**
 * Build a `.tar.gz` sdist (PEP 625 name) with PKG-INFO, a minimal pyproject.toml and the
 * package's `__init__.py`, under one top folder `<name>-<version>/`. Deterministic.
 */
export function buildSdist(spec: SdistSpec): BuiltSdist {
  const escaped = escapeWheelName(spec.name);
  const version = normalizedVersion(spec.version);
  const top = `${escaped}-${version}`;
  const metadata = metadataText(spec);
  const deps = (spec.requiresDist ?? []).map((r) => JSON.stringify(r)).join(", ");
  const pyproject = [
    "[build-system]",
    'requires = ["setuptools"]',
    'build-backend = "setuptools.build_meta"',
    "",
    "[project]",
    `name = ${JSON.stringify(spec.name)}`,
    `version = ${JSON.stringify(spec.version)}`,
    `dependencies = [${deps}]`,
    ...(spec.requiresPython === undefined
      ? []
      : [`requires-python = ${JSON.stringify(spec.requiresPython)}`]),
    "",
  ].join("\n");
  const files: Record<string, FileData> = {
    "PKG-INFO": metadata,
    "pyproject.toml": pyproject,
    [`${escaped}/__init__.py`]: `__version__ = "${version}"\n`,
    ...spec.files,
  };
  const tarEntries: TarEntry[] = [{ path: `${top}/`, data: new Uint8Array(0), dir: true }];
  const dirs = new Set<string>([`${top}/`]);
  for (const [p, data] of Object.entries(files)) {
    const parts = p.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = `${top}/${parts.slice(0, i).join("/")}/`;
      if (!dirs.has(dir)) {
        dirs.add(dir);
        tarEntries.push({ path: dir, data: new Uint8Array(0), dir: true });
      }
    }
    tarEntries.push({ path: `${top}/${p}`, data: toBytes(data), dir: false });
  }
  const bytes = new Uint8Array(gzipSync(tar(tarEntries), { level: 9 }));
  return { filename: `${top}.tar.gz`, bytes, metadata, sha256: sha256Hex(bytes) };
}

interface TarEntry {
  path: string;
  data: Uint8Array;
  dir: boolean;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

/** A ustar archive (paths up to 100 bytes, or split into prefix + name up to 255). */
function tar(entries: readonly TarEntry[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const entry of entries) {
    const header = new Uint8Array(512);
    const put = (offset: number, text: string) => header.set(encoder.encode(text), offset);
    let name = entry.path;
    let prefix = "";
    if (encoder.encode(name).length > 100) {
      const cut = name.lastIndexOf("/", name.length - 2);
      prefix = name.slice(0, cut);
      name = name.slice(cut + 1);
      if (encoder.encode(name).length > 100 || encoder.encode(prefix).length > 155) {
        throw new Error(`tar path too long: ${entry.path}`);
      }
    }
    put(0, name);
    put(100, octal(entry.dir ? 0o755 : 0o644, 8));
    put(108, octal(0, 8));
    put(116, octal(0, 8));
    put(124, octal(entry.data.length, 12));
    put(136, octal(TAR_MTIME, 12));
    put(148, "        ");
    put(156, entry.dir ? "5" : "0");
    put(257, "ustar\x0000");
    put(265, "root");
    put(297, "root");
    put(345, prefix);
    const sum = header.reduce((a, b) => a + b, 0);
    put(148, `${sum.toString(8).padStart(6, "0")}\0 `);
    blocks.push(header);
    if (entry.data.length > 0) {
      const padded = new Uint8Array(Math.ceil(entry.data.length / 512) * 512);
      padded.set(entry.data);
      blocks.push(padded);
    }
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let offset = 0;
  for (const b of blocks) {
    out.set(b, offset);
    offset += b.length;
  }
  return out;
}

/**
 * Write wheels (or any built files) into a folder — a find-links directory. Creates a fresh
 * temporary folder unless `dir` is given. Returns the folder.
 */
export function writeWheelDir(
  wheels: readonly { filename: string; bytes: Uint8Array }[],
  dir?: string,
): string {
  const target = dir ?? tempDir("slimenv-wheels-");
  mkdirSync(target, { recursive: true });
  for (const w of wheels) writeFileSync(path.join(target, w.filename), w.bytes);
  return target;
}
