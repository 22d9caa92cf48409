/**
 * End to end, hermetic: a real env built from generated wheels → a full bundle → the device
 * agent (python3 -I) applies it into a temp device root → the app's bin/python runs; then a
 * new version (one changed .py, a renamed auditwheel-style library) → a delta much smaller
 * than the full bundle → applied. Also: same inputs give the same bytes; bad input refused.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readEnvTree } from "../../src/bundle/from-env.ts";
import { sha256Hex } from "../../src/bundle/hashing.ts";
import { packEnv } from "../../src/bundle/pack.ts";
import { readBundle } from "../../src/bundle/wire.ts";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import { expectSlimenvError, run, tempDir } from "../install/fixtures.ts";
import {
  buildEnv,
  demoProjects,
  PY,
  pyPath,
  runAgent,
  testKey,
  writeTestKey,
} from "./bundle-fixtures.ts";

describe.skipIf(PY === undefined)("bundle: env → full → agent → delta → agent", () => {
  let server: IndexServer;
  let root: string;
  let store: string;
  let keys: { key: string; pub: string };
  const key = testKey();
  const figures: Record<string, number> = {};

  beforeAll(async () => {
    server = await startIndexServer({ projects: demoProjects() });
    root = tempDir("bundle");
    store = path.join(root, "store");
    keys = writeTestKey(root);
  });
  afterAll(async () => {
    await server.close();
    // The measured figures, for the record.
    console.log("bundle figures", JSON.stringify(figures));
  });

  const device = () => path.join(root, "device");
  const app = () => path.join(device(), "apps", "demo", "current");

  it("bundles v1 in full, reproducibly; the agent applies it and the app runs", async () => {
    await buildEnv(path.join(root, "ci"), "env", "demo==1.0", server.url, store);
    const env = path.join(root, "ci", "env");
    const tree = await readEnvTree(env, { storeRoot: store });
    expect(tree.files.map((f) => f.path)).toContain(".slimenv/manifest.json");
    expect(tree.files.map((f) => f.path)).toContain("bin/python");
    expect(tree.hashed).toBeLessThan(tree.files.length); // store objects reuse their hash
    const opts = { app: "demo", version: "1.0", key, sequence: 1, storeRoot: store };
    const full = await packEnv(env, opts);
    const again = await packEnv(env, opts);
    expect(Buffer.from(again.bytes).equals(Buffer.from(full.bytes))).toBe(true);
    expect(full.kind).toBe("full");
    expect(full.manifest.base).toBeNull();
    expect(full.manifest.target.python).toBe(
      run(
        PY as string,
        ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        {},
      ).stdout.trim(),
    );
    const contents = await readBundle(full.bytes, [key.publicKey]);
    expect(full.manifest.agent).not.toBeNull(); // a full bundle bootstraps: it carries the agent
    expect(full.manifest.tree.encoding).toBe("xz");
    expect(contents.objects.size).toBe(new Set(full.manifest.files.map((f) => f.sha256)).size);
    writeFileSync(path.join(root, "demo-1.0.bundle"), full.bytes);
    figures.fullV1 = full.bytes.length;

    mkdirSync(device(), { recursive: true });
    const applied = runAgent(root, [
      "--root",
      device(),
      "--key",
      keys.pub,
      "apply",
      path.join(root, "demo-1.0.bundle"),
    ]);
    expect(applied.stderr).toBe("");
    expect(applied.status).toBe(0);
    const res = run(
      path.join(app(), "bin", "python"),
      ["-c", "import demo, demo.core; print(demo.__version__, demo.core.answer())"],
      { PATH: pyPath() },
    );
    expect(res.stderr).toBe("");
    expect(res.stdout).toBe("1.0 41\n");
  });

  it("a delta to v2 carries the changed .py and a patch of the renamed library; it applies", async () => {
    await buildEnv(path.join(root, "ci"), "env", "demo==2.0", server.url, store);
    const env = path.join(root, "ci", "env");
    const health = { command: ["bin/python", "-c", "import demo.core"], timeout: 60 };
    const base = { app: "demo", version: "2.0", key, sequence: 2, storeRoot: store, health };
    const full = await packEnv(env, base);
    const delta = await packEnv(env, { ...base, from: [path.join(root, "demo-1.0.bundle")] });
    figures.fullV2 = full.bytes.length;
    figures.deltaV1toV2 = delta.bytes.length;
    expect(delta.kind).toBe("delta");
    expect(delta.manifest.base?.sequence).toBe(1);
    // A delta ships no agent unless asked, and its tree as a patch of v1's tree.
    expect(delta.manifest.agent).toBeNull();
    expect(delta.manifest.tree.encoding).toBe("sldiff");
    expect(full.manifest.tree.encoding).toBe("xz");
    expect(delta.manifest.tree.stored.size).toBeLessThan(full.manifest.tree.stored.size);
    const forced = await packEnv(env, {
      ...base,
      agent: true,
      from: [path.join(root, "demo-1.0.bundle")],
    });
    expect(forced.manifest.agent).toEqual(full.manifest.agent);
    // The library was renamed (auditwheel) and patched, not carried.
    const lib = delta.manifest.files.find((f) => f.path.endsWith("libdemo-9c0ffee1.so"));
    expect(lib).toBeDefined();
    const patch = delta.manifest.patches.find((p) => p.target === lib?.sha256);
    expect(patch).toBeDefined();
    expect(delta.manifest.objects.map((o) => o.sha256)).not.toContain(lib?.sha256);
    figures.libPatch = patch?.size ?? 0;
    writeFileSync(path.join(root, "demo-2.0.bundle"), full.bytes);
    // Without agent.py (~60 KB), the delta is a small fraction of the full.
    const bareFull = await packEnv(env, { ...base, agent: false });
    const bare = await packEnv(env, {
      ...base,
      agent: false,
      from: [path.join(root, "demo-1.0.bundle")],
    });
    figures.fullV2NoAgent = bareFull.bytes.length;
    figures.deltaNoAgent = bare.bytes.length;
    expect(bare.bytes.length * 10).toBeLessThan(bareFull.bytes.length);

    const file = path.join(root, "demo-2.0.delta");
    writeFileSync(file, delta.bytes);
    // A device that never had v1 refuses the delta before writing anything.
    const fresh = path.join(root, "fresh-device");
    mkdirSync(fresh);
    const refused = runAgent(root, ["--root", fresh, "--key", keys.pub, "apply", file]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/slimenv-agent: /);
    expect(existsSync(path.join(fresh, "apps", "demo", "current"))).toBe(false);

    const applied = runAgent(root, ["--root", device(), "--key", keys.pub, "apply", file]);
    expect(applied.stderr).toBe("");
    expect(applied.status).toBe(0);
    const res = run(
      path.join(app(), "bin", "python"),
      [
        "-c",
        "import os, demo, demo.core; print(demo.__version__, demo.core.answer(), os.path.exists(demo.core.library_path()))",
      ],
      { PATH: pyPath() },
    );
    expect(res.stderr).toBe("");
    expect(res.stdout).toBe("2.0 42 True\n");
  });

  it("a delta from a device status skips every object the device holds", async () => {
    const status = runAgent(root, ["--root", device(), "--json", "status"]);
    expect(status.status).toBe(0);
    const statusFile = path.join(root, "status.json");
    writeFileSync(statusFile, status.stdout);
    const env = path.join(root, "ci", "env");
    const delta = await packEnv(env, {
      app: "demo",
      version: "2.0",
      key,
      sequence: 3,
      storeRoot: store,
      agent: false,
      from: [statusFile],
    });
    expect(delta.manifest.objects).toEqual([]);
    expect(delta.manifest.patches).toEqual([]);
    expect(delta.held).toBe(new Set(delta.manifest.files.map((f) => f.sha256)).size);
    // a status names trees by hash, not their bytes: the tree ships compressed
    expect(delta.manifest.tree.encoding).toBe("xz");
    figures.deltaFromStatus = delta.bytes.length;
    // with the device's stored tree beside it, the tree ships as a patch the device applies
    const parsed = JSON.parse(status.stdout);
    const treeFile = path.join(device(), "apps", "demo", "manifests", "2.tree.json");
    expect(parsed.apps.demo.generations[0].tree).toBe(sha256Hex(readFileSync(treeFile)));
    const withTree = await packEnv(env, {
      app: "demo",
      version: "2.0",
      key,
      sequence: 3,
      storeRoot: store,
      from: [statusFile, treeFile],
    });
    expect(withTree.manifest.tree.encoding).toBe("sldiff");
    expect(withTree.manifest.tree.base).toBe(parsed.apps.demo.generations[0].tree);
    const file = path.join(root, "demo-3.delta");
    writeFileSync(file, withTree.bytes);
    const applied = runAgent(root, ["--root", device(), "--key", keys.pub, "apply", file]);
    expect(applied.stderr).toBe("");
    expect(applied.status).toBe(0);
  });

  it("a one-file change is a delta far smaller than the full bundle, its tree an sldiff", async () => {
    const env = path.join(root, "ci", "env");
    const tree = await readEnvTree(env, { storeRoot: store });
    const py = tree.files.find((f) => f.path.endsWith("demo/__init__.py"));
    expect(py).toBeDefined();
    const abs = (py as { abs: string }).abs;
    const text = readFileSync(abs, "utf8");
    rmSync(abs); // may be a hard link into the store: a new file, never an edit in place
    writeFileSync(abs, `${text}\n# one change\n`);
    const opts = { app: "demo", version: "2.1", key, sequence: 4, storeRoot: store };
    const full = await packEnv(env, opts);
    const delta = await packEnv(env, { ...opts, from: [path.join(root, "demo-2.0.bundle")] });
    expect(delta.manifest.tree.encoding).toBe("sldiff");
    expect(delta.objects + delta.patches).toBe(1);
    figures.oneFileFull = full.bytes.length;
    figures.oneFileDelta = delta.bytes.length;
    figures.oneFileTree = delta.manifest.tree.stored.size;
    figures.oneFileTreeFull = full.manifest.tree.stored.size;
    expect(delta.bytes.length * 20).toBeLessThan(full.bytes.length);
    expect(delta.manifest.tree.stored.size * 4).toBeLessThan(full.manifest.tree.stored.size);
  });

  it("refuses bad input with a clear error and writes nothing", async () => {
    const env = path.join(root, "ci", "env");
    await expectSlimenvError(packEnv(env, { app: "Bad App", version: "1", key }), "INVALID_OPTION");
    await expectSlimenvError(
      packEnv(env, { app: "demo", version: "1", key, sequence: 0 }),
      "INVALID_OPTION",
    );
    await expectSlimenvError(
      packEnv(root, { app: "demo", version: "1", key }),
      "INVALID_ENV",
      /not a slimenv environment/,
    );
    const junk = path.join(root, "junk.json");
    writeFileSync(junk, "{}");
    await expectSlimenvError(
      packEnv(env, { app: "demo", version: "1", key, sequence: 9, from: [junk] }),
      "INVALID_OPTION",
      /--from/,
    );
    await expectSlimenvError(
      packEnv(env, {
        app: "demo",
        version: "1",
        key,
        sequence: 1,
        from: [path.join(root, "demo-1.0.bundle")],
      }),
      "INVALID_OPTION",
      /not above/,
    );
    expect(existsSync(path.join(root, "out.bundle"))).toBe(false);
    expect(readFileSync(path.join(root, "demo-1.0.bundle")).length).toBe(figures.fullV1);
  });
});
