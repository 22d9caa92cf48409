/**
 * The structural rules a wheel must pass before any of its bytes are written: safe paths,
 * regular files only, no duplicates (also none that differ only by case or Unicode
 * normalization, which would collide on macOS and Windows), files only in the places the
 * wheel specification allows, zip-bomb limits, and central directory entries that agree with
 * their local headers and do not overlap. Everything here works on the directory alone.
 */
import type { ZipLocalHeader } from "../archive/zip-local.ts";
import type { ZipEntry } from "../archive/zip-read.ts";
import { canonicalizeName } from "../standards/names.ts";
import { tryParseVersion, type Version } from "../standards/version.ts";
import { type HostileRule, HostileWheelError } from "./hostile.ts";
import type { WheelLimits } from "./types.ts";

/** The sub-folders of `<name>-<version>.data/` the wheel specification defines. */
export const DATA_SCHEMES: ReadonlySet<string> = new Set([
  "scripts",
  "headers",
  "data",
  "purelib",
  "platlib",
]);

export interface CheckedFile {
  entry: ZipEntry;
  local: ZipLocalHeader;
  exec: boolean;
}

export interface CheckedWheel {
  /** `<name>-<version>.dist-info` as found in the archive. */
  distInfo: string;
  files: CheckedFile[];
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

function unixMode(entry: ZipEntry): number {
  return entry.externalAttributes >>> 16;
}

function checkPath(wheel: string, name: string): void {
  const fail = (rule: HostileRule, why: string): never => {
    throw new HostileWheelError(wheel, rule, `entry ${JSON.stringify(name)} ${why}`);
  };
  if (name === "") fail("bad-path", "has an empty name");
  if (name.startsWith("/")) fail("absolute-path", "is an absolute path");
  if (name.includes("\\")) fail("backslash-or-drive", "contains a backslash");
  if (/^[A-Za-z]:/.test(name)) fail("backslash-or-drive", "starts with a drive letter");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the point
  if (/[\u0000-\u001f\u007f]/.test(name)) fail("bad-path", "contains a control character");
  const parts = (name.endsWith("/") ? name.slice(0, -1) : name).split("/");
  if (parts.includes("..")) fail("parent-component", "has a '..' component");
  if (parts.some((p) => p === "" || p === ".")) {
    fail("bad-path", "has an empty or '.' component");
  }
}

/**
 * The key under which two names collide on a case-insensitive file system: NFC, then full
 * case folding. JavaScript has no casefold(); upper- then lower-casing folds at least as much
 * (ß → ss, ﬁ → fi, K (Kelvin) → k), and final sigma ς, which lower-casing keeps, becomes σ.
 */
export function foldKey(name: string): string {
  return name.normalize("NFC").toUpperCase().toLowerCase().replace(/ς/g, "σ").normalize("NFC");
}

/** `<stem>.dist-info` → [name, version] split at the last '-' of the stem. */
function splitDistInfo(dir: string, suffix: string): [string, string] | undefined {
  const stem = dir.slice(0, -suffix.length);
  const dash = stem.lastIndexOf("-");
  if (dash <= 0) return undefined;
  return [stem.slice(0, dash), stem.slice(dash + 1)];
}

function sameProject(dir: string, suffix: string, name: string, version: Version): boolean {
  const parts = splitDistInfo(dir, suffix);
  if (parts === undefined) return false;
  const v = tryParseVersion(parts[1]);
  return canonicalizeName(parts[0]) === name && v !== undefined && v.equals(version);
}

/** Zip-bomb limits and per-entry checks on the central directory alone. */
export function checkDirectory(
  wheel: string,
  entries: readonly ZipEntry[],
  limits: WheelLimits,
): void {
  if (entries.length > limits.maxEntries) {
    throw new HostileWheelError(
      wheel,
      "too-many-entries",
      `it has ${entries.length} entries (limit ${limits.maxEntries})`,
    );
  }
  let total = 0;
  const exact = new Set<string>();
  const folded = new Map<string, string>();
  const fileKeys = new Set<string>();
  for (const entry of entries) {
    const name = entry.name;
    checkPath(wheel, name);
    const isDir = name.endsWith("/");
    const type = unixMode(entry) & S_IFMT;
    if (type === S_IFLNK) {
      throw new HostileWheelError(wheel, "symlink", `entry ${JSON.stringify(name)} is a symlink`);
    }
    if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) {
      throw new HostileWheelError(
        wheel,
        "special-file",
        `entry ${JSON.stringify(name)} is not a regular file (mode ${type.toString(8)})`,
      );
    }
    if ((type === S_IFDIR) !== isDir && type !== 0) {
      throw new HostileWheelError(
        wheel,
        "special-file",
        `entry ${JSON.stringify(name)} is ${isDir ? "named as a directory but is a file" : "a directory without a trailing '/'"}`,
      );
    }
    if (exact.has(name)) {
      throw new HostileWheelError(
        wheel,
        "duplicate-entry",
        `entry ${JSON.stringify(name)} appears twice`,
      );
    }
    exact.add(name);
    const key = foldKey(name);
    const before = folded.get(key);
    if (before !== undefined) {
      throw new HostileWheelError(
        wheel,
        "case-duplicate",
        `entries ${JSON.stringify(before)} and ${JSON.stringify(name)} differ only by case or Unicode normalization`,
      );
    }
    folded.set(key, name);
    if (!isDir) fileKeys.add(key);
    if (entry.flags & 0x1) {
      throw new HostileWheelError(wheel, "encrypted", `entry ${JSON.stringify(name)} is encrypted`);
    }
    if (entry.method !== 0 && entry.method !== 8) {
      throw new HostileWheelError(
        wheel,
        "compression-method",
        `entry ${JSON.stringify(name)} uses compression method ${entry.method} (only stored and deflate)`,
      );
    }
    if (isDir && entry.size !== 0) {
      throw new HostileWheelError(
        wheel,
        "special-file",
        `directory entry ${JSON.stringify(name)} has data`,
      );
    }
    if (entry.size > limits.maxEntrySize) {
      throw new HostileWheelError(
        wheel,
        "too-large",
        `entry ${JSON.stringify(name)} is ${entry.size} bytes uncompressed (limit ${limits.maxEntrySize})`,
      );
    }
    if (entry.method === 0 && entry.compressedSize !== entry.size) {
      throw new HostileWheelError(
        wheel,
        "size-mismatch",
        `stored entry ${JSON.stringify(name)} has different compressed and uncompressed sizes`,
      );
    }
    if (
      entry.size > limits.ratioMinSize &&
      entry.size > limits.maxRatio * Math.max(1, entry.compressedSize)
    ) {
      throw new HostileWheelError(
        wheel,
        "compression-ratio",
        `entry ${JSON.stringify(name)} expands ${Math.round(entry.size / Math.max(1, entry.compressedSize))} times (limit ${limits.maxRatio})`,
      );
    }
    total += entry.size;
    if (total > limits.maxTotalSize) {
      throw new HostileWheelError(
        wheel,
        "too-large",
        `its entries add up to more than ${limits.maxTotalSize} bytes uncompressed`,
      );
    }
  }
  for (const key of fileKeys) {
    for (let i = key.indexOf("/"); i !== -1; i = key.indexOf("/", i + 1)) {
      const prefix = key.slice(0, i);
      if (fileKeys.has(prefix)) {
        throw new HostileWheelError(
          wheel,
          "file-directory-conflict",
          `${JSON.stringify(folded.get(prefix))} is a file and also a directory of ${JSON.stringify(folded.get(key))}`,
        );
      }
    }
  }
}

