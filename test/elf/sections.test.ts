/**
 * The ELF section-header reader (src/elf/sections.ts) against GNU readelf as the oracle:
 * gcc-built shared objects with and without -g, gnu-compressed .zdebug sections, 32-bit
 * objects, big-endian objects (llvm-mc, powerpc), synthetic files with extended section
 * numbering, and damaged files.
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  bytesReader,
  elfDebugBytes,
  hasElfMagic,
  isDebugSection,
  parseElf,
  readElfFile,
} from "../../src/elf/index.ts";
import { thrown } from "../helpers/errors.ts";
import { BINUTILS, describeWith, GCC } from "../helpers/prereq.ts";
import {
  buildNativeSamples,
  type NativeSamples,
  readelfDebugBytes,
  readelfSections,
  sampleOrSkip,
  tempDir,
} from "../report/fixtures.ts";

interface SynthSection {
  name: string;
  type?: number;
  size: number;
}

/**
 * A synthetic ELF file: header, section contents, section-name table, section header table.
 * `extended` puts the section count and string-table index in section 0 (as for 0xff00+
 * sections).
 */
function synthElf(
  sections: SynthSection[],
  opts: { bits?: 32 | 64; little?: boolean; extended?: boolean } = {},
) {
  const bits = opts.bits ?? 64;
  const little = opts.little ?? true;
  const names = ["", ...sections.map((s) => s.name), ".shstrtab"];
  const nameOffsets: number[] = [];
  let strtab = "";
  for (const n of names) {
    nameOffsets.push(strtab.length);
    strtab += `${n}\0`;
  }
  const headerSize = bits === 64 ? 64 : 52;
  const entry = bits === 64 ? 64 : 40;
  let offset = headerSize;
  const placed = sections.map((s) => {
    const at = offset;
    if (s.type !== 8) offset += s.size;
    return { ...s, offset: at };
  });
  const strOffset = offset;
  offset += strtab.length;
  const shoff = offset;
  const shnum = names.length;
  const total = shoff + shnum * entry;
  const buf = new Uint8Array(total);
  const dv = new DataView(buf.buffer);
  buf.set([0x7f, 0x45, 0x4c, 0x46, bits === 64 ? 2 : 1, little ? 1 : 2, 1]);
  dv.setUint16(16, 3, little);
  dv.setUint16(18, 62, little);
  const word = (o: number, v: number) =>
    bits === 64 ? dv.setBigUint64(o, BigInt(v), little) : dv.setUint32(o, v, little);
  word(bits === 64 ? 0x28 : 0x20, shoff);
  dv.setUint16(bits === 64 ? 0x3a : 0x2e, entry, little);
  dv.setUint16(bits === 64 ? 0x3c : 0x30, opts.extended ? 0 : shnum, little);
  dv.setUint16(bits === 64 ? 0x3e : 0x32, opts.extended ? 0xffff : shnum - 1, little);
  buf.set(new TextEncoder().encode(strtab), strOffset);
  const rows = [
    {
      nameOff: 0,
      type: 0,
      offset: 0,
      size: opts.extended ? shnum : 0,
      link: opts.extended ? shnum - 1 : 0,
    },
    ...placed.map((s, i) => ({
      nameOff: nameOffsets[i + 1] ?? 0,
      type: s.type ?? 1,
      offset: s.offset,
      size: s.size,
      link: 0,
    })),
    {
      nameOff: nameOffsets[shnum - 1] ?? 0,
      type: 3,
      offset: strOffset,
      size: strtab.length,
      link: 0,
    },
  ];
  rows.forEach((r, i) => {
    const b = shoff + i * entry;
    dv.setUint32(b, r.nameOff, little);
    dv.setUint32(b + 4, r.type, little);
    word(b + (bits === 64 ? 24 : 16), r.offset);
    word(b + (bits === 64 ? 32 : 20), r.size);
    dv.setUint32(b + (bits === 64 ? 40 : 24), r.link, little);
  });
  return buf;
}

