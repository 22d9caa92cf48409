/**
 * The device agent with real CPython: apply → status → apply newer (full and delta) → rollback →
 * gc, a failing health command switched back, and the store verified clean after each step.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentSource } from "../../src/bundle/agent-source.ts";
import { sha256Hex } from "../../src/bundle/hashing.ts";
import { formatPublicKey, generateSigningKey } from "../../src/bundle/keys.ts";
import { treeBytesOf } from "../../src/bundle/tree-codec.ts";
import { readBundle } from "../../src/bundle/wire.ts";
import {
  type AppSpec,
  agentPython,
  appEnv,
  binDir,
  checkCurrent,
  deltaBundle,
  fullBundle,
  headerBytesOf,
  runAgent,
  snapshot,
} from "./agent-helpers.ts";

const key = generateSigningKey();
let dir: string;
let bin: string;
let root: string;
let pub: string;

function bundleFile(name: string, bytes: Uint8Array): string {
  const p = path.join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

function agent(args: string[], env?: Record<string, string>) {
  return runAgent(["--root", root, "--key", pub, ...args], {
    pathDir: bin,
    ...(env === undefined ? {} : { env }),
  });
}

async function status() {
  const r = await agent(["status", "--json"]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as {
    apps: Record<string, { current: number; version: string; generations: { sequence: number }[] }>;
    objects: string[];
  };
}

async function verifyClean() {
  const r = await agent(["verify", "--json"]);
  expect(JSON.parse(r.stdout).problems).toEqual([]);
  expect(r.status).toBe(0);
}

const v1: AppSpec = { sequence: 100 };
const v2: AppSpec = {
  sequence: 200,
  files: { "lib/myapp/extra.py": "X = 2\n", "lib/myapp/data.txt": "shared data\n".repeat(49) },
};
const v3: AppSpec = { sequence: 300, files: { "lib/myapp/three.py": "X = 3\n" } };

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "slimenv-agent-"));
  bin = binDir(dir);
  root = path.join(dir, "device");
  pub = path.join(dir, "fleet.pub");
  writeFileSync(pub, formatPublicKey(key.publicKey));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("device agent round trip", () => {
  it("applies, reports, applies newer, rolls back, collects garbage", async () => {
    const r1 = await agent(["apply", bundleFile("v1.bundle", fullBundle(key, v1, "# agent\n"))]);
    expect(r1.status, r1.stderr).toBe(0);
    expect(r1.stdout).toContain("myapp: now at sequence 100");
    expect(checkCurrent(root, "myapp")).toBe(100);
    const run = spawnSync(
      path.join(root, "apps/myapp/current/bin/python"),
      ["-c", "import myapp; print(myapp.VERSION)"],
      {
        env: { PATH: `${bin}:/usr/bin:/bin`, PYTHONDONTWRITEBYTECODE: "1" },
      },
    );
    expect(run.stdout.toString().trim()).toBe("1.100");
    expect(existsSync(path.join(root, "agent/slimenv-agent.py"))).toBe(true);
    let s = await status();
    expect(s.apps.myapp?.current).toBe(100);
    for (const f of appEnv(v1).draft.files) expect(s.objects).toContain(f.sha256);

    const r2 = await agent(["apply", "--json", bundleFile("v2.bundle", fullBundle(key, v2))]);
    expect(r2.status, r2.stderr).toBe(0);
    expect(JSON.parse(r2.stdout)).toMatchObject({ ok: true, sequence: 200, previous: 100 });
    expect(checkCurrent(root, "myapp")).toBe(200);
    s = await status();
    expect(s.apps.myapp?.generations.map((g) => g.sequence)).toEqual([200, 100]);
    await verifyClean();

    const rb = await agent(["rollback", "myapp"]);
    expect(rb.status, rb.stderr).toBe(0);
    expect(checkCurrent(root, "myapp")).toBe(100);
    const gc = await agent(["gc", "--json"]);
    expect(gc.status, gc.stderr).toBe(0);
    expect(JSON.parse(gc.stdout).objectsRemoved).toBe(0);
    await verifyClean();

    // 300 replaces the rolled-back 200 (keep 2: 300 and 100); 200's own objects go.
    const r3 = await agent(["apply", bundleFile("v3.bundle", fullBundle(key, v3))]);
    expect(r3.status, r3.stderr).toBe(0);
    s = await status();
    expect(s.apps.myapp?.generations.map((g) => g.sequence)).toEqual([300, 100]);
    const only200 = appEnv(v2).draft.files.find((f) => f.path === "lib/myapp/extra.py");
    expect(s.objects).not.toContain(only200?.sha256);
    await verifyClean();
  });

  it("applies a delta with patches against what the device holds", async () => {
    const v4: AppSpec = {
      sequence: 400,
      files: { "lib/myapp/three.py": "X = 3\nY = 4\n", "lib/myapp/new.py": "N = 1\n" },
    };
    const delta = deltaBundle(key, v3, v4);
    const header = JSON.parse(Buffer.from(headerBytesOf(delta)).toString("utf8"));
    expect(header.tree.encoding).toBe("sldiff");
    expect(header.tree.base).toBe(sha256Hex(treeBytesOf(appEnv(v3).draft)));
    expect(header.agent).toBeNull();
    const r = await agent(["apply", bundleFile("d34.bundle", delta)]);
    expect(r.status, r.stderr).toBe(0);
    expect(checkCurrent(root, "myapp")).toBe(400);
    // the patched tree is stored verbatim: the next delta's base
    const stored = readFileSync(path.join(root, "apps/myapp/manifests/400.tree.json"));
    expect(Buffer.from(stored).equals(Buffer.from(treeBytesOf(appEnv(v4).draft)))).toBe(true);
    expect(sha256Hex(stored)).toBe(header.tree.sha256);
    await verifyClean();
  });

  it("refuses a delta whose patch source the device lacks, changing nothing", async () => {
    const other: AppSpec = { sequence: 1, files: { "lib/myapp/three.py": "unknown base\n" } };
    const v5: AppSpec = { sequence: 500, files: { "lib/myapp/three.py": "X = 5\n" } };
    const before = snapshot(root);
    const whole = deltaBundle(key, other, v5, { tree: false });
    const r = await agent(["apply", bundleFile("d-other.bundle", whole)]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/lacks object/);
    expect(checkCurrent(root, "myapp")).toBe(400);
    // its tree patched against a tree this device never kept: refused before any object check
    const patched = deltaBundle(key, other, v5);
    const t = await agent(["apply", bundleFile("d-other-tree.bundle", patched)]);
    expect(t.status).toBe(1);
    expect(t.stderr).toMatch(/lacks base tree [0-9a-f]{12} of this delta/);
    expect(snapshot(root)).toEqual(before);
  });

  it("refuses a delta whose patch source is corrupt on the device, saying so, changing nothing", async () => {
    const v4: AppSpec = {
      sequence: 400,
      files: { "lib/myapp/three.py": "X = 3\nY = 4\n", "lib/myapp/new.py": "N = 1\n" },
    };
    const v5: AppSpec = { sequence: 500, files: { "lib/myapp/three.py": "X = 3\nY = 5\n" } };
    const source = "X = 3\nY = 4\n";
    const sha = createHash("sha256").update(source).digest("hex");
    const obj = path.join(root, "objects", sha.slice(0, 2), sha.slice(2));
    // bit rot: same size, other bytes (the file is read-only, as the agent leaves it)
    chmodSync(obj, 0o644);
    writeFileSync(obj, "X = 3\nY = 9\n");
    chmodSync(obj, 0o444);
    try {
      const before = snapshot(root);
      const r = await agent(["apply", bundleFile("d45.bundle", deltaBundle(key, v4, v5))]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`stored object ${sha} is corrupt`));
      expect(snapshot(root)).toEqual(before);
    } finally {
      chmodSync(obj, 0o644);
      writeFileSync(obj, source);
      chmodSync(obj, 0o444);
    }
    expect(checkCurrent(root, "myapp")).toBe(400);
    await verifyClean();
  });

  it("switches back when the health command fails, and says why", async () => {
    const bad: AppSpec = {
      sequence: 600,
      health: {
        command: ["bin/python", "-c", "raise SystemExit('db schema too new')"],
        timeout: 30,
      },
    };
    const r = await agent(["apply", bundleFile("bad.bundle", fullBundle(key, bad))]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(
      /health check of myapp 600 failed .*db schema too new.*switched back to 400/,
    );
    expect(checkCurrent(root, "myapp")).toBe(400);
    const s = await status();
    expect(s.apps.myapp?.generations.map((g) => g.sequence)).toEqual([400, 300]);
    await verifyClean();
  });

  it("times the health command out", async () => {
    const slow: AppSpec = {
      sequence: 700,
      // a grandchild holding the output pipe must die with it
      health: { command: ["/bin/sh", "-c", "sleep 60 & sleep 60"], timeout: 1 },
    };
    const t = Date.now();
    const r = await agent(["apply", bundleFile("slow.bundle", fullBundle(key, slow))]);
    expect(Date.now() - t).toBeLessThan(20_000);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/timed out after 1 s/);
    expect(checkCurrent(root, "myapp")).toBe(400);
  });

  it("applies a patch whose byte-wise add spans many 64 KiB blocks, some all zero", async () => {
    // letters a..z, seeded; the new file keeps the first 150000 (zero diff blocks) and changes
    // the rest (diff bytes that wrap past 255), 300001 bytes in all (a short last block)
    let seed = 7;
    const letters = (n: number) =>
      Array.from({ length: n }, () => {
        seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
        return String.fromCharCode(97 + (seed % 26));
      }).join("");
    const head = letters(150000);
    const big = (sequence: number, tail: string): AppSpec => ({
      app: "big",
      sequence,
      files: { "lib/myapp/table.txt": head + tail },
    });
    const a = big(1, letters(150001));
    const b = big(2, letters(150001));
    const full = await agent(["apply", bundleFile("big1.bundle", fullBundle(key, a))]);
    expect(full.status, full.stderr).toBe(0);
    const delta = deltaBundle(key, a, b);
    const base = treeBytesOf(appEnv(a).draft);
    const trees = new Map([[sha256Hex(base), base]]);
    const read = await readBundle(delta, [key.publicKey], "delta", { trees });
    expect(read.manifest.patches).toHaveLength(2);
    const r = await agent(["apply", bundleFile("big2.bundle", delta)]);
    expect(r.status, r.stderr).toBe(0);
    expect(checkCurrent(root, "big")).toBe(2);
    await verifyClean();
  });

  it("applies a delta in which two files change the same way (one payload member)", async () => {
    const twin = (sequence: number, tail: string): AppSpec => ({
      app: "twin",
      sequence,
      files: {
        "lib/myapp/p1.py": `A = 1\nB = 2\n${tail}`,
        "lib/myapp/p2.py": `C = 3\nD = 4\n${tail}`,
      },
    });
    const full = await agent(["apply", bundleFile("twin1.bundle", fullBundle(key, twin(10, "")))]);
    expect(full.status, full.stderr).toBe(0);
    const delta = deltaBundle(key, twin(10, ""), twin(20, "# same\n"));
    const base = treeBytesOf(appEnv(twin(10, "")).draft);
    const trees = new Map([[sha256Hex(base), base]]);
    const read = await readBundle(delta, [key.publicKey], "delta", { trees });
    await expect(readBundle(delta, [key.publicKey])).rejects.toThrow(/base tree .* not at hand/);
    const shared = read.manifest.patches.filter(
      (p, _, all) => all.filter((q) => q.sha256 === p.sha256).length > 1,
    );
    expect(shared.length).toBe(2);
    expect(read.patches.size).toBe(read.manifest.patches.length - 1);
    const r = await agent(["apply", bundleFile("twin2.bundle", delta)]);
    expect(r.status, r.stderr).toBe(0);
    expect(checkCurrent(root, "twin")).toBe(20);
    await verifyClean();
  });

  it("bootstraps a device from the agent its first bundle carries", async () => {
    const fresh = path.join(dir, "fresh-device");
    const file = bundleFile(
      "boot.bundle",
      fullBundle(key, { app: "boot", sequence: 1 }, agentSource()),
    );
    const r = await runAgent(["--root", fresh, "--key", pub, "apply", file], { pathDir: bin });
    expect(r.status, r.stderr).toBe(0);
    const carried = path.join(fresh, "agent/slimenv-agent.py");
    const s = spawnSync(agentPython(), ["-I", carried, "--root", fresh, "--json", "status"]);
    expect(s.status, s.stderr.toString()).toBe(0);
    const boot = JSON.parse(s.stdout.toString()).apps.boot;
    expect(boot.current).toBe(1);
    // status names each kept generation's tree by the hash of its stored bytes
    const tree = readFileSync(path.join(fresh, "apps/boot/manifests/1.tree.json"));
    expect(boot.generations[0].tree).toBe(sha256Hex(tree));
    // the bundle is a plain zip: python3 -m zipfile takes the agent out of it
    const out = path.join(dir, "boot-extract");
    const e = spawnSync(agentPython(), ["-I", "-m", "zipfile", "-e", file, out]);
    expect(e.status, e.stderr.toString()).toBe(0);
    expect(readFileSync(path.join(out, "agent.py"), "utf8")).toBe(agentSource());
    // verify compares each generation's stored tree with the hash its header names
    const treeFile = path.join(fresh, "apps/boot/manifests/1.tree.json");
    writeFileSync(treeFile, Buffer.concat([readFileSync(treeFile), Buffer.from(" ")]));
    const v = await runAgent(["--root", fresh, "verify"], { pathDir: bin });
    expect(v.status).toBe(1);
    expect(v.stderr).toMatch(/boot 1: its stored tree does not match its header/);
  });

  it("lets one agent at a time change the store; status never waits", async () => {
    const dev = path.join(dir, "locked-device");
    const file = bundleFile("lock.bundle", fullBundle(key, { app: "locked", sequence: 1 }));
    const run = (args: string[], env?: Record<string, string>) =>
      runAgent(["--root", dev, "--key", pub, ...args], { pathDir: bin, ...(env ? { env } : {}) });
    const ends: Record<string, number> = {};
    const first = run(["apply", file], { SLIMENV_AGENT_TEST_PAUSE: "1:2" }).then((r) => {
      ends.apply = Date.now();
      return r;
    });
    await new Promise((resolve) => setTimeout(resolve, 700));
    const st = await run(["status", "--json"]);
    // status answered while the paused apply still held the lock: it did not wait for it
    expect(ends.apply).toBeUndefined();
    expect(JSON.parse(st.stdout).busy).toBe(true);
    const gcStart = Date.now();
    const gc = await run(["gc"]);
    ends.gc = Date.now();
    expect(ends.gc - gcStart).toBeGreaterThan(500); // it waited for the lock
    expect(gc.status, gc.stderr).toBe(0);
    expect((await first).status).toBe(0);
    expect(ends.gc + 50).toBeGreaterThanOrEqual(ends.apply ?? Number.POSITIVE_INFINITY);
    expect(checkCurrent(dev, "locked")).toBe(1);
  });

  it("answers usage errors with exit status 2", async () => {
    expect((await agent([])).status).toBe(2);
    expect((await agent(["frobnicate"])).status).toBe(2);
    expect((await agent(["rollback"])).status).toBe(2);
  });
});
