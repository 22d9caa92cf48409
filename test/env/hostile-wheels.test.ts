/**
 * Hostile wheels against a real store, real installs and a real CPython (issue #11): each
 * refusal names its rule, leaves no new store object, no env dir or sibling, and an existing
 * env byte-for-byte as it was; after each, `store verify` is clean and an env that shares the
 * store still imports its (hard-linked, empty) `__init__.py`.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { RecordingReporter } from "../../src/base/index.ts";
import { type InstallRequest, install } from "../../src/env/install.ts";
import type { Layout, LinkMode } from "../../src/env/types.ts";
import { type HostileRule, HostileWheelError } from "../../src/store/hostile.ts";
import { Store } from "../../src/store/store.ts";
import { describeWith, pyenv } from "../helpers/prereq.ts";
import { type BuiltWheel, buildWheel } from "../helpers/wheels.ts";
import { snapshot, tempDir, testSettings } from "../install/fixtures.ts";
import { filesUnder, tableCounts } from "../store/fixtures.ts";
import { moveCentralLast, setPlainCount, toZip64 } from "../store/zip-edit.ts";

const PY311 = pyenv("3.11");
const PY = PY311.exe;

/** A wheel whose only module is an empty `__init__.py` — the object every env shares. */
function goodWheel(): BuiltWheel {
  return buildWheel({
    name: "good",
    version: "1.0",
    files: { "good/__init__.py": "", "good/mod.py": "VALUE = 42\n" },
  });
}

