/**
 * Byte-level edits of a zip for hostile-wheel tests: find an entry's central and local
 * headers (no ZIP64, no comment) and change fields in one or both, so the central directory
 * and the local headers disagree, entries overlap, or names collide.
 */
export interface EntryHeaders {
  /** Offset of the central directory header. */
  central: number;
  /** Offset of the local header. */
  local: number;
  nameLength: number;
}

function dv(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function findHeaders(bytes: Uint8Array, name: string): EntryHeaders {
  const v = dv(bytes);
  const eocd = bytes.length - 22;
  if (v.getUint32(eocd, true) !== 0x06054b50) throw new Error("no plain EOCD at the end");
  const count = v.getUint16(eocd + 10, true);
  let p = v.getUint32(eocd + 16, true);
  const decoder = new TextDecoder();
  for (let i = 0; i < count; i++) {
    const nameLength = v.getUint16(p + 28, true);
    const extra = v.getUint16(p + 30, true);
    const comment = v.getUint16(p + 32, true);
    const entryName = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLength));
    if (entryName === name) {
      return { central: p, local: v.getUint32(p + 42, true), nameLength };
    }
    p += 46 + nameLength + extra + comment;
  }
  throw new Error(`no entry ${name}`);
}

export type Where = "central" | "local" | "both";

/** Rename an entry (same byte length) in the central directory, the local header, or both. */
export function renameEntry(bytes: Uint8Array, from: string, to: string, where: Where): Uint8Array {
  const out = bytes.slice();
  const h = findHeaders(out, from);
  const enc = new TextEncoder().encode(to);
  if (enc.length !== h.nameLength) throw new Error("renameEntry needs a name of the same length");
  if (where !== "local") out.set(enc, h.central + 46);
  if (where !== "central") out.set(enc, h.local + 30);
  return out;
}

export interface FieldEdit {
  flags?: number;
  method?: number;
  crc?: number;
  compressedSize?: number;
  size?: number;
}

/** Set header fields of an entry in the central directory, the local header, or both. */
export function editEntry(
  bytes: Uint8Array,
  name: string,
  edit: FieldEdit,
  where: Where,
): Uint8Array {
  const out = bytes.slice();
  const v = dv(out);
  const h = findHeaders(out, name);
  // [central offset, local offset] of each field
  const fields: Record<keyof FieldEdit, [number, number, 2 | 4]> = {
    flags: [8, 6, 2],
    method: [10, 8, 2],
    crc: [16, 14, 4],
    compressedSize: [20, 18, 4],
    size: [24, 22, 4],
  };
  for (const [field, value] of Object.entries(edit) as [keyof FieldEdit, number][]) {
    const [c, l, width] = fields[field];
    const set = (at: number) =>
      width === 2 ? v.setUint16(at, value, true) : v.setUint32(at, value >>> 0, true);
    if (where !== "local") set(h.central + c);
    if (where !== "central") set(h.local + l);
  }
  return out;
}

/** The central directory's fields of an entry. */
export function centralFields(bytes: Uint8Array, name: string): Required<FieldEdit> {
  const v = dv(bytes);
  const h = findHeaders(bytes, name);
  return {
    flags: v.getUint16(h.central + 8, true),
    method: v.getUint16(h.central + 10, true),
    crc: v.getUint32(h.central + 16, true),
    compressedSize: v.getUint32(h.central + 20, true),
    size: v.getUint32(h.central + 24, true),
  };
}

/** The central directory entries of a plain (no ZIP64, no comment) zip, as byte slices. */
function centralEntries(bytes: Uint8Array): { entries: Uint8Array[]; cdOffset: number } {
  const v = dv(bytes);
  const eocd = bytes.length - 22;
  if (v.getUint32(eocd, true) !== 0x06054b50) throw new Error("no plain EOCD at the end");
  const count = v.getUint16(eocd + 10, true);
  const cdOffset = v.getUint32(eocd + 16, true);
  const entries: Uint8Array[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    const len =
      46 + v.getUint16(p + 28, true) + v.getUint16(p + 30, true) + v.getUint16(p + 32, true);
    entries.push(bytes.slice(p, p + len));
    p += len;
  }
  return { entries, cdOffset };
}

