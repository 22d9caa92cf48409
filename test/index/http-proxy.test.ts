/**
 * Proxies from the passed environment (HTTP_PROXY / HTTPS_PROXY / NO_PROXY) and extra CA
 * certificates (caFiles, SSL_CERT_FILE) with a self-signed CA made by the openssl CLI.
 */
import fs from "node:fs";
import path from "node:path";
import tls from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HttpClient } from "../../src/index/http.ts";
import { loadCertificates } from "../../src/index/http-connections.ts";
import type { HttpClientOptions } from "../../src/index/http-types.ts";
import { bypassesProxy, proxyFor, proxySettingsFromEnv } from "../../src/index/proxy.ts";
import { describeWith, OPENSSL } from "../helpers/prereq.ts";
import {
  type Certificates,
  makeCertificates,
  rejection,
  startProxy,
  startServer,
  type TestProxy,
  type TestServer,
  tempDir,
  text,
} from "./http-fixtures.ts";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function client(options: HttpClientOptions = {}): HttpClient {
  const c = new HttpClient({ retryBaseMs: 5, netrc: false, env: {}, ...options });
  cleanups.push(() => c.close());
  return c;
}

async function serveHello(tlsOptions?: { key: string; cert: string }): Promise<TestServer> {
  const server = await startServer(
    (_req, res) => res.end("hello"),
    tlsOptions ? { tls: tlsOptions } : {},
  );
  cleanups.push(() => server.close());
  return server;
}

async function proxy(): Promise<TestProxy> {
  const p = await startProxy();
  cleanups.push(() => p.close());
  return p;
}

describe("proxy selection", () => {
  const u = (s: string) => new URL(s);

  it("picks the proxy by scheme, lower-case first, ALL_PROXY as fallback", () => {
    const s = proxySettingsFromEnv({
      HTTP_PROXY: "http://upper:1",
      http_proxy: "http://lower:2",
      HTTPS_PROXY: "proxy.corp:3128",
    });
    expect(proxyFor(u("http://a.org/"), s)).toBe("http://lower:2");
    expect(proxyFor(u("https://a.org/"), s)).toBe("http://proxy.corp:3128");
    const all = proxySettingsFromEnv({ ALL_PROXY: "http://all:9" });
    expect(proxyFor(u("https://a.org/"), all)).toBe("http://all:9");
    expect(proxyFor(u("http://a.org/"), proxySettingsFromEnv({}))).toBeUndefined();
    expect(proxyFor(u("https://a.org/"), proxySettingsFromEnv({ HTTP_PROXY: "http://p:1" }))).toBe(
      undefined,
    );
  });

  it("bypasses hosts, domains, ports, addresses and CIDR blocks listed in NO_PROXY", () => {
    const s = proxySettingsFromEnv({
      HTTPS_PROXY: "http://p:1",
      NO_PROXY: "internal.corp, .example.org *.test,10.0.0.0/8 ,192.168.1.5,[::1]:8443,api.io:444",
    });
    const direct = [
      "https://internal.corp/",
      "https://pkgs.internal.corp/",
      "https://example.org/",
      "https://a.b.example.org/",
      "https://x.test/",
      "https://10.2.3.4/",
      "https://192.168.1.5/",
      "https://[::1]:8443/",
      "https://api.io:444/",
    ];
    const proxied = [
      "https://notinternal.corp/",
      "https://example.org.evil.com/",
      "https://11.0.0.1/",
      "https://192.168.1.6/",
      "https://[::1]/",
      "https://api.io/",
      "https://pypi.org/",
    ];
    for (const url of direct) expect([url, bypassesProxy(u(url), s)]).toEqual([url, true]);
    for (const url of proxied) expect([url, proxyFor(u(url), s)]).toEqual([url, "http://p:1"]);
    const star = proxySettingsFromEnv({ https_proxy: "http://p:1", no_proxy: "*" });
    expect(proxyFor(u("https://pypi.org/"), star)).toBeUndefined();
    const lower = proxySettingsFromEnv({ https_proxy: "http://p:1", no_proxy: "pypi.org" });
    expect(proxyFor(u("https://PyPI.org/simple/"), lower)).toBeUndefined();
  });
});

