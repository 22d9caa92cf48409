/**
 * `install pylock.toml --group G --extra E`: PEP 751 locks carry extras and dependency groups
 * (top-level `extras`, `dependency-groups`, `default-groups`; packages' `marker` over the
 * `extras` / `dependency_groups` sets). They are honoured, and a name the lock lacks is a clear
 * error that changes nothing.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { install } from "../../src/env/install.ts";
import { readPylock } from "../../src/standards/pylock-read.ts";
import { writePylock } from "../../src/standards/pylock-write.ts";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import type { BuiltWheel } from "../helpers/wheels.ts";
import {
  expectSlimenvError,
  lockText,
  snapshot,
  tempDir,
  testPython,
  testSettings,
  type World,
  world,
} from "./fixtures.ts";

const PY = testPython();

describe.skipIf(PY === undefined)("a lock's extras and dependency groups", () => {
  let server: IndexServer;
  let w: World;
  let root: string;

  beforeAll(async () => {
    w = world();
    server = await startIndexServer({ projects: w.projects });
    root = tempDir("lock-groups");
    const wheels = ["alpha-1.0", "beta-1.0", "gamma-1.0", "delta-1.0"].map(
      (n) => w.wheels.get(`${n}-py3-none-any.whl`) as BuiltWheel,
    );
    const lock = readPylock(lockText(wheels, server.filesUrl));
    const markers: Record<string, string> = {
      beta: "'test' in dependency_groups",
      gamma: "'cli' in extras",
      delta: "'docs' in dependency_groups",
    };
    const text = writePylock({
      ...lock,
      extras: ["cli"],
      dependencyGroups: ["test", "docs"],
      defaultGroups: ["docs"],
      packages: lock.packages.map((p) =>
        markers[p.name] === undefined ? p : { ...p, marker: markers[p.name] },
      ),
    });
    writeFileSync(path.join(root, "pylock.toml"), text);
  });
  afterAll(async () => {
    await server.close();
  });

  const installLock = (dir: string, more: { extras?: string[]; groups?: string[] }) =>
    install({
      cwd: root,
      env: process.env,
      settings: testSettings(server.url),
      userAgent: "slimenv-tests",
      storeRoot: path.join(root, "store"),
      httpCacheDir: null,
      selection: { kind: "interpreter", request: PY as string },
      layout: { kind: "prefix", dir: path.join(root, dir) },
      inputs: {
        requirementFiles: [],
        requirements: [],
        wheels: [],
        lockFile: "pylock.toml",
        ...more,
      },
    });
  const names = (r: { manifest: { packages: { name: string }[] } }) =>
    r.manifest.packages.map((p) => p.name).sort();

  it("installs the default groups, or the groups and extras asked for", async () => {
    expect(names(await installLock("e1", {}))).toEqual(["alpha", "delta"]);
    expect(names(await installLock("e2", { groups: ["test"] }))).toEqual(["alpha", "beta"]);
    expect(names(await installLock("e3", { extras: ["cli"], groups: ["Test", "docs"] }))).toEqual([
      "alpha",
      "beta",
      "delta",
      "gamma",
    ]);
  });

  it("a group or extra the lock lacks is refused, naming what it has", async () => {
    const before = snapshot(root);
    const err = await expectSlimenvError(
      installLock("e4", { groups: ["nosuch"] }),
      "INVALID_OPTION",
      /--group nosuch: pylock\.toml has no dependency group "nosuch"/,
    );
    expect(err.hint).toBe("name one of test, docs");
    await expectSlimenvError(
      installLock("e4", { extras: ["gui"] }),
      "INVALID_OPTION",
      /--extra gui/,
    );
    expect(snapshot(root).filter((l) => !l.startsWith("store"))).toEqual(
      before.filter((l) => !l.startsWith("store")),
    );
  });
});
