/** The pure parts of `check`: which modules a RECORD gives, and which failures are benign. */
import { describe, expect, it } from "vitest";
import { benignReason } from "../../src/slim/check/check.ts";
import { KNOWN_FAILURES, knownFailure, missingModule } from "../../src/slim/check/known.ts";
import { compareModules, importableModules, isTestModule } from "../../src/slim/check/modules.ts";

const EXT = [".cpython-312-x86_64-linux-gnu.so", ".abi3.so", ".so"];

describe("importableModules", () => {
  it("finds packages, modules, sourceless .pyc and extension modules", () => {
    const files = [
      "pkg/__init__.py",
      "pkg/a.py",
      "pkg/__pycache__/a.cpython-312.pyc",
      "pkg/fast.cpython-312-x86_64-linux-gnu.so",
      "pkg/stable.abi3.so",
      "pkg/sub/__init__.pyc",
      "pkg/sub/only.pyc",
      "pkg/__main__.py",
      "pkg/data/templates/t.py",
      "pkg/py.typed",
      "pkg/a.pyi",
      "pkg-1.0.dist-info/RECORD",
      "pkg-1.0.data/scripts/tool.py",
      "../../../bin/tool",
      "six.py",
      "_cffi_backend.cpython-312-x86_64-linux-gnu.so",
      "not-an-identifier/x.py",
      "pkg/bad-name.py",
    ];
    expect(importableModules(files, EXT)).toEqual([
      "_cffi_backend",
      "pkg",
      "pkg.a",
      "pkg.fast",
      "pkg.stable",
      "pkg.sub",
      "pkg.sub.only",
      "six",
    ]);
  });

  it("follows namespace packages only above regular packages", () => {
    const files = [
      "google/protobuf/__init__.py",
      "google/protobuf/message.py",
      "nsroot/part/__init__.py",
      "nsroot/deep/mod.py",
      "nsroot/README.txt",
    ];
    expect(importableModules(files, EXT)).toEqual([
      "google",
      "google.protobuf",
      "google.protobuf.message",
      "nsroot",
      "nsroot.deep",
      "nsroot.deep.mod",
      "nsroot.part",
    ]);
  });

  it("adds top_level.txt names RECORD does not show, once", () => {
    expect(importableModules(["a/__init__.py"], EXT, ["a", "b", "", "bad-name", "c.d"])).toEqual([
      "a",
      "b",
      "c.d",
    ]);
    expect(importableModules([], EXT)).toEqual([]);
  });

  it("orders a package before its submodules", () => {
    expect(["a_b", "a.b", "a", "a.b.c"].sort(compareModules)).toEqual(["a", "a.b", "a.b.c", "a_b"]);
  });

  it("classifies test modules by folder, not numpy.testing", () => {
    expect(isTestModule("pkg.tests.test_x")).toBe(true);
    expect(isTestModule("pkg.test")).toBe(true);
    expect(isTestModule("conftest")).toBe(true);
    expect(isTestModule("numpy.testing")).toBe(false);
    expect(isTestModule("pkg.test_utils")).toBe(false);
  });
});

describe("known failures", () => {
  it("matches module globs, error patterns and Python versions", () => {
    expect(knownFailure("numpy.distutils.core", "ModuleNotFoundError: x", "3.12.1")).toMatch(
      /3\.12/,
    );
    expect(knownFailure("numpy.distutils.core", "ModuleNotFoundError: x", "3.11.7")).toBe(
      undefined,
    );
    expect(knownFailure("pkg._windows", "ImportError: cannot import", "3.11.0")).toMatch(/Windows/);
    // Seen on real wheels: they fail the same way in a plain pip venv.
    expect(
      knownFailure("dateutil.tz.win", "ModuleNotFoundError: No module named 'winreg'", "3.11.7"),
    ).toMatch(/Windows-only standard-library module/);
    expect(
      knownFailure("cv2.config", "NameError: name 'LOADER_DIR' is not defined", "3.11.7"),
    ).toMatch(/loader configuration/);
    expect(knownFailure("cv2.cv2", "ImportError: Bindings generation error", "3.11.7")).toMatch(
      /bindings/,
    );
    expect(knownFailure("cv2.config", "ImportError: something else", "3.11.7")).toBe(undefined);
    expect(
      knownFailure("pkg.mod", "ModuleNotFoundError: No module named 'winreg2'", "3.11.7"),
    ).toBe(undefined);
    expect(
      knownFailure(
        "setuptools._distutils.msvc9compiler",
        "ModuleNotFoundError: No module named 'winreg'",
        "3.11.0",
      ),
    ).toMatch(/MSVC/);
    expect(
      knownFailure("PIL.ImageTk", "ModuleNotFoundError: No module named 'tkinter'", "3.11.0"),
    ).toMatch(/Tk/);
    expect(
      knownFailure(
        "pip._vendor.pygments.cmdline",
        "ModuleNotFoundError: No module named 'pip._vendor.pygments.lexers.special'",
        "3.12.1",
      ),
    ).toMatch(/pip trims/);
    expect(
      knownFailure(
        "pip._internal.cli",
        "ModuleNotFoundError: No module named 'pip._vendor.x'",
        "3.12.1",
      ),
    ).toBe(undefined);
    expect(knownFailure("pkg.win32util", "ValueError: boom", "3.11.0")).toBe(undefined);
    expect(knownFailure("pkg.core", "ValueError: boom", "3.11.0")).toBe(undefined);
    for (const entry of KNOWN_FAILURES) expect(entry.reason.length).toBeGreaterThan(10);
  });

  it("treats a missing optional dependency of a submodule as benign, not of a top-level module", () => {
    const env = new Set(["pkg", "os", "winreg"]);
    const error = "ModuleNotFoundError: No module named 'jinja2.ext'";
    expect(missingModule(error)).toBe("jinja2");
    expect(benignReason("pkg.style", error, "3.12.0", [], env)).toMatch(/jinja2/);
    expect(benignReason("pkg", error, "3.12.0", [], env)).toBe(undefined);
    // A module the env or the stdlib should provide is a real failure.
    const own = "ModuleNotFoundError: No module named 'pkg._core'";
    expect(benignReason("pkg.sub", own, "3.12.0", [], env)).toBe(undefined);
    expect(
      benignReason("pkg.sub", "ModuleNotFoundError: No module named 'os'", "3.12.0", [], env),
    ).toBe(undefined);
    expect(benignReason("pkg.sub", "ImportError: cannot import name 'x'", "3.12.0", [], env)).toBe(
      undefined,
    );
  });
});
