/**
 * Whole lock runs (inputs, settings, target, lock, write or check) against the in-process
 * index: requirements.txt and pyproject.toml inputs with their options, precedence of flags
 * and SLIMENV_* over file options, --check, --upgrade-package, a failing index, the local
 * interpreter as target, and export installed by pip.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportLockFile, type LockRunRequest, runLock } from "../../src/resolve/lock-run.ts";
import { resolveSettings } from "../../src/settings/load.ts";
import type { SettingKey } from "../../src/settings/schema.ts";
import { readPylock } from "../../src/standards/pylock-read.ts";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import { buildWheel, writeWheelDir } from "../helpers/wheels.ts";
import { rejection } from "../index/index-fixtures.ts";
import { entry, type World, world } from "./lock-fixtures.ts";

const SPEC = { pythonVersion: "3.11", platform: "manylinux_2_28_aarch64" };

let w: World;
let server: IndexServer;
let root: string;
let home: string;

beforeAll(async () => {
  w = world();
  server = await startIndexServer({ projects: w.projects });
  root = mkdtempSync(path.join(os.tmpdir(), "slimenv-lockrun-"));
  home = path.join(root, "home");
});
afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

let n = 0;
function project(files: Record<string, string>): string {
  const dir = path.join(root, `p${n++}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

/** An environment without the caller's SLIMENV_* settings or config files. */
function env(more: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SLIMENV_")) out[k] = v;
  return { ...out, SLIMENV_HOME: home, SLIMENV_NO_CONFIG: "1", ...more };
}

function request(
  cwd: string,
  more: Partial<LockRunRequest> & { flags?: Partial<Record<SettingKey, unknown>> } = {},
): LockRunRequest {
  const e = more.env ?? env();
  const flags = { "index-url": server.url, retries: 0, ...more.flags };
  return {
    cwd,
    env: e,
    settings: resolveSettings({ flags, env: e, cwd }),
    selection: { kind: "spec", spec: SPEC },
    output: "pylock.toml",
    userAgent: "slimenv/test",
    httpCacheDir: null,
    ...more,
  };
}

function versions(file: string): Record<string, string | undefined> {
  const lock = readPylock(readFileSync(file, "utf8"));
  return Object.fromEntries(lock.packages.map((p) => [p.name, p.version]));
}

