/**
 * The shipping commands from the command line: keygen, agent, bundle (a target-layout env,
 * full then delta) and publish, with --json; and bad input: a clear error, exit 1, nothing
 * written.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePrivateKey } from "../../src/bundle/keys.ts";
import { readBundle } from "../../src/bundle/wire.ts";
import { install } from "../../src/env/install.ts";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import { cliEnv, lockText, slimenv, snapshot, tempDir, testSettings } from "../install/fixtures.ts";
import { demoBuilt, demoProjects, PY } from "./bundle-fixtures.ts";

describe.skipIf(PY === undefined)("slimenv keygen / agent / bundle / publish", () => {
  let server: IndexServer;
  let cwd: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    server = await startIndexServer({ projects: demoProjects() });
    cwd = tempDir("bundle-cli");
    env = cliEnv(path.join(cwd, "home"), { SOURCE_DATE_EPOCH: "1765000000" });
    for (const v of ["1.0", "2.0"]) {
      await install({
        cwd,
        env: process.env,
        settings: testSettings(server.url),
        selection: { kind: "interpreter", request: PY as string },
        layout: { kind: "target", dir: `target-${v}` },
        inputs: { requirementFiles: [], requirements: [`demo==${v}`], wheels: [] },
        userAgent: "slimenv-tests",
        storeRoot: path.join(cwd, "store"),
        httpCacheDir: null,
      });
    }
  });
  afterAll(async () => {
    await server.close();
  });

  it("keygen writes NAME.key (0600) and NAME.pub, and never overwrites", async () => {
    const r = await slimenv(cwd, env, "--json", "keygen", "-o", "fleet");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { keyid: string };
    expect(statSync(path.join(cwd, "fleet.key")).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(cwd, "fleet.pub"), "utf8")).toMatch(/^ed25519:/);
    const key = parsePrivateKey(readFileSync(path.join(cwd, "fleet.key"), "utf8"));
    expect(key.publicKey.keyid).toBe(out.keyid);
    const again = await slimenv(cwd, env, "keygen", "-o", "fleet");
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/\[INVALID_OPTION\] .*already exist/);
    expect(parsePrivateKey(readFileSync(path.join(cwd, "fleet.key"), "utf8")).publicKey.keyid).toBe(
      out.keyid,
    );
  });

  it("agent -o writes the device agent, executable", async () => {
    const r = await slimenv(cwd, env, "agent", "-o", "slimenv-agent.py");
    expect(r.status).toBe(0);
    const file = path.join(cwd, "slimenv-agent.py");
    expect(readFileSync(file, "utf8")).toMatch(/^#!\/usr\/bin\/env python3/);
    expect(statSync(file).mode & 0o111).not.toBe(0);
  });

  it("bundles a target env in full and as a delta, then publishes both", async () => {
    const full = await slimenv(
      cwd,
      env,
      "--json",
      "bundle",
      "target-1.0",
      "-o",
      "v1.bundle",
      "--app",
      "demo",
      "--version",
      "1.0",
      "--key",
      "fleet.key",
      "--health",
      "bin/python -c 'import demo'",
      "--compression",
      "gzip",
    );
    expect(full.stderr).toBe("");
    expect(full.status).toBe(0);
    const summary = JSON.parse(full.stdout) as { kind: string; sequence: number; size: number };
    expect(summary).toMatchObject({ kind: "full", sequence: 1765000000 });
    const key = parsePrivateKey(readFileSync(path.join(cwd, "fleet.key"), "utf8"));
    const contents = await readBundle(readFileSync(path.join(cwd, "v1.bundle")), [key.publicKey]);
    expect(contents.agent).not.toBeNull();
    expect(contents.manifest.tree.encoding).toBe("gzip");
    expect(contents.manifest.health).toEqual({
      command: ["bin/python", "-c", "import demo"],
      timeout: 60,
    });
    expect(contents.manifest.payload.compression).toBe("gzip");
    expect(contents.manifest.files.map((f) => f.path)).toContain(".slimenv/manifest.json");

    const delta = await slimenv(
      cwd,
      env,
      "--json",
      "bundle",
      "target-2.0",
      "-o",
      "v2.delta",
      "--app",
      "demo",
      "--version=2.0",
      "--sequence",
      "1765000001",
      "--key",
      "fleet.key",
      "--from",
      "v1.bundle",
    );
    expect(delta.stderr).toBe("");
    const d = JSON.parse(delta.stdout) as {
      kind: string;
      patches: number;
      size: number;
      agent: boolean;
      tree: { encoding: string };
    };
    expect(d.kind).toBe("delta");
    expect(d.patches).toBeGreaterThan(0);
    expect(d.agent).toBe(false);
    expect(d.tree.encoding).toBe("sldiff");
    const common = ["--json", "bundle", "target-2.0", "--app", "demo", "--version=2.0"];
    const forced = await slimenv(
      cwd,
      env,
      ...common,
      "-o",
      "v2a.delta",
      "--sequence",
      "1765000001",
      "--key",
      "fleet.key",
      "--from",
      "v1.bundle",
      "--agent",
    );
    expect(forced.stderr).toBe("");
    expect(JSON.parse(forced.stdout)).toMatchObject({ kind: "delta", agent: true });
    const bare = await slimenv(
      cwd,
      env,
      ...common,
      "-o",
      "v2-bare.bundle",
      "--sequence",
      "1765000001",
      "--key",
      "fleet.key",
      "--no-agent",
    );
    expect(bare.stderr).toBe("");
    expect(JSON.parse(bare.stdout)).toMatchObject({ kind: "full", agent: false });

    const pub = await slimenv(
      cwd,
      env,
      "--json",
      "publish",
      "v1.bundle",
      "--repo",
      "repo",
      "--channel",
      "stable",
      "--key",
      "fleet.key",
    );
    expect(pub.stderr).toBe("");
    expect(pub.status).toBe(0);
    const v2 = await slimenv(
      cwd,
      env,
      "bundle",
      "target-2.0",
      "-o",
      "v2.bundle",
      "--app",
      "demo",
      "--version",
      "2.0",
      "--sequence",
      "1765000001",
      "--key",
      "fleet.key",
    );
    expect(v2.status).toBe(0);
    const pub2 = await slimenv(
      cwd,
      env,
      "publish",
      "v2.bundle",
      "--repo",
      "repo",
      "--channel",
      "stable",
      "--key",
      "fleet.key",
    );
    expect(pub2.status).toBe(0);
    expect(pub2.stdout).toMatch(/delta from 1765000000: /);
  });

  it("bundles straight from a lock (--lock, --python): no env kept", async () => {
    writeFileSync(path.join(cwd, "pylock.toml"), lockText([demoBuilt("1.0")], server.filesUrl));
    const r = await slimenv(
      cwd,
      env,
      "--json",
      "bundle",
      "--lock",
      "pylock.toml",
      "--python",
      PY as string,
      "-o",
      "lock.bundle",
      "--app",
      "demo",
      "--version",
      "1.0",
      "--key",
      "fleet.key",
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const key = parsePrivateKey(readFileSync(path.join(cwd, "fleet.key"), "utf8"));
    const contents = await readBundle(readFileSync(path.join(cwd, "lock.bundle")), [key.publicKey]);
    const paths = contents.manifest.files.map((f) => f.path);
    expect(paths).toContain("bin/python");
    expect(paths.some((p) => p.endsWith("/site-packages/demo/core.py"))).toBe(true);
  });

  it("refuses bad input: exit 1 (2 for a usage error), one error line and a hint, nothing written", async () => {
    const before = snapshot(cwd);
    const bad = [
      [
        "bundle",
        "target-1.0",
        "-o",
        "x.bundle",
        "--app",
        "Demo!",
        "--version",
        "1",
        "--key",
        "fleet.key",
      ],
      [
        "bundle",
        "target-1.0",
        "-o",
        "x.bundle",
        "--app",
        "demo",
        "--version",
        "1",
        "--key",
        "fleet.pub",
      ],
      [
        "bundle",
        "nowhere",
        "-o",
        "x.bundle",
        "--app",
        "demo",
        "--version",
        "1",
        "--key",
        "fleet.key",
      ],
      [
        "bundle",
        "target-1.0",
        "-o",
        "x.bundle",
        "--app",
        "demo",
        "--version",
        "1",
        "--key",
        "fleet.key",
        "--health",
        "'unclosed",
      ],
      [
        "bundle",
        "target-1.0",
        "--lock",
        "pylock.toml",
        "-o",
        "x.bundle",
        "--app",
        "demo",
        "--version",
        "1",
        "--key",
        "fleet.key",
      ],
      ["bundle", "-o", "x.bundle", "--app", "demo", "--version", "1", "--key", "fleet.key"],
      ["publish", "v2.delta", "--repo", "repo", "--channel", "stable", "--key", "fleet.key"],
      ["publish", "v1.bundle", "--repo", "repo", "--channel", "stable", "--key", "fleet.key"],
    ];
    for (const args of bad) {
      const r = await slimenv(cwd, env, ...args);
      expect(r.stderr).toMatch(/^error: \[[A-Z_]+\] .*\nhint: /);
      // INVALID_OPTION is a usage error: exit 2 (README, docs/errors.md); others exit 1.
      const usage = r.stderr.startsWith("error: [INVALID_OPTION]");
      expect(r.status, args.join(" ")).toBe(usage ? 2 : 1);
    }
    expect(existsSync(path.join(cwd, "x.bundle"))).toBe(false);
    expect(snapshot(cwd)).toEqual(before);
  });
});
