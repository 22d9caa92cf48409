/**
 * Pairing new files with old ones: same path, auditwheel renames, versioned project folders,
 * and what is never paired (objects the device holds, unreadable sources, unrelated names).
 */
import { describe, expect, it } from "vitest";
import { normalizePath, type PairFile, pairFiles } from "../../src/bundle/pair.ts";

const f = (path: string, sha256: string, size = 100): PairFile => ({ path, sha256, size });
const all = () => true;

describe("normalizePath", () => {
  it.each([
    ["numpy.libs/libgfortran-040039e1.so.5.0.0", "numpy.libs/libgfortran.so.5.0.0"],
    ["numpy.libs/libopenblas64_p-r0-15028c96.3.21.so", "numpy.libs/libopenblas64_p-r0.3.21.so"],
    ["app.libs/libfoo-56d6093b.so", "app.libs/libfoo.so"],
    [
      "lib/python3.11/site-packages/numpy-1.26.4.dist-info/RECORD",
      "lib/python3.11/site-packages/numpy-*.dist-info/RECORD",
    ],
    [
      "lib/python3.11/site-packages/my_app-2.0rc1.data/scripts/run",
      "lib/python3.11/site-packages/my_app-*.data/scripts/run",
    ],
    ["share/tool-2.0.1/README", "share/tool-*/README"],
    [
      "lib/python3.11/site-packages/numpy/__init__.py",
      "lib/python3.11/site-packages/numpy/__init__.py",
    ],
    ["lib/x86_64-linux-gnu/libc.so.6", "lib/x86_64-linux-gnu/libc.so.6"],
    ["bin/python3.11", "bin/python3.11"],
    [
      "pkg/_speedups.cpython-311-x86_64-linux-gnu.so",
      "pkg/_speedups.cpython-311-x86_64-linux-gnu.so",
    ],
  ])("%s → %s", (input, want) => {
    expect(normalizePath(input)).toBe(want);
  });
});

describe("pairFiles", () => {
  it("pairs the same path first, then renamed libraries and dist-info folders", () => {
    const oldFiles = [
      f("sp/app/__init__.py", "a1"),
      f("sp/app.libs/libfoo-56d6093b.so", "l1", 5000),
      f("sp/app-1.0.dist-info/METADATA", "m1"),
      f("sp/app-1.0.dist-info/RECORD", "r1"),
      f("sp/unchanged.py", "u1"),
    ];
    const newFiles = [
      f("sp/app/__init__.py", "a2"),
      f("sp/app.libs/libfoo-9c0ffee1.so", "l2", 5100),
      f("sp/app-1.1.dist-info/METADATA", "m2"),
      f("sp/app-1.1.dist-info/RECORD", "r2"),
      f("sp/unchanged.py", "u1"),
    ];
    const pairs = pairFiles(oldFiles, newFiles, (h) => h !== "u1", all);
    expect(pairs.map((p) => [p.target, p.source, p.how])).toEqual([
      ["m2", "m1", "renamed"],
      ["r2", "r1", "renamed"],
      ["l2", "l1", "renamed"],
      ["a2", "a1", "same-path"],
    ]);
  });

  it("proposes nothing for objects not needed, sources it cannot read, or unrelated names", () => {
    const oldFiles = [f("a.py", "o1"), f("lib/libbar-12345678.so", "o2"), f("c.py", "o3")];
    const newFiles = [f("a.py", "n1"), f("lib/libbaz-87654321.so", "n2"), f("d.py", "n3")];
    expect(pairFiles(oldFiles, newFiles, (h) => h !== "n1", all)).toEqual([]);
    expect(pairFiles(oldFiles, newFiles, all, (h) => h !== "o1")).toEqual([]);
  });

  it("picks the candidate nearest in size, and one source per new object", () => {
    const oldFiles = [f("x/app-1.0.data/a.bin", "s1", 10), f("x/app-0.9.data/a.bin", "s2", 900)];
    const newFiles = [f("x/app-2.0.data/a.bin", "t", 1000), f("y/a.bin", "t", 1000)];
    const pairs = pairFiles(oldFiles, newFiles, all, all);
    expect(pairs).toEqual([
      {
        target: "t",
        source: "s2",
        path: "x/app-2.0.data/a.bin",
        from: "x/app-0.9.data/a.bin",
        how: "renamed",
      },
    ]);
  });

  it("never pairs empty files", () => {
    expect(pairFiles([f("e", "x")], [f("e", "y", 0)], all, all)).toEqual([]);
  });
});
