/**
 * The HTTP cache: freshness, revalidation, what is (not) stored, offline mode, and that a
 * damaged or half-written entry is never served.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HttpClient } from "../../src/index/http.ts";
import {
  type CacheMeta,
  cacheKey,
  currentAge,
  decodeEntry,
  encodeEntry,
  freshnessLifetime,
  HttpCache,
  isFresh,
  isStorable,
  parseCacheControl,
} from "../../src/index/http-cache.ts";
import type { HttpClientOptions } from "../../src/index/http-types.ts";
import {
  type Handler,
  rejection,
  startServer,
  type TestServer,
  tempDir,
  text,
} from "./http-fixtures.ts";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function serve(handler: Handler): Promise<TestServer> {
  const server = await startServer(handler);
  cleanups.push(() => server.close());
  return server;
}

function cacheDirectory(): string {
  const dir = tempDir("http-cache");
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function client(cacheDir: string, options: HttpClientOptions = {}): HttpClient {
  const c = new HttpClient({ cacheDir, retryBaseMs: 5, netrc: false, env: {}, ...options });
  cleanups.push(() => c.close());
  return c;
}

/** Every file under the cache dir (entries and temp files), relative. */
function cacheFiles(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .sort();
}

/** Flip the last byte of the one cache entry in `dir` (its body; the length stays); its path. */
function damageLastByte(dir: string): string {
  const file = path.join(dir, cacheFiles(dir)[0] as string);
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 1] = 0x21;
  fs.writeFileSync(file, bytes);
  return file;
}

function meta(headers: Record<string, string>, at: number): CacheMeta {
  return {
    requestUrl: "http://x/",
    accept: "*/*",
    range: undefined,
    url: "http://x/",
    status: 200,
    headers,
    requestTime: at,
    responseTime: at,
  };
}

describe("freshness rules", () => {
  const t0 = Date.parse("Tue, 01 Jul 2025 00:00:00 GMT");

  it("parses Cache-Control", () => {
    const cc = parseCacheControl('max-age=60, No-Cache, private="set-cookie", max-age=5');
    expect(cc.get("max-age")).toBe("60");
    expect(cc.get("no-cache")).toBe(true);
    expect(cc.get("private")).toBe("set-cookie");
    expect(parseCacheControl(undefined).size).toBe(0);
  });

  it("takes s-maxage, then max-age, then Expires - Date", () => {
    expect(freshnessLifetime({ "cache-control": "max-age=60, s-maxage=10" })).toBe(10_000);
    expect(freshnessLifetime({ "cache-control": "max-age=60" })).toBe(60_000);
    expect(
      freshnessLifetime({
        date: "Tue, 01 Jul 2025 00:00:00 GMT",
        expires: "Tue, 01 Jul 2025 00:02:00 GMT",
      }),
    ).toBe(120_000);
    expect(freshnessLifetime({ expires: "0" })).toBe(0);
    expect(freshnessLifetime({ "last-modified": "Tue, 01 Jul 2025 00:00:00 GMT" })).toBe(0);
  });

  it("ages an entry by Age, transit and residence", () => {
    const m = { ...meta({ age: "30" }, t0), requestTime: t0 - 2000 };
    expect(currentAge(m, t0 + 10_000)).toBe(42_000);
    expect(isFresh(meta({ "cache-control": "max-age=60", age: "30" }, t0), t0 + 29_000)).toBe(true);
    expect(isFresh(meta({ "cache-control": "max-age=60", age: "30" }, t0), t0 + 31_000)).toBe(
      false,
    );
    expect(isFresh(meta({ "cache-control": "max-age=60, no-cache" }, t0), t0)).toBe(false);
  });

  it("stores what a shared cache may", () => {
    expect(isStorable(200, {}, false, false)).toBe(true);
    expect(isStorable(200, { "cache-control": "no-store" }, false, false)).toBe(false);
    expect(isStorable(200, { "cache-control": "private, max-age=60" }, false, false)).toBe(false);
    expect(isStorable(200, { vary: "Accept, *" }, false, false)).toBe(false);
    expect(isStorable(404, {}, false, false)).toBe(false);
    expect(isStorable(206, {}, false, false)).toBe(false);
    expect(isStorable(206, {}, true, false)).toBe(true);
    expect(isStorable(200, {}, true, false)).toBe(false);
    expect(isStorable(200, {}, false, true)).toBe(false);
    expect(isStorable(200, { "cache-control": "public" }, false, true)).toBe(true);
  });

  it("keys by URL, Accept and range", () => {
    const a = cacheKey("http://x/simple/a/", "text/html", undefined);
    expect(cacheKey("http://x/simple/a/", "application/json", undefined)).not.toBe(a);
    expect(cacheKey("http://x/simple/a/", "text/html", "bytes=0-1")).not.toBe(a);
    expect(cacheKey("http://x/simple/a/", "text/html", undefined)).toBe(a);
  });

  it("rejects any damaged entry file", () => {
    const good = encodeEntry(meta({}, t0), new TextEncoder().encode("hello"));
    expect(decodeEntry(good)?.body).toEqual(new TextEncoder().encode("hello"));
    for (let cut = 0; cut < good.length; cut++) {
      expect(decodeEntry(good.subarray(0, cut))).toBeUndefined();
    }
    const flipped = Buffer.from(good);
    flipped[flipped.length - 1] = 0x21;
    expect(decodeEntry(flipped)).toBeUndefined();
    expect(decodeEntry(Buffer.concat([good, Buffer.from("x")]))).toBeUndefined();
    expect(decodeEntry(Buffer.from("slimenv-http-cache 1\n{not json}\nbody"))).toBeUndefined();
    expect(decodeEntry(Buffer.from('slimenv-http-cache 1\n{"url":1}\n'))).toBeUndefined();
  });
});

