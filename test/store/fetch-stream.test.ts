/**
 * fetchWheel streams the wheel into the store's tmp/ (never into memory), checks its size
 * and sha256 against the lock before importing it from that file, and removes the temp file
 * in every case. Every refused download leaves the store exactly as it was.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { isSlimenvError, type Reporter, type SlimenvError } from "../../src/base/index.ts";
import { HttpClient } from "../../src/index/http.ts";
import { downloadWheel, type WheelFileRef } from "../../src/store/download.ts";
import { fetchWheel } from "../../src/store/fetch.ts";
import type { Store } from "../../src/store/store.ts";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import { type BuiltWheel, buildWheel } from "../helpers/wheels.ts";
import { filesUnder, tableCounts, tempStore } from "./fixtures.ts";

const USER = "alice";
const PASSWORD = "pa55-not-for-logs";

const demo = buildWheel({
  name: "demo",
  version: "1.0",
  files: { "demo/__init__.py": "print('demo')\n", "demo/data.bin": "d".repeat(200_000) },
  level: 0,
});
const other = buildWheel({ name: "other", version: "2.0" });

let server: IndexServer;
let authServer: IndexServer;
let client: HttpClient;

beforeAll(async () => {
  const projects = { demo: [{ file: demo }], other: [{ file: other }] };
  server = await startIndexServer({ projects });
  authServer = await startIndexServer({ projects, auth: { user: USER, password: PASSWORD } });
  client = new HttpClient({ env: {}, netrc: false, retryBaseMs: 5 });
});
afterAll(async () => {
  await client.close();
  await server.close();
  await authServer.close();
});

function ref(wheel: BuiltWheel, base = server.filesUrl, extra: Partial<WheelFileRef> = {}) {
  return {
    url: `${base}${wheel.filename}`,
    filename: wheel.filename,
    sha256: wheel.sha256,
    size: wheel.bytes.length,
    ...extra,
  };
}

/** What is on disk and in the index: equal before and after a refused download. */
function snapshot(store: Store) {
  return {
    counts: tableCounts(store.root),
    objects: filesUnder(path.join(store.root, "objects")),
    trees: filesUnder(path.join(store.root, "trees")),
    tmp: filesUnder(path.join(store.root, "tmp")),
  };
}

/** A store that already holds `other`, so "nothing changed" is not just "empty". */
async function usedStore(): Promise<Store> {
  const store = tempStore();
  await fetchWheel(store, client, ref(other));
  return store;
}

async function refused(store: Store, run: () => Promise<unknown>): Promise<SlimenvError> {
  const before = snapshot(store);
  let error: unknown;
  try {
    await run();
  } catch (err) {
    error = err;
  }
  if (!isSlimenvError(error)) throw new Error(`expected a SlimenvError, got ${String(error)}`);
  expect(snapshot(store)).toEqual(before);
  expect(before.tmp).toEqual([]);
  return error;
}

function storedUrl(store: Store, sha256: string): string | null {
  const db = new DatabaseSync(path.join(store.root, "index.sqlite"), { readOnly: true });
  try {
    const row = db.prepare("SELECT url FROM wheels WHERE sha256 = ?").get(sha256) as {
      url: string | null;
    };
    return row.url;
  } finally {
    db.close();
  }
}

