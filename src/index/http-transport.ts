/**
 * One HTTP exchange on a pooled connection: pick the dispatcher (direct or through a proxy,
 * with extra CA certificates), send, read the whole body with a size guard and a check against
 * Content-Length, and undo gzip/brotli content coding. No retries, no redirects, no cache —
 * http.ts does those.
 */
import fs from "node:fs";
import tls from "node:tls";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { Agent, type Dispatcher, ProxyAgent, request } from "undici";
import { SlimenvError } from "../base/index.ts";
import { normalizeProxyUrl, type ProxySettings, proxyFor } from "./proxy.ts";

const gunzip = promisify(zlib.gunzip);
const brotli = promisify(zlib.brotliDecompress);
const inflate = promisify(zlib.inflate);

/** At most `limit` holders at a time; the rest wait in FIFO order. */
export class Limiter {
  readonly limit: number;
  #active = 0;
  #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.limit = Math.max(1, Math.floor(limit));
  }

  async acquire(): Promise<void> {
    if (this.#active < this.limit) {
      this.#active++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#active--;
  }
}

/** Read extra CA files (PEM) and add them to Node's default roots. */
export function loadCertificates(files: readonly string[]): string[] {
  const extra: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      throw new SlimenvError("IO_ERROR", `cannot read CA certificate file ${file}`, {
        cause: err,
        hint: "check the caFiles option / SSL_CERT_FILE",
      });
    }
    if (!text.includes("-----BEGIN CERTIFICATE-----")) {
      throw new SlimenvError("INVALID_OPTION", `${file} holds no PEM certificate`, {
        hint: "give a PEM file (-----BEGIN CERTIFICATE-----) in caFiles / SSL_CERT_FILE",
      });
    }
    extra.push(text);
  }
  const roots =
    typeof tls.getCACertificates === "function"
      ? tls.getCACertificates("default")
      : [...tls.rootCertificates];
  return [...roots, ...extra];
}

export interface DispatcherOptions {
  proxy: ProxySettings;
  /** Full CA list, or undefined for Node's defaults. */
  ca: string[] | undefined;
  connectTimeoutMs: number;
}

/** Pooled keep-alive connections: one Agent for direct traffic, one ProxyAgent per proxy. */
export class Dispatchers {
  readonly #options: DispatcherOptions;
  #direct: Agent | undefined;
  readonly #proxies = new Map<string, ProxyAgent>();

  constructor(options: DispatcherOptions) {
    this.#options = options;
  }

  for(url: URL): Dispatcher {
    const proxy = proxyFor(url, this.#options.proxy);
    const connect = {
      timeout: this.#options.connectTimeoutMs,
      ...(this.#options.ca === undefined ? {} : { ca: this.#options.ca }),
    };
    if (proxy === undefined) {
      this.#direct ??= new Agent({ connect });
      return this.#direct;
    }
    let agent = this.#proxies.get(proxy);
    if (agent === undefined) {
      const proxyUrl = new URL(normalizeProxyUrl(proxy));
      let token: string | undefined;
      if (proxyUrl.username !== "" || proxyUrl.password !== "") {
        const user = decodeURIComponent(proxyUrl.username);
        const pass = decodeURIComponent(proxyUrl.password);
        token = `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
        proxyUrl.username = "";
        proxyUrl.password = "";
      }
      agent = new ProxyAgent({
        uri: proxyUrl.href,
        ...(token === undefined ? {} : { token }),
        proxyTunnel: false, // plain http targets are forwarded; https ones tunnel (CONNECT)
        connect,
        requestTls: connect,
        proxyTls: connect,
      });
      this.#proxies.set(proxy, agent);
    }
    return agent;
  }

  async close(): Promise<void> {
    const all: Dispatcher[] = [...this.#proxies.values()];
    if (this.#direct !== undefined) all.push(this.#direct);
    this.#direct = undefined;
    this.#proxies.clear();
    await Promise.all(all.map((d) => d.close().catch(() => {})));
  }
}

export interface Exchange {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: Uint8Array;
  requestTime: number;
  responseTime: number;
}

/** A failure that may be retried, with a code `classifyFailure` knows. */
export class TransportError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** Thrown when a body is larger than the caller allows (never retried). */
export class TooLargeError extends Error {
  readonly status: number;
  constructor(status: number, limit: number) {
    super(`the response is larger than the limit of ${limit} bytes`);
    this.status = status;
  }
}

function flattenHeaders(
  raw: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

async function decode(
  body: Buffer,
  encoding: string | undefined,
  maxBytes: number | undefined,
  status: number,
): Promise<Buffer> {
  const coding = (encoding ?? "").trim().toLowerCase();
  if (coding === "" || coding === "identity") return body;
  const opts = maxBytes === undefined ? {} : { maxOutputLength: maxBytes };
  try {
    if (coding === "gzip" || coding === "x-gzip") return await gunzip(body, opts);
    if (coding === "br") return await brotli(body, opts);
    if (coding === "deflate") return await inflate(body, opts);
  } catch (err) {
    if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE" && maxBytes !== undefined) {
      throw new TooLargeError(status, maxBytes);
    }
    throw new TransportError("TRUNCATED_BODY", `cannot decode ${coding} body`);
  }
  throw new TransportError("UNKNOWN_ENCODING", `unsupported content coding ${coding}`);
}

export interface SendOptions {
  dispatcher: Dispatcher;
  headers: Record<string, string>;
  timeoutMs: number;
  maxBytes: number | undefined;
  /** Redirect answers are returned without reading their body. */
  redirectStatuses: ReadonlySet<number>;
}

/** One GET: status, headers and the complete (decoded) body. */
export async function send(url: URL, options: SendOptions): Promise<Exchange> {
  const requestTime = Date.now();
  const res = await request(url, {
    method: "GET",
    headers: options.headers,
    dispatcher: options.dispatcher,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  const responseTime = Date.now();
  res.body.on("error", () => {}); // failures surface through the read loop below
  const headers = flattenHeaders(res.headers);
  const status = res.statusCode;
  const base = { status, statusText: res.statusText ?? "", headers, requestTime, responseTime };
  if (options.redirectStatuses.has(status) && headers.location !== undefined) {
    await res.body.dump().catch(() => {});
    return { ...base, body: new Uint8Array(0) };
  }
  const { maxBytes } = options;
  const declared = headers["content-length"];
  const expected = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : undefined;
  // A compressed body is never larger than what it decodes to, so the raw size is guarded too.
  if (maxBytes !== undefined && expected !== undefined && expected > maxBytes) {
    res.body.destroy();
    throw new TooLargeError(status, maxBytes);
  }
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of res.body) {
    const buf = chunk as Buffer;
    received += buf.byteLength;
    if (maxBytes !== undefined && received > maxBytes) {
      res.body.destroy();
      throw new TooLargeError(status, maxBytes);
    }
    chunks.push(buf);
  }
  // A 304 or 204 has no body; its Content-Length (if any) describes the representation.
  if (expected !== undefined && received !== expected && status !== 304 && status !== 204) {
    throw new TransportError(
      "TRUNCATED_BODY",
      `body has ${received} bytes, Content-Length says ${expected}`,
    );
  }
  const raw = Buffer.concat(chunks);
  const decoded = await decode(raw, headers["content-encoding"], maxBytes, status);
  if (decoded !== raw) {
    delete headers["content-encoding"];
    headers["content-length"] = String(decoded.byteLength);
  }
  if (maxBytes !== undefined && decoded.byteLength > maxBytes) {
    throw new TooLargeError(status, maxBytes);
  }
  return {
    ...base,
    body: new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength),
  };
}