describe("HttpClient with a cache", () => {
  it("serves a fresh entry (max-age) without asking the server", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "cache-control": "max-age=60" });
      res.end("page");
    });
    const dir = cacheDirectory();
    const first = await client(dir).get(`${server.origin}/simple/a/`);
    expect(first.fromCache).toBe(false);
    const second = await client(dir).get(`${server.origin}/simple/a/`);
    expect(second).toMatchObject({
      status: 200,
      fromCache: true,
      url: `${server.origin}/simple/a/`,
    });
    expect(text(second.body)).toBe("page");
    expect(server.requests).toHaveLength(1);
  });

  it("revalidates with If-None-Match and serves the body on 304", async () => {
    const server = await serve((req, res) => {
      if (req.headers["if-none-match"] === '"v1"') {
        res.writeHead(304, { etag: '"v1"' });
        res.end();
        return;
      }
      res.writeHead(200, { etag: '"v1"', "content-type": "text/html" });
      res.end("<html>v1</html>");
    });
    const dir = cacheDirectory();
    const c = client(dir);
    await c.get(`${server.origin}/p`);
    const again = await c.get(`${server.origin}/p`);
    expect(again.fromCache).toBe(true);
    expect(again.status).toBe(200);
    expect(text(again.body)).toBe("<html>v1</html>");
    expect(again.headers["content-type"]).toBe("text/html");
    expect(server.requests).toHaveLength(2);
    expect(server.requests[0]?.headers["if-none-match"]).toBeUndefined();
    expect(server.requests[1]?.headers["if-none-match"]).toBe('"v1"');
  });

  it("revalidates with If-Modified-Since, and replaces a changed entry", async () => {
    let version = 1;
    const lastModified = () => `Tue, 0${version} Jul 2025 00:00:00 GMT`;
    const server = await serve((req, res) => {
      if (req.headers["if-modified-since"] === lastModified()) {
        res.writeHead(304);
        res.end();
        return;
      }
      res.writeHead(200, { "last-modified": lastModified() });
      res.end(`v${version}`);
    });
    const dir = cacheDirectory();
    const c = client(dir);
    expect(text((await c.get(`${server.origin}/p`)).body)).toBe("v1");
    expect((await c.get(`${server.origin}/p`)).fromCache).toBe(true);
    version = 2;
    const changed = await c.get(`${server.origin}/p`);
    expect([changed.fromCache, text(changed.body)]).toEqual([false, "v2"]);
    const after = await c.get(`${server.origin}/p`);
    expect([after.fromCache, text(after.body)]).toEqual([true, "v2"]);
    expect(server.requests[3]?.headers["if-modified-since"]).toBe(lastModified());
  });

  it("revalidates a fresh entry marked no-cache, and when the caller asks", async () => {
    const server = await serve((req, res) => {
      if (req.headers["if-none-match"]) {
        res.writeHead(304);
        res.end();
      } else {
        res.writeHead(200, {
          etag: '"e"',
          "cache-control": req.url === "/nc" ? "max-age=600, no-cache" : "max-age=600",
        });
        res.end("x");
      }
    });
    const c = client(cacheDirectory());
    await c.get(`${server.origin}/nc`);
    expect((await c.get(`${server.origin}/nc`)).fromCache).toBe(true);
    expect(server.hits.get("/nc")).toBe(2);
    await c.get(`${server.origin}/fresh`);
    await c.get(`${server.origin}/fresh`);
    expect(server.hits.get("/fresh")).toBe(1);
    const forced = await c.get(`${server.origin}/fresh`, { cache: "no-cache" });
    expect(forced.fromCache).toBe(true);
    expect(server.hits.get("/fresh")).toBe(2);
  });

  it("counts the Age header against max-age", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "cache-control": "max-age=60", age: "100" });
      res.end("old already");
    });
    const c = client(cacheDirectory());
    await c.get(`${server.origin}/aged`);
    await c.get(`${server.origin}/aged`);
    expect(server.requests).toHaveLength(2);
  });

  it("does not store no-store or private answers, and drops an entry that becomes no-store", async () => {
    let mode = "max-age=0";
    const server = await serve((_req, res) => {
      res.writeHead(200, { "cache-control": mode });
      res.end("secret");
    });
    const dir = cacheDirectory();
    const c = client(dir);
    await c.get(`${server.origin}/p`);
    expect(cacheFiles(dir)).toHaveLength(1);
    mode = "no-store";
    await c.get(`${server.origin}/p`);
    expect(cacheFiles(dir)).toHaveLength(0);
    mode = "private, max-age=600";
    await c.get(`${server.origin}/p`);
    await c.get(`${server.origin}/p`);
    expect(cacheFiles(dir)).toHaveLength(0);
    expect(server.requests).toHaveLength(4);
  });

  it("neither reads nor writes the cache with cache: no-store", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "cache-control": "max-age=600" });
      res.end("x");
    });
    const dir = cacheDirectory();
    const c = client(dir);
    await c.get(`${server.origin}/p`, { cache: "no-store" });
    expect(cacheFiles(dir)).toHaveLength(0);
    await c.get(`${server.origin}/p`);
    await c.get(`${server.origin}/p`, { cache: "no-store" });
    expect(server.requests).toHaveLength(3);
  });

  it("keeps JSON and HTML forms of a page apart (Accept is part of the key)", async () => {
    const server = await serve((req, res) => {
      res.writeHead(200, { "cache-control": "max-age=600", vary: "Accept" });
      res.end(String(req.headers.accept).includes("json") ? "{}" : "<html/>");
    });
    const c = client(cacheDirectory());
    const json = "application/vnd.pypi.simple.v1+json";
    expect(text((await c.get(`${server.origin}/s/`, { accept: json })).body)).toBe("{}");
    expect(text((await c.get(`${server.origin}/s/`, { accept: "text/html" })).body)).toBe(
      "<html/>",
    );
    expect(text((await c.get(`${server.origin}/s/`, { accept: json })).body)).toBe("{}");
    expect(server.requests).toHaveLength(2);
  });

  it("caches range answers separately, keyed by range", async () => {
    const data = "0123456789";
    const server = await serve((req, res) => {
      const m = /bytes=(\d+)-(\d+)/.exec(String(req.headers.range ?? ""));
      res.setHeader("cache-control", "max-age=600");
      if (m) {
        res.writeHead(206, { "content-range": `bytes ${m[1]}-${m[2]}/10` });
        res.end(data.slice(Number(m[1]), Number(m[2]) + 1));
      } else res.end(data);
    });
    const c = client(cacheDirectory());
    const url = `${server.origin}/f.whl`;
    expect(text((await c.get(url, { range: { start: 0, end: 2 } })).body)).toBe("012");
    expect(text((await c.get(url, { range: { start: 5, end: 6 } })).body)).toBe("56");
    const hit = await c.get(url, { range: { start: 0, end: 2 } });
    expect([hit.status, hit.fromCache, text(hit.body)]).toEqual([206, true, "012"]);
    expect(text((await c.get(url)).body)).toBe(data);
    expect(server.requests).toHaveLength(3);
  });

  it("offline: serves even a stale entry, and misses with OFFLINE_CACHE_MISS", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "cache-control": "max-age=0" });
      res.end("cached page");
    });
    const dir = cacheDirectory();
    await client(dir).get(`${server.origin}/simple/a/`);
    const offline = client(dir, { offline: true });
    const hit = await offline.get(`${server.origin}/simple/a/`);
    expect([hit.fromCache, text(hit.body)]).toEqual([true, "cached page"]);
    const miss = await rejection(offline.get(`${server.origin}/simple/b/`));
    expect(miss.code).toBe("OFFLINE_CACHE_MISS");
    expect(miss.message).toBe(`${server.origin}/simple/b/ is not in the HTTP cache (offline)`);
    expect(miss.hint).toContain("--offline");
    expect(miss.hint).toContain("SLIMENV_OFFLINE");
    const other = await rejection(
      offline.get(`${server.origin}/simple/a/`, { accept: "application/json" }),
    );
    expect(other.code).toBe("OFFLINE_CACHE_MISS");
    expect(server.requests).toHaveLength(1);
    const noCache = await rejection(
      new HttpClient({ offline: true, env: {} }).get(`${server.origin}/simple/a/`),
    );
    expect(noCache.code).toBe("OFFLINE_CACHE_MISS");
  });

  it("ignores (and removes) a corrupt entry", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "cache-control": "max-age=600" });
      res.end("the real body");
    });
    const dir = cacheDirectory();
    await client(dir).get(`${server.origin}/p`);
    const [entry] = cacheFiles(dir);
    const file = path.join(dir, entry as string);
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(
      file,
      Buffer.concat([bytes.subarray(0, bytes.length - 4), Buffer.from("XXXX")]),
    );
    const offlineErr = await rejection(client(dir, { offline: true }).get(`${server.origin}/p`));
    expect(offlineErr.code).toBe("OFFLINE_CACHE_MISS");
    expect(fs.existsSync(file)).toBe(false);
    fs.writeFileSync(file, "garbage");
    const r = await client(dir).get(`${server.origin}/p`);
    expect([r.fromCache, text(r.body)]).toEqual([false, "the real body"]);
    expect(server.requests).toHaveLength(2);
    expect(text((await client(dir, { offline: true }).get(`${server.origin}/p`)).body)).toBe(
      "the real body",
    );
  });

  it("a fresh entry whose body went bad (same length) is fetched again and replaced", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "cache-control": "max-age=600" });
      res.end("the real body");
    });
    const dir = cacheDirectory();
    await client(dir).get(`${server.origin}/p`);
    damageLastByte(dir);
    const r = await client(dir).get(`${server.origin}/p`);
    expect([r.fromCache, text(r.body)]).toEqual([false, "the real body"]);
    expect(server.requests).toHaveLength(2);
    const again = await client(dir).get(`${server.origin}/p`);
    expect([again.fromCache, text(again.body)]).toEqual([true, "the real body"]);
    expect(server.requests).toHaveLength(2);
  });

  it("a 304 for an entry whose body went bad: asked again without validators", async () => {
    const server = await serve((req, res) => {
      if (req.headers["if-none-match"] === '"v1"') {
        res.writeHead(304, { etag: '"v1"' });
        res.end();
        return;
      }
      res.writeHead(200, { etag: '"v1"' });
      res.end("version one");
    });
    const dir = cacheDirectory();
    await client(dir).get(`${server.origin}/p`);
    const file = damageLastByte(dir);
    const r = await client(dir).get(`${server.origin}/p`);
    expect(text(r.body)).toBe("version one");
    expect(server.requests.map((q) => q.headers["if-none-match"])).toEqual([
      undefined,
      '"v1"',
      undefined,
    ]);
    expect(text(decodeEntry(fs.readFileSync(file))?.body ?? new Uint8Array())).toBe("version one");
  });

  it("an answer without caching headers equal to the entry is not written again", async () => {
    let body = "same";
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(body);
    });
    const dir = cacheDirectory();
    const first = await client(dir).get(`${server.origin}/p`);
    expect(first.cached).toBe(true);
    const file = path.join(dir, cacheFiles(dir)[0] as string);
    const past = new Date(Date.now() - 3_600_000);
    fs.utimesSync(file, past, past);
    const second = await client(dir).get(`${server.origin}/p`);
    expect([second.fromCache, second.cached, text(second.body)]).toEqual([false, true, "same"]);
    expect(second.sha256).toBe(first.sha256);
    expect(fs.statSync(file).mtimeMs).toBe(past.getTime());
    body = "changed";
    const third = await client(dir).get(`${server.origin}/p`);
    expect(third.sha256).not.toBe(first.sha256);
    expect(fs.statSync(file).mtimeMs).toBeGreaterThan(past.getTime());
    expect(text(decodeEntry(fs.readFileSync(file))?.body ?? new Uint8Array())).toBe("changed");
  });

  it("never reads a temp file left by an interrupted write", async () => {
    const server = await serve((_req, res) => res.end("fresh"));
    const dir = cacheDirectory();
    const url = `${server.origin}/p`;
    const cache = new HttpCache(dir);
    const key = cacheKey(url, "*/*", undefined);
    const entryFile = cache.entryPath(key);
    fs.mkdirSync(path.dirname(entryFile), { recursive: true });
    const whole = encodeEntry(meta({}, Date.now()), new TextEncoder().encode("stale body"));
    // A process killed mid-write leaves part of the temp file and never renames it.
    fs.writeFileSync(`${entryFile}.tmp-999-abcdef`, whole.subarray(0, whole.length - 3));
    expect(await cache.read(key)).toBeUndefined();
    const err = await rejection(client(dir, { offline: true }).get(url));
    expect(err.code).toBe("OFFLINE_CACHE_MISS");
    const r = await client(dir).get(url);
    expect(text(r.body)).toBe("fresh");
    expect(await cache.read(key)).toBeDefined();
  });

  it("writes nothing when a download is cut short", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-length": "1000", "cache-control": "max-age=600" });
      res.write("x".repeat(300));
      setTimeout(() => res.socket?.destroy(), 10);
    });
    const dir = cacheDirectory();
    const err = await rejection(client(dir, { retries: 1 }).get(`${server.origin}/cut`));
    expect(err.code).toBe("NETWORK_ERROR");
    expect(server.requests).toHaveLength(2);
    expect(cacheFiles(dir)).toEqual([]);
  });

  it("keeps credentials out of keys and entries; does not store authorized answers unless public", async () => {
    const server = await serve((req, res) => {
      res.writeHead(200, {
        "cache-control": req.url === "/pub" ? "public, max-age=600" : "max-age=600",
      });
      res.end("data");
    });
    const dir = cacheDirectory();
    const c = client(dir);
    const withCreds = `http://alice:pa55word@127.0.0.1:${server.port}`;
    await c.get(`${withCreds}/priv`);
    expect(cacheFiles(dir)).toHaveLength(0);
    await c.get(`${withCreds}/pub`);
    expect(cacheFiles(dir)).toHaveLength(1);
    const stored = fs.readFileSync(path.join(dir, cacheFiles(dir)[0] as string), "latin1");
    expect(stored).not.toContain("pa55word");
    expect(stored).not.toContain("alice");
    // Same URL without credentials is the same entry.
    const hit = await client(dir, { offline: true }).get(`${server.origin}/pub`);
    expect(hit.url).toBe(`${server.origin}/pub`);
  });

  it("checks maxBytes on cached bodies too", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "cache-control": "max-age=600" });
      res.end("y".repeat(500));
    });
    const dir = cacheDirectory();
    await client(dir).get(`${server.origin}/p`);
    const err = await rejection(client(dir).get(`${server.origin}/p`, { maxBytes: 10 }));
    expect(err.code).toBe("HTTP_ERROR");
    expect(server.requests).toHaveLength(1);
  });
});
