/** Request URLs: credentials split off, Range headers, Basic auth values. */
import { SlimenvError } from "../base/index.ts";

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
