/**
 * Which proxy a request goes through, from the environment given (never `process.env` directly):
 * `https_proxy` / `HTTPS_PROXY` for https URLs, `http_proxy` / `HTTP_PROXY` for http URLs, then
 * `all_proxy` / `ALL_PROXY` for both (the lower-case form wins when both are set, as curl and
 * Python do). `no_proxy` / `NO_PROXY` lists hosts reached directly:
 *
 * - `*` alone: no proxy at all;
 * - `example.com`, `.example.com` or `*.example.com`: that host and every sub-domain of it;
 * - `host:port`: only that port;
 * - an IP address, or a CIDR block (`10.0.0.0/8`, `fd00::/8`): hosts given by address in it.
 *
 * Entries are separated by commas or spaces. Loopback addresses are not special: a test can
 * send 127.0.0.1 through a proxy, and `NO_PROXY=localhost,127.0.0.1` bypasses it.
 */
import net from "node:net";

interface HostRule {
  kind: "host";
  /** Lower-case domain without a leading dot or `*.`. */
  domain: string;
  port: number | undefined;
}
interface AddressRule {
  kind: "address";
  list: net.BlockList;
  port: number | undefined;
}
type NoProxyRule = HostRule | AddressRule;

export interface ProxySettings {
  httpProxy: string | undefined;
  httpsProxy: string | undefined;
  /** "*" when every host is reached directly. */
  noProxy: readonly NoProxyRule[] | "*";
}

function pick(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const lower = env[name.toLowerCase()];
  if (lower !== undefined && lower.trim() !== "") return lower.trim();
  const upper = env[name.toUpperCase()];
  if (upper !== undefined && upper.trim() !== "") return upper.trim();
  return undefined;
}

/** A proxy given without a scheme (`proxy:3128`) means http. */
export function normalizeProxyUrl(value: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
}

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

function parseRule(raw: string): NoProxyRule | undefined {
  let entry = raw.trim().toLowerCase();
  if (entry === "") return undefined;
  let port: number | undefined;
  // [v6]:port, [v6], host:port, v4:port; a bare v6 address has several colons and no port.
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) {
    entry = bracketed[1] as string;
    port = parsePort(bracketed[2]);
  } else if ((entry.match(/:/g) ?? []).length === 1) {
    const at = entry.lastIndexOf(":");
    port = parsePort(entry.slice(at + 1));
    entry = entry.slice(0, at);
  }
  const slash = entry.indexOf("/");
  const address = slash < 0 ? entry : entry.slice(0, slash);
  const family = net.isIP(address);
  if (family !== 0) {
    const list = new net.BlockList();
    const type = family === 4 ? "ipv4" : "ipv6";
    if (slash < 0) list.addAddress(address, type);
    else {
      const prefix = Number(entry.slice(slash + 1));
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
        return undefined;
      }
      list.addSubnet(address, prefix, type);
    }
    return { kind: "address", list, port };
  }
  const domain = entry.replace(/^\*?\./, "");
  if (domain === "") return undefined;
  return { kind: "host", domain, port };
}

/** Read the proxy variables out of `env`. */
export function proxySettingsFromEnv(env: NodeJS.ProcessEnv): ProxySettings {
  const all = pick(env, "all_proxy");
  const http = pick(env, "http_proxy") ?? all;
  const https = pick(env, "https_proxy") ?? all;
  const noProxyText = pick(env, "no_proxy") ?? "";
  const entries = noProxyText.split(/[\s,]+/).filter((e) => e !== "");
  const noProxy = entries.includes("*")
    ? "*"
    : entries.map(parseRule).filter((r): r is NoProxyRule => r !== undefined);
  return {
    httpProxy: http === undefined ? undefined : normalizeProxyUrl(http),
    httpsProxy: https === undefined ? undefined : normalizeProxyUrl(https),
    noProxy,
  };
}

function defaultPort(url: URL): number {
  if (url.port !== "") return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
}

/** True when NO_PROXY says `url` is reached directly. */
export function bypassesProxy(url: URL, settings: ProxySettings): boolean {
  if (settings.noProxy === "*") return true;
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = defaultPort(url);
  const family = net.isIP(host);
  for (const rule of settings.noProxy) {
    if (rule.port !== undefined && rule.port !== port) continue;
    if (rule.kind === "address") {
      if (family !== 0 && rule.list.check(host, family === 4 ? "ipv4" : "ipv6")) return true;
    } else if (host === rule.domain || host.endsWith(`.${rule.domain}`)) {
      return true;
    }
  }
  return false;
}

/** The proxy URL for a request to `url`, or undefined to connect directly. */
export function proxyFor(url: URL, settings: ProxySettings): string | undefined {
  const proxy =
    url.protocol === "https:"
      ? settings.httpsProxy
      : url.protocol === "http:"
        ? settings.httpProxy
        : undefined;
  if (proxy === undefined) return undefined;
  return bypassesProxy(url, settings) ? undefined : proxy;
}