/**
 * Local headers against the central directory: same name, method and (without a data
 * descriptor) CRC and sizes; each entry's header and data inside the archive before the
 * central directory, and no two entries overlapping.
 */
export function checkLocalHeaders(
  wheel: string,
  entries: readonly ZipEntry[],
  locals: readonly ZipLocalHeader[],
  centralDirectoryOffset: number,
): void {
  const spans: [number, number, string, boolean][] = [];
  entries.forEach((entry, i) => {
    const local = locals[i];
    if (local === undefined) throw new Error("internal: a local header is missing");
    const fail = (why: string) => {
      throw new HostileWheelError(
        wheel,
        "local-header-mismatch",
        `entry ${JSON.stringify(entry.name)}: the local header ${why} than the central directory`,
      );
    };
    if (local.name !== entry.name) fail(`names ${JSON.stringify(local.name)}, another file`);
    if (local.method !== entry.method) fail(`has another compression method (${local.method})`);
    if ((local.flags & 0x1) !== (entry.flags & 0x1)) fail("has another encryption flag");
    if (!(local.flags & 0x8)) {
      if (local.crc32 !== entry.crc32) fail("has another CRC-32");
      if (local.size !== entry.size || local.compressedSize !== entry.compressedSize) {
        fail(`has other sizes (${local.compressedSize}/${local.size})`);
      }
    }
    const end = local.dataStart + entry.compressedSize;
    if (end > centralDirectoryOffset) {
      throw new HostileWheelError(
        wheel,
        "data-outside-archive",
        `the data of entry ${JSON.stringify(entry.name)} runs past the end of the archive's entries`,
      );
    }
    spans.push([entry.localHeaderOffset, end, entry.name, (local.flags & 0x8) !== 0]);
  });
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    const prev = spans[i - 1];
    const cur = spans[i];
    if (prev !== undefined && cur !== undefined && cur[0] < prev[1]) {
      throw new HostileWheelError(
        wheel,
        "overlapping-entries",
        `entries ${JSON.stringify(prev[2])} and ${JSON.stringify(cur[2])} share bytes`,
      );
    }
  }
  // Every byte before the central directory belongs to a listed entry (a data descriptor
  // may follow an entry that has one): a hidden local entry is what another reader — one
  // that walks local headers — would install.
  const unlisted = (from: number, to: number) => {
    throw new HostileWheelError(
      wheel,
      "unlisted-data",
      `bytes ${from}–${to} of the archive belong to no entry of the central directory`,
    );
  };
  let at = 0;
  spans.forEach(([start, end, , descriptor], i) => {
    if (start !== at) unlisted(at, start);
    at = end;
    const next = spans[i + 1]?.[0] ?? centralDirectoryOffset;
    if (descriptor && DESCRIPTOR_SIZES.has(next - end)) at = next;
  });
  if (at !== centralDirectoryOffset) unlisted(at, centralDirectoryOffset);
}

