/**
 * HttpClient against local servers: pooling, the concurrency bound, retries (and what is not
 * retried), time-outs, truncated bodies, the maxBytes guard, content coding, redirects.
 */
import { setTimeout as sleep } from "node:timers/promises";
import zlib from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { RecordingReporter } from "../../src/base/index.ts";
import { HttpClient } from "../../src/index/http.ts";
import { HttpError } from "../../src/index/http-errors.ts";
import {
  backoffDelay,
  classifyFailure,
  isRetryableStatus,
  parseRetryAfter,
  retryDelay,
} from "../../src/index/retry.ts";
import { closedPort, rejection, startServer, type TestServer, text } from "./http-fixtures.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function serve(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const server = await startServer(handler);
  cleanups.push(() => server.close());
  return server;
}

function client(options: ConstructorParameters<typeof HttpClient>[0] = {}): HttpClient {
  const c = new HttpClient({ retryBaseMs: 5, netrc: false, env: {}, ...options });
  cleanups.push(() => c.close());
  return c;
}

describe("retry policy", () => {
  it("retries 5xx except 501, and 429; never other 4xx", () => {
    for (const s of [500, 502, 503, 504, 520, 599, 429]) expect(isRetryableStatus(s)).toBe(true);
    for (const s of [200, 301, 400, 401, 403, 404, 408, 410, 416, 501]) {
      expect(isRetryableStatus(s)).toBe(false);
    }
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter(" 0 ")).toBe(0);
    const now = Date.parse("Tue, 01 Jul 2025 00:00:00 GMT");
    expect(parseRetryAfter("Tue, 01 Jul 2025 00:00:10 GMT", now)).toBe(10_000);
    expect(parseRetryAfter("Tue, 01 Jul 2025 00:00:00 GMT", now + 5000)).toBe(0);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter("-1")).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it("backs off exponentially with jitter in [ceiling/2, ceiling], capped", () => {
    expect(backoffDelay(0, 100, () => 0)).toBe(50);
    expect(backoffDelay(0, 100, () => 1)).toBe(100);
    expect(backoffDelay(3, 100, () => 0)).toBe(400);
    expect(backoffDelay(3, 100, () => 1)).toBe(800);
    expect(backoffDelay(30, 100, () => 1)).toBe(30_000);
    // Retry-After wins when longer, up to the cap.
    expect(retryDelay(0, 100, 5000, 2000, () => 0)).toBe(2000);
    expect(retryDelay(0, 100, 20, 2000, () => 0)).toBe(50);
  });

  it("classifies network failures", () => {
    expect(classifyFailure(Object.assign(new Error("x"), { code: "ECONNRESET" }))).toMatchObject({
      retryable: true,
      reason: "connection reset",
    });
    const wrapped = new Error("fetch failed", {
      cause: Object.assign(new Error("y"), { code: "ENOTFOUND" }),
    });
    expect(classifyFailure(wrapped).retryable).toBe(true);
    const cert = Object.assign(new Error("z"), { code: "SELF_SIGNED_CERT_IN_CHAIN" });
    expect(classifyFailure(cert)).toMatchObject({ retryable: false, certificate: true });
    expect(classifyFailure(new Error("plain")).retryable).toBe(false);
  });
});

describe("pooling and concurrency", () => {
  it("reuses keep-alive connections for sequential requests", async () => {
    const server = await serve((_req, res) => res.end("ok"));
    const c = client();
    for (let i = 0; i < 10; i++) {
      const r = await c.get(`${server.origin}/p${i}`);
      expect(text(r.body)).toBe("ok");
    }
    expect(server.requests).toHaveLength(10);
    // undici may open a second socket while the first is being released; never one per request.
    expect(server.connections).toBeLessThanOrEqual(2);
  });

  it("keeps at most `concurrency` requests in flight and queues the rest", async () => {
    const server = await serve(async (_req, res) => {
      await sleep(40);
      res.end("slow");
    });
    const c = client({ concurrency: 3 });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => c.get(`${server.origin}/s${i}`)),
    );
    expect(results.map((r) => text(r.body))).toEqual(Array(12).fill("slow"));
    expect(server.maxInFlight).toBe(3);
    expect(server.connections).toBeLessThanOrEqual(6);
  });

  it("runs requests in parallel up to a higher bound", async () => {
    const server = await serve(async (_req, res) => {
      await sleep(40);
      res.end("slow");
    });
    const c = client({ concurrency: 16 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => c.get(`${server.origin}/s${i}`)));
    expect(server.maxInFlight).toBe(10);
  });
});

