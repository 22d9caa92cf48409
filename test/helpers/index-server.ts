/**
 * An in-process package index on 127.0.0.1 for hermetic tests, with the behaviour of a real
 * one: /simple/ pages in PEP 691 JSON or PEP 503 HTML chosen by Accept, files under /files/
 * with byte ranges, PEP 658 `.metadata` files, a flat find-links page at /links/, Basic auth,
 * ETag / Last-Modified / Cache-Control with 304s, a request log, and injected faults
 * (statuses, delays, truncated bodies, connection resets, corrupted bytes).
 */
import { Buffer } from "node:buffer";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { canonicalizeName } from "../../src/standards/names.ts";
import {
  canonicalProjects,
  type IndexEntry,
  type IndexProjects,
  indexPage,
  linksPage,
  negotiate,
  offersMetadata,
  projectPage,
  type SimpleFormat,
  type UrlStyle,
} from "./index-pages.ts";
import { sha256Hex } from "./wheels.ts";

export type { IndexEntry, IndexFile, IndexProjects, SimpleFormat } from "./index-pages.ts";

/**
 * One injected fault. It applies to the first `times` requests whose path (without query)
 * matches; faults are tried in order and the first matching one with uses left is applied.
 */
export interface Fault {
  /** Exact path (e.g. "/simple/foo/") or a pattern tested against the path. */
  path: string | RegExp;
  /** Only requests with this method (default: any). */
  method?: string;
  /** How many matching requests it applies to (default: all). */
  times?: number;
  /** Answer with this status (body "injected <status>") instead of the real answer. */
  status?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Send the headers, then wait this long before the body. */
  bodyDelayMs?: number;
  /** Send only this many body bytes (Content-Length stays full), then close the connection. */
  truncate?: number;
  /** Send this many body bytes, then reset the connection (TCP RST). */
  reset?: number;
  /** Flip the bits of one body byte: at this offset, or (true) the middle one. */
  corrupt?: boolean | number;
  /** Set (string) or remove (null) response headers. */
  headers?: Record<string, string | null>;
  /** Send the body without Content-Length (chunked transfer coding). */
  chunked?: boolean;
}

export type FaultPlan = readonly Fault[];

export interface RequestLog {
  method: string;
  /** Path without the query. */
  path: string;
  /** Path with the query, as sent. */
  url: string;
  /** Request headers, lower-case names. */
  headers: Record<string, string>;
  status: number;
}

export interface IndexServerOptions {
  projects: IndexProjects;
  /** Formats the index answers (default both, chosen by Accept; one format ignores Accept). */
  formats?: readonly SimpleFormat[];
  faults?: FaultPlan;
  /** Require Basic auth on every path (401 otherwise). */
  auth?: { user: string; password: string };
  /** Honour Range requests on files (default true). */
  ranges?: boolean;
  /** Link files by relative URLs ("../../files/x") instead of absolute ones. */
  relativeUrls?: boolean;
  /** Cache-Control values ("" = none). Defaults as PyPI: pages 600 s, files immutable. */
  cacheControl?: { pages?: string; files?: string };
}

export interface IndexServer {
  /** `http://127.0.0.1:PORT/simple/` */
  url: string;
  /** `url` with the auth credentials as userinfo (same as `url` without auth). */
  urlWithAuth: string;
  /** `http://127.0.0.1:PORT/files/` */
  filesUrl: string;
  /** `http://127.0.0.1:PORT/links/` — flat find-links page. */
  linksUrl: string;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** Every request answered so far, in order (a live array: clear with `length = 0`). */
  requests: RequestLog[];
  /** Replace the fault plan (use counts start again). */
  setFaults(plan: FaultPlan): void;
  /** Replace the projects; Last-Modified moves on by one minute. */
  setProjects(projects: IndexProjects): void;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

const BASE_TIME = Date.UTC(2020, 0, 1, 12, 0, 0);
const PAGE_CACHE = "max-age=600, public";
const FILE_CACHE = "max-age=365000000, immutable, public";

function text(status: number, message: string, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
    body: new TextEncoder().encode(`${message}\n`),
  };
}

function etagOf(body: Uint8Array): string {
  return `"${sha256Hex(body).slice(0, 24)}"`;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
}

/** Single byte range → [start, end] inclusive; "all" to send it whole; 416 when unsatisfiable. */
export function parseRange(header: string, length: number): [number, number] | "all" | 416 {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return "all";
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0 || length === 0) return 416;
    return [Math.max(0, length - suffix), length - 1];
  }
  const start = Number(m[1]);
  if (m[2] !== "" && Number(m[2]) < start) return "all";
  if (start >= length) return 416;
  return [start, m[2] === "" ? length - 1 : Math.min(Number(m[2]), length - 1)];
}