describe("fetchWheel streams to the store's tmp/", () => {
  it("downloads into tmp/, imports from that file, and leaves no temp file", async () => {
    const store = tempStore();
    const tmp = path.join(store.root, "tmp");
    const seen: { advanced: number; tmp: string[] }[] = [];
    let advanced = 0;
    const reporter: Reporter = {
      log() {},
      task(label) {
        return {
          advance(n) {
            if (!label.startsWith("download ")) return;
            advanced += n;
            seen.push({ advanced, tmp: filesUnder(tmp) });
          },
          setTotal() {},
          done() {},
        };
      },
    };
    const wheel = await fetchWheel(store, client, ref(demo), reporter);
    expect(wheel.sha256).toBe(demo.sha256);
    expect(wheel.files.map((f) => f.path)).toContain("demo/data.bin");
    expect(advanced).toBe(demo.bytes.length);
    // While it arrived, the wheel was one temp file in the store's tmp/ (same file system).
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) expect(s.tmp).toEqual([expect.stringMatching(/\.download$/)]);
    expect(filesUnder(tmp)).toEqual([]);
    expect(storedUrl(store, demo.sha256)).toBe(ref(demo).url);
  });

  it("retries a connection dropped mid-body and imports the right bytes", async () => {
    for (const fault of [{ reset: 50_000 }, { truncate: 120_000 }]) {
      const store = tempStore();
      server.requests.length = 0;
      server.setFaults([{ path: `/files/${demo.filename}`, times: 1, ...fault }]);
      try {
        const wheel = await fetchWheel(store, client, ref(demo));
        expect(wheel.sha256).toBe(demo.sha256);
      } finally {
        server.setFaults([]);
      }
      expect(server.requests.map((r) => r.path)).toEqual([
        `/files/${demo.filename}`,
        `/files/${demo.filename}`,
      ]);
      expect(filesUnder(path.join(store.root, "tmp"))).toEqual([]);
      expect((await store.verify()).ok).toBe(true);
    }
  });

  it("follows a redirect to another host", async () => {
    const store = tempStore();
    const moved = await startIndexServer({ projects: { demo: [{ file: demo }] } });
    try {
      moved.requests.length = 0;
      server.setFaults([
        {
          path: `/files/${demo.filename}`,
          status: 302,
          headers: { location: `${moved.filesUrl}${demo.filename}` },
        },
      ]);
      const wheel = await fetchWheel(store, client, ref(demo));
      expect(wheel.sha256).toBe(demo.sha256);
      expect(moved.requests.map((r) => r.path)).toEqual([`/files/${demo.filename}`]);
      // The store remembers the URL the lock names, not where it happened to be served from.
      expect(storedUrl(store, demo.sha256)).toBe(ref(demo).url);
    } finally {
      server.setFaults([]);
      await moved.close();
    }
  });

  it("downloads a 64 MiB stored wheel without any body in memory", async () => {
    const size = 64 * 1024 * 1024;
    const big = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) big[i] = (i >>> 12) & 0xff;
    const large = buildWheel({
      name: "large",
      version: "1.0",
      files: { "large/blob.bin": big },
      level: 0,
    });
    expect(large.bytes.length).toBeGreaterThan(size);
    const host = await startIndexServer({ projects: { large: [{ file: large }] } });
    const c = new HttpClient({ env: {}, netrc: false });
    const get = vi.spyOn(c, "get");
    const download = vi.spyOn(c, "download");
    try {
      const store = tempStore();
      let pieces = 0;
      const reporter: Reporter = {
        log() {},
        task: () => ({ advance: () => void pieces++, setTotal() {}, done() {} }),
      };
      const wheel = await fetchWheel(store, c, ref(large, host.filesUrl), reporter);
      const blob = wheel.files.find((f) => f.path === "large/blob.bin");
      expect(blob?.size).toBe(size);
      // Only the streaming call was used, and what it returned holds no body.
      expect(get).not.toHaveBeenCalled();
      expect(download).toHaveBeenCalledTimes(1);
      const result = await (download.mock.results[0]?.value as ReturnType<HttpClient["download"]>);
      expect(Object.keys(result).sort()).toEqual(["headers", "sha256", "size", "status", "url"]);
      expect(result.size).toBe(large.bytes.length);
      // Progress came in many pieces: the body was written as it arrived.
      expect(pieces).toBeGreaterThan(100);
      expect(filesUnder(path.join(store.root, "tmp"))).toEqual([]);
      expect(readFileSync(store.objectPath(blob?.hash ?? "", false)).equals(big)).toBe(true);
    } finally {
      await c.close();
      await host.close();
    }
  }, 60_000);
});