describe("retries", () => {
  it.each([500, 502, 503, 504])("retries HTTP %i, then succeeds", async (status) => {
    const server = await serve((_req, res, hit) => {
      res.statusCode = hit <= 2 ? status : 200;
      res.end(hit <= 2 ? "fail" : "good");
    });
    const reporter = new RecordingReporter();
    const r = await client({ reporter }).get(`${server.origin}/flaky`);
    expect(r.status).toBe(200);
    expect(text(r.body)).toBe("good");
    expect(server.requests).toHaveLength(3);
    expect(reporter.messages("warn")).toHaveLength(2);
    expect(reporter.messages("warn")[0]).toContain(`HTTP ${status}; retrying`);
  });

  it("retries 429 honouring Retry-After, capped", async () => {
    const server = await serve((_req, res, hit) => {
      if (hit === 1) {
        res.writeHead(429, { "retry-after": "1" });
        res.end();
      } else res.end("ok");
    });
    const reporter = new RecordingReporter();
    const r = await client({ retryAfterCapMs: 50, reporter }).get(`${server.origin}/limited`);
    expect(r.status).toBe(200);
    // The wait the client chose (Retry-After 1 s, capped to 50 ms), not a clock reading.
    expect(reporter.messages("warn")).toEqual([
      `GET ${server.origin}/limited: HTTP 429; retrying in 50 ms (attempt 2 of 4)`,
    ]);
    expect(server.requests).toHaveLength(2);
  });

  it("waits as long as Retry-After asks when under the cap", async () => {
    const server = await serve((_req, res, hit) => {
      if (hit === 1) {
        res.writeHead(429, { "retry-after": "1" });
        res.end();
      } else res.end("ok");
    });
    const reporter = new RecordingReporter();
    const r = await client({ retryAfterCapMs: 5000, reporter }).get(`${server.origin}/limited`);
    expect(r.status).toBe(200);
    expect(reporter.messages("warn")).toEqual([
      `GET ${server.origin}/limited: HTTP 429; retrying in 1000 ms (attempt 2 of 4)`,
    ]);
  });

  it("retries a connection reset before the answer", async () => {
    const server = await serve((req, res, hit) => {
      if (hit === 1) req.socket.destroy();
      else res.end("after reset");
    });
    const r = await client().get(`${server.origin}/reset`);
    expect(text(r.body)).toBe("after reset");
    expect(server.hits.get("/reset")).toBe(2);
  });

  it("retries a body cut short of its Content-Length", async () => {
    const server = await serve((_req, res, hit) => {
      res.writeHead(200, { "content-length": "100" });
      if (hit === 1) {
        res.write("x".repeat(40));
        setTimeout(() => res.socket?.destroy(), 10);
      } else res.end("y".repeat(100));
    });
    const r = await client().get(`${server.origin}/truncated`);
    expect(text(r.body)).toBe("y".repeat(100));
    expect(server.hits.get("/truncated")).toBe(2);
  });

  it("retries an attempt that times out waiting for headers", async () => {
    const server = await serve(async (_req, res, hit) => {
      if (hit === 1) await sleep(1500);
      res.end("in time");
    });
    const r = await client({ timeoutMs: 200 }).get(`${server.origin}/slow`);
    expect(text(r.body)).toBe("in time");
    expect(server.hits.get("/slow")).toBe(2);
  });

  it("retries an attempt whose body stalls", async () => {
    const server = await serve(async (_req, res, hit) => {
      res.writeHead(200, { "content-length": "10" });
      res.write("12345");
      if (hit === 1) await sleep(1500);
      res.end("67890");
    });
    const r = await client({ timeoutMs: 200 }).get(`${server.origin}/stall`);
    expect(text(r.body)).toBe("1234567890");
    expect(server.hits.get("/stall")).toBe(2);
  });

  it("gives up after the retries with HTTP_ERROR naming the URL without credentials", async () => {
    const server = await serve((_req, res) => {
      res.statusCode = 503;
      res.end("down");
    });
    const url = `http://alice:hunter2@127.0.0.1:${server.port}/down?x=1`;
    const reporter = new RecordingReporter();
    const err = await rejection(client({ retries: 2, reporter }).get(url));
    expect(err).toBeInstanceOf(HttpError);
    expect(err.code).toBe("HTTP_ERROR");
    expect((err as HttpError).status).toBe(503);
    expect(err.message).toBe(
      `GET http://127.0.0.1:${server.port}/down?x=1: HTTP 503 Service Unavailable after 3 attempts`,
    );
    expect((err as HttpError).url).toBe(`http://127.0.0.1:${server.port}/down?x=1`);
    expect(err.hint).toContain("try again later");
    expect(server.requests).toHaveLength(3);
    const all = `${err.message} ${err.hint} ${reporter.events.map((e) => e.label).join(" ")}`;
    expect(all).not.toContain("hunter2");
    expect(all).not.toContain("alice");
  });

  it("gives up on a refused connection with NETWORK_ERROR", async () => {
    const port = await closedPort();
    const err = await rejection(client({ retries: 1 }).get(`http://127.0.0.1:${port}/x`));
    expect(err.code).toBe("NETWORK_ERROR");
    expect(err.message).toBe(
      `GET http://127.0.0.1:${port}/x failed: connection refused after 2 attempts`,
    );
    expect(err.hint).toContain("HTTPS_PROXY");
  });

  it("gives up on repeated resets", async () => {
    const server = await serve((req) => {
      req.socket.destroy();
    });
    const err = await rejection(client({ retries: 2 }).get(`${server.origin}/always-reset`));
    expect(err.code).toBe("NETWORK_ERROR");
    expect(err.message).toContain("after 3 attempts");
    expect(server.hits.get("/always-reset")).toBe(3);
  });

  it("returns 404 as a response, without retrying", async () => {
    const server = await serve((_req, res) => {
      res.statusCode = 404;
      res.end("no such project");
    });
    const r = await client().get(`${server.origin}/missing`);
    expect(r.status).toBe(404);
    expect(text(r.body)).toBe("no such project");
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    [403, "Forbidden"],
    [401, "Unauthorized"],
    [400, "Bad Request"],
    [501, "Not Implemented"],
  ])("throws HTTP %i at once, without retrying", async (status, reason) => {
    const server = await serve((_req, res) => {
      res.statusCode = status;
      res.end();
    });
    const err = await rejection(client().get(`${server.origin}/nope`));
    expect(err.code).toBe("HTTP_ERROR");
    expect((err as HttpError).status).toBe(status);
    expect(err.message).toBe(`GET ${server.origin}/nope: HTTP ${status} ${reason}`);
    expect(server.requests).toHaveLength(1);
    if (status === 401 || status === 403) expect(err.hint).toContain("netrc");
  });
});

