import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, expect, it } from "vitest";
import { materialize } from "../../src/env/materialize.ts";
import type { StoredWheel } from "../../src/store/types.ts";
import { describeWith, pyenv } from "../helpers/prereq.ts";
import { buildWheel } from "../helpers/wheels.ts";
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
const PYTHON311 = pyenv("3.11");
const PY311 = PYTHON311.exe;

function sh(command: string): void {
  const res = spawnSync("sh", ["-c", command], { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`${command}: ${res.stderr}`);
}

describeWith(PYTHON312)("a prefix env moved and copied, without slimenv", () => {
  let py: Interp;
  let store: FakeStore;
  let wheels: StoredWheel[];

  beforeAll(async () => {
    py = await interpreter(PY312 as string);
    store = new FakeStore();
    wheels = await importAll(store, [...pureWheels(), cextWheel(py)]);
  });

  it("runs bin/python and console scripts after mv and cp -a, with a bare PATH", async () => {
    const base = tempDir("reloc");
    const built = path.join(base, "built");
    await materialize(store, {
      layout: { kind: "prefix", dir: built },
      target: py.target,
      probe: py.probe,
      wheels,
      requested: [],
      linkMode: "hardlink",
    });
    const moved = path.join(base, "elsewhere", "moved env");
    const copied = path.join(base, "copy");
    sh(
      `mkdir -p '${path.dirname(moved)}' && mv '${built}' '${moved}' && cp -a '${moved}' '${copied}'`,
    );
    expect(existsSync(built)).toBe(false);
    // PATH: the interpreter's dir and the system dirs only; no node, no slimenv.
    const env = { PATH: py.path };
    for (const dir of [moved, copied]) {
      const check = run(path.join(dir, "bin", "python"), ["-c", CHECK_SCRIPT], env);
      expect(check.stderr).toBe("");
      const lines = check.stdout.trim().split("\n");
      expect(lines[0]).toBe(CHECK_EXPECTED_VERSIONS);
      expect(lines[3]).toBe(path.join(dir, "lib/python3.12/site-packages/alpha/__init__.py"));
      const cli = run(path.join(dir, "bin", "alpha-cli"), ["x"], env);
      expect(cli.stdout).toBe("alpha-main alpha-cli ['x']\n");
      expect(cli.status).toBe(3);
      // Run from another cwd with a relative path, and through a symlink to the script.
      const rel = run("./bin/alpha-tool", [], env, dir);
      expect(rel.status).toBe(5);
      const linkDir = tempDir("link");
      sh(`ln -s '${path.join(dir, "bin", "alpha-cli")}' '${linkDir}/mycli'`);
      const viaLink = run(path.join(linkDir, "mycli"), [], env);
      expect(viaLink.stdout).toBe("alpha-main mycli []\n");
      // Scripts found on PATH.
      const onPath = run("sh", ["-c", "alpha-cli 1 2"], { PATH: `${dir}/bin:${py.path}` });
      expect(onPath.stdout).toBe("alpha-main alpha-cli ['1', '2']\n");
      // python3.12 on PATH through the env's bin still finds the real interpreter.
      const nested = run("sh", ["-c", "python3.12 -c 'import alpha, sys; print(sys.executable)'"], {
        PATH: `${dir}/bin:${py.path}`,
      });
      expect(nested.stderr).toBe("");
      expect(nested.stdout).toBe(`${py.exe}\n`);
    }
  });

  it("launcher refuses options that switch the env off, and venv interpreters", async () => {
    const dir = path.join(tempDir("refuse"), "env");
    await materialize(store, {
      layout: { kind: "prefix", dir },
      target: py.target,
      probe: py.probe,
      wheels: wheels.slice(0, 1),
      requested: [],
      linkMode: "auto",
    });
    const env = { PATH: py.path };
    const python = path.join(dir, "bin", "python");
    for (const opt of [["-s"], ["-I"], ["-E"], ["-Es"], ["-u", "-s"], ["-sc", "1"]]) {
      const res = run(python, [...opt, "-c", "print(1)"], env);
      expect(res.status, opt.join(" ")).toBe(2);
      expect(res.stderr).toContain("would switch this environment off");
    }
    // Options after -c / the script belong to the program.
    expect(run(python, ["-c", "import sys; print(sys.argv[1:])", "-s"], env).stdout).toBe(
      "['-s']\n",
    );
    expect(run(python, ["-u", "-W", "ignore", "-c", "import alpha"], env).status).toBe(0);
    // PYTHONNOUSERSITE would hide the env: the launcher clears it.
    expect(run(python, ["-c", "import alpha"], { ...env, PYTHONNOUSERSITE: "1" }).status).toBe(0);
    // A venv interpreter has no user site: refused loudly.
    const venv = path.join(tempDir("sysvenv"), "v");
    sh(`'${py.exe}' -m venv --without-pip '${venv}'`);
    const res = run(python, ["-c", "1"], { ...env, SLIMENV_PYTHON_COMMAND: `${venv}/bin/python` });
    expect(res.status).toBe(127);
    expect(res.stderr).toContain("virtual environment");
    // A missing command is named.
    const missing = run(python, ["-c", "1"], { ...env, SLIMENV_PYTHON_COMMAND: "no-such-python9" });
    expect(missing.status).toBe(127);
    expect(missing.stderr).toContain("no-such-python9");
  });

  it("SLIMENV_PYTHON_COMMAND and interpreterCommand choose the interpreter", async () => {
    const dir = path.join(tempDir("cmd"), "env");
    const manifest = await materialize(store, {
      layout: { kind: "prefix", dir },
      target: py.target,
      probe: py.probe,
      wheels: wheels.slice(0, 1),
      requested: [],
      linkMode: "auto",
      interpreterCommand: py.exe,
    });
    expect(manifest.interpreterCommand).toBe(py.exe);
    const print = ["-c", "import sys, alpha; print(sys.executable)"];
    expect(run(path.join(dir, "bin", "python"), print, { PATH: "/usr/bin:/bin" }).stdout).toBe(
      `${py.exe}\n`,
    );
    const wrapper = path.join(tempDir("wrap"), "mypython");
    writeFileSync(wrapper, `#!/bin/sh\nexec '${py.exe}' "$@"\n`, { mode: 0o755 });
    const res = run(path.join(dir, "bin", "python"), ["-c", "import alpha; print('ok')"], {
      PATH: "/usr/bin:/bin",
      SLIMENV_PYTHON_COMMAND: wrapper,
    });
    expect(res.stdout).toBe("ok\n");
  });
});

describeWith(PYTHON312)("shadowing and --isolated", () => {
  it("env packages shadow the system's; isolated hides the system site-packages", async () => {
    const py = await interpreter(PY312 as string);
    const store = new FakeStore();
    // The "system": the real interpreter with PYTHONHOME pointing at a prefix whose stdlib
    // is symlinked from the real one and whose site-packages we fill (shadowme 1.0, sysonly).
    // (A venv can't stand in: its own site-packages come before the user site.)
    const system = tempDir("system");
    const stdlib = path.join(path.dirname(path.dirname(py.exe)), "lib", "python3.12");
    const sysLib = path.join(system, "lib", "python3.12");
    const sysSite = path.join(sysLib, "site-packages");
    mkdirSync(sysSite, { recursive: true });
    for (const name of readdirSync(stdlib)) {
      if (name !== "site-packages") symlinkSync(path.join(stdlib, name), path.join(sysLib, name));
    }
    mkdirSync(path.join(sysSite, "shadowme"));
    writeFileSync(path.join(sysSite, "shadowme", "__init__.py"), 'V = "1.0"\n');
    mkdirSync(path.join(sysSite, "sysonly"));
    writeFileSync(path.join(sysSite, "sysonly", "__init__.py"), "");
    const [shadow, other] = await importAll(store, [
      buildWheel({
        name: "shadowme",
        version: "2.0",
        files: { "shadowme/__init__.py": 'V = "2.0"\n' },
      }),
      buildWheel({ name: "other", version: "1.0" }),
    ]);
    const env = { PATH: py.path, PYTHONHOME: system };
    const open = path.join(tempDir("open"), "env");
    await materialize(store, {
      layout: { kind: "prefix", dir: open },
      target: py.target,
      probe: py.probe,
      wheels: [shadow as StoredWheel, other as StoredWheel],
      requested: [],
      linkMode: "auto",
    });
    const probe = "import shadowme, other; print(shadowme.V); import sysonly; print('sysonly')";
    const res = run(path.join(open, "bin", "python"), ["-c", probe], env);
    expect(res.stderr).toBe("");
    expect(res.stdout).toBe("2.0\nsysonly\n");

    const isolated = path.join(tempDir("isolated"), "env");
    const manifest = await materialize(store, {
      layout: { kind: "prefix", dir: isolated },
      target: py.target,
      probe: py.probe,
      wheels: [other as StoredWheel],
      requested: [],
      linkMode: "auto",
      isolated: true,
    });
    expect(manifest.isolated).toBe(true);
    const iso = run(
      path.join(isolated, "bin", "python"),
      [
        "-c",
        "import other, json, sys; print(any(p.startswith(sys.prefix) and 'site-packages' in p for p in sys.path)); import shadowme",
      ],
      env,
    );
    expect(iso.stdout).toBe("False\n");
    expect(iso.stderr).toContain("No module named 'shadowme'");
    // Without isolation the same env sees the system package.
    const seen = run(path.join(open, "bin", "python"), ["-c", "import sysonly"], env);
    expect(seen.status).toBe(0);
  });
});

describeWith(PYTHON311)("CPython 3.11", () => {
  it("prefix env with a C extension", async () => {
    const py = await interpreter(PY311 as string);
    const store = new FakeStore();
    const wheels = await importAll(store, [...pureWheels(), cextWheel(py)]);
    const dir = path.join(tempDir("py311"), "env");
    const manifest = await materialize(store, {
      layout: { kind: "prefix", dir },
      target: py.target,
      probe: py.probe,
      wheels,
      requested: [],
      linkMode: "auto",
    });
    expect(manifest.interpreterCommand).toBe("python3.11");
    const check = run(path.join(dir, "bin", "python"), ["-c", CHECK_SCRIPT], { PATH: py.path });
    expect(check.stderr).toBe("");
    expect(check.stdout.split("\n")[0]).toBe(CHECK_EXPECTED_VERSIONS);
  });
});
