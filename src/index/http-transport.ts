/**
 * One HTTP exchange on a pooled connection: pick the dispatcher (direct or through a proxy,
 * with extra CA certificates), send, and read the body piece by piece with a size guard, a
 * check against Content-Length and gzip/brotli/deflate decoding as it arrives — into memory,
 * or into a BodySink (FileSink: a file, hashed while written) so that a large download is
 * never held whole. No retries, no redirects, no cache — http.ts does those.
 */
import { createHash, type Hash } from "node:crypto";
import fs from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { pipeline, Readable, type Transform } from "node:stream";
import tls from "node:tls";
import zlib from "node:zlib";
import type { Agent, Dispatcher, ProxyAgent } from "undici";
import { SlimenvError } from "../base/index.ts";
import { normalizeProxyUrl, type ProxySettings, proxyFor } from "./proxy.ts";

type Undici = typeof import("undici");
let undiciModule: Promise<Undici> | undefined;

/** undici, loaded on the first request: commands that never touch the network skip its start-up. */
function undici(): Promise<Undici> {
  // Bundled, undici (CommonJS) may come back as the namespace's default export.
  undiciModule ??= import("undici").then((m) =>
    typeof m.Agent === "function" ? m : (m as unknown as { default: Undici }).default,
  );
  return undiciModule;
}

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
  // The system bundle usually repeats Node's roots: hand each certificate over once.
  return [...new Set([...roots, ...extra.flatMap(splitPem)])];
}

/**
 * The CA list for `files`, or undefined when Node's default roots already hold every one of
 * their certificates (NODE_EXTRA_CA_CERTS naming the same bundle as SSL_CERT_FILE, as is
 * common): the default secure context is then used, which costs nothing to set up.
 */
export function certificatesBeyondDefaults(files: readonly string[]): string[] | undefined {
  const all = loadCertificates(files);
  const defaults = new Set(
    typeof tls.getCACertificates === "function"
      ? tls.getCACertificates("default")
      : tls.rootCertificates,
  );
  return all.length === defaults.size ? undefined : all;
}

function splitPem(text: string): string[] {
  const found = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  return found === null ? [text] : found.map((c) => `${c}\n`);
}

export interface DispatcherOptions {
  proxy: ProxySettings;
  /** Full CA list, or undefined for Node's defaults. */
  ca: string[] | undefined;
  connectTimeoutMs: number;
}

/**
 * Pooled keep-alive connections: one Agent for direct traffic, one ProxyAgent per proxy. A CA
 * list becomes one TLS secure context, built once and shared by every connection (handing the
 * list itself to each connection re-parses every certificate per connection).
 */
export class Dispatchers {
  readonly #options: DispatcherOptions;
  #direct: Agent | undefined;
  readonly #proxies = new Map<string, ProxyAgent>();
  #connect: { timeout: number; secureContext?: tls.SecureContext } | undefined;

  constructor(options: DispatcherOptions) {
    this.#options = options;
  }

  #connectOptions(): { timeout: number; secureContext?: tls.SecureContext } {
    if (this.#connect === undefined) {
      const { ca, connectTimeoutMs } = this.#options;
      this.#connect = {
        timeout: connectTimeoutMs,
        ...(ca === undefined ? {} : { secureContext: tls.createSecureContext({ ca }) }),
      };
    }
    return this.#connect;
  }

  async for(url: URL): Promise<Dispatcher> {
    const { Agent, ProxyAgent } = await undici();
    const proxy = proxyFor(url, this.#options.proxy);
    const connect = this.#connectOptions();
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
  /** The decoded body; empty when it went to a sink (or was dropped). */
  body: Uint8Array;
  /** Length of the decoded body, wherever it went. */
  size: number;
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

/** A streaming decoder for a content coding; undefined for none. */
function decoderFor(coding: string): Transform | undefined {
  if (coding === "" || coding === "identity") return undefined;
  if (coding === "gzip" || coding === "x-gzip") return zlib.createGunzip();
  if (coding === "br") return zlib.createBrotliDecompress();
  if (coding === "deflate") return zlib.createInflate();
  throw new TransportError("UNKNOWN_ENCODING", `unsupported content coding ${coding}`);
}

/**
 * Where the body of a 2xx answer goes instead of memory (HttpClient.download). Each answer
 * starts it again: a retried download never mixes two attempts.
 */
export interface BodySink {
  /** Drop what was written so far; called once per answer that is not a redirect. */
  reset(): Promise<void>;
  /** The next piece of the decoded body. */
  write(chunk: Uint8Array): Promise<void>;
}

/**
 * Read `body` piece by piece: check its length against Content-Length, undo its content
 * coding as it arrives, stop as soon as it (raw or decoded) is longer than `maxBytes`, and
 * hand each decoded piece to `write`. Returns the decoded length.
 */
async function readBody(
  body: Readable,
  status: number,
  headers: Record<string, string>,
  maxBytes: number | undefined,
  write: (chunk: Buffer) => unknown,
): Promise<number> {
  const declared = headers["content-length"];
  const expected = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : undefined;
  // A compressed body is never larger than what it decodes to, so the raw size is guarded too.
  if (maxBytes !== undefined && expected !== undefined && expected > maxBytes) {
    throw new TooLargeError(status, maxBytes);
  }
  // A 304 or 204 has no body; its Content-Length and Content-Encoding describe the representation.
  const bodiless = status === 304 || status === 204;
  const coding = (headers["content-encoding"] ?? "").trim().toLowerCase();
  const decoder = bodiless ? undefined : decoderFor(coding);
  let received = 0;
  let sourceFailure: unknown;
  const raw = async function* (): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of body) {
        const buf = chunk as Buffer;
        received += buf.byteLength;
        if (maxBytes !== undefined && received > maxBytes) {
          throw new TooLargeError(status, maxBytes);
        }
        yield buf;
      }
    } catch (err) {
      sourceFailure = err;
      throw err;
    }
  };
  const pieces: AsyncIterable<Buffer> =
    decoder === undefined ? raw() : pipeline(Readable.from(raw()), decoder, () => {});
  let size = 0;
  try {
    for await (const chunk of pieces) {
      const buf = chunk as Buffer;
      size += buf.byteLength;
      if (maxBytes !== undefined && size > maxBytes) throw new TooLargeError(status, maxBytes);
      await write(buf);
    }
  } catch (err) {
    const fromDecoder =
      decoder !== undefined &&
      err !== sourceFailure &&
      !(err instanceof TooLargeError) &&
      !(err instanceof SlimenvError);
    if (fromDecoder) throw new TransportError("UNDECODABLE_BODY", `cannot decode ${coding} body`);
    throw err;
  }
  if (expected !== undefined && received !== expected && !bodiless) {
    throw new TransportError(
      "TRUNCATED_BODY",
      `body has ${received} bytes, Content-Length says ${expected}`,
    );
  }
  if (decoder !== undefined) {
    delete headers["content-encoding"];
    headers["content-length"] = String(size);
  }
  return size;
}

