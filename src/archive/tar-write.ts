/**
 * A deterministic tar writer: ustar headers (pax `x` records for long or non-ASCII paths and
 * sizes past 8 GiB), mtime 0, uid/gid 0, no user/group names, regular files and directories
 * only. Entries are sorted by path unless the caller fixes the order (a bundle's members are
 * in a specified order).
 */

export interface TarEntry {
  path: string;
  /** Absent for a directory. */
  data?: Uint8Array;
  /** Permission bits; default 0o644 for files, 0o755 for directories. */
  mode?: number;
}

export interface TarWriteOptions {
  /** Sort entries by path (default true). */
  sort?: boolean;
}

const enc = new TextEncoder();

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

function put(header: Uint8Array, offset: number, text: string): void {
  header.set(enc.encode(text), offset);
}

function paxRecord(key: string, value: string): Uint8Array {
  const body = `${key}=${value}\n`;
  const bodyLen = enc.encode(body).length;
  let len = bodyLen + 2;
  while (String(len).length + 1 + bodyLen !== len) len = String(len).length + 1 + bodyLen;
  return enc.encode(`${len} ${body}`);
}

/** Split a path into ustar (prefix, name), or null when it does not fit. */
function splitUstar(path: string): [string, string] | null {
  if (!/^[\x20-\x7e]*$/.test(path)) return null;
  if (path.length <= 100) return ["", path];
  for (let i = path.indexOf("/"); i >= 0; i = path.indexOf("/", i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (prefix.length <= 155 && name.length <= 100 && name.length > 0) return [prefix, name];
  }
  return null;
}

function header(name: string, prefix: string, size: number, mode: number, type: string) {
  const h = new Uint8Array(512);
  put(h, 0, name);
  put(h, 100, octal(mode, 8));
  put(h, 108, octal(0, 8));
  put(h, 116, octal(0, 8));
  put(h, 124, octal(size, 12));
  put(h, 136, octal(0, 12));
  put(h, 148, "        ");
  put(h, 156, type);
  put(h, 257, "ustar\u000000");
  put(h, 329, octal(0, 8));
  put(h, 337, octal(0, 8));
  put(h, 345, prefix);
  let sum = 0;
  for (const b of h) sum += b;
  put(h, 148, `${sum.toString(8).padStart(6, "0")}\0 `);
  return h;
}

function padded(data: Uint8Array): Uint8Array[] {
  const rest = data.length % 512;
  return rest === 0 ? [data] : [data, new Uint8Array(512 - rest)];
}

/** The tar archive of `entries` (two zero blocks at the end). */
export function writeTar(entries: readonly TarEntry[], options: TarWriteOptions = {}): Uint8Array {
  const list = [...entries];
  if (options.sort ?? true) list.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const parts: Uint8Array[] = [];
  for (const entry of list) {
    const isDir = entry.data === undefined;
    const path = isDir && !entry.path.endsWith("/") ? `${entry.path}/` : entry.path;
    const size = entry.data?.length ?? 0;
    const mode = (entry.mode ?? (isDir ? 0o755 : 0o644)) & 0o7777;
    const split = splitUstar(path);
    const pax: Uint8Array[] = [];
    if (split === null) pax.push(paxRecord("path", path));
    if (size >= 8 ** 11) pax.push(paxRecord("size", String(size)));
    if (pax.length > 0) {
      const body = Buffer.concat(pax);
      parts.push(header("././@PaxHeader", "", body.length, 0o644, "x"), ...padded(body));
    }
    const [prefix, name] = split ?? ["", path.slice(-100).replace(/[^\x20-\x7e]/g, "_")];
    parts.push(header(name, prefix, size >= 8 ** 11 ? 0 : size, mode, isDir ? "5" : "0"));
    if (entry.data !== undefined) parts.push(...padded(entry.data));
  }
  parts.push(new Uint8Array(1024));
  return new Uint8Array(Buffer.concat(parts));
}
