/**
 * HttpClient.download: the body goes to a file as it arrives (hashed and counted on the way,
 * never returned), through the same retries, redirects, credentials, proxies, content decoding
 * and size guard as `get`; each attempt starts the file from zero; offline is a clear error;
 * nothing is cached; a failed download leaves no file.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { HttpClient } from "../../src/index/http.ts";
import type { HttpClientOptions } from "../../src/index/http-types.ts";
import {
  type Handler,
  rejection,
  startProxy,
  startServer,
  type TestServer,
  tempDir,
} from "./http-fixtures.ts";

/** What to undo after each test, last first. */
const undo: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of undo.splice(0).reverse()) await step();
});

/** `thing`, closed after the test. */
function closed<T extends { close(): unknown }>(thing: T): T {
  undo.push(() => thing.close());
  return thing;
}

const serve = async (handler: Handler, host?: string): Promise<TestServer> =>
  closed(await startServer(handler, host === undefined ? {} : { host }));

const client = (options: HttpClientOptions = {}): HttpClient =>
  closed(new HttpClient({ retryBaseMs: 5, netrc: false, env: {}, ...options }));

/** A fresh folder, removed after the test. */
function folder(): string {
  const dir = tempDir("download");
  undo.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

/** Deterministic, incompressible-looking bytes. */
function payload(size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = 0x12345678;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe("HttpClient.download", () => {
  it("writes the body to the file while it arrives and returns its size and sha256, no body", async () => {
    const data = payload(4 * 1024 * 1024);
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-length": String(data.length) });
      // In pieces, with pauses, so the client sees many chunks.
      let at = 0;
      const next = () => {
        if (at >= data.length) return res.end();
        res.write(data.subarray(at, at + 256 * 1024));
        at += 256 * 1024;
        setTimeout(next, 2);
      };
      next();
    });
    const dest = path.join(folder(), "file.bin");
    const seen: number[] = [];
    const onDisk: number[] = [];
    const result = await client().download(`${server.origin}/file.bin`, dest, {
      onProgress: (bytes) => {
        seen.push(bytes);
        onDisk.push(fs.statSync(dest).size);
      },
    });
    expect(result).toEqual({
      url: `${server.origin}/file.bin`,
      status: 200,
      headers: expect.objectContaining({ "content-length": String(data.length) }),
      size: data.length,
      sha256: sha256(data),
    });
    expect(Object.keys(result)).not.toContain("body");
    expect(sha256(fs.readFileSync(dest))).toBe(sha256(data));
    // Progress rose piece by piece, and each piece was already in the file when reported.
    expect(seen.length).toBeGreaterThan(8);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe(data.length);
    expect(onDisk).toEqual(seen);
  });

  it("restarts the file from zero when a retry follows a body cut short", async () => {
    const data = payload(300_000);
    const server = await serve((_req, res, hit) => {
      res.writeHead(200, { "content-length": String(data.length) });
      if (hit === 1) {
        res.write(data.subarray(0, 200_000));
        setTimeout(() => res.socket?.destroy(), 20);
      } else res.end(data);
    });
    const dest = path.join(folder(), "file.bin");
    const result = await client().download(`${server.origin}/cut`, dest);
    expect([result.size, result.sha256]).toEqual([data.length, sha256(data)]);
    expect(fs.statSync(dest).size).toBe(data.length);
    expect(server.hits.get("/cut")).toBe(2);
    // A cut body then a 404: the file is empty, not the first attempt's bytes.
    const gone = await serve((_req, res, hit) => {
      res.writeHead(hit === 1 ? 200 : 404, { "content-length": String(data.length) });
      if (hit === 1) {
        res.write(data.subarray(0, 200_000));
        setTimeout(() => res.socket?.destroy(), 20);
      } else res.end(data);
    });
    const missing = await client().download(`${gone.origin}/cut`, dest);
    expect([missing.status, missing.size, fs.statSync(dest).size]).toEqual([404, 0, 0]);
  });

  it("stops as soon as the body is longer than maxBytes, and removes the file", async () => {
    let stopped = false;
    const server = await serve((_req, res) => {
      // Chunked, never ending on its own: only the client can stop it.
      const timer = setInterval(() => res.write("z".repeat(1000)), 5);
      res.on("close", () => {
        clearInterval(timer);
        stopped = true;
      });
    });
    const dest = path.join(folder(), "big.bin");
    const err = await rejection(
      client({ timeoutMs: 10_000 }).download(`${server.origin}/endless`, dest, {
        maxBytes: 5000,
      }),
    );
    // Stopped by the limit (this message), not by the 10 s timeout (a NETWORK_ERROR).
    expect(err.code).toBe("HTTP_ERROR");
    expect(err.message).toBe(
      `GET ${server.origin}/endless: the response is larger than the limit of 5000 bytes`,
    );
    expect(fs.existsSync(dest)).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(true);
    expect(server.requests).toHaveLength(1);
    // A declared length over the limit is refused before any body is read.
    const declared = await serve((_req, res) => res.end("y".repeat(10_000)));
    const early = await rejection(
      client().download(`${declared.origin}/big`, dest, { maxBytes: 100 }),
    );
    expect(early.message).toContain("larger than the limit of 100 bytes");
    expect(fs.existsSync(dest)).toBe(false);
  });

  it("decodes gzip as get does, and guards the decoded size", async () => {
    const data = Buffer.from("wheel bytes ".repeat(5000));
    const server = await serve((req, res) => {
      expect(req.headers["accept-encoding"]).toContain("gzip");
      res.writeHead(200, { "content-encoding": "gzip" });
      res.end(zlib.gzipSync(data));
    });
    const dest = path.join(folder(), "file.bin");
    const c = client();
    const result = await c.download(`${server.origin}/gz`, dest);
    expect([result.size, result.sha256]).toEqual([data.length, sha256(data)]);
    expect(result.headers["content-encoding"]).toBeUndefined();
    expect(fs.readFileSync(dest).equals(data)).toBe(true);
    const err = await rejection(c.download(`${server.origin}/gz`, dest, { maxBytes: 1000 }));
    expect(err.message).toContain("larger than the limit of 1000 bytes");
    expect(fs.existsSync(dest)).toBe(false);
  });

  it("retries a body that does not decode, then fails with NETWORK_ERROR", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-encoding": "gzip" });
      res.end(Buffer.from("this is not gzip at all"));
    });
    const dest = path.join(folder(), "file.bin");
    const err = await rejection(client({ retries: 1 }).download(`${server.origin}/bad`, dest));
    expect(err.code).toBe("NETWORK_ERROR");
    expect(err.message).toBe(
      `GET ${server.origin}/bad failed: body cannot be decoded (damaged gzip/brotli/deflate data) after 2 attempts`,
    );
    expect(server.requests).toHaveLength(2);
    expect(fs.existsSync(dest)).toBe(false);
  });

  it("returns a 404 with an empty file; other error statuses throw after retries", async () => {
    const server = await serve((req, res) => {
      res.statusCode = req.url === "/gone" ? 404 : 503;
      res.end("an error page that must not end up in the file");
    });
    const dir = folder();
    const missing = await client().download(`${server.origin}/gone`, path.join(dir, "a"));
    expect([missing.status, missing.size, missing.sha256]).toEqual([404, 0, sha256("")]);
    expect(fs.readFileSync(path.join(dir, "a")).length).toBe(0);
    const err = await rejection(
      client({ retries: 2 }).download(`${server.origin}/busy`, path.join(dir, "b")),
    );
    expect([err.code, err.message]).toEqual([
      "HTTP_ERROR",
      `GET ${server.origin}/busy: HTTP 503 Service Unavailable after 3 attempts`,
    ]);
    expect(server.hits.get("/busy")).toBe(3);
    expect(fs.existsSync(path.join(dir, "b"))).toBe(false);
  });

  it("follows redirects and reports the final URL", async () => {
    const other = await serve((_req, res) => res.end("moved bytes"));
    const server = await serve((_req, res) => {
      res.writeHead(302, { location: `${other.origin}/real.whl` });
      res.end("redirect body, not the file");
    });
    const dest = path.join(folder(), "file.bin");
    const result = await client().download(`${server.origin}/old.whl`, dest);
    expect(result.url).toBe(`${other.origin}/real.whl`);
    expect(fs.readFileSync(dest, "utf8")).toBe("moved bytes");
  });

  it("sends URL credentials, keeps them out of the result and errors, not across hosts", async () => {
    const other = await serve((req, res) => {
      res.statusCode = req.headers.authorization === undefined ? 200 : 599;
      res.end("elsewhere");
    }, "127.0.0.2");
    const server = await serve((req, res) => {
      const auth = req.headers.authorization;
      if (auth !== `Basic ${Buffer.from("alice:s3cret").toString("base64")}`) {
        res.statusCode = 401;
        return res.end();
      }
      if (req.url === "/moved") {
        res.writeHead(302, { location: `${other.origin}/file` });
        return res.end();
      }
      if (req.url === "/broken") {
        res.statusCode = 500;
        return res.end();
      }
      res.end("secret file");
    });
    const withCreds = server.origin.replace("http://", "http://alice:s3cret@");
    const dir = folder();
    const c = client({ retries: 0 });
    const ok = await c.download(`${withCreds}/file`, path.join(dir, "f"));
    expect(ok.url).toBe(`${server.origin}/file`);
    expect(fs.readFileSync(path.join(dir, "f"), "utf8")).toBe("secret file");
    const moved = await c.download(`${withCreds}/moved`, path.join(dir, "m"));
    expect([moved.status, moved.url]).toEqual([200, `${other.origin}/file`]);
    const err = await rejection(c.download(`${withCreds}/broken`, path.join(dir, "b")));
    expect(err.code).toBe("HTTP_ERROR");
    expect(`${err.message} ${err.hint ?? ""} ${JSON.stringify(err)}`).not.toContain("s3cret");
    const unauthorized = await rejection(
      c.download(
        `${server.origin.replace("http://", "http://alice:wrong@")}/file`,
        path.join(dir, "u"),
      ),
    );
    expect(unauthorized.message).not.toContain("wrong");
    expect(unauthorized.hint).toContain("netrc");
  });

  it("goes through the proxy from the environment", async () => {
    const server = await serve((_req, res) => res.end("via proxy"));
    const proxy = closed(await startProxy());
    const dest = path.join(folder(), "file.bin");
    const r = await client({ env: { http_proxy: proxy.url } }).download(`${server.origin}/p`, dest);
    expect(r.size).toBe("via proxy".length);
    expect(proxy.forwarded.map((f) => f.url)).toEqual([`${server.origin}/p`]);
  });

  it("is never cached, and fails clearly offline without a request", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "cache-control": "max-age=600, public" });
      res.end("cacheable");
    });
    const cacheDir = path.join(folder(), "cache");
    const dest = path.join(folder(), "file.bin");
    const c = client({ cacheDir });
    await c.download(`${server.origin}/f`, dest);
    await c.download(`${server.origin}/f`, dest);
    expect(server.requests).toHaveLength(2);
    expect(fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir, { recursive: true }) : []).toEqual(
      [],
    );
    fs.rmSync(dest);
    const err = await rejection(client({ cacheDir, offline: true }).download(server.origin, dest));
    expect(err.code).toBe("OFFLINE_CACHE_MISS");
    expect(err.message).toBe(
      `cannot download ${server.origin}/ offline: downloads are not kept in the HTTP cache`,
    );
    expect(err.hint).toContain("--offline");
    expect(server.requests).toHaveLength(2);
    expect(fs.existsSync(dest)).toBe(false);
  });

  it("fails with IO_ERROR (not retried) when the file cannot be written", async () => {
    const server = await serve((_req, res) => res.end("bytes"));
    const dest = path.join(folder(), "no-such-dir", "file.bin");
    const err = await rejection(client().download(`${server.origin}/f`, dest));
    expect(err.code).toBe("IO_ERROR");
    expect(err.message).toBe(`cannot write ${dest} (ENOENT)`);
    expect(server.requests).toHaveLength(0);
  });
});
