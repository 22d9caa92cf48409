/** The options and answers of the HTTP client (http.ts). */
import type { Reporter } from "../base/index.ts";
import type { HttpRange } from "./http-url.ts";

export type { HttpRange };

export interface HttpClientOptions {
  /** Directory of the HTTP cache; undefined = no cache. */
  cacheDir?: string;
  /** Serve from the cache only (even stale entries); a miss is OFFLINE_CACHE_MISS. */
  offline?: boolean;
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** Per attempt and phase: connect, headers, gap between body chunks (default 30000). */
  timeoutMs?: number;
  /** Requests in flight at once (default 16); the rest wait. */
  concurrency?: number;
  /** Extra PEM CA files, added to Node's default roots. */
  caFiles?: string[];
  /** Where HTTPS_PROXY, HTTP_PROXY, NO_PROXY, NETRC, SSL_CERT_FILE, HOME are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Read ~/.netrc or $NETRC (default true). */
  netrc?: boolean;
  reporter?: Reporter;
  userAgent?: string;
  /** Backoff base: retry k waits between base·2^k/2 and base·2^k ms (default 250). */
  retryBaseMs?: number;
  /** Longest Retry-After honoured, in ms (default 30000). */
  retryAfterCapMs?: number;
}

export interface HttpGetOptions {
  accept?: string;
  range?: HttpRange;
  /**
   * "no-cache": revalidate even a fresh entry; "no-store": neither read nor write the cache;
   * "immutable": use a cached answer, fresh or not, without asking the server — for content
   * the caller checks against a hash it already has (a wrong one is fetched again, no-cache).
   */
  cache?: "default" | "no-cache" | "no-store" | "immutable";
  /** Fail with HTTP_ERROR when the (decoded) body is larger. */
  maxBytes?: number;
}

export interface HttpDownloadOptions {
  accept?: string;
  /** Fail with HTTP_ERROR as soon as the (decoded) body is longer: a limit or the expected size. */
  maxBytes?: number;
  /** Called after each piece is written, with the bytes written so far (a retry starts at 0). */
  onProgress?: (bytes: number) => void;
}

/** What `download` wrote: no body, it is in the file. */
export interface HttpDownload {
  /** Final URL after redirects, credentials stripped. */
  url: string;
  /** 2xx, or 404 (the file is then empty). */
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Bytes in the file (the decoded body). */
  size: number;
  /** Hex sha256 of the file. */
  sha256: string;
}

export interface HttpResponse {
  /** Final URL after redirects, credentials stripped. */
  url: string;
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: Uint8Array;
  fromCache: boolean;
  /**
   * The HTTP cache holds this answer (it came from there, was stored, or repeats the entry):
   * what is derived from it may be cached alike. False for answers the cache may not keep
   * (no-store, private, sent with credentials) and when there is no cache.
   */
  cached?: boolean;
  /** Hex sha256 of the body, when the client computed it. */
  sha256?: string;
}
