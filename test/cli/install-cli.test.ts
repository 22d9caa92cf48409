/**
 * `slimenv install`, `sync`, `run` and `store` end to end: bin/slimenv.js run by this Node
 * (the built bundle when fresh, else the sources), against the in-process index, with a temp SLIMENV_HOME. Includes the
 * relocation test: a prefix env moved and copied, then run with slimenv absent from PATH.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import { describeWith } from "../helpers/prereq.ts";
import {
  cliEnv,
  lockText,
  run,
  slimenv,
  TEST_PYTHON,
  tempDir,
  testPython,
  VERSIONS_SCRIPT,
  type World,
  world,
} from "../install/fixtures.ts";

const PY = testPython();

describeWith(TEST_PYTHON)("slimenv install / sync / run / store", () => {
  let server: IndexServer;
  let w: World;
  let root: string;
  let env: NodeJS.ProcessEnv;
  const py = ["--python", PY as string];
  const pyPath = () => `${path.dirname(PY as string)}:/usr/bin:/bin`;

  beforeAll(async () => {
    w = world();
    server = await startIndexServer({ projects: w.projects });
    root = tempDir("cli");
    env = cliEnv(path.join(root, "home"));
  });
  afterAll(async () => {
    await server.close();
  });

  it("installs names into a prefix, says what it did, and runs commands in the env", async () => {
    const res = await slimenv(
      root,
      env,
      "install",
      "app",
      "--prefix",
      "p1",
      "-i",
      server.url,
      ...py,
    );
    expect(res.stderr).not.toContain("error");
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/^Installed 3 packages into p1 \(prefix, cp 3\.1\d/);
    expect(res.stdout).toContain(" + app 1.0\n + lib 2.0\n + tool 1.0\n");

    const code = await slimenv(
      root,
      env,
      "run",
      "p1",
      "--",
      "python",
      "-c",
      "import app, sys; sys.exit(7)",
    );
    expect(code.status).toBe(7);
    const script = await slimenv(root, env, "run", "p1", "--", "app-hello", "a b");
    expect(script.stdout).toBe("hello from app ['a b']\n");
    expect(script.status).toBe(4);
    const missing = await slimenv(root, env, "run", "p1", "--", "no-such-command-here");
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("[IO_ERROR] cannot run no-such-command-here");
    const notEnv = await slimenv(root, env, "run", root, "--", "true");
    expect(notEnv.status).toBe(1);
    expect(notEnv.stderr).toContain("[INVALID_ENV]");

    const again = await slimenv(
      root,
      env,
      "--json",
      "install",
      "app",
      "--prefix",
      "p1",
      "-i",
      server.url,
      ...py,
    );
    const data = JSON.parse(again.stdout) as { rebuilt: boolean; packages: { name: string }[] };
    expect(data.rebuilt).toBe(false);
    expect(data.packages.map((p) => p.name)).toEqual(["app", "lib", "tool"]);
  });

  it("installs a lock written by --lock-out, syncs another, and reports the changes", async () => {
    const dir = path.join(root, "locks");
    mkdirSync(dir);
    writeFileSync(path.join(dir, "requirements.txt"), "lib==1.0\n");
    const first = await slimenv(
      dir,
      env,
      "install",
      "-r",
      "requirements.txt",
      "--target",
      "t",
      "--lock-out",
      "pylock.toml",
      "-i",
      server.url,
      ...py,
    );
    expect(first.status).toBe(0);
    expect(first.stdout).toContain("wrote pylock.toml");
    const pick = (names: string[]) =>
      names.map((n) => w.wheels.get(`${n}-py3-none-any.whl`)).filter((x) => x !== undefined);
    writeFileSync(
      path.join(dir, "pylock.b.toml"),
      lockText(pick(["lib-1.1", "gamma-1.0"]), server.filesUrl),
    );
    const synced = await slimenv(dir, env, "sync", "t", "pylock.b.toml");
    expect(synced.status).toBe(0);
    expect(synced.stdout).toContain(" + gamma 1.0\n ~ lib 1.0 -> 1.1\n");
    const back = await slimenv(dir, env, "--json", "sync", "t", "pylock.toml");
    const data = JSON.parse(back.stdout) as { removed: unknown[]; downgraded: unknown[] };
    expect(data.removed).toEqual([{ name: "gamma", version: "1.0" }]);
    expect(data.downgraded).toEqual([{ name: "lib", from: "1.1", to: "1.0" }]);
    const notEnv = await slimenv(dir, env, "sync", ".", "pylock.toml");
    expect(notEnv.status).toBe(1);
    expect(notEnv.stderr).toContain("[INVALID_ENV]");
    const usage = await slimenv(dir, env, "install", "lib", "-i", server.url);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("give --prefix DIR, --target DIR or --venv DIR");
  });

  it("store status, verify and prune, with --json", async () => {
    const status = await slimenv(root, env, "--json", "store", "status");
    const st = JSON.parse(status.stdout) as { wheels: number; envs: number; root: string };
    expect(st.wheels).toBeGreaterThanOrEqual(5);
    expect(st.envs).toBeGreaterThanOrEqual(2);
    expect(st.root).toBe(path.join(root, "home", "store", "v1"));
    const human = await slimenv(root, env, "store", "status");
    expect(human.stdout).toMatch(/saved by dedupe\s+\d/);
    expect(human.stdout).toMatch(/on disk\s+[\d.]+ (B|KiB|MiB)/);
    const where = await slimenv(root, env, "store", "path");
    expect(where.stdout).toBe(`${st.root}\n`);

    const verify = await slimenv(root, env, "--json", "store", "verify");
    expect(verify.status).toBe(0);
    expect((JSON.parse(verify.stdout) as { ok: boolean }).ok).toBe(true);

    // An install of a lock nobody keeps: prune --dry-run reports it, prune frees it.
    const lone = await slimenv(
      root,
      env,
      "install",
      "delta",
      "--prefix",
      "lone",
      "-i",
      server.url,
      ...py,
    );
    expect(lone.status).toBe(0);
    spawnSync("rm", ["-rf", path.join(root, "lone")]);
    const dry = await slimenv(root, env, "--json", "store", "prune", "--dry-run");
    const dr = JSON.parse(dry.stdout) as {
      dryRun: boolean;
      wheelsEvicted: { filename: string }[];
      bytesFreed: number;
    };
    expect(dr.dryRun).toBe(true);
    expect(dr.wheelsEvicted.map((x) => x.filename)).toContain("delta-1.0-py3-none-any.whl");
    const capped = await slimenv(root, env, "--json", "store", "prune", "--max-size", "1G");
    expect((JSON.parse(capped.stdout) as { wheelsEvicted: unknown[] }).wheelsEvicted).toEqual([]);
    const pruned = await slimenv(root, env, "--json", "store", "prune");
    const pr = JSON.parse(pruned.stdout) as { bytesFreed: number; wheelsEvicted: unknown[] };
    expect(pr.bytesFreed).toBe(dr.bytesFreed);
    expect(pr.wheelsEvicted.length).toBe(dr.wheelsEvicted.length);
    const bad = await slimenv(root, env, "store", "prune", "--max-size", "lots");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("[INVALID_OPTION] --max-size");

    // An object edited through a hard link: verify exits 1, --repair fixes it from the env copy? No:
    // the only copy is the edited one; a repair re-downloads it.
    const p1 = path.join(root, "p1");
    const r = run(path.join(p1, "bin", "python"), ["-c", "import lib; print(lib.__file__)"], {
      PATH: pyPath(),
    });
    const libFile = r.stdout.trim();
    chmodSync(libFile, 0o644);
    writeFileSync(libFile, "broken = True\n");
    const broken = await slimenv(root, env, "store", "verify");
    expect(broken.status).toBe(1);
    expect(broken.stdout).toContain("modified:");
    const repaired = await slimenv(root, env, "store", "verify", "--repair");
    expect(repaired.stdout).toContain("repaired");
    expect(repaired.status).toBe(0);
  });

  it("a prefix env moved and copied runs bin/python and a console script without slimenv", async () => {
    const base = path.join(root, "reloc");
    const res = await slimenv(
      root,
      env,
      "install",
      "app",
      "--prefix",
      "reloc/built",
      "--link-mode",
      "hardlink",
      "-i",
      server.url,
      ...py,
    );
    expect(res.status).toBe(0);
    const built = path.join(base, "built");
    const moved = path.join(base, "else where", "moved");
    const copied = path.join(base, "copy");
    const sh = spawnSync(
      "sh",
      [
        "-c",
        `mkdir -p "${path.dirname(moved)}" && mv "${built}" "${moved}" && cp -a "${moved}" "${copied}"`,
      ],
      { encoding: "utf8" },
    );
    expect(sh.status).toBe(0);
    expect(existsSync(built)).toBe(false);
    for (const dir of [moved, copied]) {
      // PATH: the interpreter's folder and the system folders only — no node, no slimenv.
      const versions = run(path.join(dir, "bin", "python"), ["-c", VERSIONS_SCRIPT, dir], {
        PATH: pyPath(),
      });
      expect(versions.stderr).toBe("");
      expect(JSON.parse(versions.stdout)).toEqual({ app: "1.0", lib: "2.0", tool: "1.0" });
      const where = run(
        path.join(dir, "bin", "python"),
        ["-c", "import app; print(app.__file__)"],
        { PATH: pyPath() },
      );
      expect(where.stdout.startsWith(dir)).toBe(true);
      const hello = run(path.join(dir, "bin", "app-hello"), ["moved"], { PATH: pyPath() });
      expect(hello.stdout).toBe("hello from app ['moved']\n");
      expect(hello.status).toBe(4);
      const tool = run(path.join(dir, "bin", "tool-run"), [], { PATH: pyPath() });
      expect(tool.stdout).toBe("tool ran\n");
    }
  });
});