describe("bodies", () => {
  it("rejects a body over maxBytes (declared length)", async () => {
    const server = await serve((_req, res) => res.end("z".repeat(1000)));
    const err = await rejection(client().get(`${server.origin}/big`, { maxBytes: 100 }));
    expect(err.code).toBe("HTTP_ERROR");
    expect(err.message).toContain("larger than the limit of 100 bytes");
    expect(server.requests).toHaveLength(1);
  });

  it("rejects a chunked body over maxBytes", async () => {
    const server = await serve((_req, res) => {
      for (let i = 0; i < 10; i++) res.write("z".repeat(50));
      res.end();
    });
    const err = await rejection(client().get(`${server.origin}/chunked`, { maxBytes: 120 }));
    expect(err.message).toContain("larger than the limit of 120 bytes");
    const ok = await client().get(`${server.origin}/chunked`, { maxBytes: 500 });
    expect(ok.body.byteLength).toBe(500);
  });

  it("decodes gzip and brotli, and guards the decoded size", async () => {
    const payload = JSON.stringify({ files: Array(200).fill("a-file-name-1.0.tar.gz") });
    const server = await serve((req, res) => {
      const enc = String(req.headers["accept-encoding"]);
      if (req.url === "/br" && enc.includes("br")) {
        res.writeHead(200, { "content-encoding": "br" });
        res.end(zlib.brotliCompressSync(payload));
      } else if (enc.includes("gzip")) {
        res.writeHead(200, { "content-encoding": "gzip" });
        res.end(zlib.gzipSync(payload));
      } else res.end(payload);
    });
    const c = client();
    for (const p of ["/gz", "/br"]) {
      const r = await c.get(`${server.origin}${p}`);
      expect(text(r.body)).toBe(payload);
      expect(r.headers["content-encoding"]).toBeUndefined();
      expect(r.headers["content-length"]).toBe(String(payload.length));
    }
    const err = await rejection(c.get(`${server.origin}/gz`, { maxBytes: 1000 }));
    expect(err.message).toContain("larger than the limit of 1000 bytes");
  });

  it("asks for ranges without content coding and returns 206", async () => {
    const server = await serve((req, res) => {
      expect(req.headers["accept-encoding"]).toBe("identity");
      const m = /bytes=(\d*)-(\d*)/.exec(String(req.headers.range));
      const data = "0123456789";
      const start = m?.[1] === "" ? data.length - Number(m?.[2]) : Number(m?.[1]);
      const end = m?.[1] === "" || m?.[2] === "" ? data.length - 1 : Number(m?.[2]);
      res.writeHead(206, { "content-range": `bytes ${start}-${end}/${data.length}` });
      res.end(data.slice(start, end + 1));
    });
    const c = client();
    const a = await c.get(`${server.origin}/f`, { range: { start: 2, end: 4 } });
    expect([a.status, text(a.body)]).toEqual([206, "234"]);
    const b = await c.get(`${server.origin}/f`, { range: { suffix: 3 } });
    expect(text(b.body)).toBe("789");
    expect(server.requests.map((r) => r.headers.range)).toEqual(["bytes=2-4", "bytes=-3"]);
    const bad = await rejection(c.get(`${server.origin}/f`, { range: { start: 5, end: 2 } }));
    expect(bad.code).toBe("INVALID_OPTION");
  });

  it("follows redirects and reports the final URL", async () => {
    const server = await serve((req, res) => {
      if (req.url === "/old") {
        res.writeHead(301, { location: "/mid" });
        res.end();
      } else if (req.url === "/mid") {
        res.writeHead(302, { location: `${server.origin}/new` });
        res.end();
      } else res.end("moved");
    });
    const r = await client().get(`${server.origin}/old`);
    expect(r.url).toBe(`${server.origin}/new`);
    expect(text(r.body)).toBe("moved");
  });

  it("stops a redirect loop", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(302, { location: "/loop" });
      res.end();
    });
    const err = await rejection(client().get(`${server.origin}/loop`));
    expect(err.code).toBe("HTTP_ERROR");
    expect(err.message).toContain("more than 10 redirects");
  });

  it("rejects URLs it cannot fetch", async () => {
    const c = client();
    expect((await rejection(c.get("not a url"))).code).toBe("INVALID_OPTION");
    const ftp = await rejection(c.get("ftp://example.com/x"));
    expect(ftp.message).toContain("unsupported URL scheme ftp:");
  });

  it("sends the user agent and accept headers", async () => {
    const server = await serve((_req, res) => res.end());
    await client({ userAgent: "slimenv/9.9" }).get(`${server.origin}/h`, {
      accept: "application/vnd.pypi.simple.v1+json",
    });
    expect(server.requests[0]?.headers["user-agent"]).toBe("slimenv/9.9");
    expect(server.requests[0]?.headers.accept).toBe("application/vnd.pypi.simple.v1+json");
  });
});
