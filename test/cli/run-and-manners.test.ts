/**
 * The CLI's manners: everything after `run DIR` is the command's (`run p python --version`
 * runs python's --version); `run` says when the command or `python -m MOD` resolves outside
 * the env; `sync` given a requirements.txt says it takes a lock and how to make one; usage
 * errors exit 2; `-q` silences summaries; an install prints its summary once; prune --dry-run
 * says "would evict".
 */
import { rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import { cliEnv, slimenv, tempDir, testPython, world } from "../install/fixtures.ts";

const PY = testPython();

describe.skipIf(PY === undefined)("CLI manners", () => {
  let server: IndexServer;
  let root: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    server = await startIndexServer({ projects: world().projects });
    root = tempDir("manners");
    env = cliEnv(path.join(root, "home"), {
      PATH: `${path.join(root, "p", "bin")}:${path.dirname(PY as string)}:/usr/bin:/bin`,
    });
    const made = await slimenv(
      root,
      env,
      "install",
      "app",
      "--prefix",
      "p",
      "-i",
      server.url,
      "--python",
      PY as string,
    );
    expect(made.status).toBe(0);
    // The summary once: on stdout, not again on stderr.
    expect(made.stdout).toMatch(/^Installed 3 packages into p /);
    expect(made.stderr).not.toMatch(/installed 3 packages/i);
  });
  afterAll(async () => {
    await server.close();
  });

  it("run hands every option after DIR to the command", async () => {
    const version = await slimenv(root, env, "run", "p", "python", "--version");
    expect(version.stdout).toMatch(/^Python 3\.\d+\.\d+\n$/);
    expect(version.status).toBe(0);
    const dashed = await slimenv(
      root,
      env,
      "run",
      "p",
      "--",
      "python",
      "-c",
      "import app; print('ok')",
    );
    expect(dashed.stdout).toBe("ok\n");
    // Global options still work after a command's name.
    const quiet = await slimenv(root, env, "store", "status", "--json");
    expect(JSON.parse(quiet.stdout).wheels).toBe(3);
  });

  it("run says when python -m MOD resolves outside the env", async () => {
    const res = await slimenv(root, env, "run", "p", "--", "python", "-m", "pip", "--version");
    expect(res.status).toBe(0);
    expect(res.stderr).toMatch(
      /warning: pip is not in the environment: python -m pip runs .*site-packages.*pip.*--isolated/,
    );
    const own = await slimenv(root, env, "run", "p", "--", "python", "-m", "app.cli");
    expect(own.stderr).not.toContain("warning");
  });

  it("sync of a requirements.txt says sync takes a lock, and usage errors exit 2", async () => {
    const res = await slimenv(root, env, "sync", "p", "requirements.txt");
    expect(res.stderr).toContain(
      "[INVALID_OPTION] sync takes a lock (pylock.toml or pylock.NAME.toml), not requirements.txt",
    );
    expect(res.stderr).toContain("hint: make one with slimenv lock -r requirements.txt");
    expect(res.status).toBe(2);
    const noWhere = await slimenv(root, env, "install", "app");
    expect(noWhere.stderr).toContain("[INVALID_OPTION] where to install?");
    expect(noWhere.status).toBe(2);
  });

  it("-q silences summaries; prune --dry-run says would evict", async () => {
    const quiet = await slimenv(
      root,
      env,
      "-q",
      "install",
      "gamma",
      "--prefix",
      "p",
      "-i",
      server.url,
    );
    expect(quiet.status).toBe(0);
    expect(quiet.stdout).toBe("");
    expect(quiet.stderr).toBe("");
    const same = await slimenv(root, env, "install", "gamma", "--prefix", "p", "-i", server.url);
    expect(same.stdout).toBe("p already holds these 4 packages; nothing changed\n");
    expect(same.stderr).not.toContain("already holds");
    rmSync(path.join(root, "p"), { recursive: true, force: true });
    const dry = await slimenv(root, env, "store", "prune", "--dry-run");
    expect(dry.stdout).toContain("would evict app-1.0-py3-none-any.whl");
    expect(dry.stdout).not.toMatch(/^evicted/m);
    const status = await slimenv(root, env, "store", "status");
    expect(status.stdout).toMatch(/^derived objects\s+0 B\s+0 slimmed files/m);
    expect(status.stdout).toMatch(/^check cache \(outside the store\)\s+0 B/m);
  });
});
