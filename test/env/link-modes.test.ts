import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { RecordingReporter } from "../../src/base/index.ts";
import { materialize } from "../../src/env/materialize.ts";
import type { LinkMode } from "../../src/env/types.ts";
import { Store } from "../../src/store/store.ts";
import type { StoredWheel } from "../../src/store/types.ts";
import { condition, describeWith, itWith, pyenv } from "../helpers/prereq.ts";
import { tempDir as cleanedTempDir } from "../helpers/tmp.ts";
import type { BuiltWheel } from "../helpers/wheels.ts";
import {
  CHECK_EXPECTED_VERSIONS,
  CHECK_SCRIPT,
  cextWheel,
  type Interp,
  interpreter,
  pureWheels,
  run,
  tempDir,
} from "./env-fixtures.ts";

const PYTHON312 = pyenv("3.12");
const PY312 = PYTHON312.exe;
const SHM = existsSync("/dev/shm") ? "/dev/shm" : undefined;
/** /dev/shm is another filesystem than the temp dir (tmpfs vs disk): EXDEV can be tested. */
const XDEV = condition(
  "/dev/shm on another filesystem than the temp dir",
  SHM !== undefined && statSync(SHM).dev !== statSync(tmpdir()).dev,
  "mount a tmpfs at /dev/shm (docker and systemd give one), or set TMPDIR to a disk folder",
);

async function importInto(store: Store, built: BuiltWheel[]): Promise<StoredWheel[]> {
  const out: StoredWheel[] = [];
  for (const w of built)
    out.push(await store.importWheel({ bytes: w.bytes }, { filename: w.filename }));
  return out;
}

