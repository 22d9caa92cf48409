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
  type CacheHead,
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
  get(url: string, options: HttpGetOptions = {}): Promise<HttpResponse> {
    return this.#get(url, options, true);
  }

  /**
   * The cache entry's metadata is read first; its body only when it answers (offline, fresh,
   * immutable, 304). A fetched answer is compared with the entry by sha256, hashed once.
   */
  async #get(url: string, options: HttpGetOptions, revalidate: boolean): Promise<HttpResponse> {
    const target = parseRequestUrl(url);
    const display = target.url.href;
    const accept = options.accept ?? "*/*";
    const range = options.range === undefined ? undefined : formatRange(options.range);
    const mode = options.cache ?? "default";
    const cache = mode === "no-store" ? undefined : this.#cache;
    const key = cacheKey(display, accept, range);
    const head = cache === undefined ? undefined : await cache.readHead(key);
    const fromCache = async (why: string): Promise<HttpResponse | undefined> => {
      const entry = await cache?.read(key);
      if (entry === undefined) return undefined;
      this.#reporter.log("debug", `GET ${display} (${why})`);
      return responseFromCache(entry, options.maxBytes);
    };

    if (this.offline) {
      const answer = head === undefined ? undefined : await fromCache("offline, from cache");
      if (answer !== undefined) return answer;
      throw offlineMiss(display);
    }
    if (head !== undefined && mode === "immutable" && head.meta.status === 200) {
      const answer = await fromCache("immutable, from cache");
      if (answer !== undefined) return answer;
    }
    if (head !== undefined && mode === "default" && isFresh(head.meta, Date.now())) {
      const answer = await fromCache("fresh in cache");
      if (answer !== undefined) return answer;
    }

    const validated = revalidate ? head : undefined;
    const headers = this.#requestHeaders(accept, range, validated);
    const fetched = await fetchWithRetries(this.#fetchContext, target, headers, {
      maxBytes: options.maxBytes,
    });
    const { exchange } = fetched;

    if (exchange.status === 304 && validated !== undefined && cache !== undefined) {
      const entry = await cache.read(key);
      // The entry's body is damaged (and now removed): ask again, unconditionally.
      if (entry === undefined) return this.#get(url, options, false);
      this.#reporter.log("debug", `GET ${display} (not modified, from cache)`);
      const meta = refreshed(
        entry.meta,
        exchange.headers,
        exchange.requestTime,
        exchange.responseTime,
      );
      await this.#store(cache, key, meta, entry.body, validated.sha256);
      return responseFromCache({ meta, body: entry.body }, options.maxBytes);
    }
    const response: HttpResponse = {
      url: fetched.url,
      status: exchange.status,
      headers: exchange.headers,
      // Not put together when nobody reads it (an unchanged page only hashed).
      get body() {
        return exchange.body;
      },
      fromCache: false,
      cached: false,
    };
    if (cache !== undefined) {
      const storable = isStorable(
        exchange.status,
        exchange.headers,
        range !== undefined,
        fetched.authorized,
      );
      if (head !== undefined || storable) response.sha256 = exchange.sha256();
      if (unchangedAndTimeless(head, exchange, fetched.url, response.sha256)) {
        response.cached = true;
        // Same bytes, and nothing in the answer that a new entry would date or validate with:
        // the entry on disk already says all this one would (indexes without caching headers
        // send tens of MB of project pages on every run).
        this.#reporter.log("debug", `GET ${display} (same as the cached copy; not rewritten)`);
      } else if (storable) {
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
        response.cached = await this.#store(cache, key, meta, exchange.body, response.sha256);
      } else if (head !== undefined) {
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

  async #store(
    cache: HttpCache,
    key: string,
    meta: CacheMeta,
    body: Uint8Array,
    sha256: string | undefined,
  ): Promise<boolean> {
    try {
      await cache.write(key, meta, body, sha256);
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
    cached: CacheHead | undefined,
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

/** The answer repeats the cached entry (same sha256) and carries no freshness or validator. */
function unchangedAndTimeless(
  head: CacheHead | undefined,
  exchange: { status: number; headers: Record<string, string>; size: number },
  url: string,
  sha256: string | undefined,
): boolean {
  return (
    head !== undefined &&
    head.meta.status === exchange.status &&
    head.meta.url === url &&
    head.meta.headers["content-type"] === exchange.headers["content-type"] &&
    DATING_HEADERS.every((h) => exchange.headers[h] === undefined) &&
    head.size === exchange.size &&
    head.sha256 === sha256
  );
}