/** A data descriptor: CRC and 32- or 64-bit sizes, with or without its signature. */
const DESCRIPTOR_SIZES: ReadonlySet<number> = new Set([12, 16, 20, 24]);

/**
 * Where files may be: top-level packages and modules, one `<name>-<version>.dist-info/`,
 * and `<name>-<version>.data/<scheme>/…` for the five schemes. Returns the dist-info name.
 */
export function checkPlaces(
  wheel: string,
  entries: readonly ZipEntry[],
  name: string,
  version: Version,
): string {
  const distInfos = new Set<string>();
  for (const entry of entries) {
    const slash = entry.name.indexOf("/");
    const top = slash === -1 ? entry.name : entry.name.slice(0, slash);
    if (slash !== -1 && top.endsWith(".dist-info")) distInfos.add(top);
  }
  const found = [...distInfos];
  if (found.length === 0) {
    throw new HostileWheelError(wheel, "no-dist-info", "it has no .dist-info directory");
  }
  if (found.length > 1) {
    throw new HostileWheelError(
      wheel,
      "second-dist-info",
      `it has more than one .dist-info directory (${found.sort().join(", ")})`,
    );
  }
  const distInfo = found[0] as string;
  if (!sameProject(distInfo, ".dist-info", name, version)) {
    throw new HostileWheelError(
      wheel,
      "dist-info-name",
      `its ${distInfo} directory does not match the filename's project ${name} ${version}`,
    );
  }
  const dataDir = `${distInfo.slice(0, -".dist-info".length)}.data`;
  for (const entry of entries) {
    const parts = entry.name.split("/");
    const top = parts[0] ?? "";
    const isDir = entry.name.endsWith("/");
    const outside = (why: string) => {
      throw new HostileWheelError(
        wheel,
        "outside-allowed-places",
        `entry ${JSON.stringify(entry.name)} ${why}`,
      );
    };
    if (parts.length === 1 && (top.endsWith(".dist-info") || top.endsWith(".data"))) {
      outside("is a top-level file named like a metadata directory");
    }
    if (top.endsWith(".data") && parts.length > 1) {
      if (top !== dataDir) outside(`is in a .data directory other than ${dataDir}`);
      const scheme = parts[1] ?? "";
      if (scheme === "" && isDir) continue;
      if (!DATA_SCHEMES.has(scheme)) {
        outside(`is in ${top}/${scheme}, not one of ${[...DATA_SCHEMES].join(", ")}`);
      }
      if (parts.length === 2 && !isDir) outside(`is a file where the ${scheme} folder should be`);
    }
  }
  return distInfo;
}