describeWith(PYTHON312)("link modes (real store)", () => {
  let py: Interp;
  let store: Store;
  let wheels: StoredWheel[];
  let built: BuiltWheel[];
  const site = "lib/python3.12/site-packages";

  beforeAll(async () => {
    py = await interpreter(PY312 as string);
    store = Store.open({ root: path.join(tempDir("store"), "store") });
    built = [...pureWheels(), cextWheel(py)];
    wheels = await importInto(store, built);
  });
  afterAll(() => store.close());

  const alphaInit = () => {
    const alpha = wheels.find((w) => w.name === "alpha") as StoredWheel;
    return alpha.files.find((f) => f.path === "alpha/__init__.py") as StoredWheel["files"][number];
  };

  async function build(mode: LinkMode) {
    const dir = path.join(tempDir(`mode-${mode}`), "env");
    const reporter = new RecordingReporter();
    const manifest = await materialize(
      store,
      {
        layout: { kind: "prefix", dir },
        target: py.target,
        probe: py.probe,
        wheels,
        requested: [],
        linkMode: mode,
      },
      { reporter },
    );
    const check = run(path.join(dir, "bin", "python"), ["-c", CHECK_SCRIPT], { PATH: py.path });
    expect(check.stderr).toBe("");
    expect(check.stdout.split("\n")[0]).toBe(CHECK_EXPECTED_VERSIONS);
    const cli = run(path.join(dir, "bin", "alpha-cli"), [], { PATH: py.path });
    expect(cli.status).toBe(3);
    return { dir, manifest, reporter, alphaFile: check.stdout.split("\n")[3] };
  }

  it("hardlink: env files share the store object's inode", async () => {
    const { dir, manifest, reporter } = await build("hardlink");
    expect(manifest.effectiveLinkMode).toBe("hardlink");
    const object = store.objectPath(alphaInit().hash, false);
    expect(statSync(path.join(dir, site, "alpha/__init__.py")).ino).toBe(statSync(object).ino);
    expect(reporter.messages("warn")).toEqual([]);
  });

  it("auto: decides once (hardlink on this filesystem unless it can clone)", async () => {
    const { dir, manifest, reporter } = await build("auto");
    expect(["clone", "hardlink"]).toContain(manifest.effectiveLinkMode);
    const same =
      statSync(path.join(dir, site, "alpha/__init__.py")).ino ===
      statSync(store.objectPath(alphaInit().hash, false)).ino;
    expect(same).toBe(manifest.effectiveLinkMode === "hardlink");
    expect(reporter.messages("warn")).toEqual([]);
  });

  it("copy: separate files with the same bytes", async () => {
    const { dir, manifest } = await build("copy");
    expect(manifest.effectiveLinkMode).toBe("copy");
    const file = path.join(dir, site, "alpha/__init__.py");
    const object = store.objectPath(alphaInit().hash, false);
    expect(statSync(file).ino).not.toBe(statSync(object).ino);
    expect(readFileSync(file, "utf8")).toBe(readFileSync(object, "utf8"));
  });

  it("clone: reflinks where the filesystem can, else copies with one warning", async () => {
    const { manifest, reporter } = await build("clone");
    const warnings = reporter.messages("warn");
    if (manifest.effectiveLinkMode === "clone") expect(warnings).toEqual([]);
    else {
      expect(manifest.effectiveLinkMode).toBe("copy");
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain("clone");
    }
  });

  it("symlink: absolute symlinks to store objects", async () => {
    const { dir, manifest } = await build("symlink");
    expect(manifest.effectiveLinkMode).toBe("symlink");
    const file = path.join(dir, site, "alpha/__init__.py");
    expect(lstatSync(file).isSymbolicLink()).toBe(true);
    expect(readlinkSync(file)).toBe(store.objectPath(alphaInit().hash, false));
    // Generated files are real files.
    expect(lstatSync(path.join(dir, "bin", "alpha-cli")).isSymbolicLink()).toBe(false);
  });

  it("pth: one .pth line per package pointing at its store tree", async () => {
    const { dir, manifest, alphaFile } = await build("pth");
    const alpha = wheels.find((w) => w.name === "alpha") as StoredWheel;
    const tree = await store.wheelTree(alpha);
    const pth = readFileSync(path.join(dir, site, "_slimenv_alpha.pth"), "utf8");
    expect(pth).toBe(`${tree}\n`);
    expect(alphaFile).toBe(path.join(tree, "alpha/__init__.py"));
    expect(existsSync(path.join(dir, site, "alpha"))).toBe(false);
    // The dist-info stays in the env (INSTALLER, RECORD for the env's files).
    expect(readFileSync(path.join(dir, site, "alpha-1.0.dist-info/INSTALLER"), "utf8")).toBe(
      "slimenv\n",
    );
    expect(manifest.packages.find((p) => p.name === "alpha")?.tree).toBe(tree);
    // The platlib wheel goes through its tree too.
    const cext = wheels.find((w) => w.name === "cext") as StoredWheel;
    expect(readFileSync(path.join(dir, site, "_slimenv_cext.pth"), "utf8")).toBe(
      `${await store.wheelTree(cext)}\n`,
    );
    // A wheel with its own top-level .pth is placed whole (its relative line needs it).
    expect(existsSync(path.join(dir, site, "_slimenv_pthpkg.pth"))).toBe(false);
    expect(existsSync(path.join(dir, site, "pthpkg_extra/hidden_mod.py"))).toBe(true);
    // .data/scripts and .data/data are still linked.
    expect(existsSync(path.join(dir, "share/alpha/data.txt"))).toBe(true);
    expect(run(path.join(dir, "bin", "alpha-tool"), [], { PATH: py.path }).status).toBe(5);
  });

  itWith(XDEV)("across filesystems: hardlink falls back to copies with ONE warning", async () => {
    const shmStore = Store.open({ root: path.join(cleanedTempDir("slimenv-store-", SHM), "s") });
    try {
      const shmWheels = await importInto(shmStore, built);
      for (const mode of ["hardlink", "auto"] as const) {
        const dir = path.join(tempDir(`xdev-${mode}`), "env");
        const reporter = new RecordingReporter();
        const manifest = await materialize(
          shmStore,
          {
            layout: { kind: "prefix", dir },
            target: py.target,
            probe: py.probe,
            wheels: shmWheels,
            requested: [],
            linkMode: mode,
          },
          { reporter },
        );
        expect(manifest.effectiveLinkMode).toBe("copy");
        const warnings = reporter.messages("warn");
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain("different filesystems");
        const check = run(path.join(dir, "bin", "python"), ["-c", CHECK_SCRIPT], {
          PATH: py.path,
        });
        expect(check.stdout.split("\n")[0]).toBe(CHECK_EXPECTED_VERSIONS);
      }
    } finally {
      shmStore.close();
    }
  });
});
