/**
 * A lock and an environment keep their target: `lock --check`, `lock -P`, `install
 * pylock.toml` use the target a lock records (not the local interpreter) unless a target option
 * is given, and `sync` rebuilds an env made for another platform for exactly that platform.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentReporter } from "../../src/base/index.ts";
import { describeTarget } from "../../src/env/lock-plan.ts";
import { manifestTarget } from "../../src/env/sync.ts";
import type { EnvManifest } from "../../src/env/types.ts";
import { targetFromSpec } from "../../src/python/target-spec.ts";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import { cliEnv, slimenv, tempDir, world } from "../install/fixtures.ts";

const AARCH64 = ["--python-version", "3.11", "--platform", "manylinux_2_28_aarch64"];

describe("a lock and an env keep their target", () => {
  let server: IndexServer;
  let root: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    server = await startIndexServer({ projects: world().projects });
    root = tempDir("kept-target");
    env = cliEnv(path.join(root, "home"));
  });
  afterAll(async () => {
    await server.close();
  });

  it("lock --check, lock -P, install and sync of an aarch64 lock stay on aarch64", async () => {
    const i = ["-i", server.url];
    const made = await slimenv(root, env, "lock", "app", "lib<2", ...i, ...AARCH64);
    expect(made.status).toBe(0);
    const check = await slimenv(root, env, "lock", "--check", ...i);
    expect(check.stdout).toContain(
      "pylock.toml is up to date (3 packages, cp 3.11 on manylinux_2_28_aarch64",
    );
    expect(check.status).toBe(0);

    const upgraded = await slimenv(root, env, "lock", "-P", "lib", ...i);
    expect(upgraded.status).toBe(0);
    expect(upgraded.stdout).toContain("for cp 3.11 on manylinux_2_28_aarch64");
    const text = readFileSync(path.join(root, "pylock.toml"), "utf8");
    expect(text).toMatch(/^platform = ["']manylinux_2_28_aarch64["']$/m);
    expect(text).toContain('platform_machine == "aarch64"');

    const installed = await slimenv(root, env, "install", "pylock.toml", "--prefix", "dev", ...i);
    expect(installed.stderr).not.toContain("error");
    expect(installed.stdout).toContain("cp 3.11.0 (cp311) on manylinux_2_28_aarch64");
    expect(installed.status).toBe(0);
    const manifest = JSON.parse(
      readFileSync(path.join(root, "dev", ".slimenv", "manifest.json"), "utf8"),
    );
    expect(manifest.target.spec).toMatchObject({
      pythonVersion: "3.11",
      platform: "manylinux_2_28_aarch64",
    });
    expect(manifest.target.platforms[0]).toBe("linux_aarch64");

    const synced = await slimenv(root, env, "sync", "dev", "pylock.toml");
    expect(synced.stderr).not.toContain("INVALID_TARGET");
    expect(synced.status).toBe(0);

    // A target option still wins: this lock is for x86_64 (and is written elsewhere).
    const other = await slimenv(
      root,
      env,
      "lock",
      "app",
      "-o",
      "pylock.x86.toml",
      ...i,
      "--python-version",
      "3.12",
      "--platform",
      "manylinux_2_28_x86_64",
    );
    expect(other.stdout).toContain("manylinux_2_28_x86_64");
  });

  it("a venv from a spec lock of this machine's platform uses the default interpreter", async () => {
    const probe = spawnSync(
      "python3",
      ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
      {
        encoding: "utf8",
        env,
      },
    );
    if (probe.status !== 0) return; // no default python3 here
    const minor = probe.stdout.trim();
    const i = ["-i", server.url];
    const spec = ["--python-version", minor, "--platform", "manylinux_2_17_x86_64"];
    const made = await slimenv(root, env, "lock", "app", "-o", "pylock.venv.toml", ...i, ...spec);
    expect(made.status).toBe(0);
    const venv = await slimenv(root, env, "install", "pylock.venv.toml", "--venv", "v", ...i);
    expect(venv.stderr).not.toContain("error");
    expect(venv.status).toBe(0);
  });

  it("a manifest written before the spec was recorded rebuilds its manylinux target", async () => {
    const t = targetFromSpec({ pythonVersion: "3.11", platform: "manylinux_2_28_aarch64" });
    const target = {
      implementation: "cp",
      pythonVersion: t.pythonVersion,
      os: t.os,
      arch: t.arch,
      tags: t.tags,
      source: "spec" as const,
    };
    const rebuilt = await manifestTarget(
      { target } as unknown as EnvManifest,
      process.env,
      silentReporter,
    );
    expect(describeTarget(rebuilt.target)).toBe("cp 3.11.0 (cp311) on manylinux_2_28_aarch64");
    expect(rebuilt.target.tags).toEqual(t.tags);
  });

  it("sync of a Lambda --target dir made for manylinux x86_64 keeps that target", async () => {
    const i = ["-i", server.url];
    const spec = ["--python-version", "3.12", "--platform", "manylinux_2_28_x86_64"];
    const made = await slimenv(root, env, "lock", "app", "-o", "pylock.lambda.toml", ...i, ...spec);
    expect(made.status).toBe(0);
    const installed = await slimenv(
      root,
      env,
      "install",
      "pylock.lambda.toml",
      "--target",
      "lambda",
      ...i,
    );
    expect(installed.status).toBe(0);
    const synced = await slimenv(root, env, "sync", "lambda", "pylock.lambda.toml");
    expect(synced.stderr).not.toContain("error");
    expect(synced.status).toBe(0);
  });
});
