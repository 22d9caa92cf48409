/**
 * Reading an env into a bundle's tree: what ships (the env manifest as .slimenv/manifest.json,
 * files of link mode symlink read through the link), what is left out (runtime __pycache__),
 * and what is refused (a venv's interpreter link, link mode pth).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readEnvTree } from "../../src/bundle/from-env.ts";
import { install } from "../../src/env/install.ts";
import type { Layout, LinkMode } from "../../src/env/types.ts";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import { sha256Hex } from "../helpers/wheels.ts";
import { expectSlimenvError, tempDir, testSettings } from "../install/fixtures.ts";
import { demoProjects, PY } from "./bundle-fixtures.ts";

describe.skipIf(PY === undefined)("readEnvTree", () => {
  let server: IndexServer;
  let cwd: string;
  const store = () => path.join(cwd, "store");

  beforeAll(async () => {
    server = await startIndexServer({ projects: demoProjects() });
    cwd = tempDir("from-env");
  });
  afterAll(async () => {
    await server.close();
  });

  async function env(kind: Layout["kind"], linkMode: LinkMode): Promise<string> {
    const dir = `${kind}-${linkMode}`;
    await install({
      cwd,
      env: process.env,
      settings: testSettings(server.url),
      selection: { kind: "interpreter", request: PY as string },
      layout: { kind, dir },
      linkMode,
      inputs: { requirementFiles: [], requirements: ["demo==1.0"], wheels: [] },
      userAgent: "slimenv-tests",
      storeRoot: store(),
      httpCacheDir: null,
    });
    return path.join(cwd, dir);
  }

  it("ships the generation with the env manifest; leaves runtime caches out", async () => {
    const dir = await env("prefix", "hardlink");
    const tree = await readEnvTree(dir, { storeRoot: store() });
    const gen = tree.root;
    expect(path.basename(gen)).toMatch(/^gen-\d+$/);
    const site = tree.files.find((f) => f.path.endsWith("/demo/core.py"))?.path as string;
    const cache = path.join(gen, path.dirname(site), "__pycache__");
    mkdirSync(cache, { recursive: true });
    writeFileSync(path.join(cache, "core.cpython-312.pyc"), "runtime cache");
    writeFileSync(path.join(gen, "NOTES.txt"), "added by hand");
    const again = await readEnvTree(dir, { storeRoot: store() });
    const paths = again.files.map((f) => f.path);
    expect(paths).toContain(".slimenv/manifest.json");
    expect(paths).not.toContain("manifest.json");
    expect(paths).toContain("NOTES.txt");
    expect(again.skipped).toEqual([`${path.dirname(site)}/__pycache__/core.cpython-312.pyc`]);
    expect([...paths].sort()).toEqual(paths);
    const notes = again.files.find((f) => f.path === "NOTES.txt");
    expect(notes).toMatchObject({ sha256: sha256Hex(Buffer.from("added by hand")), mode: 420 });
    expect(again.files.find((f) => f.path === "bin/python")?.mode).toBe(493);
    expect(again.target).toMatchObject({ implementation: "cp", libc: null, libcVersion: null });
  });

  it("reads link mode symlink files through their links", async () => {
    const tree = await readEnvTree(await env("prefix", "symlink"), { storeRoot: store() });
    expect(tree.symlinks).toEqual([]);
    expect(tree.files.some((f) => f.path.endsWith("/demo/core.py"))).toBe(true);
  });

  it("refuses a venv (its python links to the interpreter) and link mode pth", async () => {
    await expectSlimenvError(
      readEnvTree(await env("venv", "auto"), { storeRoot: store() }),
      "INVALID_ENV",
      /bin\/python is a symlink to .*outside the environment/,
    );
    await expectSlimenvError(
      readEnvTree(await env("prefix", "pth"), { storeRoot: store() }),
      "INVALID_ENV",
      /link-mode pth/,
    );
  });
});
