/**
 * Small node:http(s) servers on 127.0.0.1 for the HTTP client tests: each records what it was
 * asked, how many connections it saw and the most requests it had in flight at once.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import path from "node:path";
import type { SlimenvError } from "../../src/base/index.ts";
import { isSlimenvError } from "../../src/base/index.ts";
import { tempDir as cleanedTempDir } from "../helpers/tmp.ts";

export interface Recorded {
  method: string;
  /** The request target as sent (a path, or an absolute URL through a forward proxy). */
  url: string;
  headers: http.IncomingHttpHeaders;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, hit: number) => unknown;

export interface TestServer {
  /** `http://127.0.0.1:PORT` (or https://), no trailing slash. */
  origin: string;
  port: number;
  requests: Recorded[];
  /** Requests per path (query included). */
  hits: Map<string, number>;
  connections: number;
  maxInFlight: number;
  close(): Promise<void>;
}

export async function startServer(
  handler: Handler,
  options: { host?: string; tls?: { key: string; cert: string } } = {},
): Promise<TestServer> {
  const host = options.host ?? "127.0.0.1";
  let inFlight = 0;
  const state: TestServer = {
    origin: "",
    port: 0,
    requests: [],
    hits: new Map(),
    connections: 0,
    maxInFlight: 0,
    close: async () => {},
  };
  const listener = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    res.on("close", () => inFlight--);
    state.requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    const key = req.url ?? "";
    const hit = (state.hits.get(key) ?? 0) + 1;
    state.hits.set(key, hit);
    try {
      await handler(req, res, hit);
    } catch (err) {
      res.statusCode = 599;
      res.end(String(err));
    }
  };
  const server = options.tls
    ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, listener)
    : http.createServer(listener);
  server.on(options.tls ? "secureConnection" : "connection", () => {
    state.connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  state.port = port;
  state.origin = `${options.tls ? "https" : "http"}://${host}:${port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

export interface TestProxy {
  url: string;
  /** Absolute-form requests forwarded (plain http) and CONNECT targets (https). */
  forwarded: Recorded[];
  tunnels: Array<{ target: string; headers: http.IncomingHttpHeaders }>;
  close(): Promise<void>;
}

/** A tiny forward proxy: absolute-URI GETs are forwarded, CONNECT is tunnelled. */
export async function startProxy(): Promise<TestProxy> {
  const forwarded: Recorded[] = [];
  const tunnels: TestProxy["tunnels"] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    forwarded.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    const target = new URL(req.url ?? "");
    const headers = { ...req.headers };
    delete headers["proxy-authorization"];
    delete headers["proxy-connection"];
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: req.method,
        headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => {
      res.statusCode = 502;
      res.end();
    });
    req.pipe(upstream);
  });
  server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    tunnels.push({ target: req.url ?? "", headers: req.headers });
    const [host, port] = (req.url ?? "").split(":");
    const upstream = net.connect(Number(port), host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    sockets.add(client);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    forwarded,
    tunnels,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function tempDir(prefix: string): string {
  return cleanedTempDir(`slimenv-${prefix}-`);
}

export interface Certificates {
  caFile: string;
  caPem: string;
  key: string;
  cert: string;
}

/** A fresh CA and a server certificate for 127.0.0.1 signed by it (needs the openssl CLI). */
export function makeCertificates(dir: string): Certificates {
  const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  run(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=slimenv test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  run("req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
  fs.writeFileSync(
    path.join(dir, "ext.cnf"),
    "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  run(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
  );
  return {
    caFile: path.join(dir, "ca.pem"),
    caPem: fs.readFileSync(path.join(dir, "ca.pem"), "utf8"),
    key: fs.readFileSync(path.join(dir, "server.key"), "utf8"),
    cert: fs.readFileSync(path.join(dir, "server.pem"), "utf8"),
  };
}

/** The SlimenvError a promise rejects with (fails when it resolves or rejects otherwise). */
export async function rejection(promise: Promise<unknown>): Promise<SlimenvError> {
  try {
    await promise;
  } catch (err) {
    if (isSlimenvError(err)) return err;
    throw new Error(`expected a SlimenvError, got ${String(err)}`, { cause: err });
  }
  throw new Error("expected a SlimenvError, got a result");
}

export function text(body: Uint8Array): string {
  return Buffer.from(body).toString("utf8");
}
