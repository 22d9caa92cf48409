import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from "node:fs";
import path from "node:path";
import { beforeAll, expect, it } from "vitest";
import { readEnvManifest } from "../../src/env/manifest.ts";
import { materialize } from "../../src/env/materialize.ts";
import { runInEnv } from "../../src/env/run.ts";
import type { StoredWheel } from "../../src/store/types.ts";
import { describeWith, pyenv } from "../helpers/prereq.ts";
import {
  CHECK_EXPECTED_VERSIONS,
  CHECK_SCRIPT,
  cextWheel,
  type Interp,
  importAll,
  interpreter,
  pureWheels,
  run,
  tempDir,
} from "./env-fixtures.ts";
import { FakeStore } from "./fake-store.ts";

const PYTHON312 = pyenv("3.12");
const PY312 = PYTHON312.exe;

/** Check every RECORD entry of every dist-info under `site` with Python's own hashing. */
const RECORD_CHECK = `
import base64, csv, hashlib, os, sys
site = sys.argv[1]
bad = []
n = 0
for d in os.listdir(site):
    if not d.endswith('.dist-info'):
        continue
    with open(os.path.join(site, d, 'RECORD'), newline='') as f:
        for row in csv.reader(f):
            p, h, size = row
            full = os.path.normpath(os.path.join(site, p))
            if not os.path.exists(full):
                bad.append('missing ' + p)
                continue
            n += 1
            if not h:
                if not p.endswith('RECORD'): bad.append('nohash ' + p)
                continue
            algo, digest = h.split('=', 1)
            data = open(full, 'rb').read()
            got = base64.urlsafe_b64encode(hashlib.new(algo, data).digest()).rstrip(b'=').decode()
            if got != digest or int(size) != len(data):
                bad.append('hash ' + p)
print(n, bad)
`;