describeWith(GCC, BINUTILS)("ELF files built by gcc and llvm-mc, against readelf", () => {
  let samples: NativeSamples;
  beforeAll(() => {
    samples = buildNativeSamples(path.join(tempDir("elf"), "native"));
  });

  const cases: [string, keyof NativeSamples, { bits: number; endian: string }][] = [
    ["gcc -g shared object (64-bit LE)", "debugSo", { bits: 64, endian: "little" }],
    ["gcc -g0 shared object", "plainSo", { bits: 64, endian: "little" }],
    ["gcc -g with .zdebug_* sections", "zdebugSo", { bits: 64, endian: "little" }],
    ["gcc -m32 -g object (32-bit LE)", "debug32", { bits: 32, endian: "little" }],
    ["llvm-mc -g powerpc64 object (64-bit BE)", "bigEndian64", { bits: 64, endian: "big" }],
    ["llvm-mc -g powerpc object (32-bit BE)", "bigEndian32", { bits: 32, endian: "big" }],
  ];
  for (const [label, pick, want] of cases) {
    it(label, (ctx) => {
      const file = sampleOrSkip(ctx, samples, pick);
      const size = statSync(file).size;
      const info = readElfFile(file, size);
      expect({ bits: info.bits, endian: info.endian }).toEqual(want);
      // Every section as readelf lists it: name, type (NOBITS), offset, size.
      const oracle = readelfSections(file);
      expect(
        info.sections.map((s, i) => ({ index: i, name: s.name, offset: s.offset, size: s.size })),
      ).toEqual(
        oracle.map((s) => ({ index: s.index, name: s.name, offset: s.offset, size: s.size })),
      );
      expect(info.sections.map((s) => s.type === 8)).toEqual(
        oracle.map((s) => s.type === "NOBITS"),
      );
      expect(elfDebugBytes(info, size)).toBe(readelfDebugBytes(file));
    });
  }

  it("a -g build carries debug bytes, the -g0 build of the same source none", () => {
    const g = readElfFile(samples.debugSo, statSync(samples.debugSo).size);
    const g0 = readElfFile(samples.plainSo, statSync(samples.plainSo).size);
    expect(elfDebugBytes(g)).toBeGreaterThan(500);
    expect(g.sections.some((s) => s.name === ".debug_info")).toBe(true);
    expect(elfDebugBytes(g0)).toBe(0);
    expect(g.type).toBe(3); // ET_DYN
    expect(g.machine).toBe(62); // x86-64
  });

  it("reads from bytes in memory the same as from the file", () => {
    const bytes = new Uint8Array(readFileSync(samples.debugSo));
    expect(parseElf(bytesReader(bytes), bytes.length)).toEqual(
      readElfFile(samples.debugSo, bytes.length),
    );
  });
});

