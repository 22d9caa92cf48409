/**
 * sync(): an env made to match another lock — added, removed, upgraded — with the files of
 * unchanged packages left as they were (same inode, same mtime), and refusals that change
 * nothing.
 */
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { install } from "../../src/env/install.ts";
import { sync } from "../../src/env/sync.ts";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import { describeWith } from "../helpers/prereq.ts";
import type { BuiltWheel } from "../helpers/wheels.ts";
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

describeWith(TEST_PYTHON)("sync", () => {
  let server: IndexServer;
  let w: World;
  let root: string;
  let storeRoot: string;
  const pyPath = () => `${path.dirname(PY as string)}:/usr/bin:/bin`;
  const pick = (...names: string[]): BuiltWheel[] =>
    names.map((n) => {
      const found = w.wheels.get(`${n}-py3-none-any.whl`);
      if (found === undefined) throw new Error(`no wheel ${n}`);
      return found;
    });

  beforeAll(async () => {
    w = world();
    server = await startIndexServer({ projects: w.projects });
    root = tempDir("sync");
    storeRoot = path.join(root, "store");
    writeFileSync(
      path.join(root, "pylock.a.toml"),
      lockText(pick("alpha-1.0", "beta-1.0", "gamma-1.0"), server.filesUrl),
    );
    writeFileSync(
      path.join(root, "pylock.b.toml"),
      lockText(pick("alpha-1.0", "beta-2.0", "delta-1.0"), server.filesUrl),
    );
    writeFileSync(
      path.join(root, "pylock.mac.toml"),
      lockText(pick("alpha-1.0"), server.filesUrl, {
        environments: ['sys_platform == "darwin"'],
      }),
    );
  });
  afterAll(async () => {
    await server.close();
  });

  const common = () => ({
    cwd: root,
    env: process.env,
    settings: testSettings(server.url),
    userAgent: "slimenv-tests",
    storeRoot,
    httpCacheDir: null,
  });

  async function installA(dir: string) {
    return install({
      ...common(),
      selection: { kind: "interpreter", request: PY as string },
      layout: { kind: "prefix", dir },
      inputs: { requirementFiles: [], requirements: [], wheels: [], lockFile: "pylock.a.toml" },
      linkMode: "hardlink",
    });
  }

  function versions(envDir: string): Record<string, string> {
    const res = run(path.join(envDir, "bin", "python"), ["-c", VERSIONS_SCRIPT, envDir], {
      PATH: pyPath(),
    });
    expect(res.stderr).toBe("");
    return JSON.parse(res.stdout) as Record<string, string>;
  }

  it("adds, removes and upgrades, and touches nothing else", async () => {
    const env = path.join(root, "env1");
    const a = await installA(env);
    expect(versions(env)).toEqual({ alpha: "1.0", beta: "1.0", gamma: "1.0" });
    const site = path.join(env, a.manifest.scheme.purelib);
    const alphaFile = path.join(site, "alpha", "__init__.py");
    const alphaMeta = path.join(site, "alpha-1.0.dist-info", "METADATA");
    const stat = (f: string) => {
      const st = statSync(f);
      return `${st.ino} ${st.mtimeMs}`;
    };
    const alphaBefore = [stat(alphaFile), stat(alphaMeta)];

    const b = await sync({ ...common(), dir: env, lockFile: "pylock.b.toml" });
    expect(b.rebuilt).toBe(true);
    expect(b.changes.added).toEqual([{ name: "delta", version: "1.0" }]);
    expect(b.changes.removed).toEqual([{ name: "gamma", version: "1.0" }]);
    expect(b.changes.upgraded).toEqual([{ name: "beta", from: "1.0", to: "2.0" }]);
    expect(b.changes.unchanged).toBe(1);
    expect(b.manifest.generation).toBe(a.manifest.generation + 1);
    expect(versions(env)).toEqual({ alpha: "1.0", beta: "2.0", delta: "1.0" });
    // alpha's files are the very same store objects (hardlink mode): same inode and mtime.
    expect([stat(alphaFile), stat(alphaMeta)]).toEqual(alphaBefore);
    const gone = run(path.join(env, "bin", "python"), ["-c", "import gamma"], { PATH: pyPath() });
    expect(gone.status).not.toBe(0);

    // Syncing to the same lock again rebuilds nothing.
    const snap = snapshot(env);
    const again = await sync({ ...common(), dir: env, lockFile: "pylock.b.toml" });
    expect(again.rebuilt).toBe(false);
    expect(snapshot(env)).toEqual(snap);

    // Back to A, by the lock recorded at install? No: B is recorded now; name A.
    const back = await sync({ ...common(), dir: env, lockFile: "pylock.a.toml" });
    expect(back.changes.downgraded).toEqual([{ name: "beta", from: "2.0", to: "1.0" }]);
    expect(versions(env)).toEqual({ alpha: "1.0", beta: "1.0", gamma: "1.0" });
    // With no lock named, the one recorded in the manifest (A) is used.
    const recorded = await sync({ ...common(), dir: env });
    expect(recorded.lockFile).toBe(path.join(root, "pylock.a.toml"));
    expect(recorded.rebuilt).toBe(false);
  });

  it("keeps --copy-package: the package stays a writable copy across a sync", async () => {
    const env = path.join(root, "env-copies");
    await install({
      ...common(),
      selection: { kind: "interpreter", request: PY as string },
      layout: { kind: "prefix", dir: env },
      inputs: { requirementFiles: [], requirements: [], wheels: [], lockFile: "pylock.a.toml" },
      linkMode: "hardlink",
      copyPackages: ["alpha"],
    });
    const b = await sync({ ...common(), dir: env, lockFile: "pylock.b.toml" });
    expect(b.manifest.copyPackages).toEqual(["alpha"]);
    const site = path.join(env, b.manifest.scheme.purelib);
    const alpha = statSync(path.join(site, "alpha", "__init__.py"));
    expect([alpha.nlink, alpha.mode & 0o777]).toEqual([1, 0o644]);
    expect(statSync(path.join(site, "beta", "__init__.py")).nlink).toBeGreaterThan(1);
  });

  it("refuses a directory slimenv did not make, and a lock for another target", async () => {
    const mine = path.join(root, "mine");
    mkdirSync(path.join(mine, "lib"), { recursive: true });
    writeFileSync(path.join(mine, "lib", "x.py"), "x = 1\n");
    const snapMine = snapshot(mine);
    await expectSlimenvError(
      sync({ ...common(), dir: mine, lockFile: "pylock.b.toml" }),
      "INVALID_ENV",
      /not an environment made by slimenv/,
    );
    expect(snapshot(mine)).toEqual(snapMine);

    const env = path.join(root, "env2");
    await installA(env);
    const before = [snapshot(env), snapshot(path.join(storeRoot, "objects"))];
    await expectSlimenvError(
      sync({ ...common(), dir: env, lockFile: "pylock.mac.toml" }),
      "INVALID_TARGET",
    );
    await expectSlimenvError(
      sync({ ...common(), dir: env, lockFile: "pylock.missing.toml" }),
      "IO_ERROR",
    );
    expect([snapshot(env), snapshot(path.join(storeRoot, "objects"))]).toEqual(before);
  });

  it("syncs a target-layout env and a spec-target env", async () => {
    const dir = path.join(root, "flat");
    await install({
      ...common(),
      selection: {
        kind: "spec",
        spec: { pythonVersion: "3.11", platform: "manylinux_2_28_aarch64" },
      },
      layout: { kind: "target", dir },
      inputs: { requirementFiles: [], requirements: [], wheels: [], lockFile: "pylock.a.toml" },
    });
    const res = await sync({ ...common(), dir, lockFile: "pylock.b.toml" });
    expect(res.manifest.target.source).toBe("spec");
    expect(res.manifest.packages.map((p) => `${p.name} ${p.version}`).sort()).toEqual([
      "alpha 1.0",
      "beta 2.0",
      "delta 1.0",
    ]);
  });
});
