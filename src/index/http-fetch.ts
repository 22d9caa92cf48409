/**
 * One GET as HttpClient sends it: through the limiter and the pooled dispatchers, following
 * redirects (301, 302, 303, 307, 308; at most 10) with the credentials each host may receive,
 * and retrying network failures and retryable statuses with jittered exponential backoff (or
 * the server's Retry-After). The answer's body goes to memory or to a sink.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type Reporter, SlimenvError } from "../base/index.ts";
import type { Dispatchers, Limiter } from "./http-connections.ts";
import { HttpError, networkError, statusHint } from "./http-errors.ts";
import type { BodySink } from "./http-sink.ts";
import { type Exchange, send, TooLargeError } from "./http-transport.ts";
import { authorizationFor, type RequestTarget } from "./http-url.ts";
import type { ParsedNetrc } from "./netrc.ts";
import {
  backoffDelay,
  classifyFailure,
  isRetryableStatus,
  parseRetryAfter,
  retryDelay,
} from "./retry.ts";

const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

/** How an answer's body is read: its size limit, and where it goes (memory when no sink). */
export interface BodyOptions {
  maxBytes: number | undefined;
  sink?: BodySink;
}

export interface Fetched {
  exchange: Exchange;
  url: string;
  authorized: boolean;
}

/** What the fetch needs of its HttpClient: its settings, limiter, dispatchers and netrc. */
export interface FetchContext {
  retries: number;
  retryBaseMs: number;
  retryAfterCapMs: number;
  timeoutMs: number;
  reporter: Reporter;
  limiter: Limiter;
  dispatchers: () => Dispatchers;
  netrc: () => ParsedNetrc | undefined;
}

export async function fetchWithRetries(
  ctx: FetchContext,
  target: RequestTarget,
  headers: Record<string, string>,
  body: BodyOptions,
): Promise<Fetched> {
  const display = target.url.href;
  const attempts = ctx.retries + 1;
  for (let attempt = 0; ; attempt++) {
    const tries = attempt === 0 ? "" : ` after ${attempt + 1} attempts`;
    let wait: number;
    try {
      const fetched = await fetchFollowingRedirects(ctx, target, headers, body);
      const { status, statusText } = fetched.exchange;
      if (isRetryableStatus(status) && attempt < ctx.retries) {
        const retryAfter = parseRetryAfter(fetched.exchange.headers["retry-after"]);
        wait = retryDelay(attempt, ctx.retryBaseMs, retryAfter, ctx.retryAfterCapMs);
        ctx.reporter.log(
          "warn",
          `GET ${display}: HTTP ${status}; retrying in ${wait} ms (attempt ${attempt + 2} of ${attempts})`,
        );
      } else if (status >= 400 && status !== 404) {
        throw new HttpError(
          status,
          display,
          `GET ${display}: HTTP ${status}${statusText ? ` ${statusText}` : ""}${tries}`,
          { hint: statusHint(status) },
        );
      } else {
        return fetched;
      }
    } catch (err) {
      if (err instanceof SlimenvError) throw err;
      if (err instanceof TooLargeError) {
        throw new HttpError(err.status, display, `GET ${display}: ${err.message}`, {
          hint: "the server sent more than this request allows",
        });
      }
      const info = classifyFailure(err);
      if (!info.retryable || attempt >= ctx.retries) {
        throw networkError(`GET ${display} failed: ${info.reason}${tries}`, info.certificate, err);
      }
      wait = backoffDelay(attempt, ctx.retryBaseMs);
      ctx.reporter.log(
        "warn",
        `GET ${display}: ${info.reason}; retrying in ${wait} ms (attempt ${attempt + 2} of ${attempts})`,
      );
    }
    await sleep(wait);
  }
}

async function fetchFollowingRedirects(
  ctx: FetchContext,
  target: RequestTarget,
  baseHeaders: Record<string, string>,
  body: BodyOptions,
): Promise<Fetched> {
  let url = new URL(target.url.href);
  for (let hop = 0; ; hop++) {
    const authorization = authorizationFor(url, target, ctx.netrc());
    const headers = authorization === undefined ? baseHeaders : { ...baseHeaders, authorization };
    const dispatcher = await ctx.dispatchers().for(url);
    ctx.reporter.log("debug", `GET ${url.href}`);
    await ctx.limiter.acquire();
    let exchange: Exchange;
    try {
      exchange = await send(url, {
        dispatcher,
        headers,
        timeoutMs: ctx.timeoutMs,
        maxBytes: body.maxBytes,
        sink: body.sink,
        redirectStatuses: REDIRECTS,
      });
    } finally {
      ctx.limiter.release();
    }
    const location = exchange.headers.location;
    if (!REDIRECTS.has(exchange.status) || location === undefined) {
      return { exchange, url: url.href, authorized: authorization !== undefined };
    }
    if (hop >= MAX_REDIRECTS) {
      throw new HttpError(
        exchange.status,
        target.url.href,
        `GET ${target.url.href}: more than ${MAX_REDIRECTS} redirects`,
      );
    }
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new HttpError(exchange.status, target.url.href, `GET ${url.href}: bad redirect`);
    }
    if (next.protocol !== "http:" && next.protocol !== "https:") {
      throw new HttpError(
        exchange.status,
        target.url.href,
        `GET ${url.href}: redirect to unsupported scheme ${next.protocol}`,
      );
    }
    next.username = "";
    next.password = "";
    url = next;
  }
}
