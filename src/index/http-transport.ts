/**
 * One HTTP exchange on a pooled connection (http-connections.ts: the dispatcher, direct or
 * through a proxy, with extra CA certificates): send, and read the body piece by piece with a
 * size guard, a check against Content-Length and gzip/brotli/deflate decoding as it arrives —
 * into memory, or into a BodySink (http-sink.ts; FileSink: a file, hashed while written) so
 * that a large download is never held whole. No retries, no redirects, no cache — http.ts
 * does those.
 */
import { createHash } from "node:crypto";
import { pipeline, Readable, type Transform } from "node:stream";
import zlib from "node:zlib";
import type { Dispatcher } from "undici";
import { SlimenvError } from "../base/index.ts";
import { undici } from "./http-connections.ts";
import type { BodySink } from "./http-sink.ts";

export interface Exchange {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  /**
   * The decoded body; empty when it went to a sink (or was dropped). Put together from its
   * pieces on first use: an answer only hashed (`sha256`) is never copied into one buffer.
   */
  readonly body: Uint8Array;
  /** Hex sha256 of `body` (computed once, from its pieces). */
  sha256(): string;
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

/** A body collected in memory, piece by piece. */
class BodyPieces {
  readonly #pieces: Buffer[] = [];
  #whole: Uint8Array | undefined;
  #sha256: string | undefined;

  add(chunk: Buffer): void {
    this.#pieces.push(chunk);
  }

  bytes(): Uint8Array {
    if (this.#whole === undefined) {
      const body =
        this.#pieces.length === 1 ? (this.#pieces[0] as Buffer) : Buffer.concat(this.#pieces);
      this.#whole = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
      this.#pieces.length = 0;
      this.#pieces.push(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    }
    return this.#whole;
  }

  sha256(): string {
    if (this.#sha256 === undefined) {
      const hash = createHash("sha256");
      for (const piece of this.#pieces) hash.update(piece);
      this.#sha256 = hash.digest("hex");
    }
    return this.#sha256;
  }
}

/** An exchange whose body is `pieces`. */
function withBody(
  base: Omit<Exchange, "body" | "sha256" | "size">,
  size: number,
  pieces: BodyPieces,
): Exchange {
  return {
    ...base,
    size,
    get body() {
      return pieces.bytes();
    },
    sha256: () => pieces.sha256(),
  };
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
  const res = await request(options.dispatcher, {
    origin: url.origin,
    path: `${url.pathname}${url.search}`,
    method: "GET",
    headers: options.headers,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  const responseTime = Date.now();
  res.body.on("error", () => {}); // failures surface through the read loop below
  const headers = flattenHeaders(res.headers);
  const status = res.statusCode;
  const base = { status, statusText: res.statusText ?? "", headers, requestTime, responseTime };
  const empty = withBody(base, 0, new BodyPieces());
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
      return withBody(base, size, new BodyPieces());
    }
    const pieces = new BodyPieces();
    const size = await readBody(res.body, status, headers, options.maxBytes, (chunk) =>
      pieces.add(chunk),
    );
    return withBody(base, size, pieces);
  } finally {
    if (!res.body.readableEnded) res.body.destroy();
  }
}
