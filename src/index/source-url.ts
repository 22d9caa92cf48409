/**
 * URL handling for index sources: project page URLs, and credentials kept out of every URL
 * that is stored, logged or written, yet put back when a request goes to the host they are for.
 */
import { SlimenvError, stripCredentials } from "../base/index.ts";
import { canonicalizeName } from "../standards/names.ts";

export { stripCredentials };

/** Parse an absolute http(s) or file URL; INVALID_OPTION naming `what` otherwise. */
export function parseSourceUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new SlimenvError("INVALID_OPTION", `${what} is not a valid URL: ${text}`, { cause });
  }
  if (!["http:", "https:", "file:"].includes(url.protocol)) {
    throw new SlimenvError(
      "INVALID_OPTION",
      `${what} must be an http, https or file URL: ${stripCredentials(url.href)}`,
    );
  }
  return url;
}

/** The URL without its `#fragment`. */
export function stripFragment(url: URL): URL {
  const copy = new URL(url.href);
  copy.hash = "";
  return copy;
}

/** `<index>/<canonical name>/`, the PEP 503 project page URL (index URL without credentials). */
export function projectPageUrl(indexUrl: string, name: string): string {
  const base = indexUrl.endsWith("/") ? indexUrl : `${indexUrl}/`;
  return new URL(`${encodeURIComponent(canonicalizeName(name))}/`, base).href;
}

/**
 * Remembers the credentials of the sources the user gave (by origin) and puts them back into
 * URLs for that origin, so files listed by an authenticated index can be fetched although the
 * stored URLs carry no credentials.
 */
export class CredentialStore {
  readonly #byOrigin = new Map<string, { username: string; password: string }>();

  /** Remember the credentials of `text` (if any); returns the URL without them. */
  add(text: string): string {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return text;
    }
    if (url.username !== "" || url.password !== "") {
      if (!this.#byOrigin.has(url.origin)) {
        this.#byOrigin.set(url.origin, { username: url.username, password: url.password });
      }
    }
    return stripCredentials(text);
  }

  /** `text` with the remembered credentials of its origin (unchanged when none or it has some). */
  apply(text: string): string {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return text;
    }
    if (url.username !== "" || url.password !== "") return text;
    const creds = this.#byOrigin.get(url.origin);
    if (creds === undefined) return text;
    url.username = creds.username;
    url.password = creds.password;
    return url.href;
  }
}
