/** The kind rules by path and location, and native detection by magic (not by suffix). */
import { describe, expect, it } from "vitest";
import { classifyPath, nativeMagic } from "../../src/report/kinds.ts";

const packages = new Set(["numpy", "numpy/doc", "pkg", "pkg/sub"]);
const kindOf = (rel: string, type: "file" | "dir" | "symlink" | "other" = "file") =>
  classifyPath(rel, type, (d) => packages.has(d)).kind;

describe("classifyPath", () => {
  const table: [string, "file" | "dir" | "symlink" | "other", string][] = [
    ["pkg/__init__.py", "file", "source"],
    ["pkg/mod.pyi", "file", "source"],
    ["pkg/_ext.pyx", "file", "source"],
    ["pkg/include/api.h", "file", "source"],
    ["pkg/src/impl.cpp", "file", "source"],
    ["pkg/__pycache__/mod.cpython-311.pyc", "file", "bytecode"],
    ["pkg/__pycache__/mod.cpython-311.opt-1.pyc", "file", "bytecode-opt1"],
    ["pkg/__pycache__/mod.cpython-311.opt-2.pyc", "file", "bytecode-opt2"],
    ["pkg/__pycache__", "dir", "bytecode"],
    ["pkg/__pycache__/stray.tmp", "file", "bytecode"],
    ["pkg/legacy.pyc", "file", "bytecode"],
    ["pkg/legacy.pyo", "file", "bytecode-opt1"],
    ["pkg/tests/test_a.py", "file", "tests"],
    ["pkg/tests", "dir", "tests"],
    ["pkg/tests/__pycache__/test_a.cpython-311.pyc", "file", "tests"],
    ["pkg/tests/data/blob.so", "file", "tests"],
    ["test/support/__init__.py", "file", "tests"],
    ["idlelib/idle_test/htest.py", "file", "tests"],
    ["pkg/test_things.py", "file", "tests"],
    ["pkg/things_test.py", "file", "tests"],
    ["conftest.py", "file", "tests"],
    ["numpy/testing/__init__.py", "file", "source"],
    ["pkg/testdata.py", "file", "source"],
    ["unittest/case.py", "file", "source"],
    ["pkg-1.0.dist-info/RECORD", "file", "metadata"],
    ["pkg-1.0.dist-info/licenses/LICENSE", "file", "metadata"],
    ["pkg-1.0.dist-info", "dir", "metadata"],
    ["old-1.0.egg-info", "file", "metadata"],
    ["old-1.0.egg-info/PKG-INFO", "file", "metadata"],
    ["pkg/tests/fixture-1.0.dist-info/METADATA", "file", "tests"],
    ["pkg/README.md", "file", "docs"],
    ["pkg/guide.rst", "file", "docs"],
    ["pkg/LICENSE.txt", "file", "docs"],
    ["pkg/COPYING", "file", "docs"],
    ["pkg/CHANGES", "file", "docs"],
    ["pkg/docs/index.html", "file", "docs"],
    ["pkg/docs", "dir", "docs"],
    ["share/doc/pkg/notes.txt", "file", "docs"],
    ["numpy/doc/constants.py", "file", "source"],
    ["pkg/news.py", "file", "source"],
    ["pkg/license.json", "file", "native-candidate"],
    ["pkg/data.json", "file", "native-candidate"],
    ["pkg/_native.cpython-311-x86_64-linux-gnu.so", "file", "native-candidate"],
    ["pkg", "dir", "other"],
    ["", "dir", "other"],
    ["bin/python", "symlink", "other"],
    ["pkg/fifo", "other", "other"],
  ];
  for (const [rel, type, kind] of table) {
    it(`${type} ${rel || "(root)"} → ${kind}`, () => {
      expect(kindOf(rel, type)).toBe(kind);
    });
  }

  it("records the facts savings need", () => {
    const f = (rel: string) => classifyPath(rel, "file", () => false);
    expect(f("pkg/__pycache__/m.cpython-312.opt-2.pyc")).toMatchObject({
      pycLevel: 2,
      inPycache: true,
    });
    expect(f("pkg/m.py")).toMatchObject({ pySource: true, stub: false, cSource: false });
    expect(f("pkg/m.pyi")).toMatchObject({ pySource: false, stub: true });
    expect(f("pkg/m.pxd")).toMatchObject({ cSource: true });
    expect(f("pkg/LICENSE")).toMatchObject({ license: true, kind: "docs" });
    expect(f("pkg/README")).toMatchObject({ license: false, kind: "docs" });
  });
});

describe("nativeMagic", () => {
  const bytes = (...b: number[]) => new Uint8Array(b);
  it("knows ELF by magic whatever the name", () => {
    expect(nativeMagic(bytes(0x7f, 0x45, 0x4c, 0x46), "libfoo.so.1")).toBe("elf");
    expect(nativeMagic(bytes(0x7f, 0x45, 0x4c, 0x46), "no-suffix")).toBe("elf");
    expect(nativeMagic(bytes(0x23, 0x21, 0x2f, 0x62), "fake.so")).toBeUndefined();
  });
  it("knows Mach-O and PE", () => {
    expect(nativeMagic(bytes(0xcf, 0xfa, 0xed, 0xfe), "x.so")).toBe("macho");
    expect(nativeMagic(bytes(0xfe, 0xed, 0xfa, 0xce), "x")).toBe("macho");
    expect(nativeMagic(bytes(0xca, 0xfe, 0xba, 0xbe), "x.dylib")).toBe("macho");
    expect(nativeMagic(bytes(0xca, 0xfe, 0xba, 0xbe), "Main.class")).toBeUndefined();
    expect(nativeMagic(bytes(0x4d, 0x5a, 0x90, 0), "_x.pyd")).toBe("pe");
    expect(nativeMagic(bytes(0x4d, 0x5a, 0x90, 0), "notes.txt")).toBeUndefined();
  });
});