describe("inputs", () => {
  it("a requirements.txt with its options and -c constraints", async () => {
    const dir = project({
      "requirements.txt": "--only-binary :all:\n-c constraints.txt\napp\n",
      "constraints.txt": "lib<1.1\n",
    });
    const run = await runLock(request(dir, { requirementFiles: ["requirements.txt"] }));
    expect(run.written).toBe(true);
    expect(versions(path.join(dir, "pylock.toml"))).toEqual({
      app: "1.0",
      lib: "1.0",
      plat: "1.0",
    });
    for (const p of run.result.pylock.packages) expect(p.sdist).toBeUndefined();
  });

  it("flags and SLIMENV_* win over the file's --index-url, which wins over config files", async () => {
    const dead = "http://127.0.0.1:9/simple/";
    const dir = project({
      "requirements.txt": `--index-url ${dead}\nlib\n`,
      "slimenv.toml": `index-url = "${dead}"\n`,
    });
    const viaFlag = await runLock(request(dir, { requirementFiles: ["requirements.txt"] }));
    expect(viaFlag.result.pylock.packages[0]?.index).toBe(server.url);
    const e = env({ SLIMENV_INDEX_URL: server.url, SLIMENV_NO_CONFIG: "0" });
    const viaEnv = await runLock(
      request(dir, {
        env: e,
        settings: resolveSettings({ flags: { retries: 0 }, env: e, cwd: dir }),
        requirementFiles: ["requirements.txt"],
      }),
    );
    expect(viaEnv.result.pylock.packages[0]?.index).toBe(server.url);
    // The file's own index beats the config file's.
    const fileWins = project({
      "requirements.txt": `--index-url ${server.url}\nlib\n`,
      "slimenv.toml": `index-url = "${dead}"\n`,
    });
    const e2 = env({ SLIMENV_NO_CONFIG: "0" });
    const viaFile = await runLock(
      request(fileWins, {
        env: e2,
        settings: resolveSettings({ flags: { retries: 0 }, env: e2, cwd: fileWins }),
        requirementFiles: ["requirements.txt"],
      }),
    );
    expect(viaFile.result.pylock.packages[0]?.index).toBe(server.url);
  });

  it("--hash values restrict the files locked, and a wrong one fails", async () => {
    const sha = w.wheels.get("lib-1.1-py3-none-any.whl")?.sha256;
    const dir = project({ "requirements.txt": `lib==1.1 --hash=sha256:${sha}\n` });
    const run = await runLock(request(dir, { requirementFiles: ["requirements.txt"] }));
    const lib = run.result.pylock.packages[0];
    expect(lib?.sdist).toBeUndefined();
    expect(lib?.wheels?.map((x) => x.hashes.sha256)).toEqual([sha]);
    const bad = project({ "requirements.txt": `lib==1.1 --hash=sha256:${"a".repeat(64)}\n` });
    const err = await rejection(runLock(request(bad, { requirementFiles: ["requirements.txt"] })));
    expect(err.code).toBe("NO_SOLUTION");
    expect(err.detail).toContain("none of its usable files has a hash given by --hash");
    expect(existsSync(path.join(bad, "pylock.toml"))).toBe(false);
  });

  it("pyproject.toml with extras (self-referencing) and dependency groups", async () => {
    const dir = project({
      "pyproject.toml": [
        "[project]",
        'name = "me"',
        'version = "0.1"',
        'requires-python = ">=3.10"',
        'dependencies = ["lib"]',
        "[project.optional-dependencies]",
        'fast = ["plat"]',
        'all = ["me[fast]"]',
        "[dependency-groups]",
        'dev = ["app"]',
        "",
      ].join("\n"),
    });
    const base = await runLock(request(dir));
    expect(Object.keys(versions(path.join(dir, "pylock.toml")))).toEqual(["lib"]);
    const more = await runLock(
      request(dir, { requirementFiles: ["pyproject.toml"], extras: ["all"], groups: ["dev"] }),
    );
    expect(more.result.pylock.packages.map((p) => p.name)).toEqual(["app", "lib", "plat"]);
    expect(more.result.fingerprint).not.toBe(base.result.fingerprint);
    const tool = more.result.pylock.tool?.slimenv as Record<string, unknown>;
    expect(tool.extras).toEqual(["all"]);
    expect(tool.groups).toEqual(["dev"]);
    const err = await rejection(
      runLock(request(dir, { requirementFiles: ["pyproject.toml"], extras: ["nope"] })),
    );
    expect(err.code).toBe("INVALID_PYPROJECT");
    expect(err.hint).toBe("extras are: fast, all");
  });

  it("nothing to lock is an error naming what to give", async () => {
    const dir = project({});
    const err = await rejection(runLock(request(dir)));
    expect(err.code).toBe("INVALID_OPTION");
    expect(err.message).toContain("nothing to lock");
  });
});

