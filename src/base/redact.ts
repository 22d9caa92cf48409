/**
 * Credential redaction. Every message that may carry a URL or a header goes through
 * `redact` before it reaches a person or a file.
 */

const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^/@\s:]+)(?::([^/@\s]*))?@/gi;
const AUTH_HEADER = /\b(authorization|proxy-authorization)(\s*[:=]\s*)(\S+(?:\s+\S+)?)/gi;
const TOKEN_PARAM = /([?&](?:token|access_token|api_key|apikey|password|secret)=)[^&\s]+/gi;

/** Replace credentials in URLs (`user:pass@`), auth headers and token query parameters. */
export function redact(text: string): string {
  return text
    .replace(USERINFO, (_m, scheme: string, user: string, pass: string | undefined) =>
      pass === undefined ? `${scheme}***@` : `${scheme}${user}:***@`,
    )
    .replace(AUTH_HEADER, (_m, name: string, sep: string) => `${name}${sep}***`)
    .replace(TOKEN_PARAM, (_m, key: string) => `${key}***`);
}

/** The URL without `user:password@` (and unchanged when it has none or does not parse). */
export function stripCredentials(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  if (url.username === "" && url.password === "") return text;
  url.username = "";
  url.password = "";
  return url.href;
}
