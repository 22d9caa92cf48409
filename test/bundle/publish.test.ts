/**
 * publish → a static repository served by an in-process HTTP server on 127.0.0.1 → the
 * device agent's `update`: the first update downloads the full bundle, the next one the
 * delta. And the refusals: a bundle signed by another key, a delta, a replayed sequence —
 * each leaves the repository as it was.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/bundle/hashing.ts";
import { signingKeyFromSeed, verifyDocument } from "../../src/bundle/keys.ts";
import { packEnv } from "../../src/bundle/pack.ts";
import { blobPath, publishBundle } from "../../src/bundle/publish.ts";
import type { ChannelIndex } from "../../src/bundle/types.ts";
import { readBundle } from "../../src/bundle/wire.ts";
import { type IndexServer, parseRange, startIndexServer } from "../helpers/index-server.ts";
import { expectSlimenvError, run, snapshot, tempDir } from "../install/fixtures.ts";
import {
  buildEnv,
  demoProjects,
  PY,
  pyPath,
  runAgentAsync,
  testKey,
  writeTestKey,
} from "./bundle-fixtures.ts";

/** Serve `dir` read-only (GET, Range); remember the paths asked for. */
async function serveDir(
  dir: string,
): Promise<{ url: string; log: string[]; close(): Promise<void> }> {
  const log: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? "/").split("?")[0] ?? "/");
    log.push(url);
    const file = path.join(dir, path.normalize(url));
    let body: Buffer;
    try {
      if (!file.startsWith(dir)) throw new Error("outside");
      body = readFileSync(file);
    } catch {
      res.writeHead(404).end();
      return;
    }
    const range =
      req.headers.range === undefined ? "all" : parseRange(req.headers.range, body.length);
    if (range === 416) {
      res.writeHead(416).end();
    } else if (range === "all") {
      res.writeHead(200, { "content-length": body.length }).end(body);
    } else {
      const [a, b] = range;
      res
        .writeHead(206, {
          "content-length": b - a + 1,
          "content-range": `bytes ${a}-${b}/${body.length}`,
        })
        .end(body.subarray(a, b + 1));
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe.skipIf(PY === undefined)("publish → HTTP repository → agent update", () => {
  let index: IndexServer;
  let root: string;
  let repo: string;
  let http: Awaited<ReturnType<typeof serveDir>>;
  let keys: { key: string; pub: string };
  const key = testKey();
  const bundles: Uint8Array[] = [];

  beforeAll(async () => {
    index = await startIndexServer({ projects: demoProjects() });
    root = tempDir("publish");
    repo = path.join(root, "repo");
    keys = writeTestKey(root);
    const store = path.join(root, "store");
    for (const [i, v] of (["1.0", "2.0"] as const).entries()) {
      await buildEnv(path.join(root, `ci${i}`), "env", `demo==${v}`, index.url, store);
      const packed = await packEnv(path.join(root, `ci${i}`, "env"), {
        app: "demo",
        version: v,
        key,
        sequence: 10 + i,
        storeRoot: store,
      });
      bundles.push(packed.bytes);
    }
    http = await serveDir(repo);
  });
  afterAll(async () => {
    await index.close();
    await http.close();
  });

  const device = () => path.join(root, "device");
  const update = () =>
    runAgentAsync(root, [
      "--root",
      device(),
      "--key",
      keys.pub,
      "--json",
      "update",
      "--repo",
      http.url,
      "--app",
      "demo",
      "--channel",
      "stable",
    ]);
  const version = () =>
    run(
      path.join(device(), "apps", "demo", "current", "bin", "python"),
      ["-c", "import demo; print(demo.__version__)"],
      {
        PATH: pyPath(),
      },
    ).stdout;

  it("publishes v1 (no deltas yet); the device updates from the full bundle", async () => {
    const published = new Date("2026-12-06T17:00:00Z");
    const first = await publishBundle(bundles[0] as Uint8Array, {
      repo,
      channel: "stable",
      key,
      published,
    });
    expect(first.deltas).toEqual([]);
    const indexBytes = readFileSync(path.join(repo, "channels", "stable", "demo.json"));
    const sig = readFileSync(path.join(repo, "channels", "stable", "demo.json.sig"));
    expect(verifyDocument(indexBytes, sig, [key.publicKey], "index")).toBe(key.publicKey.keyid);
    const idx = JSON.parse(indexBytes.toString()) as ChannelIndex;
    expect(idx).toMatchObject({ app: "demo", channel: "stable", sequence: 10, version: "1.0" });
    expect(readFileSync(blobPath(repo, idx.full.sha256)).length).toBe(idx.full.size);

    const res = await update();
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    expect(http.log).toContain(
      `/blobs/sha256/${idx.full.sha256.slice(0, 2)}/${idx.full.sha256.slice(2)}`,
    );
    expect(version()).toBe("1.0\n");
  });

  it("publishes v2 with a delta from v1; the device's update downloads only the delta", async () => {
    const second = await publishBundle(bundles[1] as Uint8Array, {
      repo,
      channel: "stable",
      key,
      deltas: 3,
    });
    expect(second.deltas.map((d) => d.from)).toEqual([10]);
    const delta = second.deltas[0] as { sha256: string; size: number };
    expect(delta.size * 2).toBeLessThan(second.full.size);
    // publish's delta: the tree patched against the kept v1 bundle's tree, no agent
    const blob = new Uint8Array(readFileSync(blobPath(repo, delta.sha256)));
    const v1 = await readBundle(bundles[0] as Uint8Array, [key.publicKey]);
    const read = await readBundle(blob, [key.publicKey], "delta", {
      trees: new Map([[sha256Hex(v1.treeBytes), v1.treeBytes]]),
    });
    expect(read.manifest.tree.encoding).toBe("sldiff");
    expect(read.manifest.agent).toBeNull();
    const idx = JSON.parse(
      readFileSync(path.join(repo, "channels", "stable", "demo.json"), "utf8"),
    ) as ChannelIndex;
    const v2 = await readBundle(bundles[1] as Uint8Array, [key.publicKey]);
    expect(idx.header.sha256).toBe(sha256Hex(v2.headerBytes));
    http.log.length = 0;
    const res = await update();
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    const blobs = http.log.filter((p) => p.startsWith("/blobs/"));
    expect(blobs).toEqual([`/blobs/sha256/${delta.sha256.slice(0, 2)}/${delta.sha256.slice(2)}`]);
    expect(version()).toBe("2.0\n");
  });

  it("refuses a bundle of another key, a delta, a replay; the repository is unchanged", async () => {
    const before = snapshot(repo);
    const other = signingKeyFromSeed(new Uint8Array(32).fill(9));
    await expect(
      publishBundle(bundles[1] as Uint8Array, { repo, channel: "stable", key: other }),
    ).rejects.toThrow(/not trusted/);
    await expectSlimenvError(
      Promise.resolve().then(() =>
        publishBundle(bundles[1] as Uint8Array, { repo, channel: "stable", key }),
      ),
      "INVALID_OPTION",
      /sequence 11/,
    );
    await expectSlimenvError(
      Promise.resolve().then(() =>
        publishBundle(bundles[0] as Uint8Array, { repo, channel: "Bad Channel", key }),
      ),
      "INVALID_OPTION",
    );
    expect(snapshot(repo)).toEqual(before);
  });
});
