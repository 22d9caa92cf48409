/**
 * Slim policies as data: globs, drop rules (every rule on a sample path), overrides, the
 * static import scan, presets and flags, the zip writer. Pure: no interpreter.
 */
import { describe, expect, it } from "vitest";
import { bufferSource, readZipDirectory, readZipEntry } from "../../src/archive/zip-read.ts";
import { writeZip } from "../../src/archive/zip-write.ts";
import type { ErrorCode } from "../../src/base/index.ts";
import {
  dropClassifier,
  isProtectedPath,
  rulePathOf,
  ruleReason,
} from "../../src/slim/drop/classify.ts";
import { compileGlob } from "../../src/slim/drop/glob.ts";
import {
  codeOnly,
  importedModules,
  keptByImports,
  moduleOfPath,
} from "../../src/slim/drop/imports.ts";
import { DROP_GROUPS, DROP_RULES } from "../../src/slim/drop/rules.ts";
import {
  describePolicy,
  isNoopPolicy,
  parseDropGroups,
  resolveBytecode,
  slimPolicy,
  withSkipped,
} from "../../src/slim/policy.ts";
import { PRESET_NAMES, SLIM_PRESETS } from "../../src/slim/presets.ts";
import { policyId } from "../../src/slim/transform/transform.ts";
import { thrown } from "../helpers/errors.ts";

function expectError(fn: () => unknown, code: ErrorCode) {
  const err = thrown(fn);
  expect(err.code).toBe(code);
  return err;
}

describe("globs", () => {
  it.each([
    ["numpy/testing/**", "numpy/testing/utils.py", true],
    ["numpy/testing/**", "numpy/testing", false],
    ["numpy/testing/**", "numpy/testingx/a.py", false],
    ["*.pyi", "a/b/c.pyi", true],
    ["*.pyi", "c.pyi", true],
    ["a/*.py", "a/b/c.py", false],
    ["a/**/c.py", "a/c.py", true],
    ["a/**/c.py", "a/x/y/c.py", true],
    ["a/?.py", "a/b.py", true],
    ["a/?.py", "a/bb.py", false],
    ["a/[bc].py", "a/c.py", true],
    ["a/[!bc].py", "a/c.py", false],
    ["./pkg/x.txt", "pkg/x.txt", true],
    ["pkg/a+b(1).txt", "pkg/a+b(1).txt", true],
  ])("%s matches %s: %s", (pattern, path, expected) => {
    expect(compileGlob(pattern).test(path)).toBe(expected);
  });

  it.each(["", "  ", "/abs/**", "a/[bc.py"])("refuses %j with INVALID_CONFIG", (pattern) => {
    expectError(() => compileGlob(pattern), "INVALID_CONFIG");
  });
});

describe("drop rules", () => {
  const all = dropClassifier([...DROP_GROUPS]);
  // One sample path each rule must drop; every rule is covered.
  const samples: Record<string, string[]> = {
    "test-dirs": ["pkg/tests/test_a.py", "pkg/sub/test/data/x.bin"],
    "test-config": ["pkg/conftest.py", "pkg/tox.ini"],
    "doc-dirs": ["pkg/docs/index.html", "pkg/doc/conf.py"],
    "doc-files": ["pkg/README.md", "pkg/guide.rst", "x-1.0.data/data/share/man/man1/x.1"],
    "example-dirs": ["pkg/examples/demo.py", "pkg/samples/a.py"],
    "type-stubs": ["pkg/__init__.pyi", "pkg/py.typed"],
    "c-sources": ["pkg/_speed.c", "pkg/include/numpy/x.h", "pkg/src/a.cpp"],
    "cython-sources": ["pkg/_fast.pyx", "pkg/_fast.pxd", "pkg/inc.pxi"],
    "wheel-headers": ["x-1.0.data/headers/x.h"],
    pycache: ["pkg/__pycache__/mod.cpython-312.pyc"],
    "object-files": ["pkg/libfoo.a", "pkg/x.o", "pkg/x.pdb"],
    "editor-and-vcs-leftovers": ["pkg/mod.py.orig", "pkg/.DS_Store", "pkg/mod.py~"],
    "build-scripts": ["pkg/CMakeLists.txt", "pkg/meson.build"],
  };

  it("every rule has a reason, a group and a sample", () => {
    for (const rule of DROP_RULES) {
      expect(rule.reason.length).toBeGreaterThan(20);
      expect(DROP_GROUPS).toContain(rule.group);
      expect(samples[rule.id], rule.id).toBeDefined();
      expect(ruleReason(rule.id)).toBe(rule.reason);
    }
  });

  it.each(Object.entries(samples))("rule %s drops its samples", (id, paths) => {
    for (const p of paths) expect(all.classify(p)?.rule, p).toBe(id);
  });

  it("keeps code, data, metadata, top-level .pth and scripts", () => {
    for (const p of [
      "pkg/__init__.py",
      "pkg/core.py",
      "pkg/data/table.csv",
      "pkg/_speed.cpython-312-x86_64-linux-gnu.so",
      "pkg-1.0.dist-info/METADATA",
      "pkg-1.0.dist-info/licenses/README.md",
      "pkg.pth",
      "pkg-1.0.data/scripts/tool",
      "tests/test_top.py", // a top-level package named tests is not "inside a package"
      "pkg/testing/utils.py",
    ]) {
      expect(all.classify(p), p).toBeUndefined();
    }
    expect(isProtectedPath("x-1.0.dist-info/RECORD")).toBe(true);
  });

  it("the scope of a directory rule is the directory", () => {
    expect(all.classify("pkg/sub/tests/deep/a.py")?.scope).toBe("pkg/sub/tests");
    expect(all.classify("pkg/x.pyi")?.scope).toBe("pkg/x.pyi");
  });

  it("applies only the groups asked for", () => {
    const stubs = dropClassifier(["stubs"]);
    expect(stubs.classify("pkg/x.pyi")?.group).toBe("stubs");
    expect(stubs.classify("pkg/tests/a.py")).toBeUndefined();
  });

  it("slim-keep wins over rules; slim-drop adds drops but never metadata", () => {
    const c = dropClassifier(["tests"], {
      keep: ["pkg/tests/fixtures/**"],
      drop: ["pkg/big_data/**", "*.dist-info/**"],
    });
    expect(c.classify("pkg/tests/fixtures/a.py")).toBeUndefined();
    expect(c.keptByConfig("pkg/tests/fixtures/a.py")).toBe(true);
    expect(c.classify("pkg/tests/test_a.py")?.rule).toBe("test-dirs");
    expect(c.classify("pkg/big_data/x.bin")?.rule).toBe("slim-drop");
    expect(c.classify("pkg-1.0.dist-info/METADATA")).toBeUndefined();
  });

  it("rule paths drop the .data/purelib prefix", () => {
    expect(rulePathOf("x-1.0.data/purelib/x/tests/a.py")).toBe("x/tests/a.py");
    expect(rulePathOf("x-1.0.data/data/share/a")).toBe("x-1.0.data/data/share/a");
  });
});