describe("--check and --upgrade-package", () => {
  it("passes when nothing changed, fails with the reasons otherwise", async () => {
    const dir = project({ "requirements.txt": "app\n" });
    const base = { requirementFiles: ["requirements.txt"] };
    await runLock(request(dir, base));
    const before = readFileSync(path.join(dir, "pylock.toml"), "utf8");
    const ok = await runLock(request(dir, { ...base, check: true }));
    expect(ok.check).toEqual({ upToDate: true, reasons: [] });

    writeFileSync(path.join(dir, "requirements.txt"), "app\nlib<1.1\n");
    const changed = await runLock(request(dir, { ...base, check: true }));
    expect(changed.check?.upToDate).toBe(false);
    expect(changed.check?.reasons).toEqual([
      "the inputs changed since the lock was written (requirements, constraints, extras, groups, indexes or options)",
      "package changed: lib 1.1 -> 1.0",
    ]);
    // --check writes nothing.
    expect(readFileSync(path.join(dir, "pylock.toml"), "utf8")).toBe(before);

    writeFileSync(path.join(dir, "requirements.txt"), "app\n");
    const otherTarget = await runLock(
      request(dir, {
        ...base,
        check: true,
        selection: {
          kind: "spec",
          spec: { pythonVersion: "3.11", platform: "manylinux_2_17_x86_64" },
        },
      }),
    );
    expect(otherTarget.check?.reasons).toContain(
      "the target changed: the lock is for cp 3.11 on manylinux_2_28_aarch64 (cp311), the target now is cp 3.11 on manylinux_2_17_x86_64 (cp311)",
    );
    expect(otherTarget.check?.reasons).toContain(
      "files of plat 1.0 changed: +plat-1.0-cp311-cp311-manylinux_2_17_x86_64.whl, -plat-1.0-cp311-cp311-manylinux_2_28_aarch64.whl",
    );

    const missing = await runLock(request(dir, { ...base, check: true, output: "other.toml" }));
    expect(missing.check).toEqual({ upToDate: false, reasons: ["other.toml does not exist"] });
  });

  it("keeps locked versions when a newer release appears, until asked to upgrade", async () => {
    const local = world();
    const own = await startIndexServer({ projects: local.projects });
    try {
      const dir = project({ "requirements.txt": "pure\n" });
      const base = {
        requirementFiles: ["requirements.txt"],
        flags: { "index-url": own.url, retries: 0 },
      };
      await runLock(request(dir, base));
      own.setProjects({
        ...local.projects,
        lib: [...(local.projects.lib ?? []), entry(buildWheel({ name: "lib", version: "1.2" }))],
      });
      const again = await runLock(request(dir, base));
      expect(again.written).toBe(false);
      expect(versions(path.join(dir, "pylock.toml")).lib).toBe("1.1");
      expect((await runLock(request(dir, { ...base, check: true }))).check?.upToDate).toBe(true);
      const up = await runLock(request(dir, { ...base, upgradePackages: ["LIB"] }));
      expect(up.written).toBe(true);
      expect(versions(path.join(dir, "pylock.toml")).lib).toBe("1.2");
    } finally {
      await own.close();
    }
  });
});

describe("the inputs a lock records", () => {
  it("re-locks, checks and upgrades with no inputs named, from what the lock recorded", async () => {
    const local = world();
    const own = await startIndexServer({ projects: local.projects });
    try {
      const dir = project({ "constraints.txt": "lib<2\n" });
      const flags = { "index-url": own.url, retries: 0 };
      await runLock(
        request(dir, { requirements: ["app"], constraintFiles: ["constraints.txt"], flags }),
      );
      const lock = readPylock(readFileSync(path.join(dir, "pylock.toml"), "utf8"));
      expect((lock.tool?.slimenv as Record<string, unknown> | undefined)?.inputs).toEqual({
        requirements: ["app"],
        "constraint-files": ["constraints.txt"],
      });
      // No inputs named: the recorded ones are used, so the lock is up to date.
      const ok = await runLock(request(dir, { check: true, flags }));
      expect(ok.check).toEqual({ upToDate: true, reasons: [] });
      const again = await runLock(request(dir, { flags }));
      expect(again.written).toBe(false);
      // -P NAME with no inputs named upgrades that package only.
      own.setProjects({
        ...local.projects,
        lib: [...(local.projects.lib ?? []), entry(buildWheel({ name: "lib", version: "1.2" }))],
      });
      const up = await runLock(request(dir, { upgradePackages: ["lib"], flags }));
      expect(up.written).toBe(true);
      expect(versions(path.join(dir, "pylock.toml")).lib).toBe("1.2");
      // The recorded constraint file still applies: it is read again, not copied.
      writeFileSync(path.join(dir, "constraints.txt"), "lib<1.2\n");
      const stale = await runLock(request(dir, { check: true, flags }));
      expect(stale.check?.upToDate).toBe(false);
    } finally {
      await own.close();
    }
  });
});

describe("--offline", () => {
  it("locks from the HTTP cache alone once it is warm", async () => {
    const dir = project({ "requirements.txt": "pure\n" });
    const cache = path.join(dir, "http-cache");
    const base = { requirementFiles: ["requirements.txt"], httpCacheDir: cache };
    const online = await runLock(request(dir, base));
    const asked = server.requests.length;
    const offline = await runLock(
      request(dir, {
        ...base,
        output: "offline.toml",
        flags: { "index-url": server.url, offline: true },
      }),
    );
    expect(server.requests.length).toBe(asked);
    expect(offline.result.text).toBe(online.result.text);
    const cold = project({ "requirements.txt": "pure\n" });
    const err = await rejection(
      runLock(
        request(cold, {
          requirementFiles: ["requirements.txt"],
          httpCacheDir: path.join(cold, "empty-cache"),
          flags: { "index-url": server.url, offline: true },
        }),
      ),
    );
    expect(err.code).toBe("OFFLINE_CACHE_MISS");
  });
});

