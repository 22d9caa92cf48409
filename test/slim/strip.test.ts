/**
 * Native stripping: gcc-built extension modules and libraries with -g, stripped of debug info
 * or unneeded symbols (sections read with readelf), still importable; never-strip rules; the
 * auditwheel/llvm-strip refusal; a stripped file that no longer loads gets its original back;
 * a foreign-architecture file (an x86_64 .so relabelled aarch64: llvm-strip handles it,
 * x86_64 binutils does not); the tool selection for foreign architectures. Reading ELF headers
 * and RPATHs is tested with src/elf in test/elf.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readElfInfo, readElfRunpath } from "../../src/elf/index.ts";
import { stripAndVerify } from "../../src/slim/strip/batch.ts";
import {
  isAuditwheelPatched,
  NEVER_STRIP,
  neverStripReason,
} from "../../src/slim/strip/never-strip.ts";
import { chooseStripTool, stripFile } from "../../src/slim/strip/strip-file.ts";
import {
  findStripTool,
  normalizeArch,
  stripToolCandidates,
  whichCommand,
} from "../../src/slim/strip/tool.ts";
import { verifyLoads } from "../../src/slim/strip/verify.ts";
import { BINUTILS, describeWith, GCC, itWith, LLVM_STRIP } from "../helpers/prereq.ts";
import { TEST_PYTHON, tempDir, testPython } from "../install/fixtures.ts";

const PY = testPython();

function sh(cmd: string, args: string[]): string {
  const res = spawnSync(cmd, args, { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${res.stderr}`);
  return res.stdout;
}

/** Section names of an ELF file (readelf -SW). */
function sections(file: string): string[] {
  return [...sh("readelf", ["-SW", file]).matchAll(/\]\s+(\.\S+)/g)].map((m) => m[1] as string);
}

function py(code: string): string {
  return sh(PY as string, ["-c", code]).trim();
}

const EXT_SRC = `#include <Python.h>
static int helper(int x) { return x * 3; }
static PyObject *triple(PyObject *self, PyObject *arg) { return PyLong_FromLong(helper(PyLong_AsLong(arg))); }
static PyMethodDef methods[] = {{"triple", triple, METH_O, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};
PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&def); }
`;
const LIB_SRC =
  "int add(int a, int b) { return a + b; }\nstatic int twice(int x) { return 2 * x; }\nint use(int x) { return twice(x); }\n";

