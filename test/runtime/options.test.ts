/** Parsing --stdlib, --drop and --strip, and the drop-pattern matcher (no interpreter needed). */
import { describe, expect, it } from "vitest";
import {
  compileDropPattern,
  DROP_GROUPS,
  DropMatcher,
  parseDropGroups,
} from "../../src/runtime/drop-groups.ts";
import { parseStdlibMode, STDLIB_MODES } from "../../src/runtime/modes.ts";
import { parseStripMode } from "../../src/runtime/native.ts";
import { goesInZip } from "../../src/runtime/plan.ts";
import { thrown } from "../helpers/errors.ts";

describe("runtime options", () => {
  it("parses every stdlib mode and rejects others with the list", () => {
    for (const m of STDLIB_MODES) expect(parseStdlibMode(m.mode)).toBe(m.mode);
    expect(parseStdlibMode(" PYC-ONLY ")).toBe("pyc-only");
    const err = thrown(() => parseStdlibMode("pyc-zipped"));
    expect(err.code).toBe("INVALID_OPTION");
    expect(err.message).toContain('"pyc-zipped"');
    expect(err.hint).toContain("pyc+zipped-source");
  });

  it("parses drop groups, comma-separated and repeated, without duplicates", () => {
    expect(parseDropGroups(["tests,idlelib", "tests", " tkinter "]).map((g) => g.name)).toEqual([
      "tests",
      "idlelib",
      "tkinter",
    ]);
    expect(parseDropGroups(["none"])).toEqual([]);
    const err = thrown(() => parseDropGroups(["tests,bogus"]));
    expect(err.code).toBe("INVALID_OPTION");
    expect(err.message).toBe('unknown drop group "bogus"');
    expect(err.hint).toContain("pydoc_data");
  });

  it("parses strip modes", () => {
    expect(parseStripMode("debug")).toBe("debug");
    expect(parseStripMode("unneeded")).toBe("unneeded");
    expect(parseStripMode("none")).toBe("none");
    expect(thrown(() => parseStripMode("all")).code).toBe("INVALID_OPTION");
  });

  it("every group has a reason and patterns", () => {
    for (const g of DROP_GROUPS) {
      expect(g.reason.length).toBeGreaterThan(20);
      expect(g.patterns.length).toBeGreaterThan(0);
    }
  });
});

describe("drop patterns", () => {
  it("* stays in one segment, ** spans any number", () => {
    const re = compileDropPattern("**/tests");
    expect(re.test("tests")).toBe(true);
    expect(re.test("lib2to3/tests")).toBe(true);
    expect(re.test("a/b/tests")).toBe(true);
    expect(re.test("tests/x")).toBe(false);
    expect(re.test("mytests")).toBe(false);
    const so = compileDropPattern("lib-dynload/_test*");
    expect(so.test("lib-dynload/_testcapi.cpython-312-x86_64-linux-gnu.so")).toBe(true);
    expect(so.test("lib-dynload/sub/_testcapi.so")).toBe(false);
    expect(so.test("_testcapi.so")).toBe(false);
    expect(compileDropPattern("turtle.py").test("turtleXpy")).toBe(false);
  });

  it("a matched folder drops everything under it, and only that", () => {
    const m = new DropMatcher(parseDropGroups(["tests", "tkinter"]));
    expect(m.match("test/test_json/__init__.py")).toBe("tests");
    expect(m.match("unittest/test/test_case.py")).toBe("tests");
    expect(m.match("idlelib/idle_test/htest.py")).toBe("tests");
    expect(m.match("unittest/case.py")).toBeUndefined();
    expect(m.match("testing.py")).toBeUndefined();
    expect(m.match("tkinter/__init__.py")).toBe("tkinter");
    expect(m.match("turtle.py")).toBe("tkinter");
    expect(m.match("lib-dynload/_tkinter.cpython-312-x86_64-linux-gnu.so")).toBe("tkinter");
    expect(m.match("lib-dynload/_ssl.cpython-312-x86_64-linux-gnu.so")).toBeUndefined();
    expect(new DropMatcher([]).match("test/x.py")).toBeUndefined();
  });

  it("pyc-zip keeps os, venv, ensurepip, lib-dynload and non-packages outside the zip", () => {
    const pkgs = new Set(["json", "venv", "email"]);
    expect(goesInZip("json/decoder.py", pkgs, "lib-dynload")).toBe(true);
    expect(goesInZip("email/architecture.rst", pkgs, "lib-dynload")).toBe(true);
    expect(goesInZip("decimal.py", pkgs, "lib-dynload")).toBe(true);
    expect(goesInZip("os.py", pkgs, "lib-dynload")).toBe(false);
    expect(goesInZip("venv/__init__.py", pkgs, "lib-dynload")).toBe(false);
    expect(goesInZip("LICENSE.txt", pkgs, "lib-dynload")).toBe(false);
    expect(goesInZip("lib-dynload/_ssl.so", pkgs, "lib-dynload")).toBe(false);
    expect(goesInZip("config-3.12/Makefile", pkgs, "lib-dynload")).toBe(false);
  });
});