describe("synthetic ELF files", () => {
  const sections: SynthSection[] = [
    { name: ".text", size: 100 },
    { name: ".debug_info", size: 300 },
    { name: ".zdebug_line", size: 40 },
    { name: ".gnu.debuglto_.debug_info", size: 7 },
    { name: ".bss", type: 8, size: 5000 },
    { name: ".debug_fake_nobits", type: 8, size: 999 },
    { name: ".rodata.debug_like", size: 11 },
  ];

  for (const bits of [32, 64] as const) {
    for (const little of [true, false]) {
      for (const extended of [false, true]) {
        it(`${bits}-bit ${little ? "little" : "big"} endian${extended ? ", extended numbering" : ""}`, () => {
          const bytes = synthElf(sections, { bits, little, extended });
          const info = parseElf(bytesReader(bytes), bytes.length);
          expect(info.sections.map((s) => s.name)).toEqual([
            "",
            ...sections.map((s) => s.name),
            ".shstrtab",
          ]);
          expect(info.sections[2]).toMatchObject({
            name: ".debug_info",
            size: 300,
            offset: (bits === 64 ? 64 : 52) + 100,
          });
          // .debug_info + .zdebug_line + .gnu.debuglto_…; NOBITS and look-alikes do not count.
          expect(elfDebugBytes(info, bytes.length)).toBe(347);
        });
      }
    }
  }

  it("names debug sections", () => {
    expect(
      [".debug_info", ".debug_str", ".zdebug_abbrev", ".gnu.debuglto_.debug_line"].every(
        isDebugSection,
      ),
    ).toBe(true);
    expect(
      [".text", ".rela.debug_info", ".symtab", ".gnu_debuglink", ""].some(isDebugSection),
    ).toBe(false);
  });

  it("a file with no section header table has no sections", () => {
    const bytes = synthElf([{ name: ".debug_info", size: 10 }]);
    new DataView(bytes.buffer).setBigUint64(0x28, 0n, true);
    expect(parseElf(bytesReader(bytes), bytes.length).sections).toEqual([]);
  });

  it("clamps debug bytes to the file", () => {
    const info = parseElf(bytesReader(synthElf([{ name: ".debug_info", size: 300 }])), 10_000);
    expect(elfDebugBytes(info, 200)).toBeLessThanOrEqual(200);
  });

  it("tells the magic", () => {
    expect(hasElfMagic(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2]))).toBe(true);
    expect(hasElfMagic(new Uint8Array([0x7f, 0x45, 0x4c]))).toBe(false);
    expect(hasElfMagic(new TextEncoder().encode("#!/bin/sh"))).toBe(false);
  });

  describe("damaged files give INVALID_ELF", () => {
    const good = synthElf(sections);
    const damage = (edit: (b: Uint8Array, dv: DataView) => Uint8Array | undefined) => {
      const copy = good.slice();
      return edit(copy, new DataView(copy.buffer)) ?? copy;
    };
    const cases: [string, Uint8Array, RegExp][] = [
      ["not ELF at all", new TextEncoder().encode("just some text, long enough"), /no ELF magic/],
      ["a truncated header", good.subarray(0, 30), /ELF header is truncated/],
      [
        "an unknown class",
        damage((b) => {
          b[4] = 3;
          return undefined;
        }),
        /unknown ELF class 3/,
      ],
      [
        "an unknown data encoding",
        damage((b) => {
          b[5] = 9;
          return undefined;
        }),
        /unknown ELF data encoding 9/,
      ],
      [
        "a section table past the end",
        damage((_b, dv) => {
          dv.setBigUint64(0x28, 1_000_000n, true);
          return undefined;
        }),
        /past the end of the file/,
      ],
      ["a cut-off section table", good.subarray(0, good.length - 10), /past the end of the file/],
      [
        "a small section header size",
        damage((_b, dv) => {
          dv.setUint16(0x3a, 20, true);
          return undefined;
        }),
        /section header size 20 is below 64/,
      ],
      [
        "a string-table index out of range",
        damage((_b, dv) => {
          dv.setUint16(0x3e, 200, true);
          return undefined;
        }),
        /index 200 is out of range/,
      ],
      [
        "an impossible offset",
        damage((_b, dv) => {
          dv.setBigUint64(0x28, 2n ** 60n, true);
          return undefined;
        }),
        /too large/,
      ],
    ];
    for (const [label, bytes, message] of cases) {
      it(label, () => {
        const err = thrown(() => parseElf(bytesReader(bytes), bytes.length, "x.so"));
        expect(err.code).toBe("INVALID_ELF");
        expect(err.message).toMatch(/^x\.so: /);
        expect(err.message).toMatch(message);
      });
    }
    it("a file that cannot be opened is IO_ERROR", () => {
      expect(thrown(() => readElfFile("/nonexistent/x.so", 100)).code).toBe("IO_ERROR");
    });
  });
});
