/**
 * When an HTTP attempt is worth repeating, and how long to wait first.
 *
 * Retried: 5xx except 501 (Not Implemented will not change), 429 (honouring Retry-After up to a
 * cap), connection resets and refusals, DNS failures, connect/header/body time-outs, and bodies
 * shorter than their Content-Length. Never retried: other 4xx, TLS certificate failures (the
 * answer would be the same), and anything that is not a network failure.
 *
 * The wait is exponential with jitter: attempt k (0-based) waits a random time in
 * [base·2^k / 2, base·2^k], capped at 30 s.
 */

export const MAX_BACKOFF_MS = 30_000;

export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599 && status !== 501);
}

/** Retry-After as milliseconds from `now`: delta-seconds or an HTTP-date; undefined if absent or bad. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** The jittered exponential wait before retry number `attempt` (0 = first retry). */
export function backoffDelay(attempt: number, baseMs: number, random = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The wait before a retry: the backoff, or the server's Retry-After (capped) when longer. */
export function retryDelay(
  attempt: number,
  baseMs: number,
  retryAfterMs: number | undefined,
  retryAfterCapMs: number,
  random = Math.random,
): number {
  const backoff = backoffDelay(attempt, baseMs, random);
  if (retryAfterMs === undefined) return backoff;
  return Math.max(backoff, Math.min(retryAfterMs, retryAfterCapMs));
}

/** Error codes of failures that may go away on a second try. */
const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
  "TRUNCATED_BODY",
  "UNDECODABLE_BODY",
]);

const REASONS: Record<string, string> = {
  ECONNRESET: "connection reset",
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found (DNS)",
  EAI_AGAIN: "temporary DNS failure",
  ETIMEDOUT: "connection timed out",
  UND_ERR_SOCKET: "connection closed by the other side",
  UND_ERR_CLOSED: "connection closed",
  UND_ERR_CONNECT_TIMEOUT: "connect timed out",
  UND_ERR_HEADERS_TIMEOUT: "timed out waiting for the response",
  UND_ERR_BODY_TIMEOUT: "timed out reading the response body",
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: "body shorter than its Content-Length",
  TRUNCATED_BODY: "body shorter than its Content-Length",
  UNDECODABLE_BODY: "body cannot be decoded (damaged gzip/brotli/deflate data)",
};

export interface FailureInfo {
  /** A stable code: the Node/undici error code, or "UNKNOWN". */
  code: string;
  retryable: boolean;
  /** Short human reason; never contains a URL or credentials. */
  reason: string;
  /** A TLS certificate problem (worth a hint about CA files). */
  certificate: boolean;
}

function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current !== null && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

/** What kind of network failure `err` is. */
export function classifyFailure(err: unknown): FailureInfo {
  const codes = errorCodes(err);
  const certificate = codes.some(
    (c) =>
      c.startsWith("CERT_") ||
      c.startsWith("UNABLE_TO_") ||
      c.includes("SELF_SIGNED") ||
      c === "ERR_TLS_CERT_ALTNAME_INVALID" ||
      c === "UND_ERR_PRX_TLS",
  );
  if (certificate) {
    const code = codes.find((c) => c !== "UND_ERR_SOCKET") ?? "CERT";
    return {
      code,
      retryable: false,
      reason: `TLS certificate not trusted (${code})`,
      certificate: true,
    };
  }
  const known = codes.find((c) => RETRYABLE_CODES.has(c));
  if (known !== undefined) {
    return { code: known, retryable: true, reason: REASONS[known] ?? known, certificate: false };
  }
  const code = codes[0] ?? "UNKNOWN";
  return { code, retryable: false, reason: code, certificate: false };
}