/** The executable bit of a zip entry (any x bit in its Unix mode). */
export function entryIsExecutable(entry: ZipEntry): boolean {
  return (unixMode(entry) & 0o111) !== 0;
}

/** `python`, `python3`, `python3.X` (`python3.Xt`): the names of an env's own launchers. */
export function isLauncherName(name: string): boolean {
  return /^python(3(\.\d+t?)?)?$/.test(foldKey(name));
}

/**
 * Paths slimenv owns in some layout, which no wheel may claim (in any layout, so a wheel is
 * stored or refused once, whatever env it later goes to): any `.slimenv` folder or `_slimenv*`
 * name; the launchers `bin/python*` (scripts, data `bin/`, and a top-level `bin/` — the target
 * layout's scripts dir); the env manifest `manifest.json` and `pyvenv.cfg` at the data root
 * (the root of a prefix or venv generation).
 */
export function checkSlimenvPaths(wheel: string, entries: readonly ZipEntry[], distInfo: string) {
  const dataDir = `${distInfo.slice(0, -".dist-info".length)}.data`;
  for (const entry of entries) {
    if (entry.name.endsWith("/")) continue;
    const parts = entry.name.split("/");
    const folded = parts.map(foldKey);
    const claim = (what: string): never => {
      throw new HostileWheelError(
        wheel,
        "slimenv-path",
        `entry ${JSON.stringify(entry.name)} claims ${what}, which slimenv owns in an environment`,
      );
    };
    if (folded.some((p) => p === ".slimenv" || p.startsWith("_slimenv"))) {
      claim("a .slimenv/_slimenv name");
    }
    const launcherIn = (rest: readonly string[]) =>
      rest.length === 2 && rest[0] === "bin" && isLauncherName(rest[1] ?? "");
    if (parts[0] === dataDir) {
      const scheme = parts[1];
      const rest = folded.slice(2);
      if (scheme === "scripts" && rest.length === 1 && isLauncherName(rest[0] ?? "")) {
        claim("an environment launcher");
      }
      if (scheme === "data") {
        if (rest.length === 1 && (rest[0] === "manifest.json" || rest[0] === "pyvenv.cfg")) {
          claim("the environment's own metadata");
        }
        if (launcherIn(rest)) claim("an environment launcher");
      }
      if ((scheme === "purelib" || scheme === "platlib") && launcherIn(rest)) {
        claim("an environment launcher");
      }
      continue;
    }
    if (launcherIn(folded)) claim("an environment launcher");
  }
}

/**
 * console_scripts and gui_scripts names, read leniently line by line (a stricter reader runs
 * at install): a name that is a path, or an env launcher's name, refuses the wheel.
 */
export function checkScriptNames(wheel: string, entryPoints: string): void {
  let group = "";
  for (const raw of entryPoints.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.startsWith("[")) {
      group = line.endsWith("]") ? line.slice(1, -1).trim() : "";
      continue;
    }
    if (group !== "console_scripts" && group !== "gui_scripts") continue;
    const eq = line.indexOf("=");
    if (eq === -1) continue;
    const name = line.slice(0, eq).trim();
    if (
      name === "" ||
      name === "." ||
      name === ".." ||
      /[/\\]/.test(name) ||
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the point
      /[\u0000-\u001f\u007f]/.test(name)
    ) {
      throw new HostileWheelError(
        wheel,
        "script-name",
        `${group} entry ${JSON.stringify(name)} is not a usable script name (it would be a path)`,
      );
    }
    if (isLauncherName(name)) {
      throw new HostileWheelError(
        wheel,
        "slimenv-path",
        `${group} entry ${JSON.stringify(name)} would replace an environment launcher`,
      );
    }
  }
}
