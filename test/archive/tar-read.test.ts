import { describe, expect, it } from "vitest";
import { findTarFiles } from "../../src/archive/tar-read.ts";
import { thrown } from "../helpers/errors.ts";

const enc = new TextEncoder();

/** One tar header block (+ padded data) with the given name, type and data. */
function entry(name: string, type: string, data: Uint8Array, prefix = ""): Uint8Array {
  const header = new Uint8Array(512);
  const put = (offset: number, text: string) => header.set(enc.encode(text), offset);
  put(0, name);
  put(100, "0000644\0");
  put(124, `${data.length.toString(8).padStart(11, "0")}\0`);
  put(136, "00000000000\0");
  put(148, "        ");
  put(156, type);
  put(257, "ustar\x0000");
  put(345, prefix);
  const sum = header.reduce((a, b) => a + b, 0);
  put(148, `${sum.toString(8).padStart(6, "0")}\0 `);
  const out = new Uint8Array(512 + Math.ceil(data.length / 512) * 512);
  out.set(header);
  out.set(data, 512);
  return out;
}

function pax(records: Record<string, string>): Uint8Array {
  let text = "";
  for (const [k, v] of Object.entries(records)) {
    const body = ` ${k}=${v}\n`;
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    text += `${len}${body}`;
  }
  return enc.encode(text);
}

function tar(...blocks: Uint8Array[]): Uint8Array {
  const all = [...blocks, new Uint8Array(1024)];
  const out = new Uint8Array(all.reduce((n, b) => n + b.length, 0));
  let p = 0;
  for (const b of all) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

describe("findTarFiles", () => {
  it("reads ustar prefixes, pax paths and GNU long names", () => {
    const longDir = `pkg-1.0/${"d".repeat(120)}`;
    const archive = tar(
      entry("PKG-INFO", "0", enc.encode("one"), "pkg-1.0"),
      entry("ignored", "x", pax({ path: `${longDir}/PKG-INFO` })),
      entry("short-name", "0", enc.encode("two")),
      entry("././@LongLink", "L", enc.encode(`${longDir}/setup.py\0`)),
      entry("trunc", "0", enc.encode("three")),
      entry("./pkg-1.0/dir/", "5", new Uint8Array(0)),
    );
    const all = findTarFiles(archive, () => true, "a.tar");
    expect(all.map((f) => [f.path, decode(f.data)])).toEqual([
      ["pkg-1.0/PKG-INFO", "one"],
      [`${longDir}/PKG-INFO`, "two"],
      [`${longDir}/setup.py`, "three"],
    ]);
    expect(findTarFiles(archive, (p) => p === "pkg-1.0/PKG-INFO", "a.tar")).toHaveLength(1);
  });

  it("refuses bad checksums and truncated archives", () => {
    const good = tar(entry("pkg-1.0/PKG-INFO", "0", enc.encode("x".repeat(600))));
    const bad = Uint8Array.from(good);
    bad[0] = 0x41;
    const err = thrown(() => findTarFiles(bad, () => true, "https://u:pw@h/a.tar"));
    expect(err.code).toBe("INDEX_ERROR");
    expect(err.message).toBe(
      "unreadable tar archive https://h/a.tar: bad header checksum at offset 0",
    );
    const cut = thrown(() => findTarFiles(good.subarray(0, 700), () => true, "a.tar"));
    expect(cut.message).toContain("truncated archive");
  });
});
