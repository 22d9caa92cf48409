/**
 * Reading and rewriting DT_NEEDED / DT_RUNPATH on real ELF files built with gcc
 * (src/elf/dynamic.ts): an executable with an absolute rpath into a deep folder, rewritten to
 * $ORIGIN, still finds its library after both move elsewhere; RPATH and RUNPATH as lists of
 * folders (what slim's auditwheel rule reads); a 32-bit library.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  elfRunpath,
  loaderSearchDirs,
  readElfDynamic,
  readElfDynamicFile,
  readElfRunpath,
  rewriteSearchPaths,
  rewriteSearchPathsFile,
} from "../../src/elf/index.ts";
import { thrown } from "../helpers/errors.ts";
import { describeWith, GCC, GCC_M32, itWith } from "../helpers/prereq.ts";
import { tempDir } from "../report/fixtures.ts";

describeWith(GCC)("ELF dynamic section", () => {
  let root: string;
  let deepLib: string;
  let exe: string;

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  beforeAll(() => {
    root = tempDir("elf");
    deepLib = path.join(root, "a-rather-long-install-prefix", "lib");
    mkdirSync(deepLib, { recursive: true });
    mkdirSync(path.join(root, "a-rather-long-install-prefix", "bin"));
    writeFileSync(path.join(root, "greet.c"), "int greet(void) { return 42; }\n");
    writeFileSync(
      path.join(root, "main.c"),
      '#include <stdio.h>\nint greet(void);\nint main(void) { printf("%d\\n", greet()); return 0; }\n',
    );
    execFileSync("gcc", [
      "-shared",
      "-fPIC",
      "-Wl,-soname,libgreet.so.1",
      "-o",
      path.join(deepLib, "libgreet.so.1"),
      path.join(root, "greet.c"),
    ]);
    exe = path.join(root, "a-rather-long-install-prefix", "bin", "hello");
    execFileSync("gcc", [
      "-o",
      exe,
      path.join(root, "main.c"),
      path.join(deepLib, "libgreet.so.1"),
      `-Wl,-rpath,${deepLib}`,
      "-Wl,--enable-new-dtags",
    ]);
  });

  it("reads NEEDED, SONAME and RUNPATH", async () => {
    const dyn = await readElfDynamicFile(exe);
    expect(dyn?.needed).toContain("libgreet.so.1");
    expect(dyn?.needed).toContain("libc.so.6");
    expect(dyn?.searchPaths).toEqual([expect.objectContaining({ tag: "RUNPATH", value: deepLib })]);
    const lib = await readElfDynamicFile(path.join(deepLib, "libgreet.so.1"));
    expect(lib?.soname).toBe("libgreet.so.1");
    expect(readElfDynamic(Buffer.from("#!/bin/sh\necho hi\n".padEnd(80, " ")))).toBeUndefined();
  });

  it("rewrites RUNPATH to $ORIGIN in place; the moved program still finds its library", async () => {
    const copy = path.join(root, "copy");
    mkdirSync(path.join(copy, "bin"), { recursive: true });
    mkdirSync(path.join(copy, "lib"));
    copyFileSync(exe, path.join(copy, "bin", "hello"));
    copyFileSync(path.join(deepLib, "libgreet.so.1"), path.join(copy, "lib", "libgreet.so.1"));
    execFileSync("chmod", ["+x", path.join(copy, "bin", "hello")]);
    const before = readFileSync(path.join(copy, "bin", "hello")).length;
    const changes = await rewriteSearchPathsFile(
      path.join(copy, "bin", "hello"),
      () => "$ORIGIN/../lib",
    );
    expect(changes).toEqual([{ from: deepLib, to: "$ORIGIN/../lib" }]);
    expect(readFileSync(path.join(copy, "bin", "hello")).length).toBe(before);
    const readelf = execFileSync("readelf", ["-d", path.join(copy, "bin", "hello")], {
      encoding: "utf8",
    });
    expect(readelf).toContain("Library runpath: [$ORIGIN/../lib]");
    // Hide the original library, move the copy: it must load its own.
    renameSync(deepLib, `${deepLib}-gone`);
    const moved = path.join(root, "moved");
    renameSync(copy, moved);
    const res = spawnSync(path.join(moved, "bin", "hello"), { encoding: "utf8", env: {} });
    renameSync(`${deepLib}-gone`, deepLib);
    expect(res.stdout).toBe("42\n");
  });

  it("refuses a longer search path, and leaves the bytes alone", () => {
    const buf = readFileSync(exe);
    const copy = Buffer.from(buf);
    const err = thrown(() => rewriteSearchPaths(copy, (v) => `${v}/and/then/some/more`));
    expect(err.code).toBe("RUNTIME_UNSUPPORTED");
    expect(copy.equals(buf)).toBe(true);
    expect(rewriteSearchPaths(copy, (v) => v)).toEqual([]);
  });

  it("reads a file the same as its bytes in memory", async () => {
    const lib = path.join(deepLib, "libgreet.so.1");
    for (const file of [exe, lib]) {
      expect(await readElfDynamicFile(file)).toEqual(readElfDynamic(readFileSync(file)));
    }
    expect(await readElfDynamicFile(path.join(root, "greet.c"))).toBeUndefined();
    await expect(readElfDynamicFile(path.join(root, "nope.so"))).rejects.toMatchObject({
      code: "IO_ERROR",
    });
  });

  it("lists RPATH and RUNPATH folders", () => {
    const src = path.join(root, "greet.c");
    const patched = path.join(root, "_patched.so");
    execFileSync("gcc", [
      "-shared",
      "-fPIC",
      "-Wl,-rpath,$ORIGIN/../fastpkg.libs",
      "-o",
      patched,
      src,
    ]);
    expect(readElfRunpath(patched)).toEqual(["$ORIGIN/../fastpkg.libs"]);
    expect(elfRunpath(readFileSync(patched))).toEqual(["$ORIGIN/../fastpkg.libs"]);
    const old = path.join(root, "_rpath.so");
    execFileSync("gcc", [
      "-shared",
      "-fPIC",
      "-Wl,--disable-new-dtags,-rpath,/opt/a::/opt/b",
      "-o",
      old,
      src,
    ]);
    expect(readElfDynamic(readFileSync(old))?.searchPaths).toEqual([
      expect.objectContaining({ tag: "RPATH", value: "/opt/a::/opt/b" }),
    ]);
    expect(readElfRunpath(old)).toEqual(["/opt/a", "/opt/b"]);
    expect(readElfRunpath(path.join(deepLib, "libgreet.so.1"))).toEqual([]);
    expect(readElfRunpath(src)).toEqual([]);
    expect(elfRunpath(new Uint8Array([0x7f, 0x45, 0x4c, 0x46]))).toEqual([]);
    expect(thrown(() => readElfRunpath(path.join(root, "nope.so"))).code).toBe("IO_ERROR");
  });

  it("gives the loader's search folders: RUNPATH when there is one, else RPATH", () => {
    const old = readElfDynamic(readFileSync(path.join(root, "_rpath.so")));
    if (old === undefined) throw new Error("_rpath.so is not ELF");
    expect(loaderSearchDirs(old)).toEqual({ tag: "RPATH", dirs: ["/opt/a", "/opt/b"] });
    const at = (tag: "RPATH" | "RUNPATH", value: string) => ({ tag, value, fileOffset: 0 });
    const both = {
      needed: ["libx.so"],
      soname: undefined,
      searchPaths: [
        at("RPATH", "/ignored"),
        at("RUNPATH", "$ORIGIN:/opt/c"),
        at("RUNPATH", "/opt/d"),
      ],
    };
    expect(loaderSearchDirs(both)).toEqual({
      tag: "RUNPATH",
      dirs: ["$ORIGIN", "/opt/c", "/opt/d"],
    });
    expect(loaderSearchDirs({ needed: [], soname: undefined, searchPaths: [] }).dirs).toEqual([]);
  });

  itWith(GCC_M32)("reads and rewrites a 32-bit library", async () => {
    // -nostdlib: the machine may compile for -m32 without having 32-bit libraries to link.
    const m32 = (...args: string[]) =>
      execFileSync("gcc", ["-m32", "-shared", "-fPIC", "-nostdlib", ...args], { stdio: "pipe" });
    const src = path.join(root, "greet.c");
    m32("-Wl,-soname,libdep32.so", "-o", path.join(root, "libdep32.so"), src);
    const lib = path.join(root, "libgreet32.so");
    m32(
      "-Wl,-soname,libgreet32.so",
      `-Wl,-rpath,${deepLib}`,
      "-o",
      lib,
      src,
      `-L${root}`,
      "-Wl,--no-as-needed",
      "-ldep32",
    );
    const dyn = await readElfDynamicFile(lib);
    expect(dyn?.soname).toBe("libgreet32.so");
    expect(dyn?.needed).toEqual(["libdep32.so"]);
    expect(readElfRunpath(lib)).toEqual([deepLib]);
    expect(await rewriteSearchPathsFile(lib, () => "$ORIGIN")).toEqual([
      { from: deepLib, to: "$ORIGIN" },
    ]);
    expect(execFileSync("readelf", ["-d", lib], { encoding: "utf8" })).toMatch(
      /(runpath|rpath): \[\$ORIGIN\]/,
    );
  });
});
