/**
 * The ELF header (src/elf/header.ts): class, byte order, type and machine of gcc-built and
 * llvm-mc-assembled files (64/32-bit, little and big endian), the machine as the wheel-tag
 * architecture, files that are not ELF; the same facts as the section reader's.
 */
import { statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { elfArch, parseElfHeader, readElfFile, readElfInfo } from "../../src/elf/index.ts";
import { normalizeArch } from "../../src/slim/strip/tool.ts";
import { thrown } from "../helpers/errors.ts";
import { describeWith, GCC } from "../helpers/prereq.ts";
import {
  buildNativeSamples,
  type NativeSamples,
  sampleOrSkip,
  tempDir,
} from "../report/fixtures.ts";

describeWith(GCC)("ELF headers of built files", () => {
  let dir: string;
  let samples: NativeSamples;
  beforeAll(() => {
    dir = tempDir("elf-header");
    samples = buildNativeSamples(path.join(dir, "native"));
  });

  it("reads a gcc shared object's header; a text file has none", () => {
    const info = readElfInfo(samples.debugSo);
    expect(info).toMatchObject({ bits: 64, littleEndian: true, type: 3 });
    expect(info?.arch).toBe(normalizeArch(process.arch === "x64" ? "x86_64" : process.arch));
    const text = path.join(dir, "__init__.py");
    writeFileSync(text, "from ._speed import triple\n");
    expect(readElfInfo(text)).toBe(undefined);
    expect(parseElfHeader(new Uint8Array([0x7f, 0x45, 0x4c, 0x46]))).toBe(undefined);
    expect(thrown(() => readElfInfo(path.join(dir, "nope.so"))).code).toBe("IO_ERROR");
  });

  const cases: [string, keyof NativeSamples, object][] = [
    ["gcc -m32 object", "debug32", { bits: 32, littleEndian: true, arch: "i686", type: 1 }],
    ["powerpc64 object", "bigEndian64", { bits: 64, littleEndian: false, arch: "ppc64" }],
    ["powerpc object", "bigEndian32", { bits: 32, littleEndian: false, arch: "ppc" }],
  ];
  for (const [label, pick, want] of cases) {
    it(`reads a ${label}'s header as the section reader does`, (ctx) => {
      const file = sampleOrSkip(ctx, samples, pick);
      const info = readElfInfo(file);
      expect(info).toMatchObject(want);
      const full = readElfFile(file, statSync(file).size);
      expect(full).toMatchObject({
        bits: info?.bits,
        endian: info?.littleEndian ? "little" : "big",
        type: info?.type,
        machine: info?.machine,
      });
    });
  }
});

describe("architecture names", () => {
  it("spells e_machine as wheel tags do", () => {
    expect(elfArch(183, 64, true)).toBe("aarch64");
    expect(elfArch(21, 64, true)).toBe("ppc64le");
    expect(elfArch(9999, 64, true)).toBe("em9999");
    expect(elfArch(62, 64, true)).toBe("x86_64");
    expect(elfArch(8, 32, false)).toBe("mips");
  });

  it("parses the first 20 bytes of a header", () => {
    const head = new Uint8Array(20);
    head.set([0x7f, 0x45, 0x4c, 0x46, 2, 2]);
    new DataView(head.buffer).setUint16(16, 3, false);
    new DataView(head.buffer).setUint16(18, 22, false);
    expect(parseElfHeader(head)).toEqual({
      bits: 64,
      littleEndian: false,
      machine: 22,
      arch: "s390x",
      type: 3,
    });
    head[4] = 3;
    expect(parseElfHeader(head)).toBe(undefined);
  });
});
