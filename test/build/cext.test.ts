/**
 * A setuptools sdist (no [build-system]: the legacy backend, as pip does) with a small C
 * extension compiled by gcc, its build requirements (setuptools, wheel) served from the copies
 * CPython itself ships — fully hermetic. `--build-flags size` is proven: no `.debug_*`
 * sections, smaller than the default build, and it still imports and gives the same output.
 */
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isDebugSection, readElfFile } from "../../src/elf/index.ts";
import { type InstallRequest, install } from "../../src/env/install.ts";
import { sizeReport } from "../../src/report/size.ts";
import { Store } from "../../src/store/store.ts";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import { run, tempDir, testPython, testSettings } from "../install/fixtures.ts";
import { bundledBuildWheels, cextSdist, pkgInfo } from "./fixtures.ts";

const PY = testPython();
const wheels = PY === undefined ? {} : bundledBuildWheels(PY);
const hasGcc = existsSync("/usr/bin/gcc");
const ready = PY !== undefined && wheels.setuptools !== undefined && wheels.wheel !== undefined;

describe.skipIf(!ready || !hasGcc)("building a C extension with setuptools", () => {
  let server: IndexServer;
  let root: string;
  const sdist = cextSdist();

  beforeAll(async () => {
    const served = (file: string) => [
      { file: { filename: path.basename(file), bytes: readFileSync(file) } },
    ];
    server = await startIndexServer({
      projects: {
        cext: [
          {
            file: {
              filename: sdist.filename,
              bytes: sdist.bytes,
              metadata: pkgInfo("cext", "1.0"),
            },
          },
        ],
        setuptools: served(wheels.setuptools as string),
        wheel: served(wheels.wheel as string),
      },
    });
    root = tempDir("cext");
  });
  afterAll(async () => {
    await server.close();
  });

  function request(
    dir: string,
    flags: "default" | "size",
    env: NodeJS.ProcessEnv = process.env,
  ): InstallRequest {
    return {
      cwd: root,
      env,
      settings: testSettings(server.url),
      selection: { kind: "interpreter", request: PY as string },
      layout: { kind: "prefix", dir },
      inputs: { requirementFiles: [], requirements: ["cext"], wheels: [] },
      userAgent: "slimenv-tests",
      storeRoot: path.join(root, "store"),
      httpCacheDir: null,
      build: { flags, logDir: path.join(root, "logs") },
    };
  }

  function extension(envDir: string): string {
    const lib = path.join(envDir, "lib");
    const site = path.join(lib, readdirSync(lib)[0] as string, "site-packages", "cext");
    const so = readdirSync(site).find((f) => f.endsWith(".so"));
    if (so === undefined) throw new Error(`no extension in ${site}`);
    return path.join(site, so);
  }

  const program = "import cext; print(cext.greet('slimenv')); print(cext.fast_sum(100000))";

  it("builds default and size variants; size has no debug sections, is smaller, same output", async () => {
    const a = await install(request("env-default", "default"));
    const b = await install(request("env-size", "size"));
    expect(b.manifest.built?.[0]).toMatchObject({ name: "cext", flags: "size", compiled: true });
    const soA = extension(a.dir);
    const soB = extension(b.dir);
    const sizeA = statSync(soA).size;
    const sizeB = statSync(soB).size;
    const debug = (file: string) =>
      readElfFile(file, statSync(file).size)
        .sections.map((s) => s.name)
        .filter(isDebugSection);
    expect(debug(soA).length).toBeGreaterThan(0); // the interpreter's CFLAGS have -g
    expect(debug(soB)).toEqual([]);
    expect(sizeB).toBeLessThan(sizeA);
    const PATH = `${path.dirname(PY as string)}:/usr/bin:/bin`;
    const outA = run(path.join(a.dir, "bin", "python"), ["-c", program], { PATH });
    const outB = run(path.join(b.dir, "bin", "python"), ["-c", program], { PATH });
    expect(outA.stderr).toBe("");
    expect(outA.stdout).toContain("hello slimenv from C");
    expect(outB.stdout).toBe(outA.stdout);
    // slimenv size: the flags it was built with, and what it needs from the system.
    const report = sizeReport(b.dir);
    expect(report.built).toEqual([{ name: "cext", version: "1.0", flags: "size" }]);
    expect(report.systemLibraries?.map((l) => l.name)).toContain("libc.so.6");
    const store = Store.open({ root: path.join(root, "store") });
    expect(store.status().builtWheels).toBe(2);
    store.close();
  }, 240_000);

  it("another compiler builds again; the same one takes the wheel from the store", async () => {
    // gcc under another name and version line, logging every compile it is asked for.
    const bin = tempDir("slimenv-cc-");
    const calls = path.join(bin, "calls.log");
    const cc = path.join(bin, "cc-next");
    writeFileSync(
      cc,
      `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "cc-next (test) 99.1"; exit 0; fi\necho "$@" >> ${calls}\nexec gcc "$@"\n`,
    );
    chmodSync(cc, 0o755);
    const before = await install(request("env-default-again", "default"));
    expect(before.manifest.built?.[0]).toMatchObject({ compiled: false });
    expect(before.manifest.built?.[0]?.toolchain?.compilers.cc).toMatch(/\d+\.\d+/);
    const next = await install(request("env-cc-next", "default", { ...process.env, CC: cc }));
    expect(next.manifest.built?.[0]).toMatchObject({ name: "cext", compiled: true });
    expect(next.manifest.built?.[0]?.toolchain?.compilers[cc]).toBe("cc-next (test) 99.1");
    expect(next.manifest.built?.[0]?.transform).not.toBe(before.manifest.built?.[0]?.transform);
    expect(readFileSync(calls, "utf8")).toMatch(/cext/); // it compiled with cc-next
    const again = await install(request("env-cc-next-2", "default", { ...process.env, CC: cc }));
    expect(again.manifest.built?.[0]).toMatchObject({ compiled: false });
    const PATH = `${path.dirname(PY as string)}:/usr/bin:/bin`;
    const out = run(path.join(next.dir, "bin", "python"), ["-c", program], { PATH });
    expect(out.stdout).toContain("hello slimenv from C");
    const store = Store.open({ root: path.join(root, "store") });
    expect(store.status().builtWheels).toBe(3);
    store.close();
  }, 240_000);
});