describe("import scan", () => {
  it("names modules of paths", () => {
    expect(moduleOfPath("pkg/sub/__init__.py")).toBe("pkg.sub");
    expect(moduleOfPath("pkg/sub/mod.py")).toBe("pkg.sub.mod");
    expect(moduleOfPath("pkg/tests")).toBe("pkg.tests");
    expect(moduleOfPath("pkg/my-dir/x.py")).toBeUndefined();
  });

  it("blanks strings and comments", () => {
    const code = codeOnly('x = \'import a\'  # import b\ny = """\nimport c\n"""\nimport d\n');
    expect(code).not.toMatch(/import [abc]/);
    expect(code).toMatch(/import d/);
    expect(code.split("\n").length).toBe(6);
  });

  it("reads every import statement form", () => {
    const source = [
      "import os, numpy.testing as npt",
      "from pandas import _testing",
      "from .tests import helpers",
      "from . import tests",
      "from .. import sibling",
      "from pkg.a import (",
      "    b,",
      "    c as d,",
      ")",
      "try: import optional_mod",
      "except ImportError: pass",
      "x = 1; import after_semicolon",
      "import \\",
      "    continued.mod",
      "if True:",
      "    from deep.pkg import *",
      "m = importlib.import_module('dyn.mod')",
      "'''",
      "import in_docstring",
      "'''",
      "# import in_comment",
    ].join("\n");
    const got = importedModules(source, "top.pkg.mod", false);
    for (const m of [
      "os",
      "numpy.testing",
      "pandas",
      "pandas._testing",
      "top.pkg.tests",
      "top.pkg.tests.helpers",
      "top.sibling",
      "pkg.a.b",
      "pkg.a.c",
      "optional_mod",
      "after_semicolon",
      "continued.mod",
      "deep.pkg",
      "dyn.mod",
    ]) {
      expect(got, m).toContain(m);
    }
    expect(got).not.toContain("in_docstring");
    expect(got).not.toContain("in_comment");
    expect(got).not.toContain("pkg.a.d");
    // In a package's __init__, "." is the package itself.
    expect(importedModules("from . import tests", "pkg", true)).toContain("pkg.tests");
  });

  it("keeps imported candidates and packages on the way, transitively, and nothing else", async () => {
    const files: Record<string, string> = {
      "app/core.py": "from app.testing_support import helpers\nimport json\n",
      "app/testing_support/__init__.py": "",
      "app/testing_support/helpers.py": "from ..tests import fixtures\n",
      "app/testing_support/unused.py": "",
      "app/tests/__init__.py": "",
      "app/tests/fixtures.py": "from . import shared\n",
      "app/tests/shared.py": "X = 1\n",
      "app/tests/test_app.py": "import app\n",
      "lib/tests/test_x.py": "import lib\n",
    };
    const f = (p: string) => ({ rulePath: p, read: async () => files[p] ?? "" });
    const c = (p: string) => ({ ...f(p), scope: p.split("/").slice(0, 2).join("/") });
    const kept = await keptByImports(
      [f("app/core.py")],
      Object.keys(files)
        .filter((p) => p !== "app/core.py")
        .map(c),
    );
    expect([...kept.files].sort()).toEqual([
      "app/testing_support/__init__.py",
      "app/testing_support/helpers.py",
      "app/tests/__init__.py",
      "app/tests/fixtures.py",
      "app/tests/shared.py",
    ]);
    expect([...kept.scopes].sort()).toEqual(["app/testing_support", "app/tests"]);
    const none = await keptByImports([f("lib/tests/test_x.py")], [c("app/tests/shared.py")]);
    expect(none.files.size).toBe(0);
  });
});