describeWith(
  TEST_PYTHON,
  GCC,
  BINUTILS,
)("stripFile and verifyLoads", () => {
  let root: string;
  let site: string;
  let ext: string;
  let extPath: string;
  let libPath: string;
  let patchedPath: string;

  beforeAll(() => {
    root = tempDir("strip");
    site = path.join(root, "site");
    mkdirSync(path.join(site, "fastpkg"), { recursive: true });
    mkdirSync(path.join(site, "fastpkg.libs"), { recursive: true });
    ext = py("import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))");
    const include = py("import sysconfig; print(sysconfig.get_paths()['include'])");
    writeFileSync(path.join(root, "speed.c"), EXT_SRC);
    writeFileSync(path.join(root, "lib.c"), LIB_SRC);
    writeFileSync(path.join(site, "fastpkg", "__init__.py"), "from ._speed import triple\n");
    extPath = path.join(site, "fastpkg", `_speed${ext}`);
    sh("gcc", [
      "-shared",
      "-fPIC",
      "-g",
      "-O0",
      `-I${include}`,
      "-o",
      extPath,
      path.join(root, "speed.c"),
    ]);
    libPath = path.join(site, "fastpkg.libs", "libadd-1234abcd.so");
    sh("gcc", ["-shared", "-fPIC", "-g", "-o", libPath, path.join(root, "lib.c")]);
    patchedPath = path.join(site, "fastpkg", `_patched${ext}`);
    sh("gcc", [
      "-shared",
      "-fPIC",
      "-g",
      `-I${include}`,
      "-Wl,-rpath,$ORIGIN/../fastpkg.libs",
      "-o",
      patchedPath,
      path.join(root, "lib.c"),
    ]);
  });

  function copyOf(file: string, name: string): string {
    const dir = path.join(root, name);
    mkdirSync(dir, { recursive: true });
    const out = path.join(dir, path.basename(file));
    copyFileSync(file, out);
    return out;
  }

  it("tells auditwheel-patched files by their RPATH", () => {
    expect(readElfInfo(extPath)).toMatchObject({ bits: 64, littleEndian: true, type: 3 });
    expect(readElfRunpath(patchedPath)).toEqual(["$ORIGIN/../fastpkg.libs"]);
    expect(isAuditwheelPatched(readElfRunpath(patchedPath))).toBe(true);
    expect(isAuditwheelPatched(readElfRunpath(extPath))).toBe(false);
    expect(isAuditwheelPatched(["$ORIGIN"])).toBe(false);
  });

  it("strips debug info: debug sections gone, symbols kept, still imports", async () => {
    const file = copyOf(extPath, "debug/fastpkg");
    writeFileSync(path.join(path.dirname(file), "__init__.py"), "from ._speed import triple\n");
    const before = sections(file);
    expect(before.filter((s) => s.startsWith(".debug_")).length).toBeGreaterThan(2);
    const r = stripFile(file, "debug");
    expect(r.changed).toBe(true);
    expect(r.tool.kind).toBe("binutils");
    expect(r.after).toBeLessThan(r.before);
    expect(statSync(file).size).toBe(r.after);
    const after = sections(file);
    expect(after.filter((s) => s.startsWith(".debug_"))).toEqual([]);
    expect(after).toContain(".symtab");
    const loads = await verifyLoads([file], PY as string, { siteDir: path.join(root, "debug") });
    expect(loads).toEqual([{ file, status: "ok", kind: "extension" }]);
    expect(
      sh(PY as string, [
        "-c",
        "import sys; sys.path.insert(0, sys.argv[1]); import fastpkg; print(fastpkg.triple(14))",
        path.join(root, "debug"),
      ]).trim(),
    ).toBe("42");
    // A second strip finds nothing to remove: the file is left as it is.
    const again = stripFile(file, "debug");
    expect(again).toMatchObject({ changed: false, before: r.after, after: r.after });
  });

  it("strips unneeded symbols: .symtab gone, the library still loads", async () => {
    const file = copyOf(libPath, "unneeded");
    expect(sections(file)).toContain(".symtab");
    const r = stripFile(file, "unneeded");
    expect(r.changed).toBe(true);
    const after = sections(file);
    expect(after).not.toContain(".symtab");
    expect(after.filter((s) => s.startsWith(".debug_"))).toEqual([]);
    expect(statSync(file).mode & 0o777).toBe(statSync(libPath).mode & 0o777);
    const [load] = await verifyLoads([file], PY as string);
    expect(load).toMatchObject({ status: "ok", kind: "library" });
  });

  it("refuses read-only files, non-ELF files and missing files", () => {
    const ro = copyOf(libPath, "readonly");
    chmodSync(ro, 0o444);
    const bytes = readFileSync(ro);
    expect(() => stripFile(ro, "debug")).toThrowError(
      expect.objectContaining({ code: "STRIP_FAILED" }),
    );
    expect(readFileSync(ro).equals(bytes)).toBe(true);
    const text = path.join(root, "readonly", "notes.so");
    writeFileSync(text, "not elf");
    expect(() => stripFile(text, "debug")).toThrowError(
      expect.objectContaining({ code: "INVALID_ELF" }),
    );
    expect(() => stripFile(path.join(root, "nope.so"), "debug")).toThrowError(
      expect.objectContaining({ code: "IO_ERROR" }),
    );
  });

  it("never lets llvm-strip touch an auditwheel-patched file", () => {
    const file = copyOf(patchedPath, "patched");
    const llvm = { kind: "llvm" as const, command: "llvm-strip" };
    expect(() => chooseStripTool(file, "x86_64", { tool: llvm })).toThrowError(
      expect.objectContaining({
        code: "STRIP_FAILED",
        message: expect.stringMatching(/auditwheel/),
      }),
    );
    const chosen = chooseStripTool(file, "x86_64", { prefer: "llvm" });
    expect(chosen.kind).toBe("binutils");
    // With llvm-strip the only tool, the file is refused rather than stripped.
    expect(() =>
      chooseStripTool(file, "x86_64", {
        which: (c) => (c.startsWith("llvm-strip") ? `/usr/bin/${c}` : undefined),
        llvmStrips: () => ["llvm-strip"],
      }),
    ).toThrowError(expect.objectContaining({ code: "STRIP_FAILED" }));
    // An unpatched file may go to llvm-strip.
    expect(chooseStripTool(extPath, "x86_64", { prefer: "llvm" }).kind).toBe(
      LLVM_STRIP.ok ? "llvm" : "binutils",
    );
  });

  it("stripAndVerify keeps never-strip files, verifies the rest, restores what no longer loads", async () => {
    const work = path.join(root, "batch");
    mkdirSync(path.join(work, "fastpkg"), { recursive: true });
    mkdirSync(path.join(work, "fastpkg.libs"), { recursive: true });
    writeFileSync(path.join(work, "fastpkg", "__init__.py"), "from ._speed import triple\n");
    const items = [
      { rel: `fastpkg/_speed${ext}`, from: extPath },
      { rel: "fastpkg.libs/libadd-1234abcd.so", from: libPath },
      { rel: "fastpkg/__init__.py", from: path.join(site, "fastpkg", "__init__.py") },
    ].map(({ rel, from }) => {
      const p = path.join(work, rel);
      copyFileSync(from, p);
      return { path: p, rel };
    });
    const libBytes = readFileSync(items[1]?.path as string);
    const results = await stripAndVerify(items, {
      mode: "debug",
      interpreter: PY as string,
      siteDir: work,
    });
    expect(results.map((r) => [r.rel, r.outcome])).toEqual([
      [`fastpkg/_speed${ext}`, "stripped"],
      ["fastpkg.libs/libadd-1234abcd.so", "kept"],
      ["fastpkg/__init__.py", "not-elf"],
    ]);
    expect(results[1]?.reason).toMatch(/auditwheel/);
    expect(readFileSync(items[1]?.path as string).equals(libBytes)).toBe(true);

    // A strip tool that breaks files: every stripped file fails to load and is put back.
    const broken = path.join(root, "broken-strip.sh");
    writeFileSync(broken, '#!/bin/sh\n# args: FLAG -o OUT IN\nhead -c 200 "$4" > "$3"\n');
    chmodSync(broken, 0o755);
    const extBytes = readFileSync(items[0]?.path as string);
    const bad = await stripAndVerify(items.slice(0, 1), {
      mode: "debug",
      interpreter: PY as string,
      siteDir: work,
      tool: { kind: "binutils", command: broken },
    });
    expect(bad[0]).toMatchObject({ outcome: "reverted" });
    expect(bad[0]?.reason).toMatch(/Error/);
    expect(readFileSync(items[0]?.path as string).equals(extBytes)).toBe(true);
    expect(
      sh(PY as string, [
        "-c",
        "import sys; sys.path.insert(0, sys.argv[1]); import fastpkg; print(fastpkg.triple(2))",
        work,
      ]).trim(),
    ).toBe("6");
  }, 30_000);

  itWith(LLVM_STRIP)(
    "strips a foreign-architecture file with llvm-strip, and does not load it",
    async () => {
      const file = copyOf(libPath, "foreign");
      const bytes = readFileSync(file);
      bytes.writeUInt16LE(183, 18); // e_machine = EM_AARCH64
      writeFileSync(file, bytes);
      expect(readElfInfo(file)?.arch).toBe("aarch64");
      const tool = findStripTool("aarch64");
      expect(tool?.kind).toBe(
        whichCommand("aarch64-linux-gnu-strip") === undefined ? "llvm" : "binutils",
      );
      const r = stripFile(file, "debug");
      expect(r.changed).toBe(true);
      expect(sections(file).filter((s) => s.startsWith(".debug_"))).toEqual([]);
      const [load] = await verifyLoads([file], PY as string);
      expect(load).toMatchObject({ status: "skipped" });
      expect(load?.error).toMatch(/aarch64/);
      const [viaBatch] = await stripAndVerify(
        [{ path: copyOf(file, "foreign2"), rel: "x/liba.so" }],
        {
          mode: "debug",
          interpreter: PY as string,
        },
      );
      expect(viaBatch?.outcome).toBe("unchanged");
    },
  );
});

