/**
 * `install` adds to an existing environment (it re-locks the union of what the env was asked
 * for and what is asked now); `sync` is the exact one; neither drops a distribution another tool
 * (pip) put into the env: both refuse, name it, and change nothing.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { install } from "../../src/env/install.ts";
import { sync } from "../../src/env/sync.ts";
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

describe.skipIf(PY === undefined)(
  "install adds, sync is exact, neither drops foreign packages",
  () => {
    let server: IndexServer;
    let w: World;
    let root: string;
    let storeRoot: string;
    const pick = (...names: string[]): BuiltWheel[] =>
      names.map((n) => w.wheels.get(`${n}-py3-none-any.whl`) as BuiltWheel);

    beforeAll(async () => {
      w = world();
      server = await startIndexServer({ projects: w.projects });
      root = tempDir("additive");
      storeRoot = path.join(root, "store");
      writeFileSync(path.join(root, "pylock.toml"), lockText(pick("alpha-1.0"), server.filesUrl));
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
      selection: { kind: "interpreter" as const, request: PY as string },
    });
    const names = (r: { manifest: { packages: { name: string; version: string }[] } }) =>
      r.manifest.packages.map((p) => `${p.name} ${p.version}`).sort();

    it("a second install adds to the env and keeps the versions it holds", async () => {
      const dir = path.join(root, "env1");
      const inputs = (...requirements: string[]) => ({
        requirementFiles: [],
        requirements,
        wheels: [],
      });
      await install({
        ...common(),
        layout: { kind: "prefix", dir },
        inputs: inputs("app", "lib==1.1"),
      });
      const second = await install({
        ...common(),
        layout: { kind: "prefix", dir },
        inputs: inputs("gamma"),
      });
      expect(names(second)).toEqual(["app 1.0", "gamma 1.0", "lib 1.1", "tool 1.0"]);
      expect(second.changes.added).toEqual([{ name: "gamma", version: "1.0" }]);
      expect(second.changes.removed).toEqual([]);
      // A lock installed into it adds too.
      const third = await install({
        ...common(),
        layout: { kind: "prefix", dir },
        inputs: { requirementFiles: [], requirements: [], wheels: [], lockFile: "pylock.toml" },
      });
      expect(names(third)).toEqual(["alpha 1.0", "app 1.0", "gamma 1.0", "lib 1.1", "tool 1.0"]);
      // sync stays exact.
      const synced = await sync({ ...common(), dir, lockFile: "pylock.toml" });
      expect(names(synced)).toEqual(["alpha 1.0"]);
    });

    it("install --reinstall places every file again, restoring one edited in place", async () => {
      const dir = path.join(root, "env3");
      const layout = { kind: "prefix" as const, dir };
      const inputs = { requirementFiles: [], requirements: ["gamma"], wheels: [] };
      const made = await install({ ...common(), layout, inputs, linkMode: "copy" });
      const file = path.join(dir, made.manifest.scheme.purelib, "gamma", "__init__.py");
      const original = readFileSync(file, "utf8");
      writeFileSync(file, "edited = True\n");
      const same = await install({ ...common(), layout, inputs, linkMode: "copy" });
      expect(same.rebuilt).toBe(false);
      expect(readFileSync(file, "utf8")).toBe("edited = True\n");
      const again = await install({
        ...common(),
        layout,
        inputs,
        linkMode: "copy",
        reinstall: true,
      });
      expect(again.rebuilt).toBe(true);
      expect(readFileSync(file, "utf8")).toBe(original);
    });

    it("a package pip put into the env makes install and sync refuse, changing nothing", async () => {
      const dir = path.join(root, "env2");
      const made = await install({
        ...common(),
        layout: { kind: "prefix", dir },
        inputs: { requirementFiles: [], requirements: ["gamma"], wheels: [] },
      });
      const site = path.join(dir, made.manifest.scheme.purelib);
      mkdirSync(path.join(site, "six-1.16.0.dist-info"), { recursive: true });
      writeFileSync(
        path.join(site, "six-1.16.0.dist-info", "METADATA"),
        "Name: six\nVersion: 1.16.0\n",
      );
      writeFileSync(path.join(site, "six.py"), "");
      const before = snapshot(dir);
      const err = await expectSlimenvError(
        sync({ ...common(), dir, lockFile: "pylock.toml" }),
        "INVALID_ENV",
        /slimenv did not install \(six 1\.16\.0\); sync would remove them/,
      );
      expect(err.hint).toContain("six==1.16.0");
      await expectSlimenvError(
        install({
          ...common(),
          layout: { kind: "prefix", dir },
          inputs: { requirementFiles: [], requirements: ["delta"], wheels: [] },
        }),
        "INVALID_ENV",
        /six 1\.16\.0/,
      );
      expect(snapshot(dir)).toEqual(before);
    });
  },
);
