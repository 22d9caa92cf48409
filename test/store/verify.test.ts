import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  linkSync,
  mkdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpClient } from "../../src/index/http.ts";
import { fetchWheel } from "../../src/store/fetch.ts";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import { buildWheel } from "../helpers/wheels.ts";
import { tempDir, tempStore } from "./fixtures.ts";

const sha = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");
const INIT = "print('demo')\n";
const DATA = "d".repeat(2048);
const demo = buildWheel({
  name: "demo",
  version: "1.0",
  files: { "demo/__init__.py": INIT, "demo/data.txt": DATA, "demo/run.sh": DATA },
  executable: ["demo/run.sh"],
});

let server: IndexServer;
let client: HttpClient;
beforeAll(async () => {
  server = await startIndexServer({ projects: { demo: [{ file: demo }] } });
  client = new HttpClient({ env: {}, netrc: false, retries: 0 });
});
afterAll(async () => {
  await client.close();
  await server.close();
});

async function fetched() {
  const store = tempStore({ orphanGraceMs: 0 });
  const ref = {
    url: `${server.filesUrl}${demo.filename}`,
    filename: demo.filename,
    sha256: demo.sha256,
  };
  const wheel = await fetchWheel(store, client, ref);
  return { store, wheel, ref };
}

/** Write `text` into an object through a hard link elsewhere, as a careless tool would. */
function writeThroughHardlink(object: string, text: string): string {
  const dir = tempDir();
  const link = path.join(dir, "mod.py");
  linkSync(object, link);
  chmodSync(link, 0o644); // u+w on the shared inode
  writeFileSync(link, text);
  return link;
}

describe("fetchWheel", () => {
  it("downloads, checks the sha256, imports; skips the download when stored", async () => {
    const { store, wheel, ref } = await fetched();
    expect(wheel.sha256).toBe(demo.sha256);
    server.requests.length = 0;
    const again = await fetchWheel(store, client, ref);
    expect(again).toEqual(wheel);
    expect(server.requests).toEqual([]);
  });

  it("refuses a download whose sha256 differs from the lock", async () => {
    const store = tempStore();
    const ref = {
      url: `${server.filesUrl}${demo.filename}`,
      filename: demo.filename,
      sha256: "a".repeat(64),
    };
    await expect(fetchWheel(store, client, ref)).rejects.toMatchObject({ code: "HASH_MISMATCH" });
    expect(store.status().wheels).toBe(0);
    const wrongSize = { ...ref, sha256: demo.sha256, size: demo.bytes.length + 1 };
    await expect(fetchWheel(store, client, wrongSize)).rejects.toMatchObject({
      code: "HASH_MISMATCH",
    });
  });
});

describe("verify and repair", () => {
  it("a fresh store verifies clean", async () => {
    const { store } = await fetched();
    const report = await store.verify();
    expect(report).toMatchObject({ ok: true, problems: [], orphans: 0, objects: 6 });
  });

  it("detects an object changed through a hard link and repairs it by downloading again", async () => {
    const { store } = await fetched();
    const object = store.objectPath(sha(INIT), false);
    const link = writeThroughHardlink(object, "print('pwned')\n");
    const report = await store.verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({
      kind: "modified",
      path: object,
      hash: sha(INIT),
      repaired: false,
    });
    expect(report.problems[0]?.detail).toContain(sha("print('pwned')\n"));

    const noClient = await store.verify({ repair: true });
    expect(noClient.ok).toBe(false);
    expect(noClient.problems[0]?.unrepairedReason).toMatch(/network client/);

    const repaired = await store.verify({ repair: true, client });
    expect(repaired.ok).toBe(true);
    expect(repaired.problems[0]).toMatchObject({ repaired: true, repairedBy: "download" });
    expect(readFileSync(object, "utf8")).toBe(INIT);
    expect(statSync(object).mode & 0o777).toBe(0o444);
    expect(readFileSync(link, "utf8")).toBe("print('pwned')\n"); // the env's copy is another inode now
    expect((await store.verify()).ok).toBe(true);
  });

  it("repairs from the executable twin", async () => {
    const { store } = await fetched();
    const plain = store.objectPath(sha(DATA), false);
    writeThroughHardlink(plain, "broken");
    const report = await store.verify({ repair: true });
    expect(report.problems).toMatchObject([
      { kind: "modified", repaired: true, repairedBy: "twin" },
    ]);
    expect(readFileSync(plain, "utf8")).toBe(DATA);
    expect(statSync(plain).mode & 0o777).toBe(0o444);
    expect(statSync(`${plain}.x`).mode & 0o777).toBe(0o555);
  });

  it("repairs a missing object from a registered env's copy", async () => {
    const { store, wheel } = await fetched();
    const env = tempDir();
    mkdirSync(path.join(env, "lib"), { recursive: true });
    copyFileSync(store.objectPath(sha(INIT), false), path.join(env, "lib", "init.py"));
    const manifest = path.join(env, "manifest.json");
    writeFileSync(
      manifest,
      JSON.stringify({
        version: 1,
        packages: [{ name: "demo", files: [{ path: "lib/init.py", hash: sha(INIT) }] }],
      }),
    );
    store.registerEnv(env, [wheel], manifest);
    unlinkSync(store.objectPath(sha(INIT), false));
    const report = await store.verify({ repair: true });
    expect(report.problems).toMatchObject([
      { kind: "missing", repaired: true, repairedBy: "env-copy" },
    ]);
    expect(readFileSync(store.objectPath(sha(INIT), false), "utf8")).toBe(INIT);
  });

  it("resets a changed mode, removes stray files and old orphans", async () => {
    const { store } = await fetched();
    const object = store.objectPath(sha(INIT), false);
    chmodSync(object, 0o644);
    const stray = path.join(store.root, "objects", "zz", "junk");
    mkdirSync(path.dirname(stray), { recursive: true });
    writeFileSync(stray, "junk");
    const orphanHash = sha("orphan");
    const orphan = store.objectPath(orphanHash, false);
    mkdirSync(path.dirname(orphan), { recursive: true });
    writeFileSync(orphan, "orphan", { mode: 0o444 });
    const before = await store.verify();
    expect(before.problems.map((p) => p.kind).sort()).toEqual(["mode", "stray"]);
    expect(before.orphans).toBe(1);
    const after = await store.verify({ repair: true });
    expect(after.ok).toBe(true);
    expect(after.orphansRemoved).toBe(1);
    expect(statSync(object).mode & 0o777).toBe(0o444);
    expect(await store.verify()).toMatchObject({ ok: true, problems: [], orphans: 0 });
  });
});
