/** The HTTP client's errors: HttpError for an answer, NETWORK_ERROR for no answer, and hints. */
import { type ErrorCode, SlimenvError, type SlimenvErrorOptions } from "../base/index.ts";

/** HTTP_ERROR: an answer with an error status (after retries, where retried), or a body too large. */
export class HttpError extends SlimenvError {
  readonly status: number;
  /** The URL asked for, credentials stripped. */
  readonly url: string;

  constructor(status: number, url: string, message: string, options: SlimenvErrorOptions = {}) {
    super("HTTP_ERROR", message, options);
    this.status = status;
    this.url = url;
  }
}

const CREDENTIALS_HINT =
  "give credentials in the index URL (https://user:password@host/…) or in ~/.netrc ($NETRC)";

export function statusHint(status: number): string | undefined {
  if (status === 401 || status === 403) return CREDENTIALS_HINT;
  if (status === 407)
    return "give the proxy's credentials in HTTPS_PROXY (http://user:pass@proxy:port)";
  if (status === 429) return "the server is rate-limiting; try again later";
  if (status >= 500) return "the server keeps failing; try again later";
  return undefined;
}

export function networkError(message: string, certificate: boolean, cause: unknown): SlimenvError {
  const code: ErrorCode = "NETWORK_ERROR";
  return new SlimenvError(code, message, {
    cause,
    hint: certificate
      ? "trust the server's CA with SSL_CERT_FILE (a PEM file), or check the proxy"
      : "check the network and the proxy settings (HTTPS_PROXY, NO_PROXY); --offline works from the cache",
  });
}

/** OFFLINE_CACHE_MISS for a GET the cache cannot answer. */
export function offlineMiss(display: string): SlimenvError {
  return new SlimenvError("OFFLINE_CACHE_MISS", `${display} is not in the HTTP cache (offline)`, {
    hint: "run once without --offline (and without SLIMENV_OFFLINE=1) to fill the cache",
  });
}

/** OFFLINE_CACHE_MISS for a download (downloads are never cached). */
export function offlineDownload(display: string): SlimenvError {
  return new SlimenvError(
    "OFFLINE_CACHE_MISS",
    `cannot download ${display} offline: downloads are not kept in the HTTP cache`,
    {
      hint: "run once without --offline (and without SLIMENV_OFFLINE=1); the store keeps what was downloaded",
    },
  );
}
