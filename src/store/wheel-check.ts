/**
 * The structural rules a wheel must pass before any of its bytes are written: safe paths,
 * regular files only, no duplicates (also none that differ only by case or Unicode
 * normalization, which would collide on macOS and Windows), files only in the places the
 * wheel specification allows, zip-bomb limits, and central directory entries that agree with
 * their local headers and do not overlap (where files may be and which names they may not
 * claim: wheel-places.ts). Everything here works on the directory alone.
 */
import type { ZipLocalHeader } from "../archive/zip-local.ts";
import type { ZipEntry } from "../archive/zip-read.ts";
import { type HostileRule, HostileWheelError } from "./hostile.ts";
import type { WheelLimits } from "./types.ts";

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

const ASCII = /^[ -~]*$/;

/**
 * The key under which two names collide on a case-insensitive file system: NFC, then full
 * case folding. JavaScript has no casefold(); upper- then lower-casing folds at least as much
 * (ß → ss, ﬁ → fi, K (Kelvin) → k), and final sigma ς, which lower-casing keeps, becomes σ.
 */
export function foldKey(name: string): string {
  // printable ASCII (nearly every path): NFC changes nothing, lower-casing folds fully
  if (ASCII.test(name)) return name.toLowerCase();
  return name.normalize("NFC").toUpperCase().toLowerCase().replace(/ς/g, "σ").normalize("NFC");
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

/** The executable bit of a zip entry (any x bit in its Unix mode). */
export function entryIsExecutable(entry: ZipEntry): boolean {
  return (unixMode(entry) & 0o111) !== 0;
}
