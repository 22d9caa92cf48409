/**
 * The HTTP client every index request goes through: pooled keep-alive connections, at most
 * `concurrency` requests in flight, retries with jittered exponential backoff, an on-disk HTTP
 * cache (http-cache.ts), `offline` mode, proxies from the environment (proxy.ts), extra CA
 * certificates, and credentials from URL userinfo or netrc (netrc.ts) that never reach a
 * message, a log line, a cache key or `HttpResponse.url`.
 *
 * Time-outs are per attempt and per phase: connecting, waiting for the headers, and any gap
 * between two chunks of the body may each take at most `timeoutMs` (a large download on a slow
 * but steady link is not cut off).
 *
 * `download` streams a body into a file while hashing it, through the same retries, time-outs,
 * proxies, credentials, redirects and content decoding as `get`: a wheel of several GB is never
 * held in memory. Downloads are not cached (the store keeps wheels).
 *
 * Redirects (301, 302, 303, 307, 308; at most 10) are followed. Credentials from the URL go only
 * to that URL's host (and never from https down to http); after a redirect to another host only
 * a netrc `machine` entry for that host is sent, never the netrc `default`.
 */
import { rm } from "node:fs/promises";
import { type Reporter, silentReporter } from "../base/index.ts";
import {
  type CacheEntry,
  type CacheMeta,
  cacheKey,
  HttpCache,
  isFresh,
  isStorable,
  refreshed,
  responseFromCache,
  validatorHeaders,
} from "./http-cache.ts";
import { certificatesBeyondDefaults, Dispatchers, Limiter } from "./http-connections.ts";
import { offlineDownload, offlineMiss } from "./http-errors.ts";
import { type FetchContext, fetchWithRetries } from "./http-fetch.ts";
import { FileSink } from "./http-sink.ts";
import type {
  HttpClientOptions,
  HttpDownload,
  HttpDownloadOptions,
  HttpGetOptions,
  HttpResponse,
} from "./http-types.ts";
import { formatRange, parseRequestUrl } from "./http-url.ts";
import { type ParsedNetrc, readNetrc } from "./netrc.ts";
import { proxySettingsFromEnv } from "./proxy.ts";

export class HttpClient {
  readonly offline: boolean;
  /** The HTTP cache folder given (undefined: no cache). */
  readonly cacheDir: string | undefined;
  readonly #cache: HttpCache | undefined;
  readonly #timeoutMs: number;
  readonly #limiter: Limiter;
  readonly #env: NodeJS.ProcessEnv;
  readonly #caFiles: string[];
  readonly #useNetrc: boolean;
  readonly #reporter: Reporter;
  readonly #userAgent: string;
  #dispatchers: Dispatchers | undefined;
  #netrc: ParsedNetrc | undefined | null = null;
  readonly #fetchContext: FetchContext;