describe("refused downloads change nothing in the store", () => {
  it("a wrong sha256 (lock or bytes) is HASH_MISMATCH", async () => {
    const store = await usedStore();
    const wrongLock = await refused(store, () =>
      fetchWheel(store, client, ref(demo, server.filesUrl, { sha256: "a".repeat(64) })),
    );
    expect(wrongLock.code).toBe("HASH_MISMATCH");
    expect(wrongLock.message).toBe(
      `${demo.filename} from ${ref(demo).url}: sha256 is ${demo.sha256}, the lock expects ${"a".repeat(64)}`,
    );
    server.setFaults([{ path: `/files/${demo.filename}`, corrupt: true }]);
    try {
      const corrupt = await refused(store, () => fetchWheel(store, client, ref(demo)));
      expect(corrupt.code).toBe("HASH_MISMATCH");
    } finally {
      server.setFaults([]);
    }
  });

  it("a body longer than the lock's size is cut off (HTTP_ERROR), a shorter one refused", async () => {
    const store = await usedStore();
    const small = demo.bytes.length - 1000;
    server.setFaults([{ path: `/files/${demo.filename}`, chunked: true }]);
    try {
      const longer = await refused(store, () =>
        fetchWheel(store, client, ref(demo, server.filesUrl, { size: small })),
      );
      expect(longer.code).toBe("HTTP_ERROR");
      expect(longer.message).toBe(
        `GET ${ref(demo).url}: the response is larger than the limit of ${small} bytes`,
      );
    } finally {
      server.setFaults([]);
    }
    const declared = await refused(store, () =>
      fetchWheel(store, client, ref(demo, server.filesUrl, { size: small })),
    );
    expect(declared.code).toBe("HTTP_ERROR");
    const shorter = await refused(store, () =>
      fetchWheel(store, client, ref(demo, server.filesUrl, { size: demo.bytes.length + 1 })),
    );
    expect(shorter.code).toBe("HASH_MISMATCH");
    expect(shorter.message).toBe(
      `${demo.filename}: downloaded ${demo.bytes.length} bytes, the lock says ${demo.bytes.length + 1}`,
    );
  });

  it("a 404, a failing server and offline are clear errors", async () => {
    const store = await usedStore();
    const missing = { ...ref(demo), url: `${server.filesUrl}nope-1.0-py3-none-any.whl` };
    const notFound = await refused(store, () => fetchWheel(store, client, missing));
    expect([notFound.code, notFound.message]).toEqual([
      "HTTP_ERROR",
      `GET ${missing.url}: HTTP 404 for ${demo.filename}`,
    ]);
    server.setFaults([{ path: `/files/${demo.filename}`, status: 503 }]);
    try {
      const c = new HttpClient({ env: {}, netrc: false, retries: 1, retryBaseMs: 5 });
      const failing = await refused(store, () => fetchWheel(store, c, ref(demo)));
      await c.close();
      expect(failing.code).toBe("HTTP_ERROR");
    } finally {
      server.setFaults([]);
    }
    const offline = new HttpClient({ env: {}, netrc: false, offline: true });
    const err = await refused(store, () => fetchWheel(store, offline, ref(demo)));
    expect(err.code).toBe("OFFLINE_CACHE_MISS");
    // A wheel the store holds needs no network, offline or not.
    expect((await fetchWheel(store, offline, ref(other))).sha256).toBe(other.sha256);
  });

  it("credentials reach the server but never an error or the index", async () => {
    const store = await usedStore();
    const base = authServer.filesUrl.replace("http://", `http://${USER}:${PASSWORD}@`);
    const errors: SlimenvError[] = [];
    errors.push(
      await refused(store, () =>
        fetchWheel(store, client, ref(demo, base, { sha256: "b".repeat(64) })),
      ),
    );
    errors.push(
      await refused(store, () =>
        fetchWheel(store, client, { ...ref(demo, base), url: `${base}missing.whl` }),
      ),
    );
    errors.push(
      await refused(store, () => fetchWheel(store, client, ref(demo, base, { size: 10 }))),
    );
    const wrong = base.replace(PASSWORD, "wrong-password");
    errors.push(await refused(store, () => fetchWheel(store, client, ref(demo, wrong))));
    expect(errors.map((e) => e.code)).toEqual([
      "HASH_MISMATCH",
      "HTTP_ERROR",
      "HTTP_ERROR",
      "HTTP_ERROR",
    ]);
    for (const e of errors) {
      const all = `${e.message}\n${e.hint ?? ""}\n${String(e.cause ?? "")}\n${JSON.stringify(e)}`;
      expect(all).not.toContain(PASSWORD);
      expect(all).not.toContain("wrong-password");
    }
    const wheel = await fetchWheel(store, client, ref(demo, base));
    expect(storedUrl(store, wheel.sha256)).toBe(`${authServer.filesUrl}${demo.filename}`);
  });
});

describe("downloadWheel (bytes, for library callers)", () => {
  it("still returns the checked bytes", async () => {
    const bytes = await downloadWheel(client, ref(demo));
    expect(Buffer.from(bytes).equals(Buffer.from(demo.bytes))).toBe(true);
    await expect(
      downloadWheel(client, ref(demo, server.filesUrl, { sha256: "c".repeat(64) })),
    ).rejects.toMatchObject({ code: "HASH_MISMATCH" });
  });
});