/** Move an entry's central directory record to the end of the central directory. */
export function moveCentralLast(bytes: Uint8Array, name: string): Uint8Array {
  const { entries, cdOffset } = centralEntries(bytes);
  const decoder = new TextDecoder();
  const nameOf = (e: Uint8Array) => decoder.decode(e.subarray(46, 46 + dv(e).getUint16(28, true)));
  const i = entries.findIndex((e) => nameOf(e) === name);
  if (i === -1) throw new Error(`no entry ${name}`);
  const [moved] = entries.splice(i, 1);
  entries.push(moved as Uint8Array);
  const out = bytes.slice();
  let p = cdOffset;
  for (const e of entries) {
    out.set(e, p);
    p += e.length;
  }
  return out;
}

/**
 * Rewrite a plain zip's end as ZIP64: a ZIP64 end record and its locator before an end
 * record whose fields say "see ZIP64". `zip64Count`/`plainCount` bend the entry counts.
 */
export function toZip64(
  bytes: Uint8Array,
  bend: { zip64Count?: number; plainCount?: number } = {},
): Uint8Array {
  const v = dv(bytes);
  const eocd = bytes.length - 22;
  if (v.getUint32(eocd, true) !== 0x06054b50) throw new Error("no plain EOCD at the end");
  const count = v.getUint16(eocd + 10, true);
  const cdSize = v.getUint32(eocd + 12, true);
  const cdOffset = v.getUint32(eocd + 16, true);
  const out = new Uint8Array(eocd + 56 + 20 + 22);
  out.set(bytes.subarray(0, eocd));
  const o = dv(out);
  const rec = eocd;
  const n = BigInt(bend.zip64Count ?? count);
  o.setUint32(rec, 0x06064b50, true);
  o.setBigUint64(rec + 4, 44n, true);
  o.setUint16(rec + 12, 45, true);
  o.setUint16(rec + 14, 45, true);
  o.setUint32(rec + 16, 0, true);
  o.setUint32(rec + 20, 0, true);
  o.setBigUint64(rec + 24, n, true);
  o.setBigUint64(rec + 32, n, true);
  o.setBigUint64(rec + 40, BigInt(cdSize), true);
  o.setBigUint64(rec + 48, BigInt(cdOffset), true);
  const loc = rec + 56;
  o.setUint32(loc, 0x07064b50, true);
  o.setUint32(loc + 4, 0, true);
  o.setBigUint64(loc + 8, BigInt(rec), true);
  o.setUint32(loc + 16, 1, true);
  const end = loc + 20;
  o.setUint32(end, 0x06054b50, true);
  const plain = bend.plainCount ?? 0xffff;
  o.setUint16(end + 8, plain, true);
  o.setUint16(end + 10, plain, true);
  o.setUint32(end + 12, 0xffffffff, true);
  o.setUint32(end + 16, 0xffffffff, true);
  return out;
}

/** Set the entry counts of a plain zip's end record. */
export function setPlainCount(bytes: Uint8Array, count: number): Uint8Array {
  const out = bytes.slice();
  const v = dv(out);
  const eocd = out.length - 22;
  v.setUint16(eocd + 8, count, true);
  v.setUint16(eocd + 10, count, true);
  return out;
}

/**
 * Drop an entry from the central directory (counts and size fixed): its local header and data
 * stay where they were — an entry only a reader that walks local headers would see.
 */
export function dropCentralEntry(bytes: Uint8Array, name: string): Uint8Array {
  const { entries, cdOffset } = centralEntries(bytes);
  const decoder = new TextDecoder();
  const kept = entries.filter(
    (e) => decoder.decode(e.subarray(46, 46 + dv(e).getUint16(28, true))) !== name,
  );
  if (kept.length === entries.length) throw new Error(`no entry ${name}`);
  const cdSize = kept.reduce((sum, e) => sum + e.length, 0);
  const out = new Uint8Array(cdOffset + cdSize + 22);
  out.set(bytes.subarray(0, cdOffset));
  let p = cdOffset;
  for (const e of kept) {
    out.set(e, p);
    p += e.length;
  }
  out.set(bytes.subarray(bytes.length - 22), p);
  const v = dv(out);
  v.setUint16(p + 8, kept.length, true);
  v.setUint16(p + 10, kept.length, true);
  v.setUint32(p + 12, cdSize, true);
  return out;
}