describeWith(PYTHON312)("layouts on CPython 3.12", () => {
  let py: Interp;
  let store: FakeStore;
  let wheels: StoredWheel[];

  beforeAll(async () => {
    py = await interpreter(PY312 as string);
    store = new FakeStore();
    wheels = await importAll(store, [...pureWheels(), cextWheel(py)]);
  });

  it("prefix: imports, .pth, C extension, namespace package, metadata, scripts, data", async () => {
    const dir = path.join(tempDir("prefix"), "env");
    const manifest = await materialize(store, {
      layout: { kind: "prefix", dir },
      target: py.target,
      probe: py.probe,
      wheels,
      requested: ["alpha", "ns_one"],
      linkMode: "auto",
    });
    expect(manifest.generation).toBe(1);
    expect(manifest.interpreterCommand).toBe("python3.12");
    expect(manifest.packages.map((p) => p.name).sort()).toEqual([
      "alpha",
      "cext",
      "ns-one",
      "ns-two",
      "pthpkg",
    ]);
    expect(store.registered.at(-1)?.envPath).toBe(dir);
    // Top-level entries are relative symlinks through .slimenv/current.
    expect(readlinkSync(path.join(dir, "bin"))).toBe(".slimenv/current/bin");
    expect(readlinkSync(path.join(dir, ".slimenv", "current"))).toBe("gen-1");

    const env = { PATH: py.path };
    const check = run(path.join(dir, "bin", "python"), ["-c", CHECK_SCRIPT], env);
    expect(check.stderr).toBe("");
    const lines = check.stdout.trim().split("\n");
    expect(lines[0]).toBe(CHECK_EXPECTED_VERSIONS);
    expect(lines[1]).toBe("slimenv");
    expect(lines[2]).toBe("['alpha-cli', 'alpha-cls', 'alpha-gui']");
    expect(lines[3]).toBe(path.join(dir, "lib/python3.12/site-packages/alpha/__init__.py"));

    // Console script: args through, exit code through, argv[0] is the script.
    const cli = run(path.join(dir, "bin", "alpha-cli"), ["a b", "--x"], env);
    expect(cli.stdout).toBe("alpha-main alpha-cli ['a b', '--x']\n");
    expect(cli.status).toBe(3);
    expect(run(path.join(dir, "bin", "alpha-cls"), [], env).stdout).toBe("tool-run\n");
    expect(run(path.join(dir, "bin", "alpha-gui"), [], env).stdout).toBe("alpha-gui\n");
    // #!python script from .data/scripts, rewritten.
    const tool = run(path.join(dir, "bin", "alpha-tool"), ["q"], env);
    expect(tool.stdout).toBe("tool 1.0 ['q']\n");
    expect(tool.status).toBe(5);
    expect(readFileSync(path.join(dir, "bin", "alpha-tool"), "utf8")).toMatch(/^#!\/bin\/sh\n/);
    // Other .data/scripts are linked as they are, executable.
    expect(run(path.join(dir, "bin", "plain.sh"), [], env).stdout).toBe("plain-sh\n");
    expect(statSync(path.join(dir, "bin", "alpha-cli")).mode & 0o111).toBe(0o111);
    // .data/data and .data/headers.
    expect(readFileSync(path.join(dir, "share/alpha/data.txt"), "utf8")).toBe("alpha data 1.0\n");
    expect(existsSync(path.join(dir, "include/python3.12/alpha/alpha.h"))).toBe(true);

    // INSTALLER, REQUESTED only for requested dists.
    const site = path.join(dir, "lib/python3.12/site-packages");
    expect(readFileSync(path.join(site, "alpha-1.0.dist-info/INSTALLER"), "utf8")).toBe(
      "slimenv\n",
    );
    expect(existsSync(path.join(site, "alpha-1.0.dist-info/REQUESTED"))).toBe(true);
    expect(existsSync(path.join(site, "ns_one-1.0.dist-info/REQUESTED"))).toBe(true);
    expect(existsSync(path.join(site, "pthpkg-1.0.dist-info/REQUESTED"))).toBe(false);

    // RECORD: every entry exists with the right hash and size, launchers included.
    const record = readFileSync(path.join(site, "alpha-1.0.dist-info/RECORD"), "utf8");
    expect(record).toContain("../../../bin/alpha-cli,sha256=");
    expect(record).toContain("../../../share/alpha/data.txt,sha256=");
    expect(record).toContain("alpha-1.0.dist-info/RECORD,,");
    const rc = run(py.exe, ["-c", RECORD_CHECK, site], env);
    expect(rc.stdout.trim()).toMatch(/^\d+ \[\]$/);

    // pip sees exact versions.
    const pip = run(py.exe, ["-m", "pip", "list", "--path", site, "--format", "json"], {
      ...env,
      PIP_DISABLE_PIP_VERSION_CHECK: "1",
    });
    const listed = JSON.parse(pip.stdout) as { name: string; version: string }[];
    expect(Object.fromEntries(listed.map((d) => [d.name, d.version]))).toEqual({
      alpha: "1.0",
      cext: "1.0",
      "ns-one": "1.0",
      "ns-two": "2.0",
      pthpkg: "1.0",
    });

    // The manifest is reachable through current.
    const read = readEnvManifest(dir);
    expect(read?.packages.find((p) => p.name === "alpha")?.files.map((f) => f.path)).toContain(
      "bin/alpha-cli",
    );

    // runInEnv: PATH has DIR/bin first, the env is active.
    const code = await runInEnv(
      dir,
      ["sh", "-c", 'python -c "import alpha, cext; raise SystemExit(cext.add(3, 4))"'],
      { env, stdio: "ignore" },
    );
    expect(code).toBe(7);
    expect(await runInEnv(dir, ["alpha-cli"], { env, stdio: "ignore" })).toBe(3);
  });

  it("prefix: pip uninstall removes a distribution through its RECORD", async () => {
    const dir = path.join(tempDir("uninstall"), "env");
    await materialize(store, {
      layout: { kind: "prefix", dir },
      target: py.target,
      probe: py.probe,
      wheels,
      requested: ["alpha"],
      linkMode: "hardlink",
    });
    const env = { PATH: py.path, PIP_DISABLE_PIP_VERSION_CHECK: "1" };
    const res = run(
      path.join(dir, "bin", "python"),
      ["-m", "pip", "uninstall", "-y", "alpha"],
      env,
    );
    expect(res.stdout).toContain("Successfully uninstalled alpha-1.0");
    expect(existsSync(path.join(dir, "bin", "alpha-cli"))).toBe(false);
    expect(existsSync(path.join(dir, "lib/python3.12/site-packages/alpha"))).toBe(false);
    const after = run(
      path.join(dir, "bin", "python"),
      ["-c", "import cext; print(cext.add(1, 1))"],
      env,
    );
    expect(after.stdout).toBe("2\n");
  });

  it("venv: pyvenv.cfg, interpreter symlinks, no copied interpreter, no pip", async () => {
    const dir = path.join(tempDir("venv"), "env");
    const manifest = await materialize(store, {
      layout: { kind: "venv", dir },
      target: py.target,
      probe: py.probe,
      wheels,
      requested: [],
      linkMode: "auto",
    });
    expect(manifest.layout).toBe("venv");
    const cfg = readFileSync(path.join(dir, "pyvenv.cfg"), "utf8");
    expect(cfg).toContain(`home = ${path.dirname(py.probe.realExecutable)}\n`);
    expect(cfg).toContain("include-system-site-packages = false\n");
    expect(cfg).toContain("version = 3.12.");
    for (const name of ["python", "python3", "python3.12"]) {
      const p = path.join(dir, "bin", name);
      expect(lstatSync(p).isSymbolicLink()).toBe(true);
      expect(readlinkSync(p)).toBe(py.probe.realExecutable);
    }
    const env = { PATH: py.path };
    const check = run(path.join(dir, "bin", "python"), ["-c", CHECK_SCRIPT], env);
    expect(check.stderr).toBe("");
    expect(check.stdout.split("\n")[0]).toBe(CHECK_EXPECTED_VERSIONS);
    const prefix = run(
      path.join(dir, "bin", "python"),
      ["-c", "import sys; print(sys.prefix)"],
      env,
    );
    expect(prefix.stdout.trim()).toBe(dir);
    const pip = run(path.join(dir, "bin", "python"), ["-c", "import pip"], env);
    expect(pip.status).not.toBe(0);
    const cli = run(path.join(dir, "bin", "alpha-cli"), ["z"], env);
    expect(cli.stdout).toBe("alpha-main alpha-cli ['z']\n");
    expect(cli.status).toBe(3);
    expect(run(path.join(dir, "bin", "alpha-tool"), [], env).status).toBe(5);
    expect(existsSync(path.join(dir, "include/site/python3.12/alpha/alpha.h"))).toBe(true);
    expect(
      await runInEnv(
        dir,
        ["python", "-c", "import sys; sys.exit(sys.prefix != sys.base_prefix and 9)"],
        { env, stdio: "ignore" },
      ),
    ).toBe(9);
  });

  it("target: flat packages, bin/python launcher, manifest inside the dir", async () => {
    const dir = path.join(tempDir("target"), "out");
    const manifest = await materialize(store, {
      layout: { kind: "target", dir },
      target: py.target,
      probe: py.probe,
      wheels,
      requested: ["alpha"],
      linkMode: "copy",
    });
    expect(manifest.layout).toBe("target");
    expect(existsSync(path.join(dir, "alpha/__init__.py"))).toBe(true);
    expect(existsSync(path.join(dir, "alpha-1.0.dist-info/RECORD"))).toBe(true);
    expect(existsSync(path.join(dir, "share/alpha/data.txt"))).toBe(true);
    expect(existsSync(path.join(dir, "include/alpha/alpha.h"))).toBe(true);
    expect(existsSync(path.join(dir, ".slimenv/manifest.json"))).toBe(true);
    expect(existsSync(`${dir}.slimenv-new`) || existsSync(`${dir}.slimenv-old`)).toBe(false);
    const env = { PATH: py.path };
    const res = run(
      path.join(dir, "bin", "python"),
      ["-c", "import alpha, cext, nsp.one, nsp.two; print(alpha.__file__, cext.add(1, 2))"],
      env,
    );
    expect(res.stdout).toBe(`${path.join(dir, "alpha/__init__.py")} 3\n`);
    expect(run(path.join(dir, "bin", "alpha-cli"), [], env).status).toBe(3);
    const rc = run(py.exe, ["-c", RECORD_CHECK, dir], env);
    expect(rc.stdout.trim()).toMatch(/^\d+ \[\]$/);
    // A plain PYTHONPATH works too (as for a zip or Lambda).
    const plain = run(py.exe, ["-c", "import alpha; print(alpha.__version__)"], {
      ...env,
      PYTHONPATH: dir,
    });
    expect(plain.stdout).toBe("1.0\n");
  });
});
