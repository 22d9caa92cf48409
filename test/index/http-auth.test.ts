/**
 * Credentials: URL userinfo and netrc reach the server as Basic auth, never a message, a log
 * line or HttpResponse.url; Authorization does not follow a redirect to another host.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RecordingReporter } from "../../src/base/index.ts";
import { HttpClient } from "../../src/index/http.ts";
import type { HttpClientOptions } from "../../src/index/http-types.ts";
import { lookupNetrc, netrcPath, parseNetrc, readNetrc } from "../../src/index/netrc.ts";
import {
  closedPort,
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

async function serve(handler: Handler, host?: string): Promise<TestServer> {
  const server = await startServer(handler, host === undefined ? {} : { host });
  cleanups.push(() => server.close());
  return server;
}

function client(options: HttpClientOptions = {}): HttpClient {
  const c = new HttpClient({ retryBaseMs: 5, env: {}, ...options });
  cleanups.push(() => c.close());
  return c;
}

function writeNetrc(content: string): string {
  const dir = tempDir("netrc");
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "netrc");
  fs.writeFileSync(file, content);
  return file;
}

function basicOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  expect(header.startsWith("Basic ")).toBe(true);
  return Buffer.from(header.slice(6), "base64").toString("utf8");
}

describe("netrc parsing", () => {
  it("reads machine, login, password, account and default entries", () => {
    const netrc = parseNetrc(
      [
        "machine pypi.example.com login alice password s3cret",
        "machine Other.Example.COM",
        "  login bob",
        "  password 'x'",
        "  account acct",
        "default login anonymous password guest",
      ].join("\n"),
    );
    expect(netrc.warnings).toEqual([]);
    expect(lookupNetrc(netrc, "pypi.example.com")).toMatchObject({
      login: "alice",
      password: "s3cret",
    });
    expect(lookupNetrc(netrc, "other.example.com:8443")).toMatchObject({
      machine: "other.example.com",
      login: "bob",
      password: "'x'",
      account: "acct",
    });
    expect(lookupNetrc(netrc, "elsewhere.org")).toMatchObject({
      machine: undefined,
      login: "anonymous",
    });
  });

  it("handles quoted tokens, escapes, comments and macdef bodies", () => {
    const netrc = parseNetrc(
      [
        "# a comment line with machine evil login x password y",
        'machine a.example login "user name" password "pa ss\\"word#1" # trailing comment',
        "macdef init",
        "cd /pub",
        "machine b.example login inside-macdef",
        "",
        "machine c.example login carol password pa\\ ss",
      ].join("\n"),
    );
    expect(netrc.warnings).toEqual([]);
    expect(lookupNetrc(netrc, "a.example")).toMatchObject({
      login: "user name",
      password: 'pa ss"word#1',
    });
    expect(lookupNetrc(netrc, "b.example")).toBeUndefined();
    expect(lookupNetrc(netrc, "evil")).toBeUndefined();
    expect(lookupNetrc(netrc, "c.example")?.password).toBe("pa ss");
  });

  it("takes the first matching machine", () => {
    const netrc = parseNetrc("machine h login first\nmachine h login second\n");
    expect(lookupNetrc(netrc, "H")?.login).toBe("first");
  });

  it("warns about malformed input without echoing secrets", () => {
    const netrc = parseNetrc('login orphan\nmachine m password "unterminated secret');
    expect(netrc.warnings).toEqual([
      "netrc line 2: unterminated quoted token",
      "netrc line 1: 'login' outside a machine entry",
    ]);
    expect(lookupNetrc(netrc, "m")?.password).toBe("unterminated secret");
    expect(parseNetrc("machine m bogus").warnings).toEqual(["netrc line 1: unexpected token"]);
    expect(parseNetrc("machine").warnings).toEqual(["netrc line 1: 'machine' without a name"]);
  });

  it("finds the file through $NETRC or HOME", () => {
    expect(netrcPath({ NETRC: "/tmp/x/netrc" })).toBe("/tmp/x/netrc");
    expect(netrcPath({ HOME: "/home/u" })).toBe(path.join("/home/u", ".netrc"));
    expect(readNetrc({ NETRC: "/nonexistent/netrc" })).toBeUndefined();
    const file = writeNetrc("machine h login l password p");
    expect(readNetrc({ NETRC: file })?.entries).toHaveLength(1);
  });
});

describe("credentials on requests", () => {
  it("sends URL userinfo as Basic auth and strips it everywhere", async () => {
    const server = await serve((_req, res) => res.end("private page"));
    const reporter = new RecordingReporter();
    const c = client({ reporter, netrc: false });
    const r = await c.get(`http://alice:s3cr%40t@127.0.0.1:${server.port}/simple/`);
    expect(text(r.body)).toBe("private page");
    expect(basicOf(server.requests[0]?.headers.authorization)).toBe("alice:s3cr@t");
    expect(server.requests[0]?.url).toBe("/simple/");
    expect(r.url).toBe(`http://127.0.0.1:${server.port}/simple/`);
    expect(reporter.events.map((e) => e.label).join("\n")).not.toMatch(/alice|s3cr/);
  });

  it("sends a token-only userinfo with an empty password", async () => {
    const server = await serve((_req, res) => res.end());
    await client({ netrc: false }).get(`http://tok123@127.0.0.1:${server.port}/`);
    expect(basicOf(server.requests[0]?.headers.authorization)).toBe("tok123:");
  });

  it("keeps credentials out of errors (HTTP and network)", async () => {
    const server = await serve((_req, res) => {
      res.statusCode = 401;
      res.end();
    });
    const err = await rejection(
      client({ netrc: false }).get(`http://alice:hunter2@127.0.0.1:${server.port}/x`),
    );
    expect(err.code).toBe("HTTP_ERROR");
    expect(err.message).toBe(`GET http://127.0.0.1:${server.port}/x: HTTP 401 Unauthorized`);
    expect(JSON.stringify(err.toJSON())).not.toMatch(/alice|hunter2/);
    const port = await closedPort();
    const reporter = new RecordingReporter();
    const net = await rejection(
      client({ netrc: false, retries: 1, reporter }).get(
        `http://alice:hunter2@127.0.0.1:${port}/x`,
      ),
    );
    expect(net.code).toBe("NETWORK_ERROR");
    expect(`${net.message} ${net.hint}`).not.toMatch(/alice|hunter2/);
    expect(reporter.events.map((e) => e.label).join("\n")).not.toMatch(/alice|hunter2/);
  });

  it("uses netrc credentials for the host (machine, then default)", async () => {
    const server = await serve((_req, res) => res.end());
    const file = writeNetrc(
      `machine 127.0.0.1 login bob password "p w"\ndefault login d password dd\n`,
    );
    await client({ env: { NETRC: file } }).get(`${server.origin}/a`);
    expect(basicOf(server.requests[0]?.headers.authorization)).toBe("bob:p w");
    const other = writeNetrc("default login d password dd\n");
    await client({ env: { NETRC: other } }).get(`${server.origin}/b`);
    expect(basicOf(server.requests[1]?.headers.authorization)).toBe("d:dd");
    await client({ env: { NETRC: file }, netrc: false }).get(`${server.origin}/c`);
    expect(server.requests[2]?.headers.authorization).toBeUndefined();
    await client({ env: { NETRC: "/nonexistent/netrc" } }).get(`${server.origin}/d`);
    expect(server.requests[3]?.headers.authorization).toBeUndefined();
  });

  it("prefers URL credentials, taking the password from netrc for a bare user", async () => {
    const server = await serve((_req, res) => res.end());
    const file = writeNetrc("machine 127.0.0.1 login bob password from-netrc\n");
    const c = client({ env: { NETRC: file } });
    await c.get(`http://carol:own@127.0.0.1:${server.port}/a`);
    await c.get(`http://bob@127.0.0.1:${server.port}/b`);
    expect(server.requests.map((r) => basicOf(r.headers.authorization))).toEqual([
      "carol:own",
      "bob:from-netrc",
    ]);
  });

  it("drops Authorization on a redirect to another host, keeps it on the same host", async () => {
    const other = await serve((_req, res) => res.end("file bytes"), "127.0.0.2");
    const server = await serve((req, res) => {
      if (req.url === "/same") res.writeHead(302, { location: "/final" });
      else if (req.url === "/away") res.writeHead(302, { location: `${other.origin}/files/x` });
      res.end("here");
    });
    const c = client({ netrc: false });
    const base = `http://alice:pw@127.0.0.1:${server.port}`;
    const same = await c.get(`${base}/same`);
    expect(same.url).toBe(`${server.origin}/final`);
    expect(basicOf(server.requests[1]?.headers.authorization)).toBe("alice:pw");
    const away = await c.get(`${base}/away`);
    expect(away.url).toBe(`${other.origin}/files/x`);
    expect(text(away.body)).toBe("file bytes");
    expect(basicOf(server.requests[2]?.headers.authorization)).toBe("alice:pw");
    expect(other.requests[0]?.headers.authorization).toBeUndefined();
  });

  it("after a cross-host redirect sends only a netrc machine entry for the new host", async () => {
    const other = await serve((_req, res) => res.end(), "127.0.0.2");
    const server = await serve((_req, res) => {
      res.writeHead(302, { location: `${other.origin}/f` });
      res.end();
    });
    const onlyDefault = writeNetrc("default login d password dd\n");
    await client({ env: { NETRC: onlyDefault } }).get(`${server.origin}/x`);
    expect(basicOf(server.requests[0]?.headers.authorization)).toBe("d:dd");
    expect(other.requests[0]?.headers.authorization).toBeUndefined();
    const machine = writeNetrc("machine 127.0.0.2 login files password fp\n");
    await client({ env: { NETRC: machine } }).get(`${server.origin}/y`);
    expect(basicOf(other.requests[1]?.headers.authorization)).toBe("files:fp");
  });

  it("warns once about a malformed netrc", async () => {
    const server = await serve((_req, res) => res.end());
    const file = writeNetrc("machine 127.0.0.1 login x password secretpw oops\n");
    const reporter = new RecordingReporter();
    const c = client({ env: { NETRC: file }, reporter });
    await c.get(`${server.origin}/1`);
    await c.get(`${server.origin}/2`);
    expect(reporter.messages("warn")).toEqual(["netrc line 1: unexpected token"]);
    expect(basicOf(server.requests[1]?.headers.authorization)).toBe("x:secretpw");
  });
});