describe("through a local proxy", () => {
  it("forwards plain http requests through HTTP_PROXY", async () => {
    const server = await serveHello();
    const p = await proxy();
    const r = await client({ env: { HTTP_PROXY: p.url } }).get(`${server.origin}/simple/`);
    expect(text(r.body)).toBe("hello");
    expect(r.url).toBe(`${server.origin}/simple/`);
    expect(p.forwarded.map((f) => f.url)).toEqual([`${server.origin}/simple/`]);
    expect(server.requests).toHaveLength(1);
  });

  it("sends the proxy's credentials as Proxy-Authorization, and keeps them out of errors", async () => {
    const p = await proxy();
    const server = await serveHello();
    const proxyUrl = p.url.replace("http://", "http://puser:ppass@");
    await client({ env: { http_proxy: proxyUrl } }).get(`${server.origin}/x`);
    const header = p.forwarded[0]?.headers["proxy-authorization"] as string;
    expect(Buffer.from(header.slice(6), "base64").toString()).toBe("puser:ppass");
    expect(server.requests[0]?.headers["proxy-authorization"]).toBeUndefined();
  });

  it("goes direct for hosts in NO_PROXY", async () => {
    const server = await serveHello();
    const p = await proxy();
    const env = { HTTP_PROXY: p.url, NO_PROXY: "localhost,127.0.0.1" };
    const r = await client({ env }).get(`${server.origin}/direct`);
    expect(text(r.body)).toBe("hello");
    expect(p.forwarded).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it("fails clearly (and retries) when the proxy is down", async () => {
    const server = await serveHello();
    const p = await startProxy();
    await p.close();
    const err = await rejection(
      client({ env: { HTTP_PROXY: p.url }, retries: 1 }).get(`${server.origin}/x`),
    );
    expect(err.code).toBe("NETWORK_ERROR");
    expect(err.message).toContain("after 2 attempts");
    expect(server.requests).toHaveLength(0);
  });
});

describeWith(OPENSSL)("extra CA certificates (openssl CLI)", () => {
  let dir: string;
  let certs: Certificates;
  beforeAll(() => {
    dir = tempDir("http-ca");
    certs = makeCertificates(dir);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("does not trust a private CA by default, and does not retry that", async () => {
    const server = await serveHello(certs);
    const err = await rejection(client({ retries: 3 }).get(`${server.origin}/x`));
    expect(err.code).toBe("NETWORK_ERROR");
    expect(err.message).toContain("TLS certificate not trusted");
    expect(err.message).not.toContain("attempts");
    expect(err.hint).toContain("SSL_CERT_FILE");
    expect(server.requests).toHaveLength(0);
  });

  it("trusts a CA given in caFiles", async () => {
    const server = await serveHello(certs);
    const r = await client({ caFiles: [certs.caFile] }).get(`${server.origin}/x`);
    expect(text(r.body)).toBe("hello");
  });

  it("trusts a CA given by SSL_CERT_FILE", async () => {
    const server = await serveHello(certs);
    const r = await client({ env: { SSL_CERT_FILE: certs.caFile } }).get(`${server.origin}/x`);
    expect(text(r.body)).toBe("hello");
  });

  it("adds the extra CAs to Node's roots instead of replacing them", () => {
    const all = loadCertificates([certs.caFile]);
    const defaults =
      typeof tls.getCACertificates === "function"
        ? tls.getCACertificates("default")
        : tls.rootCertificates;
    expect(all).toHaveLength(defaults.length + 1);
    expect(all.at(-1)).toBe(certs.caPem);
    expect(defaults.length).toBeGreaterThan(50);
  });

  it("tunnels https through HTTPS_PROXY with the extra CA", async () => {
    const server = await serveHello(certs);
    const p = await proxy();
    const r = await client({ caFiles: [certs.caFile], env: { HTTPS_PROXY: p.url } }).get(
      `${server.origin}/tunnelled`,
    );
    expect(text(r.body)).toBe("hello");
    expect(p.tunnels.map((t) => t.target)).toEqual([`127.0.0.1:${server.port}`]);
    expect(p.forwarded).toEqual([]);
  });

  it("rejects a CA file that is missing or not PEM", async () => {
    const missing = await rejection(
      client({ caFiles: [path.join(dir, "nope.pem")] }).get("https://127.0.0.1:1/"),
    );
    expect(missing.code).toBe("IO_ERROR");
    expect(missing.message).toContain("nope.pem");
    const notPem = path.join(dir, "not.pem");
    fs.writeFileSync(notPem, "hello");
    const bad = await rejection(client({ caFiles: [notPem] }).get("https://127.0.0.1:1/"));
    expect(bad.code).toBe("INVALID_OPTION");
  });
});
