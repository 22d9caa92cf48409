/**
 * `check` of an env built for another platform refuses clearly (naming the env's target and
 * this machine, with the hint to pass an interpreter of the target), instead of importing its
 * modules with the local interpreter; `--python` runs the check with the interpreter given; a
 * spec target of this machine's platform is checked with its interpreter command when installed.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { install } from "../../src/env/install.ts";
import { checkEnv } from "../../src/slim/check/check.ts";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import {
  expectSlimenvError,
  tempDir,
  testPython,
  testSettings,
  world,
} from "../install/fixtures.ts";

const PY = testPython();

describe.skipIf(PY === undefined)("check of an env for another target", () => {
  let server: IndexServer;
  let root: string;
  beforeAll(async () => {
    server = await startIndexServer({ projects: world().projects });
    root = tempDir("check-target");
  });
  afterAll(async () => {
    await server.close();
  });

  const make = (dir: string, pythonVersion: string, platform: string) =>
    install({
      cwd: root,
      env: process.env,
      settings: testSettings(server.url),
      userAgent: "slimenv-tests",
      storeRoot: path.join(root, "store"),
      httpCacheDir: null,
      selection: { kind: "spec", spec: { pythonVersion, platform } },
      layout: { kind: "prefix", dir: path.join(root, dir) },
      inputs: { requirementFiles: [], requirements: ["alpha"], wheels: [] },
    });

  it("an aarch64 env is refused, naming both platforms", async () => {
    await make("arm", "3.11", "manylinux_2_28_aarch64");
    const err = await expectSlimenvError(
      checkEnv(path.join(root, "arm")),
      "INVALID_TARGET",
      /was built for cp 3\.11 on manylinux_2_28_aarch64; this machine is linux x86_64/,
    );
    expect(err.hint).toMatch(/--python .*qemu-user/);
  });

  it("an x86_64 spec env runs its interpreter command, or --python, or says it is missing", async () => {
    const minor = /python(3\.\d+)$/.exec(PY as string)?.[1] as string;
    await make("x86", minor, "manylinux_2_28_x86_64");
    const dir = path.join(root, "x86");
    const noPath = { ...process.env, PATH: "/nonexistent" };
    await expectSlimenvError(
      checkEnv(dir, { env: noPath }),
      "INTERPRETER_NOT_FOUND",
      new RegExp(`runs python${minor.replace(".", "\\.")}, which is not installed here`),
    );
    const given = await checkEnv(dir, { python: PY as string, env: noPath });
    expect(given.ok).toBe(true);
    expect(given.totals.failed).toBe(0);
    const onPath = await checkEnv(dir, {
      env: { ...process.env, PATH: `${path.dirname(PY as string)}:/usr/bin:/bin` },
    });
    expect(onPath.ok).toBe(true);
  });
});
