/**
 * A small, deterministic zip writer for the archives slimming puts into an env (sources
 * for tracebacks, pure-Python code on sys.path). Entries are sorted by name, every entry has
 * the DOS time 1980-01-01 00:00, deflate level 9 (stored when that is not smaller): the same
 * files always give the same bytes. No zip64: an archive over 4 GiB or 65535 entries is
 * refused. zipimport and zipfile read what it writes. Options keep the given order and store
 * every entry (bundles: their members are already compressed, and their order is the format).
 */
import { crc32, deflateRawSync } from "node:zlib";
import { SlimenvError } from "../base/index.ts";

export interface ZipInput {
  /** `/`-separated path inside the archive. */
  name: string;
  data: Uint8Array;
  /**
   * Unix permission bits recorded for the entry (default 0o644; 0o755 keeps it executable),
   * with a file type (`0o120000`: a symlink, whose data is its target) or none (a file).
   */
  mode?: number;
}

const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01
const DOS_TIME = 0;
const LIMIT = 0xffffffff;

export interface ZipWriteOptions {
  /** Sort entries by name (default true); false keeps the given order. */
  sort?: boolean;
  /** Never deflate: every entry STORED (default false: deflate where smaller). */
  storeOnly?: boolean;
}

export function writeZip(inputs: readonly ZipInput[], options: ZipWriteOptions = {}): Uint8Array {
  const entries =
    options.sort === false
      ? [...inputs]
      : [...inputs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (entries.length > 0xffff) {
    throw new SlimenvError("SLIM_FAILED", `a zip of ${entries.length} entries needs zip64`);
  }
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.name)) {
      throw new SlimenvError("INTERNAL", `zip entry ${entry.name} given twice`);
    }
    seen.add(entry.name);
    const name = Buffer.from(entry.name, "utf8");
    const crc = crc32(entry.data);
    const deflated = options.storeOnly ? undefined : deflateRawSync(entry.data, { level: 9 });
    const stored = deflated === undefined || deflated.length >= entry.data.length;
    const body = stored ? Buffer.from(entry.data) : deflated;
    if (entry.data.length > LIMIT || offset > LIMIT) {
      throw new SlimenvError("SLIM_FAILED", "a zip over 4 GiB needs zip64");
    }
    const flags = /[^\x20-\x7e]/.test(entry.name) ? 0x0800 : 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(stored ? 0 : 8, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(stored ? 0 : 8, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(
      ((((entry.mode ?? 0) & 0o170000 || 0o100000) | ((entry.mode ?? 0o644) & 0o777)) << 16) >>> 0,
      38,
    );
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const centralStart = offset;
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  if (centralStart + centralSize > LIMIT) {
    throw new SlimenvError("SLIM_FAILED", "a zip over 4 GiB needs zip64");
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(centralStart, 16);
  return new Uint8Array(Buffer.concat([...locals, ...centrals, end]));
}