describe("failures change nothing", () => {
  it("a failing index gives a clear error and writes no file", async () => {
    const failing = await startIndexServer({
      projects: w.projects,
      faults: [{ path: /^\/simple\//, status: 503 }],
    });
    try {
      const dir = project({ "requirements.txt": "app\n" });
      const flags = { "index-url": failing.url, retries: 1 };
      const err = await rejection(
        runLock(request(dir, { requirementFiles: ["requirements.txt"], flags })),
      );
      expect(err.code).toBe("HTTP_ERROR");
      expect(err.message).toContain("503");
      expect(existsSync(path.join(dir, "pylock.toml"))).toBe(false);
      // An existing lock is left as it was.
      writeFileSync(path.join(dir, "pylock.toml"), "# old\n");
      await rejection(runLock(request(dir, { requirementFiles: ["requirements.txt"], flags })));
      expect(readFileSync(path.join(dir, "pylock.toml"), "utf8")).toBe("# old\n");
    } finally {
      await failing.close();
    }
  });

  it("a bad requirement is an error pointing at it", async () => {
    const dir = project({ "requirements.txt": "app >= = 1\n" });
    const err = await rejection(runLock(request(dir, { requirementFiles: ["requirements.txt"] })));
    expect(err.code).toBe("INVALID_REQUIREMENTS_FILE");
    expect(err.message).toMatch(/requirements\.txt:1:/);
  });
});

describe("the local interpreter as target, exported and installed by pip", () => {
  it("locks for the local python3, and pip installs the export with --require-hashes", async () => {
    const dir = project({ "requirements.txt": "pure\n" });
    const run = await runLock(
      request(dir, {
        requirementFiles: ["requirements.txt"],
        selection: { kind: "interpreter", request: "python3" },
      }),
    );
    const full = run.target.markerEnvironment.python_full_version;
    expect(run.result.pylock.environments?.[0]).toContain(`python_full_version == "${full}"`);
    expect(run.result.pylock.requiresPython).toBe(`==${full}`);
    const tool = run.result.pylock.tool?.slimenv as { target: { source: string } } | undefined;
    expect(tool?.target.source).toBe("interpreter");

    const exported = path.join(dir, "requirements.lock.txt");
    const text = exportLockFile({
      cwd: dir,
      lockFile: "pylock.toml",
      format: "requirements",
      output: "requirements.lock.txt",
    });
    expect(readFileSync(exported, "utf8")).toBe(text);
    const libSdist = run.result.pylock.packages.find((p) => p.name === "lib")?.sdist?.hashes.sha256;
    expect(text).toContain(`lib==1.1 \\\n    --hash=sha256:`);
    expect(text).toContain(`--hash=sha256:${libSdist}`);

    const wheels = [...w.wheels.values()].filter((x) => /^(pure|lib)-/.test(x.filename));
    const links = writeWheelDir(wheels, path.join(dir, "wheels"));
    const targetDir = path.join(dir, "target");
    const python = run.interpreter ?? "python3";
    expect(run.interpreter).toMatch(/python/);
    const pip = spawnSync(
      python,
      [
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--require-hashes",
        "--no-index",
        "--disable-pip-version-check",
        "--find-links",
        links,
        "-r",
        exported,
        "--target",
        targetDir,
      ],
      { encoding: "utf8", timeout: 120_000 },
    );
    expect(pip.stderr).not.toMatch(/ERROR/);
    expect(pip.status).toBe(0);
    const imported = spawnSync(
      python,
      [
        "-c",
        "import sys; sys.path.insert(0, sys.argv[1]); import pure, lib; print(lib.__version__)",
        targetDir,
      ],
      { encoding: "utf8" },
    );
    expect(imported.stdout.trim()).toBe("1.1");
  });
});
