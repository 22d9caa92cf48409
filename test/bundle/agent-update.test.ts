/**
 * `update` against a static repository served on 127.0.0.1: full then delta, up to date,
 * a download cut half way and resumed with Range, stale partial downloads dropped, an oversized or corrupted blob, a replayed
 * or wrongly signed channel index.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalJsonBytes } from "../../src/bundle/canonical-json.ts";
import { formatPublicKey, generateSigningKey, signDocument } from "../../src/bundle/keys.ts";
import type { ChannelIndex } from "../../src/bundle/types.ts";
import {
  type AppSpec,
  binDir,
  checkCurrent,
  deltaBundle,
  fullBundle,
  headerBytesOf,
  publishToRepo,
  pythons,
  type RepoServer,
  runAgent,
  serveRepo,
  snapshot,
} from "./agent-helpers.ts";

const key = generateSigningKey();
let dir: string;
let bin: string;
let root: string;
let repo: string;
let pub: string;
let server: RepoServer;

const v1: AppSpec = { sequence: 100 };
const v2: AppSpec = { sequence: 200, files: { "lib/myapp/two.py": "X = 2\n" } };
const v3: AppSpec = {
  sequence: 300,
  files: { "lib/myapp/two.py": "X = 3\n", "lib/myapp/big.bin": "x".repeat(300_000) },
};

function update(extra: string[] = []) {
  return runAgent(
    [
      "--root",
      root,
      "--key",
      pub,
      "update",
      "--repo",
      server.url,
      "--app",
      "myapp",
      "--channel",
      "stable",
      ...extra,
    ],
    { pathDir: bin },
  );
}

function writeIndex(doc: ChannelIndex, signer = key) {
  const bytes = canonicalJsonBytes(doc);
  writeFileSync(path.join(repo, "channels/stable/myapp.json"), bytes);
  writeFileSync(path.join(repo, "channels/stable/myapp.json.sig"), signDocument(signer, bytes));
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "slimenv-update-"));
  bin = binDir(dir);
  root = path.join(dir, "device");
  repo = path.join(dir, "repo");
  pub = path.join(dir, "fleet.pub");
  writeFileSync(pub, formatPublicKey(key.publicKey));
  server = await serveRepo(repo);
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("update from a repository", () => {
  it("installs the full bundle first, then the delta from the current sequence", async () => {
    publishToRepo(repo, key, "stable", "myapp", {
      sequence: 100,
      version: "1.100",
      full: fullBundle(key, v1),
    });
    const r1 = await update(["--json"]);
    expect(r1.status, r1.stderr).toBe(0);
    expect(JSON.parse(r1.stdout)).toMatchObject({ sequence: 100, download: "full" });
    expect(checkCurrent(root, "myapp")).toBe(100);

    const idx = publishToRepo(repo, key, "stable", "myapp", {
      sequence: 200,
      version: "1.200",
      full: fullBundle(key, v2),
      deltas: [{ from: 100, bytes: deltaBundle(key, v1, v2) }],
    });
    server.log.length = 0;
    const r2 = await update(["--json"]);
    expect(r2.status, r2.stderr).toBe(0);
    expect(JSON.parse(r2.stdout)).toMatchObject({ sequence: 200, download: "delta" });
    const delta = idx.deltas[0]?.sha256 as string;
    expect(server.log).toContain(`GET /blobs/sha256/${delta.slice(0, 2)}/${delta.slice(2)}`);
    expect(server.log.some((l) => l.includes(idx.full.sha256.slice(2)))).toBe(false);
    expect(checkCurrent(root, "myapp")).toBe(200);
  });

  it("says up to date when the channel has nothing newer", async () => {
    const r = await update(["--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ changed: false });
  });

  it("resumes a download cut half way with a Range request", async () => {
    const idx = publishToRepo(repo, key, "stable", "myapp", {
      sequence: 300,
      version: "1.300",
      full: fullBundle(key, v3),
      deltas: [{ from: 200, bytes: deltaBundle(key, v2, v3, { patch: false }) }],
    });
    const delta = idx.deltas[0] as { sha256: string; size: number };
    server.cutBlobs(1);
    const r1 = await update();
    expect(r1.status).toBe(1);
    expect(r1.stderr).toMatch(/interrupted at \d+ of \d+ bytes.*resumes/);
    const part = path.join(root, "tmp/downloads", `${delta.sha256}.part`);
    const half = statSync(part).size;
    expect(half).toBeGreaterThan(0);
    expect(half).toBeLessThan(delta.size);
    expect(checkCurrent(root, "myapp")).toBe(200);
    server.log.length = 0;
    const r2 = await update();
    expect(r2.status, r2.stderr).toBe(0);
    expect(server.log).toContain(
      `GET /blobs/sha256/${delta.sha256.slice(0, 2)}/${delta.sha256.slice(2)} bytes=${half}-`,
    );
    expect(checkCurrent(root, "myapp")).toBe(300);
    expect(existsSync(part)).toBe(false);
  });

  it("drops partial downloads untouched for 7 days on update, and every one on gc", async () => {
    const downloads = path.join(root, "tmp/downloads");
    const stale = path.join(downloads, `${"a".repeat(64)}.part`);
    const fresh = path.join(downloads, `${"b".repeat(64)}.part`);
    writeFileSync(stale, "x".repeat(1000));
    writeFileSync(fresh, "y".repeat(500));
    const eightDaysAgo = Date.now() / 1000 - 8 * 24 * 3600;
    utimesSync(stale, eightDaysAgo, eightDaysAgo);
    const sixDaysAgo = Date.now() / 1000 - 6 * 24 * 3600;
    utimesSync(fresh, sixDaysAgo, sixDaysAgo);
    const r = await update(["--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ changed: false });
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
    const gc = await runAgent(["--root", root, "--key", pub, "--json", "gc"], { pathDir: bin });
    expect(gc.status, gc.stderr).toBe(0);
    expect(JSON.parse(gc.stdout)).toMatchObject({
      ok: true,
      partialDownloadsRemoved: 1,
      partialBytesRemoved: 500,
    });
    expect(readdirSync(downloads)).toEqual([]);
    expect(checkCurrent(root, "myapp")).toBe(300);
  });

  it("refuses an oversized download, a corrupted blob, a replayed or foreign index — changing nothing", async () => {
    const full4 = fullBundle(key, { sequence: 400 });
    const idx = publishToRepo(repo, key, "stable", "myapp", {
      sequence: 400,
      version: "1.400",
      full: full4,
    });
    const before = snapshot(root);
    const downloads = path.join(root, "tmp/downloads");

    writeIndex({ ...idx, full: { ...idx.full, size: idx.full.size - 100 } });
    let r = await update();
    expect(r.stderr).toMatch(/larger than the \d+ bytes the index says/);
    expect(r.status).toBe(1);
    expect(readdirSync(downloads)).toEqual([]);

    const blob = path.join(
      repo,
      "blobs/sha256",
      idx.full.sha256.slice(0, 2),
      idx.full.sha256.slice(2),
    );
    const flipped = new Uint8Array(full4);
    flipped[2000] = (flipped[2000] as number) ^ 1;
    writeFileSync(blob, flipped);
    writeIndex(idx);
    r = await update();
    expect(r.stderr).toMatch(/does not match its hash/);
    expect(r.status).toBe(1);
    expect(readdirSync(downloads)).toEqual([]);
    writeFileSync(blob, full4);

    writeIndex({ ...idx, sequence: 150 });
    r = await update();
    expect(r.stderr).toMatch(/replay: channel index sequence 150 is older than 300/);
    expect(r.status).toBe(1);

    writeIndex(idx, generateSigningKey());
    r = await update();
    expect(r.stderr).toMatch(
      /channel index stable\/myapp: signed by key \w+, which is not trusted/,
    );
    expect(r.status).toBe(1);

    writeIndex({ ...idx, app: "otherapp" });
    r = await update();
    expect(r.stderr).toMatch(/names another app or channel/);
    expect(r.status).toBe(1);
    expect(snapshot(root)).toEqual(before);

    writeIndex(idx);
    r = await update();
    expect(r.status, r.stderr).toBe(0);
    expect(checkCurrent(root, "myapp")).toBe(400);
  });

  it("falls back to the full bundle when the delta's blob is gone", async () => {
    const v4: AppSpec = { sequence: 400 };
    const v5: AppSpec = { sequence: 500, files: { "lib/myapp/five.py": "" } };
    const idx = publishToRepo(repo, key, "stable", "myapp", {
      sequence: 500,
      version: "1.500",
      full: fullBundle(key, v5),
      deltas: [{ from: 400, bytes: deltaBundle(key, v4, v5) }],
    });
    const d = idx.deltas[0]?.sha256 as string;
    rmSync(path.join(repo, "blobs/sha256", d.slice(0, 2), d.slice(2)));
    const r = await update(["--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ sequence: 500, download: "full" });
  });

  it("falls back to the full bundle when the delta patches a tree the device does not keep", async () => {
    // the delta's objects are all on the device, but its tree patches another generation's
    const stranger: AppSpec = { sequence: 450, files: { "lib/myapp/stranger.py": "S = 1\n" } };
    const v6: AppSpec = { sequence: 550, files: { "lib/myapp/five.py": "" } };
    const delta = deltaBundle(key, stranger, v6, { patch: false });
    expect(Buffer.from(headerBytesOf(delta)).toString()).toContain('"encoding":"sldiff"');
    publishToRepo(repo, key, "stable", "myapp", {
      sequence: 550,
      version: "1.550",
      full: fullBundle(key, v6),
      deltas: [{ from: 500, bytes: delta }],
    });
    server.log.length = 0;
    const r = await update(["--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ sequence: 550, download: "full" });
    expect(server.log.filter((l) => l.startsWith("GET /blobs/"))).toHaveLength(2);
    expect(checkCurrent(root, "myapp")).toBe(550);
  });

  it("updates from a file:// repository and trusts keys in ROOT/keys, under CPython 3.8", async () => {
    const py38 = pythons().get("3.8");
    if (py38 === undefined) return;
    publishToRepo(repo, key, "stable", "myapp", {
      sequence: 600,
      version: "1.600",
      full: fullBundle(key, { sequence: 600 }),
    });
    mkdirSync(path.join(root, "keys"), { recursive: true });
    copyFileSync(pub, path.join(root, "keys/fleet.pub"));
    const r = await runAgent(
      [
        "--root",
        root,
        "update",
        "--repo",
        `file://${repo}`,
        "--app",
        "myapp",
        "--channel",
        "stable",
      ],
      { pathDir: bin, python: py38 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(checkCurrent(root, "myapp")).toBe(600);
  });
});
