/**
 * An unusable destination is one clear error at once, before anything is resolved or written:
 * a dangling symlink on the way (`--prefix ./sdcard/env` with `sdcard` dangling), a file where
 * a folder should be, a kernel filesystem (`--prefix /proc/foo` used to spin in a mkdir loop).
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { install } from "../../src/env/install.ts";
import {
  cliEnv,
  expectSlimenvError,
  slimenv,
  snapshot,
  tempDir,
  testSettings,
} from "./fixtures.ts";

describe("install into an unusable destination", () => {
  let root: string;
  beforeAll(() => {
    root = tempDir("destination");
    symlinkSync(path.join(root, "no-such-card"), path.join(root, "sdcard"));
    writeFileSync(path.join(root, "afile"), "x");
    mkdirSync(path.join(root, "ok"));
  });

  const attempt = (kind: "prefix" | "target" | "venv", dir: string) =>
    install({
      cwd: root,
      env: process.env,
      // An index nobody serves: the destination is refused before any request is made.
      settings: testSettings("http://127.0.0.1:9/simple/"),
      userAgent: "slimenv-tests",
      storeRoot: path.join(root, "store"),
      httpCacheDir: null,
      selection: {
        kind: "spec",
        spec: { pythonVersion: "3.12", platform: "manylinux_2_28_x86_64" },
      },
      layout: { kind, dir } as never,
      inputs: { requirementFiles: [], requirements: ["alpha"], wheels: [] },
    });

  it("refuses a dangling symlink, a file on the way and /proc, changing nothing", async () => {
    const before = snapshot(root);
    await expectSlimenvError(
      attempt("prefix", "sdcard/env"),
      "IO_ERROR",
      /sdcard is a dangling symlink \(to .*no-such-card\)/,
    );
    await expectSlimenvError(attempt("prefix", "sdcard"), "IO_ERROR", /dangling symlink/);
    await expectSlimenvError(
      attempt("target", "afile/env"),
      "IO_ERROR",
      /afile is a file, not a folder/,
    );
    await expectSlimenvError(
      attempt("prefix", "/proc/foo"),
      "IO_ERROR",
      /\/proc is on proc, a kernel filesystem/,
    );
    await expectSlimenvError(attempt("target", "/sys/x/y"), "IO_ERROR", /sysfs|not writable/);
    expect(snapshot(root)).toEqual(before);
  });

  it("the CLI says so in one line, without a stack trace", async () => {
    const env = cliEnv(path.join(root, "home"));
    const res = await slimenv(
      root,
      env,
      "install",
      "alpha",
      "--prefix",
      "sdcard/env",
      "--python-version",
      "3.12",
      "--platform",
      "manylinux_2_28_x86_64",
    );
    expect(res.stderr).toMatch(
      /\[IO_ERROR\] cannot make an environment at sdcard\/env: .*sdcard is a dangling symlink/,
    );
    expect(res.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(res.status).toBe(1);
    const proc = await slimenv(
      root,
      env,
      "install",
      "alpha",
      "--prefix",
      "/proc/foo",
      "--python-version",
      "3.12",
      "--platform",
      "manylinux_2_28_x86_64",
    );
    expect(proc.stderr).toContain("kernel filesystem");
    expect(proc.status).toBe(1);
  });
});
