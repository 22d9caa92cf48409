/** Request URLs: credentials split off, Range headers, Basic auth, which credentials go where. */
import { SlimenvError } from "../base/index.ts";
import { lookupNetrc, type ParsedNetrc } from "./netrc.ts";

export type HttpRange = { start: number; end?: number } | { suffix: number };

export interface RequestTarget {
  /** The URL without credentials. */
  url: URL;
  username: string | undefined;
  password: string | undefined;
}

/** Split a URL into the URL without userinfo and the (decoded) credentials it carried. */
export function parseRequestUrl(text: string): RequestTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SlimenvError("INVALID_OPTION", `not a valid URL: ${text}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new SlimenvError("INVALID_OPTION", `unsupported URL scheme ${url.protocol} in ${text}`, {
      hint: "index and file URLs must be http:// or https://",
    });
  }
  const username = url.username === "" ? undefined : decodeURIComponent(url.username);
  const password = url.password === "" ? undefined : decodeURIComponent(url.password);
  url.username = "";
  url.password = "";
  url.hash = "";
  return { url, username, password };
}

/** The Range header value for a range option. */
export function formatRange(range: HttpRange): string {
  if ("suffix" in range) {
    if (!Number.isInteger(range.suffix) || range.suffix <= 0) {
      throw new SlimenvError("INVALID_OPTION", `invalid suffix range of ${range.suffix} bytes`);
    }
    return `bytes=-${range.suffix}`;
  }
  const { start, end } = range;
  if (!Number.isInteger(start) || start < 0 || (end !== undefined && !(end >= start))) {
    throw new SlimenvError("INVALID_OPTION", `invalid byte range ${start}-${end ?? ""}`);
  }
  return `bytes=${start}-${end ?? ""}`;
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;
}

/**
 * The Authorization header for a request to `url`, reached from `target` (maybe redirected):
 * the URL's own credentials go only to its host (never from https down to http); after a
 * redirect to another host only a netrc `machine` entry for that host, never the `default`.
 */
export function authorizationFor(
  url: URL,
  target: RequestTarget,
  netrc: ParsedNetrc | undefined,
): string | undefined {
  const sameHost = url.hostname === target.url.hostname;
  const downgrade = target.url.protocol === "https:" && url.protocol === "http:";
  const entry = netrc === undefined ? undefined : lookupNetrc(netrc, url.hostname);
  if (sameHost && !downgrade && target.username !== undefined) {
    let password = target.password;
    if (password === undefined && entry !== undefined && entry.login === target.username) {
      password = entry.password;
    }
    return basicAuth(target.username, password ?? "");
  }
  if (entry === undefined || (entry.login === undefined && entry.password === undefined)) {
    return undefined;
  }
  if (!sameHost && entry.machine === undefined) return undefined;
  if (sameHost && downgrade) return undefined;
  return basicAuth(entry.login ?? "", entry.password ?? "");
}
