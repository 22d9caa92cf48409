/**
 * `slimenv zip`: a deterministic deployment zip of a --target folder. The core on hand-made
 * folders (ownership, symlinks, executables, bad input), and the CLI on a real
 * `install --target`: the same bytes twice, no .slimenv/, importable with the zip on
 * sys.path, and a budget that fails with the biggest packages and writes nothing.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSlimenvError, type SlimenvError } from "../../src/base/index.ts";
import { zipTarget } from "../../src/report/zip.ts";
import { buildWheel } from "../helpers/wheels.ts";
import { cliEnv, slimenv, testPython } from "../install/fixtures.ts";
import { tempDir, writeTree } from "./fixtures.ts";

const PY = testPython() ?? "python3";

/** Names, unix modes, sizes and bodies of a zip, as Python's zipfile reads it. */
function pyZipList(
  zip: string,
): { name: string; mode: number; size: number; date: number[]; method: number }[] {
  const code = `import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
print(json.dumps([{"name": i.filename, "mode": i.external_attr >> 16, "size": i.file_size, "date": list(i.date_time), "method": i.compress_type} for i in z.infolist()]))`;
  return JSON.parse(execFileSync(PY, ["-c", code, zip], { encoding: "utf8" }));
}

function thrownBy(fn: () => unknown): SlimenvError {
  try {
    fn();
  } catch (err) {
    if (isSlimenvError(err)) return err;
    throw err;
  }
  throw new Error("expected a SlimenvError");
}

/** Enough of an env manifest for readEnvManifest. */
function manifest(layout: string): string {
  return JSON.stringify({
    version: 1,
    layout,
    linkMode: "auto",
    packages: [],
    envFiles: [],
    interpreterCommand: "python3.12",
    scheme: {},
  });
}

const RECORD = (files: string[]) => `${files.map((f) => `${f},,`).join("\n")}\n`;

