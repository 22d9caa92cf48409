/**
 * A native file no tool here strips safely (an auditwheel-patched library when llvm-strip is
 * the only tool, as for aarch64 without a cross binutils) is kept as it is under `--slim`: the
 * install goes on, and the file is reported by package and path — never by a work file's name.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RecordingReporter } from "../../src/base/index.ts";
import { materialize } from "../../src/env/materialize.ts";
import { slimPolicy } from "../../src/slim/policy.ts";
import { nativeStripper } from "../../src/slim/strip/native-stripper.ts";
import type { SlimSummary } from "../../src/slim/transform/summary.ts";
import { slimTransform } from "../../src/slim/transform/transform.ts";
import { Store } from "../../src/store/store.ts";
import { interpreter, pyenvPython } from "../env/env-fixtures.ts";
import { tempDir } from "../helpers/tmp.ts";
import { buildWheel } from "../helpers/wheels.ts";
import { countingCompiler, importWheels, siteOf } from "./policy-fixtures.ts";

const PY = pyenvPython("3.12");
const GCC = spawnSync("gcc", ["--version"]).status === 0;

describe.skipIf(PY === undefined || !GCC)("a file that cannot be stripped safely", () => {
  it("is kept as it is and reported by package and path; the install goes on", async () => {
    const root = tempDir("slimenv-strip-kept-");
    const src = path.join(root, "lib.c");
    writeFileSync(src, "int add(int a, int b) { return a + b; }\n");
    const so = path.join(root, "libadd.so");
    // An auditwheel-like marker: RPATH $ORIGIN/../<name>.libs (patchelf-rewritten files).
    const cc = spawnSync("gcc", [
      "-shared",
      "-fPIC",
      "-g",
      "-Wl,-rpath,$ORIGIN/../fastpkg.libs",
      "-o",
      so,
      src,
    ]);
    expect(cc.status).toBe(0);
    const bytes = new Uint8Array(readFileSync(so));
    const wheel = buildWheel({
      name: "fastpkg",
      version: "1.0",
      tags: "py3-none-linux_x86_64",
      purelib: false,
      files: { "fastpkg/__init__.py": "", "fastpkg/_native.so": bytes },
    });
    const store = Store.open({ root: path.join(root, "store") });
    const py = await interpreter(PY as string);
    const wheels = await importWheels(store, [wheel]);
    const reporter = new RecordingReporter();
    const dir = path.join(root, "env");
    // A machine with llvm-strip only: it may not touch an auditwheel-patched file.
    const stripper = nativeStripper({
      which: (c) => (c.startsWith("llvm-strip") ? `/usr/bin/${c}` : undefined),
      llvmStrips: () => ["llvm-strip"],
    });
    const manifest = await materialize(
      store,
      {
        layout: { kind: "prefix", dir },
        target: py.target,
        probe: py.probe,
        wheels,
        requested: ["fastpkg"],
        linkMode: "auto",
        slim: slimTransform({
          policy: slimPolicy({ preset: "edge", strip: "debug" }),
          compiler: async () => countingCompiler(py),
          stripper,
        }),
      },
      { reporter },
    );
    const summary = (manifest.slim?.summary as SlimSummary | undefined)?.packages.find(
      (p) => p.name === "fastpkg",
    );
    expect(summary?.stripped).toBe(0);
    expect(summary?.stripKept).toEqual([
      {
        path: "fastpkg/_native.so",
        reason: expect.stringMatching(
          /^not stripped with \/usr\/bin\/llvm-strip: auditwheel-patched/,
        ),
      },
    ]);
    const placed = path.join(siteOf(dir, py), "fastpkg", "_native.so");
    expect(new Uint8Array(readFileSync(placed))).toEqual(bytes);
    const warns = reporter.events
      .filter((e) => e.kind === "log" && e.level === "warn")
      .map((e) => e.label);
    expect(warns).toEqual([
      expect.stringMatching(/^fastpkg: fastpkg\/_native\.so kept unstripped: not stripped with/),
    ]);
    expect(warns.join("\n")).not.toContain(root);
    // The work folder lived inside the store and is gone.
    store.close();
    expect(readdirSync(path.join(store.root, "tmp"))).toEqual([]);
  });
});
