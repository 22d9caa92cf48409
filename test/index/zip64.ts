/**
 * A tiny ZIP64 writer for tests (fflate writes no ZIP64): stored entries whose sizes and
 * offsets all live in ZIP64 extra fields, a ZIP64 end record and locator, and an end record
 * holding 0xFFFF / 0xFFFFFFFF placeholders.
 */
import { crc32 } from "node:zlib";

export function zip64(entries: readonly (readonly [string, Uint8Array])[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const push = (b: Uint8Array) => {
    parts.push(b);
    offset += b.length;
  };
  for (const [name, data] of entries) {
    const nameBytes = new TextEncoder().encode(name);
    const crc = crc32(data) >>> 0;
    const local = new DataView(new ArrayBuffer(30 + nameBytes.length + 20));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 45, true);
    local.setUint16(6, 0x800, true);
    local.setUint16(8, 0, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, 0xffffffff, true);
    local.setUint32(22, 0xffffffff, true);
    local.setUint16(26, nameBytes.length, true);
    local.setUint16(28, 20, true);
    new Uint8Array(local.buffer).set(nameBytes, 30);
    const le = 30 + nameBytes.length;
    local.setUint16(le, 0x0001, true);
    local.setUint16(le + 2, 16, true);
    local.setBigUint64(le + 4, BigInt(data.length), true);
    local.setBigUint64(le + 12, BigInt(data.length), true);
    const localOffset = offset;
    push(new Uint8Array(local.buffer));
    push(data);

    const cd = new DataView(new ArrayBuffer(46 + nameBytes.length + 28));
    cd.setUint32(0, 0x02014b50, true);
    cd.setUint16(4, 45 | (3 << 8), true);
    cd.setUint16(6, 45, true);
    cd.setUint16(8, 0x800, true);
    cd.setUint16(10, 0, true);
    cd.setUint32(16, crc, true);
    cd.setUint32(20, 0xffffffff, true);
    cd.setUint32(24, 0xffffffff, true);
    cd.setUint16(28, nameBytes.length, true);
    cd.setUint16(30, 28, true);
    cd.setUint32(38, (0o100644 << 16) >>> 0, true);
    cd.setUint32(42, 0xffffffff, true);
    new Uint8Array(cd.buffer).set(nameBytes, 46);
    const ce = 46 + nameBytes.length;
    cd.setUint16(ce, 0x0001, true);
    cd.setUint16(ce + 2, 24, true);
    cd.setBigUint64(ce + 4, BigInt(data.length), true);
    cd.setBigUint64(ce + 12, BigInt(data.length), true);
    cd.setBigUint64(ce + 20, BigInt(localOffset), true);
    central.push(new Uint8Array(cd.buffer));
  }
  const cdOffset = offset;
  for (const c of central) push(c);
  const cdSize = offset - cdOffset;
  const z64At = offset;
  const rec = new DataView(new ArrayBuffer(56));
  rec.setUint32(0, 0x06064b50, true);
  rec.setBigUint64(4, 44n, true);
  rec.setUint16(12, 45, true);
  rec.setUint16(14, 45, true);
  rec.setBigUint64(24, BigInt(entries.length), true);
  rec.setBigUint64(32, BigInt(entries.length), true);
  rec.setBigUint64(40, BigInt(cdSize), true);
  rec.setBigUint64(48, BigInt(cdOffset), true);
  push(new Uint8Array(rec.buffer));
  const loc = new DataView(new ArrayBuffer(20));
  loc.setUint32(0, 0x07064b50, true);
  loc.setBigUint64(8, BigInt(z64At), true);
  loc.setUint32(16, 1, true);
  push(new Uint8Array(loc.buffer));
  const eocd = new DataView(new ArrayBuffer(22));
  eocd.setUint32(0, 0x06054b50, true);
  eocd.setUint16(8, 0xffff, true);
  eocd.setUint16(10, 0xffff, true);
  eocd.setUint32(12, 0xffffffff, true);
  eocd.setUint32(16, 0xffffffff, true);
  push(new Uint8Array(eocd.buffer));
  const out = new Uint8Array(offset);
  let p = 0;
  for (const b of parts) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}