describe("zipTarget", () => {
  let root: string;
  let dir: string;
  beforeAll(() => {
    root = tempDir("zip");
    dir = path.join(root, "target");
    writeTree(dir, {
      "big/__init__.py": "X = 1\n",
      "big/data.bin": "x".repeat(50_000),
      "big-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: big\nVersion: 1.0\n",
      "big-1.0.dist-info/RECORD": RECORD([
        "big/__init__.py",
        "big/data.bin",
        "bin/big-tool",
        "big-1.0.dist-info/METADATA",
        "big-1.0.dist-info/RECORD",
      ]),
      "bin/big-tool": "#!/bin/sh\necho big\n",
      "small/__init__.py": "Y = 2\n",
      "small-2.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: small\nVersion: 2.0\n",
      "small-2.0.dist-info/RECORD": RECORD([
        "small/__init__.py",
        "small/linked.py",
        "small-2.0.dist-info/METADATA",
        "small-2.0.dist-info/RECORD",
      ]),
      "handler.py": "import big\n",
      ".slimenv/manifest.json": manifest("target"),
    });
    chmodSync(path.join(dir, "bin/big-tool"), 0o755);
    // Link mode symlink: files are links into the store; the zip holds their bytes.
    writeFileSync(path.join(root, "stored.py"), "Z = 3\n");
    symlinkSync(path.join(root, "stored.py"), path.join(dir, "small", "linked.py"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("zips every file but .slimenv/, sorted, fixed times, deflated, modes kept, links followed", () => {
    const out = path.join(root, "a.zip");
    const res = zipTarget({ dir, out });
    expect(res.excluded).toEqual([".slimenv"]);
    const list = pyZipList(out);
    expect(list.map((e) => e.name)).toEqual([
      "big-1.0.dist-info/METADATA",
      "big-1.0.dist-info/RECORD",
      "big/__init__.py",
      "big/data.bin",
      "bin/big-tool",
      "handler.py",
      "small-2.0.dist-info/METADATA",
      "small-2.0.dist-info/RECORD",
      "small/__init__.py",
      "small/linked.py",
    ]);
    for (const e of list) expect(e.date).toEqual([1980, 1, 1, 0, 0, 0]);
    expect(list.find((e) => e.name === "bin/big-tool")?.mode).toBe(0o100755);
    expect(list.find((e) => e.name === "small/linked.py")?.mode).toBe(0o100644);
    expect(list.find((e) => e.name === "small/linked.py")?.size).toBe(6);
    expect(list.find((e) => e.name === "big/data.bin")?.method).toBe(8);
    expect(res.files).toBe(10);
    expect(res.unzipped).toBe(list.reduce((n, e) => n + e.size, 0));
    expect(res.zipped).toBe(readFileSync(out).length);
    expect(res.zipped).toBeLessThan(res.unzipped);
    expect(res.parts.map((p) => [p.name, p.version, p.files])).toEqual([
      ["big", "1.0", 5],
      ["small", "2.0", 4],
      ["handler.py", undefined, 1],
    ]);
    expect(res.notes).toEqual([]);
  });

  it("the same tree gives the same bytes", () => {
    const a = path.join(root, "same-1.zip");
    const b = path.join(root, "same-2.zip");
    zipTarget({ dir, out: a });
    zipTarget({ dir, out: b });
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  });

  it("over the budget: the biggest packages, unzipped, and nothing written", () => {
    const out = path.join(root, "over.zip");
    const err = thrownBy(() => zipTarget({ dir, out, maxSize: 40_000 }));
    expect(err.code).toBe("SIZE_BUDGET_EXCEEDED");
    expect(err.message).toMatch(
      /unzips to .* over the budget of 39\.1 KiB \(40000 bytes\); nothing written$/,
    );
    expect(err.detail?.split("\n")).toEqual([
      "biggest, unzipped:",
      expect.stringMatching(/^big 1\.0 +4\d\.\d KiB$/),
      expect.stringMatching(/^small 2\.0 +\d+ B$/),
      expect.stringMatching(/^handler\.py +11 B$/),
    ]);
    expect(err.hint).toContain("--slim");
    expect(existsSync(out)).toBe(false);
    // At the budget exactly is within it.
    const exact = zipTarget({ dir, out, maxSize: zipTarget({ dir, out }).unzipped });
    expect(exact.maxSize).toBe(exact.unzipped);
  });

  it("notes .pth files, which a zip root on sys.path does not read", () => {
    const withPth = path.join(root, "with-pth");
    writeTree(withPth, { "extra.pth": "lib.zip\n", "m.py": "" });
    const res = zipTarget({ dir: withPth, out: path.join(root, "pth.zip") });
    expect(res.notes).toHaveLength(1);
    expect(res.notes[0]).toMatch(/^extra\.pth: \.pth files are only read in site dirs/);
  });

  it("bad input is a clear error and writes nothing", () => {
    const cases: [() => unknown, string, RegExp][] = [
      [
        () => zipTarget({ dir: path.join(root, "nope"), out: path.join(root, "x.zip") }),
        "INVALID_OPTION",
        /does not exist$/,
      ],
      [
        () => zipTarget({ dir: path.join(root, "stored.py"), out: path.join(root, "x.zip") }),
        "INVALID_OPTION",
        /is not a folder$/,
      ],
      [
        () => zipTarget({ dir, out: path.join(dir, "inside.zip") }),
        "INVALID_OPTION",
        /would be inside the folder it zips$/,
      ],
      [
        () => zipTarget({ dir, out: path.join(root, "no", "such", "x.zip") }),
        "INVALID_OPTION",
        /the folder of .* does not exist$/,
      ],
    ];
    for (const [fn, code, message] of cases) {
      const err = thrownBy(fn);
      expect(err.code).toBe(code);
      expect(err.message).toMatch(message);
      expect(err.hint).toBeTruthy();
    }
    expect(existsSync(path.join(root, "x.zip"))).toBe(false);
    expect(existsSync(path.join(dir, "inside.zip"))).toBe(false);
  });

  it("refuses a prefix env and a folder linked to a folder", () => {
    const prefix = path.join(root, "prefix-env");
    writeTree(prefix, { ".slimenv/manifest.json": manifest("prefix") });
    const err = thrownBy(() => zipTarget({ dir: prefix, out: path.join(root, "p.zip") }));
    expect(err.code).toBe("INVALID_ENV");
    expect(err.hint).toContain("--target");
    const linked = path.join(root, "linked-dir");
    mkdirSync(linked);
    symlinkSync(path.join(dir, "big"), path.join(linked, "big"));
    const err2 = thrownBy(() => zipTarget({ dir: linked, out: path.join(root, "l.zip") }));
    expect(err2.code).toBe("INVALID_OPTION");
    expect(err2.message).toMatch(/is a symlink to a folder$/);
    expect(existsSync(path.join(root, "p.zip")) || existsSync(path.join(root, "l.zip"))).toBe(
      false,
    );
  });
});

describe("slimenv zip (CLI, after install --target)", () => {
  let root: string;
  let env: NodeJS.ProcessEnv;
  let target: string;
  let files: string[];
  beforeAll(async () => {
    root = tempDir("zip-cli");
    env = cliEnv(path.join(root, "home"));
    const wheels = [
      buildWheel({
        name: "greet",
        version: "1.0",
        files: {
          "greet/__init__.py": "from greet.words import WORD\n",
          "greet/words.py": "WORD = 'hello from the zip'\n",
          "greet/blob.txt": "b".repeat(30_000),
        },
      }),
      buildWheel({ name: "tiny", version: "0.1" }),
    ];
    files = wheels.map((w) => {
      const file = path.join(root, w.filename);
      writeFileSync(file, w.bytes);
      return file;
    });
    target = path.join(root, "lambda");
    const res = await slimenv(
      root,
      env,
      "install",
      ...files,
      "--target",
      target,
      "--python-version",
      "3.12",
      "--platform",
      "manylinux_2_28_x86_64",
      "--no-deps",
    );
    expect(res.stderr).not.toContain("error");
    expect(res.status).toBe(0);
    expect(existsSync(path.join(target, ".slimenv"))).toBe(true);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("writes the same bytes twice, without .slimenv/, and Python imports from it", async () => {
    const a = path.join(root, "a.zip");
    const b = path.join(root, "b.zip");
    const first = await slimenv(root, env, "zip", target, "-o", a, "--max-size", "250M");
    expect(first.stderr).toContain("left out: .slimenv");
    expect(first.stderr).not.toContain("error");
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(
      /^wrote .*a\.zip: \d+ files, .* zipped, .* unzipped, .* under the 250\.0 MiB budget\n/,
    );
    expect(first.stdout).toMatch(/greet +1\.0 +\d+ +\d+\.\d+ KiB/);
    const second = await slimenv(root, env, "zip", target, "-o", b, "--json");
    expect(second.status).toBe(0);
    const json = JSON.parse(second.stdout);
    expect(json.excluded).toEqual([".slimenv"]);
    expect(json.parts[0]).toMatchObject({ name: "greet", version: "1.0" });
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const names = pyZipList(a).map((e) => e.name);
    expect(names.some((n) => n.startsWith(".slimenv"))).toBe(false);
    expect(names).toContain("greet/words.py");
    expect(names).toContain("greet-1.0.dist-info/RECORD");
    const run = spawnSync(
      PY,
      [
        "-I",
        "-c",
        "import sys; sys.path.insert(0, sys.argv[1]); import greet; print(greet.WORD, greet.__file__)",
        a,
      ],
      { encoding: "utf8", cwd: root },
    );
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe(`hello from the zip ${path.join(a, "greet", "__init__.py")}\n`);
  });

  it("--max-size over the unzipped size: exit 1, the biggest packages, no zip", async () => {
    const out = path.join(root, "over.zip");
    const res = await slimenv(root, env, "zip", target, "-o", out, "--max-size", "20K");
    expect(res.status).toBe(1);
    expect(res.stdout).toBe("");
    expect(res.stderr).toMatch(
      /^error: \[SIZE_BUDGET_EXCEEDED\] .*lambda unzips to .* over the budget of 20\.0 KiB \(20480 bytes\); nothing written\n/,
    );
    expect(res.stderr).toMatch(/greet 1\.0 +\d+\.\d+ KiB\n/);
    expect(res.stderr).toMatch(/tiny 0\.1 +\d+ B\n/);
    expect(res.stderr).toContain("hint: ");
    expect(existsSync(out)).toBe(false);
  });

  it("install --target DIR --zip FILE installs, then zips as slimenv zip does", async () => {
    const out = path.join(root, "installed.zip");
    const spec = ["--python-version", "3.12", "--platform", "manylinux_2_28_x86_64", "--no-deps"];
    const res = await slimenv(
      root,
      env,
      "install",
      ...files,
      "--target",
      path.join(root, "t2"),
      ...spec,
      "--zip",
      out,
      "--max-size",
      "250M",
    );
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(
      /^Installed 2 packages into t2 .*\n(.*\n)*wrote .*installed\.zip: \d+ files/,
    );
    expect(pyZipList(out).some((e) => e.name === "greet/words.py")).toBe(true);
    // --zip only with --target, --max-size only with --zip: refused before anything is made.
    const prefix = await slimenv(
      root,
      env,
      "install",
      ...files,
      "--prefix",
      path.join(root, "p"),
      ...spec,
      "--zip",
      out,
    );
    expect(prefix.status).toBe(2);
    expect(prefix.stderr).toContain("[INVALID_OPTION] --zip needs --target DIR");
    const noZip = await slimenv(
      root,
      env,
      "install",
      ...files,
      "--target",
      path.join(root, "t3"),
      ...spec,
      "--max-size",
      "1M",
    );
    expect(noZip.status).toBe(2);
    expect(noZip.stderr).toContain("[INVALID_OPTION] --max-size needs --zip FILE");
    expect(existsSync(path.join(root, "p")) || existsSync(path.join(root, "t3"))).toBe(false);
  });

  it("bad input: no -o, a bad size", async () => {
    const noOut = await slimenv(root, env, "zip", target);
    expect(noOut.status).toBe(2);
    expect(noOut.stderr).toContain("[INVALID_OPTION] slimenv zip needs -o FILE");
    const badSize = await slimenv(
      root,
      env,
      "zip",
      target,
      "-o",
      path.join(root, "c.zip"),
      "--max-size",
      "lots",
    );
    expect(badSize.status).toBe(2);
    expect(badSize.stderr).toContain('[INVALID_OPTION] --max-size "lots" is not a size');
    expect(existsSync(path.join(root, "c.zip"))).toBe(false);
  });
});