describe("strip tool selection", () => {
  const fake = (present: string[], bfd: Record<string, string[]> = {}) => ({
    which: (c: string) => (present.includes(c) ? `/bin/${c}` : undefined),
    llvmStrips: () => present.filter((c) => c.startsWith("llvm-strip")),
    bfdTargets: (c: string) => bfd[path.basename(c)] ?? [],
  });
  const x86Strip = { strip: ["elf64-x86-64", "elf32-i386", "elf32-x86-64"] };

  it("prefers binutils for an architecture it supports, then llvm-strip", () => {
    const opts = fake(["strip", "llvm-strip", "llvm-strip-14"], x86Strip);
    expect(stripToolCandidates("x86_64", opts).map((t) => `${t.kind}:${t.command}`)).toEqual([
      "binutils:/bin/strip",
      "llvm:/bin/llvm-strip",
      "llvm:/bin/llvm-strip-14",
    ]);
    expect(findStripTool("i686", opts)?.command).toBe("/bin/strip");
    expect(findStripTool("amd64", opts)?.command).toBe("/bin/strip");
    expect(findStripTool("x86_64", { ...opts, prefer: "llvm" })?.kind).toBe("llvm");
  });

  it("uses a cross binutils for a foreign architecture, else llvm-strip, else nothing", () => {
    expect(findStripTool("aarch64", fake(["strip", "llvm-strip"], x86Strip))).toEqual({
      kind: "llvm",
      command: "/bin/llvm-strip",
    });
    expect(
      findStripTool("arm64", fake(["strip", "aarch64-linux-gnu-strip", "llvm-strip"], x86Strip)),
    ).toEqual({
      kind: "binutils",
      command: "/bin/aarch64-linux-gnu-strip",
    });
    expect(findStripTool("armv7l", fake(["arm-linux-gnueabihf-strip"]))?.command).toBe(
      "/bin/arm-linux-gnueabihf-strip",
    );
    expect(findStripTool("ppc64le", fake(["strip"], { strip: ["elf64-powerpcle"] }))?.command).toBe(
      "/bin/strip",
    );
    expect(findStripTool("aarch64", fake(["strip"], x86Strip))).toBe(undefined);
    expect(findStripTool("riscv64", fake([]))).toBe(undefined);
  });

  it("normalizes architecture names", () => {
    expect(
      ["amd64", "x64", "arm64", "i386", "armhf", "ppc64el", "s390x"].map(normalizeArch),
    ).toEqual(["x86_64", "x86_64", "aarch64", "i686", "armv7l", "ppc64le", "s390x"]);
  });

  it("chooseStripTool names the missing tool", () => {
    const file = process.execPath;
    expect(() => chooseStripTool(file, "riscv64", fake([]))).toThrowError(
      expect.objectContaining({
        code: "STRIP_FAILED",
        message: expect.stringMatching(/no strip tool for riscv64/),
      }),
    );
  });
});

describe("never-strip rules", () => {
  it("match vendored auditwheel libraries anywhere, and nothing else", () => {
    expect(neverStripReason("numpy.libs/libgfortran-040039e1.so.5.0.0")).toMatch(/auditwheel/);
    expect(neverStripReason("lib/python3.12/site-packages/scipy.libs/libopenblas.so")).toMatch(
      /auditwheel/,
    );
    expect(neverStripReason("./numpy/.libs/libopenblas.so")).toMatch(/auditwheel/);
    expect(neverStripReason("numpy/_core/_multiarray_umath.cpython-312-x86_64-linux-gnu.so")).toBe(
      undefined,
    );
    expect(neverStripReason("mylibs/x.so")).toBe(undefined);
    expect(neverStripReason("pkg/x.so.debug")).toMatch(/debug/);
    expect(neverStripReason("numpy.libs/x.so", [])).toBe(undefined);
    for (const rule of NEVER_STRIP) expect(rule.reason.length).toBeGreaterThan(20);
  });
});
