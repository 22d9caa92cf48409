/**
 * Building sdists, hermetically: sdists made here, served by the in-process index, built by a
 * real CPython. An in-tree backend (backend-path, no download), the built wheel as a derived
 * store object (a second env builds nothing), config settings passed through, a failure (clear
 * error, the log kept, nothing in the store or env), a time-out, hostile archives, a target
 * the machine cannot build for, and metadata read without any build.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordingReporter } from "../../src/base/index.ts";
import { unpackSdist, unpackSdistArchive } from "../../src/build/unpack.ts";
import { type InstallRequest, install } from "../../src/env/install.ts";
import { classifyInstallArgs } from "../../src/env/install-inputs.ts";
import { sync } from "../../src/env/sync.ts";
import { runLock } from "../../src/resolve/lock-run.ts";
import { resolveSettings } from "../../src/settings/load.ts";
import { Store } from "../../src/store/store.ts";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import { buildWheel } from "../helpers/wheels.ts";
import {
  cliEnv,
  expectSlimenvError,
  run,
  slimenv,
  snapshot,
  tempDir,
  testPython,
  testSettings,
} from "../install/fixtures.ts";
import { asZipSdist, backendSdist, pkgInfo, rawTarGz, rawZip } from "./fixtures.ts";

const PY = testPython();

describe.skipIf(PY === undefined)("building sdists", () => {
  let server: IndexServer;
  let root: string;
  let storeRoot: string;
  let logDir: string;
  const demo = backendSdist("demo", "1.0");
  const broken = backendSdist("broken", "1.0", "fail");
  const slow = backendSdist("slow", "1.0", "sleep");
  // PKG-INFO 2.1: its dependencies (demo) are known only from the backend.
  const dyn = backendSdist("dyn", "1.0", "ok", { metadataVersion: "2.1", requires: ["demo"] });
  const both = backendSdist("both", "1.0");
  const zipped = asZipSdist(backendSdist("zipped", "1.0"));
  const bothWheel = buildWheel({
    name: "both",
    version: "1.0",
    files: { "both/__init__.py": 'VALUE = "from the wheel"\n' },
  });

  beforeAll(async () => {
    const entry = (s: typeof demo, metadataVersion = "2.2") => [
      {
        file: {
          filename: s.filename,
          bytes: s.bytes,
          metadata: pkgInfo(s.filename.split("-")[0] as string, "1.0", [], metadataVersion),
        },
      },
    ];
    server = await startIndexServer({
      projects: {
        demo: entry(demo),
        broken: entry(broken),
        slow: entry(slow),
        dyn: entry(dyn, "2.1"),
        zipped: entry(zipped),
        both: [
          ...entry(both),
          {
            file: {
              filename: bothWheel.filename,
              bytes: bothWheel.bytes,
              metadata: bothWheel.metadata,
            },
          },
        ],
      },
    });
    root = tempDir("build");
    storeRoot = path.join(root, "store");
    logDir = path.join(root, "logs");
  });
  afterAll(async () => {
    await server.close();
  });

  let n = 0;
  const folder = () => {
    const dir = path.join(root, `case${n++}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  };

  function request(cwd: string, names: string[], more: Partial<InstallRequest> = {}) {
    return {
      cwd,
      env: process.env,
      settings: testSettings(server.url),
      selection: { kind: "interpreter", request: PY as string },
      layout: { kind: "prefix", dir: "env" },
      inputs: { requirementFiles: [], requirements: names, wheels: [] },
      userAgent: "slimenv-tests",
      storeRoot,
      httpCacheDir: null,
      build: { logDir },
      ...more,
    } as InstallRequest;
  }

  const pyPath = () => `${path.dirname(PY as string)}:/usr/bin:/bin`;

  it("builds an sdist with an in-tree backend, and a second env builds nothing", async () => {
    const cwd = folder();
    const reporter = new RecordingReporter();
    const res = await install(
      request(cwd, ["demo"], {
        reporter,
        build: { logDir, configSettings: { answer: "42", flag: ["a", "b"] } },
      }),
    );
    expect(res.manifest.packages.map((p) => p.name)).toEqual(["demo"]);
    expect(res.manifest.built?.[0]).toMatchObject({
      name: "demo",
      version: "1.0",
      sdist: demo.sha256,
      flags: "default",
      compiled: true,
      configSettings: { answer: "42", flag: ["a", "b"] },
    });
    const out = run(
      path.join(cwd, "env", "bin", "python"),
      ["-c", "import demo, demo._config as c; print(demo.VALUE); print(c.CONFIG)"],
      { PATH: pyPath() },
    );
    expect(out.stdout).toContain("demo 1.0 built");
    expect(out.stdout).toContain("'answer': '42'");
    expect(out.stdout).toContain("'flag': ['a', 'b']");
    expect(reporter.events.some((e) => /built demo-1\.0-py3-none-any\.whl/.test(e.label))).toBe(
      true,
    );

    const store = Store.open({ root: storeRoot });
    expect(store.status().builtWheels).toBe(1);
    store.close();

    // Same inputs, another env: the store's built wheel, no hook runs.
    const cwd2 = folder();
    const again = new RecordingReporter();
    await install(
      request(cwd2, ["demo"], {
        reporter: again,
        build: { logDir, configSettings: { answer: "42", flag: ["a", "b"] } },
      }),
    );
    expect(again.events.some((e) => /built wheel from the store/.test(e.label))).toBe(true);
    expect(again.events.some((e) => e.kind === "task-start" && /build_wheel/.test(e.label))).toBe(
      false,
    );

    // Other config settings are another build.
    const cwd3 = folder();
    const other = new RecordingReporter();
    await install(request(cwd3, ["demo"], { reporter: other, build: { logDir } }));
    expect(other.events.some((e) => e.kind === "task-start" && /build_wheel/.test(e.label))).toBe(
      true,
    );
  });

  it("builds a legacy .zip sdist", async () => {
    expect(zipped.filename).toBe("zipped-1.0.zip");
    const cwd = folder();
    const res = await install(request(cwd, ["zipped"]));
    expect(res.manifest.built?.[0]).toMatchObject({
      name: "zipped",
      sdist: zipped.sha256,
      compiled: true,
    });
    const out = run(
      path.join(cwd, "env", "bin", "python"),
      ["-c", "import zipped; print(zipped.VALUE)"],
      { PATH: pyPath() },
    );
    expect(out.stdout).toContain("zipped 1.0 built");
  });

  it("prepares an sdist's metadata when its PKG-INFO is not reliable (and caches it)", async () => {
    const cwd = folder();
    const reporter = new RecordingReporter();
    const res = await install(request(cwd, ["dyn"], { reporter }));
    expect(res.manifest.packages.map((p) => p.name).sort()).toEqual(["demo", "dyn"]);
    expect(
      reporter.events.some(
        (e) =>
          e.kind === "task-start" && /dyn 1\.0: prepare_metadata_for_build_wheel/.test(e.label),
      ),
    ).toBe(true);
    const again = new RecordingReporter();
    await install(request(folder(), ["dyn"], { reporter: again }));
    expect(again.events.some((e) => /prepare_metadata_for_build_wheel/.test(e.label))).toBe(false);
  });

  it("builds a local source folder (./mypkg) and installs it", async () => {
    const cwd = folder();
    const src = unpackSdist(
      "local-2.0.tar.gz",
      backendSdist("local", "2.0").bytes,
      path.join(cwd, "x"),
    );
    const rel = `./${path.relative(cwd, src)}`;
    const inputs = classifyInstallArgs([rel], [], cwd);
    expect(inputs.sourceDirs).toEqual([src]);
    const res = await install(request(cwd, [], { inputs }));
    expect(res.manifest.packages.map((p) => `${p.name} ${p.version}`)).toEqual(["local 2.0"]);
    const out = run(
      path.join(cwd, "env", "bin", "python"),
      ["-c", "import local; print(local.VALUE)"],
      {
        PATH: pyPath(),
      },
    );
    expect(out.stdout).toContain("local 2.0 built");
  });

  it("-e ./folder installs editable (PEP 660): an edit to the source shows without a reinstall", async () => {
    const cwd = folder();
    const src = unpackSdist("edit-1.0.tar.gz", backendSdist("edit", "1.0").bytes, cwd);
    const inputs = classifyInstallArgs([], [], cwd, [`./${path.relative(cwd, src)}`]);
    expect(inputs.editableDirs).toEqual([src]);
    const res = await install(request(cwd, [], { inputs }));
    expect(res.manifest.packages.map((p) => `${p.name} ${p.version}`)).toEqual(["edit 1.0"]);
    const py = path.join(cwd, "env", "bin", "python");
    const show = "import edit; print(edit.VALUE)";
    expect(run(py, ["-c", show], { PATH: pyPath() }).stdout).toContain("edit 1.0 built");
    writeFileSync(path.join(src, "edit", "__init__.py"), 'VALUE = "edited in place"\n');
    expect(run(py, ["-c", show], { PATH: pyPath() }).stdout).toContain("edited in place");
    // The frontend's PEP 610 record, as pip writes it, and its RECORD line.
    const read = [
      "import importlib.metadata as m, json",
      "d = m.distribution('edit')",
      "print(json.dumps(json.loads(d.read_text('direct_url.json'))))",
      "print(any(str(f).endswith('direct_url.json') for f in d.files))",
    ].join("; ");
    const lines = run(py, ["-c", read], { PATH: pyPath() }).stdout.trim().split("\n");
    expect(JSON.parse(lines[0] as string)).toEqual({
      url: pathToFileURL(src).href,
      dir_info: { editable: true },
    });
    expect(lines[1]).toBe("True");
  });

  it("-e: a backend without build_editable, or no project folder, is refused; nothing written", async () => {
    const cwd = folder();
    const src = unpackSdist(
      "fixed-1.0.tar.gz",
      backendSdist("fixed", "1.0", "noeditable").bytes,
      cwd,
    );
    const inputs = classifyInstallArgs([], [], cwd, [src]);
    const before = snapshot(path.join(cwd, "env"));
    await expectSlimenvError(
      install(request(cwd, [], { inputs })),
      "BUILD_UNSUPPORTED",
      /fixed-1\.0 cannot be installed editable: .* has no build_editable \(PEP 660\)/,
    );
    expect(snapshot(path.join(cwd, "env"))).toEqual(before);
    expect(() => classifyInstallArgs([], [], cwd, ["./nowhere"])).toThrow(
      /not a folder with a pyproject/,
    );
    const env = cliEnv(path.join(cwd, "home"));
    const cli = await slimenv(cwd, env, "install", "--prefix", "env", "-e", "./nowhere");
    expect(cli.status).toBe(2);
    expect(cli.stderr).toMatch(/-e \.\/nowhere: not a folder/);
  });

  it("slimenv lock prepares the metadata too (CLI), and a spec target still needs a build", async () => {
    const cwd = folder();
    const env = cliEnv(path.join(cwd, "home"));
    const res = await slimenv(cwd, env, "lock", "dyn", "--python", PY as string, "-i", server.url);
    expect(res.stderr).not.toContain("BUILD_REQUIRED");
    expect(res.status).toBe(0);
    const text = readFileSync(path.join(cwd, "pylock.toml"), "utf8");
    expect(text).toMatch(/name = ['"]demo['"]/);
    const spec = await slimenv(
      cwd,
      env,
      "lock",
      "dyn",
      "--python-version",
      "3.12",
      "--platform",
      "manylinux_2_28_x86_64",
      "-i",
      server.url,
      "-o",
      "spec.toml",
    );
    expect(spec.status).toBe(1);
    expect(spec.stderr).toContain("BUILD_REQUIRED");
  });

  it("--no-build-isolation builds with the interpreter's own packages (another build key)", async () => {
    const cwd = folder();
    const reporter = new RecordingReporter();
    const res = await install(
      request(cwd, ["demo"], { reporter, build: { logDir, isolation: false } }),
    );
    expect(res.manifest.built?.[0]?.compiled).toBe(true);
    expect(reporter.events.some((e) => /get_requires_for_build_wheel/.test(e.label))).toBe(false);
  });

  it("builds name @ git+file://…@tag from a checkout", async () => {
    const cwd = folder();
    const repo = unpackSdist(
      "gitpkg-3.0.tar.gz",
      backendSdist("gitpkg", "3.0").bytes,
      path.join(cwd, "r"),
    );
    const git = (...args: string[]) =>
      run("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
        PATH: "/usr/bin:/bin",
        HOME: cwd,
      });
    git("-C", repo, "init", "-q");
    git("-C", repo, "add", "-A");
    git("-C", repo, "commit", "-q", "-m", "v3");
    git("-C", repo, "tag", "v3.0");
    const inputs = classifyInstallArgs([`gitpkg @ git+file://${repo}@v3.0`], [], cwd);
    expect(inputs.gitRequirements?.length).toBe(1);
    const res = await install(request(cwd, [], { inputs }));
    expect(res.manifest.packages.map((p) => `${p.name} ${p.version}`)).toEqual(["gitpkg 3.0"]);
  });

  it("sync keeps the env's build settings and takes the built wheel from the store", async () => {
    const cwd = folder();
    await install(
      request(cwd, ["demo"], {
        lockOut: "pylock.toml",
        build: { logDir, configSettings: { answer: "7" } },
      }),
    );
    const reporter = new RecordingReporter();
    const res = await sync({
      dir: path.join(cwd, "env"),
      lockFile: path.join(cwd, "pylock.toml"),
      cwd,
      env: process.env,
      settings: testSettings(server.url),
      userAgent: "slimenv-tests",
      reporter,
      storeRoot,
      httpCacheDir: null,
    });
    expect(res.rebuilt).toBe(false);
    expect(res.manifest.built?.[0]?.configSettings).toEqual({ answer: "7" });
    expect(reporter.events.some((e) => /build_wheel/.test(e.label))).toBe(false);
  });

  it("the CLI: build options, store status counts built wheels, size shows the flags", async () => {
    const cwd = folder();
    const env = cliEnv(path.join(cwd, "home"));
    const args = ["install", "demo", "--prefix", "env", "--python", PY as string, "-i", server.url];
    const res = await slimenv(cwd, env, ...args, "--build-flags", "size", "-C", "answer=9");
    expect(res.stderr).not.toMatch(/error/i);
    expect(res.status).toBe(0);
    const status = await slimenv(cwd, env, "store", "status");
    expect(status.stdout).toMatch(/built from sdists\s+1/);
    const size = await slimenv(cwd, env, "size", "env");
    expect(size.stdout).toMatch(/demo\s+1\.0\s+size\s+answer=9/);
    const sizeJson = JSON.parse((await slimenv(cwd, env, "size", "env", "--json")).stdout);
    expect(sizeJson.built).toEqual([
      { name: "demo", version: "1.0", flags: "size", settings: ["answer=9"] },
    ]);
    // The SLIMENV_BUILD_FLAGS variable when no flag is given.
    const viaEnv = { ...env, SLIMENV_BUILD_FLAGS: "debug" };
    const args2 = [
      "install",
      "demo",
      "--prefix",
      "env2",
      "--python",
      PY as string,
      "-i",
      server.url,
    ];
    expect((await slimenv(cwd, viaEnv, ...args2)).status).toBe(0);
    expect((await slimenv(cwd, env, "size", "env2")).stdout).toMatch(/demo\s+1\.0\s+debug/);
    const bad = await slimenv(cwd, env, ...args, "--build-flags", "tiny");
    expect(bad.status).toBe(2);
  });

  it("--no-binary forces the source build; --only-binary forbids it", async () => {
    const settings = (more: Record<string, string[]>) =>
      resolveSettings({ flags: { "index-url": server.url, ...more }, env: {}, noConfig: true });
    const fromWheel = await install(request(folder(), ["both"]));
    expect(fromWheel.manifest.built).toBeUndefined();
    const fromSource = await install(
      request(folder(), ["both"], { settings: settings({ "no-binary": ["both"] }) }),
    );
    expect(fromSource.manifest.built?.[0]?.name).toBe("both");
    const err = await expectSlimenvError(
      install(request(folder(), ["demo"], { settings: settings({ "only-binary": [":all:"] }) })),
      "NO_SOLUTION",
    );
    expect(err.detail).toContain("--only-binary applies to demo");
  });

  it("a failed build: BUILD_FAILED naming the package, the log kept, nothing in the store or env", async () => {
    const cwd = folder();
    const storeBefore = Store.open({ root: storeRoot });
    const wheelsBefore = storeBefore.status().wheels;
    storeBefore.close();
    const err = await expectSlimenvError(install(request(cwd, ["broken"])), "BUILD_FAILED");
    expect(err.message).toContain("broken 1.0");
    expect(err.detail).toContain("deliberate build failure");
    const log = /the whole log: ([^)]+)\)/.exec(err.message)?.[1] as string;
    expect(existsSync(log)).toBe(true);
    expect(readFileSync(log, "utf8")).toContain("about to fail: a deliberate compiler error");
    expect(snapshot(path.join(cwd, "env"))).toEqual(["<absent>"]);
    const store = Store.open({ root: storeRoot });
    expect(store.status().wheels).toBe(wheelsBefore);
    store.close();
  });

  it("a build that runs too long is killed: BUILD_TIMEOUT", async () => {
    const cwd = folder();
    const started = Date.now();
    const err = await expectSlimenvError(
      install(request(cwd, ["slow"], { build: { logDir, timeoutMs: 2000 } })),
      "BUILD_TIMEOUT",
    );
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(err.message).toContain("slow 1.0");
    expect(snapshot(path.join(cwd, "env"))).toEqual(["<absent>"]);
  });

  it("refuses to build for another CPU than the machine's", async () => {
    const cwd = folder();
    const err = await expectSlimenvError(
      install(
        request(cwd, ["demo"], {
          selection: {
            kind: "spec",
            spec: { pythonVersion: "3.12", platform: "manylinux_2_28_aarch64" },
          } as InstallRequest["selection"],
        }),
      ),
      "BUILD_UNSUPPORTED",
    );
    expect(err.message).toContain("demo 1.0");
    expect(err.message).toContain("cross toolchain");
    expect(snapshot(path.join(cwd, "env"))).toEqual(["<absent>"]);
  });

  it("locks an sdist with static PKG-INFO 2.2 metadata without building it", async () => {
    const cwd = folder();
    // broken's backend fails every hook: a lock that succeeds ran none.
    const res = await runLock({
      cwd,
      env: process.env,
      settings: testSettings(server.url),
      selection: { kind: "interpreter", request: PY as string },
      requirements: ["broken"],
      output: "pylock.toml",
      userAgent: "slimenv-tests",
      httpCacheDir: null,
    } as unknown as Parameters<typeof runLock>[0]);
    expect(res).toBeDefined();
    const text = readFileSync(path.join(cwd, "pylock.toml"), "utf8");
    expect(text).toMatch(/name = ['"]broken['"]/);
    expect(text).toContain("broken-1.0.tar.gz");
  });
});

describe("unpacking hostile sdists", () => {
  const dest = () => path.join(tempDir("hostile"), "out");

  it("refuses a path that leaves the folder", () => {
    const bytes = rawTarGz([
      { path: "evil-1.0/", type: "5" },
      { path: "evil-1.0/../../escaped.txt", type: "0", data: "pwned" },
    ]);
    const out = dest();
    expect(() => unpackSdist("evil-1.0.tar.gz", bytes, out)).toThrow(/leaves its folder/);
    expect(existsSync(out)).toBe(false);
  });

  it("refuses an absolute path", () => {
    const bytes = rawTarGz([{ path: "/tmp/evil-abs.txt", type: "0", data: "x" }]);
    expect(() => unpackSdist("evil-1.0.tar.gz", bytes, dest())).toThrow(/absolute path/);
  });

  it("refuses a symlink pointing out of the sdist, and writes nothing", () => {
    const bytes = rawTarGz([
      { path: "evil-1.0/", type: "5" },
      { path: "evil-1.0/setup.py", type: "0", data: "print(1)" },
      { path: "evil-1.0/link", type: "2", link: "../../../../etc/passwd" },
    ]);
    const out = dest();
    let code = "";
    try {
      unpackSdist("evil-1.0.tar.gz", bytes, out);
    } catch (err) {
      code = (err as { code: string }).code;
    }
    expect(code).toBe("HOSTILE_SDIST");
    expect(existsSync(out)).toBe(false);
  });

  it("refuses an absolute symlink and a hard link out", () => {
    const abs = rawTarGz([
      { path: "evil-1.0/", type: "5" },
      { path: "evil-1.0/link", type: "2", link: "/etc/passwd" },
    ]);
    expect(() => unpackSdist("evil-1.0.tar.gz", abs, dest())).toThrow(/absolute path/);
    const hard = rawTarGz([
      { path: "evil-1.0/", type: "5" },
      { path: "evil-1.0/h", type: "1", link: "../etc/passwd" },
    ]);
    expect(() => unpackSdist("evil-1.0.tar.gz", hard, dest())).toThrow(
      /HOSTILE|outside|not a file/,
    );
  });

  it("refuses device files and two top folders", () => {
    const dev = rawTarGz([{ path: "evil-1.0/dev", type: "3" }]);
    expect(() => unpackSdist("evil-1.0.tar.gz", dev, dest())).toThrow(/device/);
    const two = rawTarGz([
      { path: "a/x", type: "0", data: "1" },
      { path: "b/y", type: "0", data: "2" },
    ]);
    expect(() => unpackSdist("evil-1.0.tar.gz", two, dest())).toThrow(/top-level/);
  });

  it("unpacks a symlink inside the sdist as a copy of its target", () => {
    const bytes = rawTarGz([
      { path: "ok-1.0/", type: "5" },
      { path: "ok-1.0/README", type: "0", data: "hello" },
      { path: "ok-1.0/docs/README", type: "2", link: "../README" },
    ]);
    const out = dest();
    const src = unpackSdist("ok-1.0.tar.gz", bytes, out);
    expect(readFileSync(path.join(src, "docs", "README"), "utf8")).toBe("hello");
    writeFileSync(path.join(out, "probe"), "");
  });

  it("zip sdists: the same refusals, nothing written", async () => {
    const refused = async (bytes: Uint8Array, why: RegExp) => {
      const out = dest();
      await expect(unpackSdistArchive("evil-1.0.zip", bytes, out)).rejects.toThrow(why);
      expect(existsSync(out)).toBe(false);
    };
    await refused(
      rawZip([
        { name: "evil-1.0/setup.py", data: "print(1)" },
        { name: "evil-1.0/../../escaped.txt", data: "pwned" },
      ]),
      /leaves its folder/,
    );
    await refused(rawZip([{ name: "/tmp/evil-abs.txt", data: "x" }]), /absolute path/);
    await refused(
      rawZip([
        { name: "evil-1.0/setup.py", data: "print(1)" },
        { name: "evil-1.0/link", data: "../../../../etc/passwd", mode: 0o120777 },
      ]),
      /outside the sdist/,
    );
    await refused(rawZip([{ name: "evil-1.0/fifo", data: "", mode: 0o010644 }]), /device or fifo/);
    await refused(
      rawZip([
        { name: "a/x", data: "1" },
        { name: "b/y", data: "2" },
      ]),
      /top-level/,
    );
    const good = rawZip([{ name: "ok-1.0/setup.py", data: "print(1)" }]);
    await refused(good.subarray(0, good.length - 10), /HOSTILE|zip|damaged|central/i);
    let code = "";
    try {
      await unpackSdistArchive("ok-1.0.tar.bz2", good, dest());
    } catch (err) {
      code = (err as { code: string }).code;
    }
    expect(code).toBe("BUILD_UNSUPPORTED");
  });

  it("zip sdists: a symlink inside is written as a copy of its target", async () => {
    const bytes = rawZip([
      { name: "ok-1.0/README", data: "hello" },
      { name: "ok-1.0/docs/README", data: "../README", mode: 0o120777 },
      { name: "ok-1.0/run.sh", data: "#!/bin/sh\n", mode: 0o755 },
    ]);
    const out = dest();
    const src = await unpackSdistArchive("ok-1.0.zip", bytes, out);
    expect(path.basename(src)).toBe("ok-1.0");
    expect(readFileSync(path.join(src, "docs", "README"), "utf8")).toBe("hello");
    expect(lstatSync(path.join(src, "docs", "README")).isSymbolicLink()).toBe(false);
    expect(statSync(path.join(src, "run.sh")).mode & 0o111).not.toBe(0);
  });
});