function notModified(req: IncomingMessage, etag: string, lastModified: number): boolean {
  const inm = headerValue(req, "if-none-match");
  if (inm !== undefined) {
    const tags = inm.split(",").map((t) => t.trim().replace(/^W\//, ""));
    return tags.includes("*") || tags.includes(etag);
  }
  const ims = headerValue(req, "if-modified-since");
  if (ims !== undefined) {
    const since = Date.parse(ims);
    return !Number.isNaN(since) && lastModified <= since;
  }
  return false;
}

/** Start an index on 127.0.0.1 (a free port). Close it with `close()`. */
export async function startIndexServer(options: IndexServerOptions): Promise<IndexServer> {
  let projects = canonicalProjects(options.projects);
  let faults: { fault: Fault; used: number }[] = [];
  let lastModified = BASE_TIME;
  const setFaults = (plan: FaultPlan) => {
    faults = plan.map((fault) => ({ fault, used: 0 }));
  };
  setFaults(options.faults ?? []);
  const formats = options.formats ?? ["json", "html"];
  const ranges = options.ranges ?? true;
  const pageCache = options.cacheControl?.pages ?? PAGE_CACHE;
  const fileCache = options.cacheControl?.files ?? FILE_CACHE;
  const requests: RequestLog[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let style: UrlStyle = { origin: "", relative: options.relativeUrls ?? false };
  const expectedAuth =
    options.auth === undefined
      ? undefined
      : `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString("base64")}`;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const takeFault = (method: string, path: string): Fault | undefined => {
    for (const f of faults) {
      const { fault } = f;
      if (fault.method !== undefined && fault.method.toUpperCase() !== method) continue;
      const matches = typeof fault.path === "string" ? fault.path === path : fault.path.test(path);
      if (!matches || f.used >= (fault.times ?? Number.POSITIVE_INFINITY)) continue;
      f.used++;
      return fault;
    }
    return undefined;
  };

  /** A cacheable representation: ETag, Last-Modified, Cache-Control; 304 when fresh. */
  const representation = (
    req: IncomingMessage,
    body: Uint8Array,
    headers: Record<string, string>,
    cacheControl: string,
  ): Reply => {
    const etag = etagOf(body);
    const common: Record<string, string> = {
      etag,
      "last-modified": new Date(lastModified).toUTCString(),
      ...(cacheControl === "" ? {} : { "cache-control": cacheControl }),
    };
    if (headers.vary !== undefined) common.vary = headers.vary;
    if (notModified(req, etag, lastModified)) {
      return { status: 304, headers: common, body: new Uint8Array(0) };
    }
    return { status: 200, headers: { ...headers, ...common }, body };
  };

  const page = (req: IncomingMessage, render: (format: SimpleFormat) => string): Reply => {
    const chosen = negotiate(headerValue(req, "accept"), formats);
    if (chosen === undefined) {
      return text(406, "not acceptable: this index serves PEP 691 JSON and PEP 503 HTML");
    }
    const body = new TextEncoder().encode(render(chosen.format));
    const headers: Record<string, string> = { "content-type": chosen.contentType };
    if (formats.length > 1) headers.vary = "Accept";
    return representation(req, body, headers, pageCache);
  };

  const file = (req: IncomingMessage, bytes: Uint8Array): Reply => {
    const reply = representation(
      req,
      bytes,
      {
        "content-type": "application/octet-stream",
        "accept-ranges": ranges ? "bytes" : "none",
      },
      fileCache,
    );
    const range = headerValue(req, "range");
    if (reply.status !== 200 || !ranges || range === undefined) return reply;
    const r = parseRange(range, bytes.length);
    if (r === "all") return reply;
    if (r === 416) {
      return {
        status: 416,
        headers: { "content-range": `bytes */${bytes.length}`, "accept-ranges": "bytes" },
        body: new Uint8Array(0),
      };
    }
    return {
      status: 206,
      headers: { ...reply.headers, "content-range": `bytes ${r[0]}-${r[1]}/${bytes.length}` },
      body: bytes.subarray(r[0], r[1] + 1),
    };
  };

  const findFile = (filename: string): IndexEntry | undefined => {
    for (const entries of projects.values()) {
      const e = entries.find((x) => x.file.filename === filename);
      if (e !== undefined) return e;
    }
    return undefined;
  };

  const route = (req: IncomingMessage, path: string): Reply => {
    if (path === "/simple" || path === "/links") return text(301, "", { location: `${path}/` });
    if (path === "/simple/") return page(req, (f) => indexPage([...projects.keys()], f));
    if (path === "/links/") {
      const body = new TextEncoder().encode(linksPage(projects, style));
      return representation(req, body, { "content-type": "text/html; charset=utf-8" }, pageCache);
    }
    const simple = /^\/simple\/([^/]+)(\/?)$/.exec(path);
    if (simple) {
      const given = simple[1] ?? "";
      const canonical = canonicalizeName(given);
      const entries = projects.get(canonical);
      if (entries === undefined) return text(404, `no project ${given}`);
      if (given !== canonical || simple[2] === "") {
        return text(301, "", { location: `/simple/${canonical}/` });
      }
      return page(req, (f) => projectPage(canonical, entries, f, style));
    }
    const files = /^\/files\/([^/]+)$/.exec(path);
    if (files) {
      const name = files[1] ?? "";
      const entry = findFile(name);
      if (entry !== undefined) return file(req, entry.file.bytes);
      if (name.endsWith(".metadata")) {
        const of = findFile(name.slice(0, -".metadata".length));
        if (of !== undefined && offersMetadata(of)) {
          return file(req, new TextEncoder().encode(of.file.metadata ?? ""));
        }
      }
      return text(404, `no file ${name}`);
    }
    return text(404, `not found: ${path}`);
  };

  const send = async (
    res: ServerResponse,
    reply: Reply,
    fault: Fault | undefined,
    head: boolean,
  ) => {
    const headers: Record<string, string> = { ...reply.headers };
    for (const [k, v] of Object.entries(fault?.headers ?? {})) {
      if (v === null) delete headers[k.toLowerCase()];
      else headers[k.toLowerCase()] = v;
    }
    let body = reply.body;
    if (fault?.corrupt !== undefined && fault.corrupt !== false && body.length > 0) {
      const at =
        fault.corrupt === true
          ? Math.floor(body.length / 2)
          : Math.min(fault.corrupt, body.length - 1);
      body = Uint8Array.from(body);
      body[at] = (body[at] ?? 0) ^ 0xff;
    }
    headers["content-length"] = String(body.length);
    if (fault?.chunked === true) delete headers["content-length"];
    res.writeHead(reply.status, headers);
    if (head || reply.status === 304 || reply.status === 204) {
      res.end();
      return;
    }
    if (fault?.bodyDelayMs !== undefined) {
      res.flushHeaders();
      await sleep(fault.bodyDelayMs);
      if (res.destroyed) return;
    }
    const cut = fault?.reset ?? fault?.truncate;
    if (cut === undefined) {
      res.end(body);
      return;
    }
    const socket = res.socket;
    res.write(body.subarray(0, Math.min(cut, body.length)), () => {
      if (fault?.reset !== undefined) socket?.resetAndDestroy();
      else socket?.end();
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const method = (req.method ?? "GET").toUpperCase();
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    let path = q === -1 ? url : url.slice(0, q);
    try {
      path = decodeURIComponent(path);
    } catch {
      // leave it as sent
    }
    const fault = takeFault(method, path);
    if (fault?.delayMs !== undefined) await sleep(fault.delayMs);
    if (res.destroyed) return;
    let reply: Reply;
    if (fault?.status !== undefined) {
      reply = text(fault.status, `injected ${fault.status}`);
    } else if (expectedAuth !== undefined && headerValue(req, "authorization") !== expectedAuth) {
      reply = text(401, "authentication required", {
        "www-authenticate": 'Basic realm="slimenv-test-index"',
      });
    } else if (method !== "GET" && method !== "HEAD") {
      reply = text(405, "method not allowed", { allow: "GET, HEAD" });
    } else {
      reply = route(req, path);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
    }
    requests.push({ method, path, url, headers, status: reply.status });
    await send(res, reply, fault, method === "HEAD");
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(`test index failed: ${String(err)}\n`);
      } else {
        res.destroy();
      }
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  style = { ...style, origin };
  const userinfo =
    options.auth === undefined
      ? ""
      : `${encodeURIComponent(options.auth.user)}:${encodeURIComponent(options.auth.password)}@`;
  return {
    url: `${origin}/simple/`,
    urlWithAuth: `http://${userinfo}127.0.0.1:${port}/simple/`,
    filesUrl: `${origin}/files/`,
    linksUrl: `${origin}/links/`,
    origin,
    requests,
    setFaults,
    setProjects(next) {
      projects = canonicalProjects(next);
      lastModified += 60_000;
    },
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