export interface SendOptions {
  dispatcher: Dispatcher;
  headers: Record<string, string>;
  timeoutMs: number;
  maxBytes: number | undefined;
  /** Redirect answers are returned without reading their body. */
  redirectStatuses: ReadonlySet<number>;
  /** Stream a 2xx body here instead of into `Exchange.body`; other bodies are dropped. */
  sink?: BodySink | undefined;
}

/** One GET: status, headers and the complete (decoded) body, in memory or in `sink`. */
export async function send(url: URL, options: SendOptions): Promise<Exchange> {
  const { request } = await undici();
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
  const empty: Exchange = { ...base, body: new Uint8Array(0), size: 0 };
  const { sink } = options;
  try {
    if (options.redirectStatuses.has(status) && headers.location !== undefined) {
      await res.body.dump().catch(() => {});
      return empty;
    }
    if (sink !== undefined) {
      await sink.reset();
      if (status < 200 || status > 299) {
        await res.body.dump().catch(() => {});
        return empty;
      }
      const size = await readBody(res.body, status, headers, options.maxBytes, (chunk) =>
        sink.write(chunk),
      );
      return { ...empty, size };
    }
    const chunks: Buffer[] = [];
    const size = await readBody(res.body, status, headers, options.maxBytes, (chunk) =>
      chunks.push(chunk),
    );
    const body = Buffer.concat(chunks);
    return { ...base, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength), size };
  } finally {
    if (!res.body.readableEnded) res.body.destroy();
  }
}

/**
 * A BodySink that writes to a file (created or truncated) while hashing it (sha256) and
 * counting its bytes. A failed write is IO_ERROR (not a network failure: never retried).
 */
export class FileSink implements BodySink {
  readonly path: string;
  #handle: FileHandle | undefined;
  #hash: Hash = createHash("sha256");
  #size = 0;
  readonly #onProgress: ((bytes: number) => void) | undefined;

  private constructor(file: string, handle: FileHandle, onProgress?: (bytes: number) => void) {
    this.path = file;
    this.#handle = handle;
    this.#onProgress = onProgress;
  }

  static async open(file: string, onProgress?: (bytes: number) => void): Promise<FileSink> {
    try {
      return new FileSink(file, await open(file, "w"), onProgress);
    } catch (err) {
      throw FileSink.#ioError(file, err);
    }
  }

  /** Bytes written since the last reset. */
  get size(): number {
    return this.#size;
  }

  /** Hex sha256 of the bytes written since the last reset. */
  sha256(): string {
    return this.#hash.copy().digest("hex");
  }

  async reset(): Promise<void> {
    try {
      await this.#open().truncate(0);
    } catch (err) {
      throw FileSink.#ioError(this.path, err);
    }
    this.#hash = createHash("sha256");
    this.#size = 0;
  }

  async write(chunk: Uint8Array): Promise<void> {
    const handle = this.#open();
    try {
      let done = 0;
      while (done < chunk.byteLength) {
        const { bytesWritten } = await handle.write(
          chunk,
          done,
          chunk.byteLength - done,
          this.#size + done,
        );
        done += bytesWritten;
      }
    } catch (err) {
      throw FileSink.#ioError(this.path, err);
    }
    this.#hash.update(chunk);
    this.#size += chunk.byteLength;
    this.#onProgress?.(this.#size);
  }

  /** Close the file (idempotent). */
  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }

  #open(): FileHandle {
    if (this.#handle === undefined) throw new Error(`${this.path} is closed`);
    return this.#handle;
  }

  static #ioError(file: string, err: unknown): SlimenvError {
    const reason = (err as { code?: string }).code ?? String(err);
    return new SlimenvError("IO_ERROR", `cannot write ${file} (${reason})`, { cause: err });
  }
}