describe("policies and presets", () => {
  it("has the documented presets", () => {
    expect(PRESET_NAMES).toEqual(["none", "edge", "max"]);
    for (const p of SLIM_PRESETS) expect(p.description.length).toBeGreaterThan(10);
    const none = slimPolicy({ preset: "none" });
    expect(isNoopPolicy(none)).toBe(true);
    const edge = slimPolicy({ preset: "edge" });
    expect(edge).toMatchObject({ preset: "edge", bytecode: "smallest", strip: "debug" });
    expect(edge.drop).toEqual([...DROP_GROUPS]);
    expect(isNoopPolicy(edge)).toBe(false);
    expect(slimPolicy({ preset: "max" })).toMatchObject({ bytecode: "zip", strip: "unneeded" });
  });

  it("edge's bytecode is pyc-only before 3.11, source from 3.11", () => {
    expect(resolveBytecode("smallest", [3, 10, 13])).toBe("pyc-only");
    expect(resolveBytecode("smallest", [3, 8, 0])).toBe("pyc-only");
    expect(resolveBytecode("smallest", [3, 11, 0])).toBe("source");
    expect(resolveBytecode("smallest", [3, 13, 1])).toBe("source");
    expect(resolveBytecode("pyc", [3, 13, 1])).toBe("pyc");
  });

  it("flags change a preset into a custom policy", () => {
    const p = slimPolicy({
      preset: "edge",
      bytecode: "pyc+zipped-source",
      strip: "none",
      drop: "tests,stubs",
      keep: ["a/**"],
      dropGlobs: ["b/**"],
      skip: ["My_Pkg", "my-pkg"],
    });
    expect(p).toEqual({
      preset: "custom",
      bytecode: "pyc+zipped-source",
      strip: "none",
      drop: ["tests", "stubs"],
      keep: ["a/**"],
      dropGlobs: ["b/**"],
      skip: ["my-pkg"],
    });
    expect(slimPolicy({ preset: "edge", drop: "all" }).preset).toBe("edge");
    expect(parseDropGroups("none")).toEqual([]);
    expect(parseDropGroups(["docs", "tests,docs"])).toEqual(["tests", "docs"]);
    expect(describePolicy(withSkipped(p, ["x"]))).toMatch(/unslimmed my-pkg,x/);
  });

  it.each([
    [{ preset: "tiny" }, /unknown slim preset "tiny"/],
    [{ preset: "edge", bytecode: "pyo" }, /unknown bytecode mode "pyo"/],
    [{ preset: "edge", strip: "all" }, /unknown strip mode "all"/],
    [{ preset: "edge", drop: "tests,manuals" }, /unknown drop group "manuals"/],
  ])("refuses %j with INVALID_OPTION", (options, message) => {
    const err = expectError(() => slimPolicy(options), "INVALID_OPTION");
    expect(err.message).toMatch(message);
    expect(err.hint).toMatch(/one of/);
  });

  it("policy ids are stable and differ by content", () => {
    const a = slimPolicy({ preset: "edge" });
    expect(policyId(a)).toBe(policyId(slimPolicy({ preset: "edge" })));
    expect(policyId(a)).not.toBe(policyId(withSkipped(a, ["x"])));
    expect(policyId(a)).not.toBe(policyId(slimPolicy({ preset: "max" })));
  });
});

describe("zip writer", () => {
  it("writes the same bytes for the same files, in any order, readable back", async () => {
    const files = [
      { name: "pkg/__init__.py", data: new TextEncoder().encode("x = 1\n".repeat(100)) },
      { name: "pkg/tiny.py", data: new TextEncoder().encode("") },
      { name: "pkg/bin.dat", data: new Uint8Array([0, 1, 2, 3]) },
    ];
    const a = writeZip(files);
    const b = writeZip([...files].reverse());
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const source = bufferSource(a);
    const dir = await readZipDirectory(source, "t.zip");
    expect(dir.entries.map((e) => e.name)).toEqual([
      "pkg/__init__.py",
      "pkg/bin.dat",
      "pkg/tiny.py",
    ]);
    for (const f of files) {
      const entry = dir.entries.find((e) => e.name === f.name);
      if (entry === undefined) throw new Error(f.name);
      expect(
        Buffer.from(await readZipEntry(source, dir, entry, "t.zip")).equals(Buffer.from(f.data)),
      ).toBe(true);
    }
    expect(a.length).toBeLessThan(600 + 150); // compressed
  });

  it("refuses a name given twice", () => {
    const data = new Uint8Array(1);
    expectError(
      () =>
        writeZip([
          { name: "a", data },
          { name: "a", data },
        ]),
      "INTERNAL",
    );
  });
});