  constructor(options: HttpClientOptions = {}) {
    this.offline = options.offline ?? false;
    this.cacheDir = options.cacheDir;
    this.#cache = options.cacheDir === undefined ? undefined : new HttpCache(options.cacheDir);
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#limiter = new Limiter(options.concurrency ?? 16);
    this.#env = options.env ?? process.env;
    const sslCertFile = this.#env.SSL_CERT_FILE;
    this.#caFiles = [...(options.caFiles ?? []), ...(sslCertFile ? [sslCertFile] : [])];
    this.#useNetrc = options.netrc ?? true;
    this.#reporter = options.reporter ?? silentReporter;
    this.#userAgent = options.userAgent ?? `slimenv (node ${process.versions.node})`;
    this.#fetchContext = {
      retries: Math.max(0, options.retries ?? 3),
      retryBaseMs: options.retryBaseMs ?? 250,
      retryAfterCapMs: options.retryAfterCapMs ?? 30_000,
      timeoutMs: this.#timeoutMs,
      reporter: this.#reporter,
      limiter: this.#limiter,
      dispatchers: () => this.#getDispatchers(),
      netrc: () => this.#getNetrc(),
    };
  }

  /** GET `url`. 404 is returned; other 4xx/5xx (after retries) throw HttpError. */
  async get(url: string, options: HttpGetOptions = {}): Promise<HttpResponse> {
    const target = parseRequestUrl(url);
    const display = target.url.href;
    const accept = options.accept ?? "*/*";
    const range = options.range === undefined ? undefined : formatRange(options.range);
    const mode = options.cache ?? "default";
    const cache = mode === "no-store" ? undefined : this.#cache;
    const key = cacheKey(display, accept, range);
    const cached = cache === undefined ? undefined : await cache.read(key);

    if (this.offline) {
      if (cached !== undefined) return responseFromCache(cached, options.maxBytes);
      throw offlineMiss(display);
    }
    if (cached !== undefined && mode === "immutable" && cached.meta.status === 200) {
      this.#reporter.log("debug", `GET ${display} (immutable, from cache)`);
      return responseFromCache(cached, options.maxBytes);
    }
    if (cached !== undefined && mode === "default" && isFresh(cached.meta, Date.now())) {
      this.#reporter.log("debug", `GET ${display} (fresh in cache)`);
      return responseFromCache(cached, options.maxBytes);
    }

    const headers = this.#requestHeaders(accept, range, cached);
    const fetched = await fetchWithRetries(this.#fetchContext, target, headers, {
      maxBytes: options.maxBytes,
    });
    const { exchange } = fetched;

    if (exchange.status === 304 && cached !== undefined && cache !== undefined) {
      this.#reporter.log("debug", `GET ${display} (not modified, from cache)`);
      const meta = refreshed(
        cached.meta,
        exchange.headers,
        exchange.requestTime,
        exchange.responseTime,
      );
      await this.#store(cache, key, meta, cached.body);
      return responseFromCache({ meta, body: cached.body }, options.maxBytes);
    }
    const response: HttpResponse = {
      url: fetched.url,
      status: exchange.status,
      headers: exchange.headers,
      body: exchange.body,
      fromCache: false,
      cached: false,
    };
    if (cache !== undefined) {
      if (unchangedAndTimeless(cached, exchange, fetched.url)) {
        response.cached = true;
        // Same bytes, and nothing in the answer that a new entry would date or validate with:
        // the entry on disk already says all this one would (indexes without caching headers
        // send tens of MB of project pages on every run).
        this.#reporter.log("debug", `GET ${display} (same as the cached copy; not rewritten)`);
      } else if (
        isStorable(exchange.status, exchange.headers, range !== undefined, fetched.authorized)
      ) {
        const meta: CacheMeta = {
          requestUrl: display,
          accept,
          range,
          url: fetched.url,
          status: exchange.status,
          headers: exchange.headers,
          requestTime: exchange.requestTime,
          responseTime: exchange.responseTime,
        };
        response.cached = await this.#store(cache, key, meta, exchange.body);
      } else if (cached !== undefined) {
        await cache.delete(key);
      }
    }
    return response;
  }

  /**
   * GET `url` and stream the body of a 2xx answer into the file `dest` (created or truncated)
   * while hashing it: the body is never held in memory. Same retries, time-outs, proxies,
   * credentials, redirects and content decoding as `get`; each attempt starts the file again
   * from zero. 404 is returned (with an empty file); other 4xx/5xx (after retries) throw
   * HttpError. Not cached, so `offline` fails with OFFLINE_CACHE_MISS. On any failure `dest` is
   * removed.
   */
  async download(
    url: string,
    dest: string,
    options: HttpDownloadOptions = {},
  ): Promise<HttpDownload> {
    const target = parseRequestUrl(url);
    const display = target.url.href;
    if (this.offline) {
      throw offlineDownload(display);
    }
    const headers = this.#requestHeaders(options.accept ?? "*/*", undefined, undefined);
    const sink = await FileSink.open(dest, options.onProgress);
    try {
      const fetched = await fetchWithRetries(this.#fetchContext, target, headers, {
        maxBytes: options.maxBytes,
        sink,
      });
      await sink.close();
      const { exchange } = fetched;
      return {
        url: fetched.url,
        status: exchange.status,
        headers: exchange.headers,
        size: sink.size,
        sha256: sink.sha256(),
      };
    } catch (err) {
      await sink.close().catch(() => {});
      await rm(dest, { force: true });
      throw err;
    }
  }

  /** Close pooled connections. */
  async close(): Promise<void> {
    const dispatchers = this.#dispatchers;
    this.#dispatchers = undefined;
    await dispatchers?.close();
  }

  async #store(cache: HttpCache, key: string, meta: CacheMeta, body: Uint8Array): Promise<boolean> {
    try {
      await cache.write(key, meta, body);
      return true;
    } catch (err) {
      const fsError = err instanceof Error && err.cause !== undefined ? err.cause : err;
      const reason = (fsError as { code?: string }).code ?? "error";
      this.#reporter.log("warn", `cannot write the HTTP cache under ${cache.dir} (${reason})`);
      return false;
    }
  }

  #requestHeaders(
    accept: string,
    range: string | undefined,
    cached: CacheEntry | undefined,
  ): Record<string, string> {
    return {
      accept,
      "user-agent": this.#userAgent,
      "accept-encoding": range === undefined ? "gzip, deflate, br" : "identity",
      ...(range === undefined ? {} : { range }),
      ...(cached === undefined ? {} : validatorHeaders(cached.meta)),
    };
  }

  #getDispatchers(): Dispatchers {
    this.#dispatchers ??= new Dispatchers({
      proxy: proxySettingsFromEnv(this.#env),
      ca: this.#caFiles.length === 0 ? undefined : certificatesBeyondDefaults(this.#caFiles),
      connectTimeoutMs: this.#timeoutMs,
    });
    return this.#dispatchers;
  }

  #getNetrc(): ParsedNetrc | undefined {
    if (!this.#useNetrc) return undefined;
    if (this.#netrc === null) {
      this.#netrc = readNetrc(this.#env);
      for (const warning of this.#netrc?.warnings ?? []) this.#reporter.log("warn", warning);
    }
    return this.#netrc;
  }
}

const DATING_HEADERS = ["cache-control", "expires", "etag", "last-modified", "age"];

/** The answer repeats the cached entry byte for byte and carries no freshness or validator. */
function unchangedAndTimeless(
  cached:
    | { meta: { status: number; url: string; headers: Record<string, string> }; body: Uint8Array }
    | undefined,
  exchange: { status: number; headers: Record<string, string>; body: Uint8Array },
  url: string,
): boolean {
  return (
    cached !== undefined &&
    cached.meta.status === exchange.status &&
    cached.meta.url === url &&
    cached.meta.headers["content-type"] === exchange.headers["content-type"] &&
    DATING_HEADERS.every((h) => exchange.headers[h] === undefined) &&
    Buffer.from(cached.body.buffer, cached.body.byteOffset, cached.body.byteLength).equals(
      exchange.body,
    )
  );
}
