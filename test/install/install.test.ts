/**
 * install() from each input kind into each layout, against the in-process index and a real
 * CPython; and bad input of every kind, which must leave the env dir and the store as they were.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InstallRequest, install } from "../../src/env/install.ts";
import { classifyInstallArgs } from "../../src/env/install-inputs.ts";
import { Store } from "../../src/store/store.ts";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import { describeWith } from "../helpers/prereq.ts";
import { buildWheel } from "../helpers/wheels.ts";
import {
  expectSlimenvError,
  lockText,
  run,
  snapshot,
  TEST_PYTHON,
  tempDir,
  testPython,
  testSettings,
  VERSIONS_SCRIPT,
  type World,
  world,
} from "./fixtures.ts";

const PY = testPython();

describeWith(TEST_PYTHON)("install", () => {
  let server: IndexServer;
  let w: World;
  let root: string;
  let storeRoot: string;
  const pyPath = () => `${path.dirname(PY as string)}:/usr/bin:/bin`;

  beforeAll(async () => {
    w = world();
    server = await startIndexServer({ projects: w.projects });
    root = tempDir("api");
    storeRoot = path.join(root, "store");
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

  function request(cwd: string, more: Partial<InstallRequest>): InstallRequest {
    return {
      cwd,
      env: process.env,
      settings: testSettings(server.url),
      selection: { kind: "interpreter", request: PY as string },
      layout: { kind: "prefix", dir: "env" },
      inputs: { requirementFiles: [], requirements: [], wheels: [] },
      userAgent: "slimenv-tests",
      storeRoot,
      httpCacheDir: null,
      ...more,
    };
  }

  function versions(envDir: string): Record<string, string> {
    const res = run(path.join(envDir, "bin", "python"), ["-c", VERSIONS_SCRIPT, envDir], {
      PATH: pyPath(),
    });
    expect(res.stderr).toBe("");
    return JSON.parse(res.stdout) as Record<string, string>;
  }

  it("installs names into a prefix, with dependencies; REQUESTED only for the names", async () => {
    const cwd = folder();
    const result = await install(
      request(cwd, { inputs: { requirementFiles: [], requirements: ["app"], wheels: [] } }),
    );
    const env = path.join(cwd, "env");
    expect(result.rebuilt).toBe(true);
    expect(result.changes.added.map((p) => `${p.name} ${p.version}`)).toEqual([
      "app 1.0",
      "lib 2.0",
      "tool 1.0",
    ]);
    expect(versions(env)).toEqual({ app: "1.0", lib: "2.0", tool: "1.0" });
    const requested = result.manifest.packages.filter((p) => p.requested).map((p) => p.name);
    expect(requested).toEqual(["app"]);
    const hello = run(path.join(env, "bin", "app-hello"), ["x"], { PATH: pyPath() });
    expect(hello.stdout).toBe("hello from app ['x']\n");
    expect(hello.status).toBe(4);
    // No lock file written without --lock-out.
    expect(existsSync(path.join(cwd, "pylock.toml"))).toBe(false);
    // The same install again changes nothing.
    const again = await install(
      request(cwd, { inputs: { requirementFiles: [], requirements: ["app"], wheels: [] } }),
    );
    expect(again.rebuilt).toBe(false);
    expect(again.manifest.generation).toBe(result.manifest.generation);
  });

  it("installs a requirements.txt into a target dir and writes --lock-out", async () => {
    const cwd = folder();
    writeFileSync(path.join(cwd, "requirements.txt"), "lib<2\ntool\n");
    const result = await install(
      request(cwd, {
        layout: { kind: "target", dir: "lambda" },
        inputs: classifyInstallArgs(["requirements.txt"], [], cwd),
        lockOut: "pylock.toml",
      }),
    );
    const dir = path.join(cwd, "lambda");
    expect(existsSync(path.join(dir, "lib", "__init__.py"))).toBe(true);
    expect(readFileSync(path.join(dir, "lib", "__init__.py"), "utf8")).toContain('"1.1"');
    expect(result.lockWritten).toBe(path.join(cwd, "pylock.toml"));
    const lock = readFileSync(path.join(cwd, "pylock.toml"), "utf8");
    expect(lock).toMatch(/name = .lib.\nversion = .1\.1./);
    const res = run(
      path.join(dir, "bin", "python"),
      ["-c", "import lib, tool; print(lib.__version__)"],
      {
        PATH: pyPath(),
      },
    );
    expect(res.stdout).toBe("1.1\n");
  });

  it("installs a pyproject.toml into a venv", async () => {
    const cwd = folder();
    writeFileSync(
      path.join(cwd, "pyproject.toml"),
      '[project]\nname = "me"\nversion = "0"\ndependencies = ["lib==1.0"]\n[project.optional-dependencies]\ncli = ["tool"]\n',
    );
    const inputs = classifyInstallArgs(["pyproject.toml"], [], cwd);
    inputs.extras = ["cli"];
    await install(request(cwd, { layout: { kind: "venv", dir: "venv" }, inputs }));
    const venv = path.join(cwd, "venv");
    expect(existsSync(path.join(venv, "pyvenv.cfg"))).toBe(true);
    expect(versions(venv)).toEqual({ lib: "1.0", tool: "1.0" });
  });

  it("installs a pylock.toml as it is, and refuses one for another target", async () => {
    const cwd = folder();
    const wheels = [...w.wheels.values()].filter((x) => /^(alpha|gamma)-/.test(x.filename));
    writeFileSync(path.join(cwd, "pylock.toml"), lockText(wheels, server.filesUrl));
    const inputs = classifyInstallArgs([], [], cwd);
    expect(inputs.lockFile).toBe("pylock.toml");
    const result = await install(request(cwd, { inputs }));
    expect(versions(path.join(cwd, "env"))).toEqual({ alpha: "1.0", gamma: "1.0" });
    expect(result.manifest.lock?.path).toBe(path.join(cwd, "pylock.toml"));
    // Both are roots of the lock: both are requested.
    expect(result.manifest.packages.every((p) => p.requested)).toBe(true);

    writeFileSync(
      path.join(cwd, "pylock.other.toml"),
      lockText(wheels, server.filesUrl, {
        environments: ['sys_platform == "win32" and platform_machine == "AMD64"'],
      }),
    );
    const before = [snapshot(path.join(cwd, "env2")), snapshot(storeRoot)];
    await expectSlimenvError(
      install(
        request(cwd, {
          layout: { kind: "prefix", dir: "env2" },
          inputs: classifyInstallArgs(["pylock.other.toml"], [], cwd),
        }),
      ),
      "INVALID_TARGET",
      /pylock\.other\.toml is not for this environment's target/,
    );
    expect([snapshot(path.join(cwd, "env2")), snapshot(storeRoot)]).toEqual(before);
  });

  it("installs a local wheel with its dependencies from the index, or alone with --no-deps", async () => {
    const cwd = folder();
    const local = buildWheel({
      name: "localpkg",
      version: "3.0",
      requiresDist: ["lib==1.1"],
      files: { "localpkg/__init__.py": "X = 3\n" },
    });
    const file = path.join(cwd, local.filename);
    writeFileSync(file, local.bytes);
    await install(request(cwd, { inputs: classifyInstallArgs([`./${local.filename}`], [], cwd) }));
    expect(versions(path.join(cwd, "env"))).toEqual({ lib: "1.1", localpkg: "3.0" });

    const alone = await install(
      request(cwd, {
        layout: { kind: "prefix", dir: "alone" },
        inputs: classifyInstallArgs([file], [], cwd),
        noDeps: true,
      }),
    );
    expect(alone.manifest.packages.map((p) => p.name)).toEqual(["localpkg"]);
    expect(alone.manifest.packages[0]?.requested).toBe(true);
  });

  it("installs for a spec target without an interpreter (prefix layout)", async () => {
    const cwd = folder();
    const result = await install(
      request(cwd, {
        selection: {
          kind: "spec",
          spec: { pythonVersion: "3.11", platform: "manylinux_2_28_aarch64" },
        },
        inputs: { requirementFiles: [], requirements: ["lib==1.0"], wheels: [] },
      }),
    );
    expect(result.manifest.target.source).toBe("spec");
    expect(existsSync(path.join(cwd, "env", "lib", "python3.11", "site-packages", "lib"))).toBe(
      true,
    );
  });

  it("refuses a venv for a spec target, before touching anything", async () => {
    const cwd = folder();
    await expectSlimenvError(
      install(
        request(cwd, {
          layout: { kind: "venv", dir: "v" },
          selection: { kind: "spec", spec: { pythonVersion: "3.11", platform: "linux_x86_64" } },
          inputs: { requirementFiles: [], requirements: ["lib"], wheels: [] },
        }),
      ),
      "INVALID_OPTION",
      /a venv links a real interpreter/,
    );
    expect(existsSync(path.join(cwd, "v"))).toBe(false);
  });

  describe("bad input changes nothing", () => {
    let cwd: string;
    let before: string[][];
    beforeAll(async () => {
      cwd = folder();
      await install(
        request(cwd, { inputs: { requirementFiles: [], requirements: ["lib==1.0"], wheels: [] } }),
      );
    });
    const state = () => [
      snapshot(path.join(cwd, "env")),
      snapshot(path.join(storeRoot, "objects")),
    ];
    const wheelsInStore = () => {
      const s = Store.open({ root: storeRoot });
      try {
        return s.status().wheels;
      } finally {
        s.close();
      }
    };

    it("a bad requirements file", async () => {
      writeFileSync(path.join(cwd, "bad.txt"), "lib==1.0\nthis is not ( a requirement\n");
      before = state();
      const count = wheelsInStore();
      await expectSlimenvError(
        install(request(cwd, { inputs: classifyInstallArgs(["bad.txt"], [], cwd) })),
        "INVALID_REQUIREMENTS_FILE",
      );
      expect(state()).toEqual(before);
      expect(wheelsInStore()).toBe(count);
    });

    it("an unknown package, and one whose dependency is unknown", async () => {
      before = state();
      for (const name of ["nosuchthing", "needs-missing"]) {
        await expectSlimenvError(
          install(
            request(cwd, { inputs: { requirementFiles: [], requirements: [name], wheels: [] } }),
          ),
          "NO_SOLUTION",
        );
      }
      expect(state()).toEqual(before);
    });

    it("a hostile wheel", async () => {
      const hostile = buildWheel({
        name: "evil",
        version: "1.0",
        tamper: { extraEntries: [{ path: "../escape.py", data: "x", inRecord: true }] },
      });
      const file = path.join(cwd, hostile.filename);
      writeFileSync(file, hostile.bytes);
      before = state();
      const count = wheelsInStore();
      await expectSlimenvError(
        install(request(cwd, { inputs: classifyInstallArgs([file], [], cwd), noDeps: true })),
        "HOSTILE_WHEEL",
      );
      expect(state()).toEqual(before);
      expect(wheelsInStore()).toBe(count);
    });

    it("a wheel for another platform, a lock for another Python, a non-env directory", async () => {
      const other = buildWheel({ name: "plat", version: "1.0", tags: "cp39-cp39-win_amd64" });
      writeFileSync(path.join(cwd, other.filename), other.bytes);
      writeFileSync(
        path.join(cwd, "pylock.py2.toml"),
        lockText([...w.wheels.values()].slice(0, 1), server.filesUrl, { requiresPython: "<3" }),
      );
      before = state();
      await expectSlimenvError(
        install(
          request(cwd, { inputs: classifyInstallArgs([other.filename], [], cwd), noDeps: true }),
        ),
        "INVALID_TARGET",
        /does not fit the target/,
      );
      await expectSlimenvError(
        install(request(cwd, { inputs: classifyInstallArgs(["pylock.py2.toml"], [], cwd) })),
        "INVALID_TARGET",
        /requires Python <3/,
      );
      expect(state()).toEqual(before);
      const mine = path.join(cwd, "mine");
      mkdirSync(mine);
      writeFileSync(path.join(mine, "notes.txt"), "mine\n");
      const snap = snapshot(mine);
      await expectSlimenvError(
        install(
          request(cwd, {
            layout: { kind: "prefix", dir: "mine" },
            inputs: { requirementFiles: [], requirements: ["lib"], wheels: [] },
          }),
        ),
        "INVALID_ENV",
        /not empty and is not a slimenv environment/,
      );
      expect(snapshot(mine)).toEqual(snap);
    });
  });
});

describe("classifyInstallArgs", () => {
  it("sorts inputs by kind and refuses a lock mixed with others", () => {
    const cwd = tempDir("classify");
    writeFileSync(path.join(cwd, "reqs.txt"), "lib\n");
    writeFileSync(path.join(cwd, "x-1.0-py3-none-any.whl"), "");
    expect(
      classifyInstallArgs(
        ["requests>=2", "reqs.txt", "pyproject.toml", "./x-1.0-py3-none-any.whl"],
        ["r.txt"],
        cwd,
      ),
    ).toEqual({
      requirementFiles: ["r.txt", "reqs.txt", "pyproject.toml"],
      requirements: ["requests>=2"],
      wheels: [path.join(cwd, "x-1.0-py3-none-any.whl")],
    });
    expect(classifyInstallArgs(["pylock.dev.toml"], [], cwd).lockFile).toBe("pylock.dev.toml");
    expect(() => classifyInstallArgs(["pylock.toml", "lib"], [], cwd)).toThrow(
      /cannot be combined/,
    );
    expect(() => classifyInstallArgs([], [], cwd)).toThrow(/nothing to install/);
    expect(() => classifyInstallArgs(["./missing-1.0-py3-none-any.whl"], [], cwd)).toThrow(
      /no wheel file/,
    );
  });
});