describeWith(PY311)("hostile wheels (issue #11)", () => {
  let root: string;
  let storeRoot: string;
  let shared: string;
  const pyPath = () => `${path.dirname(PY as string)}:/usr/bin:/bin`;
  let n = 0;

  function request(cwd: string, wheelFile: string, layout: Layout["kind"], more = {}) {
    return {
      cwd,
      env: process.env,
      // never contacted: local wheels with --no-deps are not locked
      settings: testSettings("http://127.0.0.1:9/simple/"),
      selection: { kind: "interpreter", request: PY as string },
      layout: { kind: layout, dir: "env" },
      inputs: { requirementFiles: [], requirements: [], wheels: [wheelFile] },
      noDeps: true,
      userAgent: "slimenv-tests",
      storeRoot,
      httpCacheDir: null,
      ...more,
    } as InstallRequest;
  }

  function writeWheel(dir: string, w: { filename: string; bytes: Uint8Array }): string {
    const file = path.join(dir, w.filename);
    writeFileSync(file, w.bytes);
    return file;
  }

  async function installWheel(
    w: { filename: string; bytes: Uint8Array },
    layout: Layout["kind"],
    more: { linkMode?: LinkMode; cwd?: string } = {},
  ) {
    const cwd = more.cwd ?? path.join(root, `case${n++}`);
    mkdirSync(cwd, { recursive: true });
    const result = await install(
      request(cwd, writeWheel(cwd, w), layout, {
        linkMode: more.linkMode ?? "hardlink",
      }),
    );
    return { cwd, dir: path.join(cwd, "env"), result };
  }

  function sharedImports(): void {
    const res = spawnSync(
      path.join(shared, "bin", "python"),
      [
        "-c",
        "import good, good.mod; assert good.mod.VALUE == 42; print(repr(open(good.__file__).read()))",
      ],
      { env: { PATH: pyPath(), HOME: process.env.HOME ?? "/root" }, encoding: "utf8" },
    );
    expect(res.stderr).toBe("");
    expect(res.stdout).toBe("''\n");
  }

  async function verifyClean(): Promise<void> {
    const store = Store.open({ root: storeRoot });
    try {
      const report = await store.verify();
      expect(report.problems).toEqual([]);
    } finally {
      store.close();
    }
  }

  /**
   * Install `w` (new env, and over an existing env of the same layout) and expect the rule;
   * nothing may change anywhere.
   */
  async function expectRefused(
    w: { filename: string; bytes: Uint8Array },
    layout: Layout["kind"],
    rule: HostileRule,
  ): Promise<HostileWheelError> {
    // an existing env of this layout, to be left byte-for-byte as it was
    const existing = await installWheel(goodWheel(), layout);
    const objectsBefore = filesUnder(path.join(storeRoot, "objects"));
    const countsBefore = tableCounts(storeRoot);
    const existingBefore = snapshot(existing.dir);
    const existingBytes = contents(existing.dir);
    let last: HostileWheelError | undefined;
    for (const cwd of [path.join(root, `case${n++}`), existing.cwd]) {
      mkdirSync(cwd, { recursive: true });
      const before = readdirSync(cwd).sort();
      const file = writeWheel(cwd, w);
      let err: unknown;
      try {
        await install(request(cwd, file, layout, { linkMode: "hardlink" }));
      } catch (e) {
        err = e;
      }
      expect(err, `expected ${rule}`).toBeInstanceOf(HostileWheelError);
      last = err as HostileWheelError;
      expect(last.rule).toBe(rule);
      expect(last.message).toContain(rule);
      expect(last.message).toContain(w.filename);
      // no env dir, no sibling, nothing new beside the wheel file
      rmSync(file);
      expect(readdirSync(cwd).sort()).toEqual(before);
    }
    expect(filesUnder(path.join(storeRoot, "objects"))).toEqual(objectsBefore);
    expect(filesUnder(path.join(storeRoot, "tmp"))).toEqual([]);
    expect(tableCounts(storeRoot)).toEqual(countsBefore);
    expect(snapshot(existing.dir)).toEqual(existingBefore);
    expect(contents(existing.dir)).toEqual(existingBytes);
    await verifyClean();
    sharedImports();
    return last as HostileWheelError;
  }

  beforeAll(async () => {
    root = tempDir("hostile");
    storeRoot = path.join(root, "store");
    shared = (await installWheel(goodWheel(), "prefix")).dir;
    sharedImports();
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  const empty = { "evil/__init__.py": "" };

  it("1. a wheel claiming the env manifest (.data/data/manifest.json, empty) is refused: slimenv-path", async () => {
    const w = buildWheel({
      name: "evil",
      version: "1.0",
      files: { ...empty, "evil-1.0.data/data/manifest.json": "" },
    });
    for (const layout of ["prefix", "venv"] as const) {
      const e = await expectRefused(w, layout, "slimenv-path");
      expect(e.message).toContain("manifest.json");
    }
  });

  it("1. a wheel claiming a target dir's .slimenv/manifest.json is refused: slimenv-path", async () => {
    const w = buildWheel({
      name: "evil",
      version: "1.0",
      files: { ...empty, ".slimenv/manifest.json": "" },
    });
    await expectRefused(w, "target", "slimenv-path");
  });

  it("1. a wheel claiming a launcher or a _slimenv file is refused: slimenv-path", async () => {
    for (const file of [
      "evil-1.0.data/scripts/python3",
      "evil-1.0.data/data/bin/python",
      "bin/python3.11",
      "evil-1.0.data/data/pyvenv.cfg",
      "_slimenv_isolated.pth",
    ]) {
      const w = buildWheel({ name: "evil", version: "1.0", files: { ...empty, [file]: "" } });
      await expectRefused(w, "target", "slimenv-path");
    }
  });

  it("2. a ZIP64 end record that counts one entry fewer than the central directory holds: end-record-mismatch", async () => {
    const w = buildWheel({
      name: "evil",
      version: "1.0",
      files: empty,
      tamper: {
        extraEntries: [{ path: "evil_hidden.pth", data: "import os; os.environ['PWNED'] = '1'\n" }],
      },
    });
    const last = moveCentralLast(w.bytes, "evil_hidden.pth");
    const entries = 5; // __init__.py, evil_hidden.pth, METADATA, WHEEL, RECORD
    const zip64 = toZip64(last, { zip64Count: entries - 1 });
    // Python's zipfile (what pip uses) sees the hidden .pth; slimenv used to read 4 entries.
    const dir = tempDir("zip64");
    const file = path.join(dir, w.filename);
    writeFileSync(file, zip64);
    const names = spawnSync(
      PY as string,
      ["-c", "import sys, zipfile; print(sorted(zipfile.ZipFile(sys.argv[1]).namelist()))", file],
      { encoding: "utf8" },
    );
    expect(names.stdout).toContain("evil_hidden.pth");
    const e = await expectRefused(
      { filename: w.filename, bytes: zip64 },
      "prefix",
      "end-record-mismatch",
    );
    expect(e.message).toMatch(/ZIP64|central directory/);
    // The same lie in a plain end record, and an end record that disagrees with the ZIP64 one.
    await expectRefused(
      { filename: w.filename, bytes: setPlainCount(last, entries - 1) },
      "prefix",
      "end-record-mismatch",
    );
    await expectRefused(
      { filename: w.filename, bytes: toZip64(last, { plainCount: entries - 1 }) },
      "prefix",
      "end-record-mismatch",
    );
  });

  it("3. --target: console scripts named python3 and python3.11 are refused; the target's own python3 runs the interpreter", async () => {
    const w = buildWheel({
      name: "evil",
      version: "1.0",
      files: { ...empty, "evil/cli.py": "def main():\n    print('pwned')\n" },
      entryPoints: "[console_scripts]\npython3 = evil.cli:main\npython3.11 = evil.cli:main\n",
    });
    const e = await expectRefused(w, "target", "slimenv-path");
    expect(e.message).toContain("python3");
    const { dir } = await installWheel(goodWheel(), "target");
    for (const name of ["python", "python3", "python3.11"]) {
      expect(readFileSync(path.join(dir, "bin", name), "utf8")).toContain(
        "slimenv target-dir launcher",
      );
    }
    const { runInEnv } = await import("../../src/env/run.ts");
    const code = await runInEnv(
      dir,
      [
        "python3",
        "-c",
        "import sys, good.mod; sys.exit(0 if sys.version_info[:2] == (3, 11) and good.mod.VALUE == 42 else 9)",
      ],
      { env: { PATH: pyPath(), HOME: process.env.HOME ?? "/root" }, stdio: "ignore" },
    );
    expect(code).toBe(0);
  });

  it("4. a script name that is a path (../../evil) is refused before anything is made: script-name", async () => {
    const w = buildWheel({
      name: "evil",
      version: "1.0",
      files: { ...empty, "evil/cli.py": "def main():\n    pass\n" },
      entryPoints: "[console_scripts]\n../../evil = evil.cli:main\n",
    });
    for (const layout of ["prefix", "venv", "target"] as const) {
      await expectRefused(w, layout, "script-name");
    }
  });

  it("5. names that collide by full case folding (σ.py / ς.py) are refused: case-duplicate", async () => {
    for (const [a, b] of [
      ["evil/σ.py", "evil/ς.py"],
      ["evil/Σ.py", "evil/ς.py"],
      ["evil/straße.py", "evil/STRASSE.py"],
    ]) {
      const w = buildWheel({
        name: "evil",
        version: "1.0",
        files: { ...empty, [a as string]: "a = 1\n", [b as string]: "b = 2\n" },
      });
      await expectRefused(w, "prefix", "case-duplicate");
    }
  });

  it("6. a WHEEL file whose tags do not fit the target is refused (wheel-tags); tags that differ but fit only warn", async () => {
    const lying = (tag: string) =>
      buildWheel({
        name: "evil",
        version: "1.0",
        files: empty,
        tamper: {
          wheelFileOverride: (t) =>
            t
              .replace("Tag: py3-none-any", `Tag: ${tag}`)
              .replace("Root-Is-Purelib: true", "Root-Is-Purelib: false"),
        },
      });
    const e = await expectRefused(lying("cp311-cp311-win_amd64"), "prefix", "wheel-tags");
    expect(e.message).toContain("win_amd64");
    // A wheel the store already holds (imported by another road) is judged the same way.
    const held = lying("cp311-cp311-macosx_11_0_arm64");
    const store = Store.open({ root: storeRoot });
    try {
      await store.importWheel({ bytes: held.bytes }, { filename: held.filename });
    } finally {
      store.close();
    }
    const heldCwd = path.join(root, `case${n++}`);
    mkdirSync(heldCwd);
    await expect(
      install(request(heldCwd, writeWheel(heldCwd, held), "prefix")),
    ).rejects.toMatchObject({ rule: "wheel-tags" });
    expect(existsSync(path.join(heldCwd, "env"))).toBe(false);
    const fits = lying("cp311-cp311-manylinux_2_17_x86_64");
    const reporter = new RecordingReporter();
    const cwd = path.join(root, `case${n++}`);
    mkdirSync(cwd);
    await install({ ...request(cwd, writeWheel(cwd, fits), "prefix"), reporter });
    const warnings = reporter.events.filter((ev) => ev.kind === "log" && ev.level === "warn");
    expect(JSON.stringify(warnings)).toContain("are not its filename's");
    await verifyClean();
    sharedImports();
  });

  it("--copy-package: a package a user edits in place is a writable copy; the store and other envs stay as they were", async () => {
    const cwd = path.join(root, `case${n++}`);
    mkdirSync(cwd);
    const notes = buildWheel({
      name: "notes",
      version: "1.0",
      files: { "notes/__init__.py": "", "notes/cacert.pem": "CA 1\n" },
    });
    const file = writeWheel(cwd, notes);
    await install({
      ...request(cwd, file, "prefix", { linkMode: "hardlink" }),
      copyPackages: ["Notes"],
    });
    const other = await installWheel(notes, "prefix");
    const site = path.join("lib", "python3.11", "site-packages", "notes");
    const edited = path.join(cwd, "env", site, "cacert.pem");
    const st = statSync(edited);
    expect(st.nlink).toBe(1);
    expect(st.mode & 0o777).toBe(0o644);
    expect(statSync(path.join(other.dir, site, "cacert.pem")).nlink).toBeGreaterThan(1);
    expect(readEnvManifestCopies(path.join(cwd, "env"))).toEqual(["notes"]);
    writeFileSync(edited, "CA 2\n", { flag: "a" }); // what a start-up hook does
    expect(readFileSync(path.join(other.dir, site, "cacert.pem"), "utf8")).toBe("CA 1\n");
    await verifyClean();
    // an unknown name is refused before anything is touched
    const again = path.join(root, `case${n++}`);
    mkdirSync(again);
    await expect(
      install({ ...request(again, writeWheel(again, notes), "prefix"), copyPackages: ["nope"] }),
    ).rejects.toMatchObject({ code: "INVALID_OPTION" });
    expect(existsSync(path.join(again, "env"))).toBe(false);
  });

  it("verify --repair mends the store and every env that links an edited inode", async () => {
    const data = buildWheel({
      name: "data",
      version: "1.0",
      files: { "data/__init__.py": "", "data/table.txt": "row 1\nrow 2\n" },
    });
    const a = await installWheel(data, "prefix");
    const b = await installWheel(data, "target");
    await installWheel(data, "prefix", { linkMode: "copy" }); // a clean copy to restore from
    const siteA = path.join(a.dir, "lib", "python3.11", "site-packages");
    const fileA = path.join(siteA, "data", "table.txt");
    const fileB = path.join(b.dir, "data", "table.txt");
    expect(statSync(fileA).ino).toBe(statSync(fileB).ino);
    // Something else on the machine edits one env's file in place (as root, 0444 is no bar).
    chmodSync(fileA, 0o644);
    writeFileSync(fileA, "row 1\nrow 2\nedited\n", { flag: "a" });
    expect(readFileSync(fileB, "utf8")).toContain("edited");
    const store = Store.open({ root: storeRoot });
    try {
      const found = await store.verify();
      expect(found.problems.map((p) => p.kind)).toEqual(["modified"]);
      const repaired = await store.verify({ repair: true });
      const [problem] = repaired.problems;
      expect(problem?.repaired).toBe(true);
      expect(problem?.relinked).toEqual([fileA, fileB].sort());
      expect((await store.verify()).problems).toEqual([]);
      const object = problem?.path as string;
      for (const f of [fileA, fileB]) {
        expect(readFileSync(f, "utf8")).toBe("row 1\nrow 2\n");
        expect(statSync(f).ino).toBe(statSync(object).ino);
      }
    } finally {
      store.close();
    }
    sharedImports();
  });
});

function readEnvManifestCopies(dir: string): string[] | undefined {
  return (
    JSON.parse(readFileSync(path.join(dir, ".slimenv", "manifest.json"), "utf8")) as {
      copyPackages?: string[];
    }
  ).copyPackages;
}

/** Every regular file's bytes under `dir` (following the env's own symlinks). */
function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  for (const rel of readdirSync(dir, { recursive: true }) as string[]) {
    const full = path.join(dir, rel);
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(full);
    } catch {
      continue;
    }
    if (st.isFile()) out[rel] = readFileSync(full).toString("base64");
  }
  return out;
}
