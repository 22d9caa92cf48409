/**
 * Connections for http-transport.ts: undici, loaded on first use; pooled keep-alive
 * dispatchers (direct or through a proxy) sharing one TLS context of extra CA certificates;
 * host names looked up once per client (http-lookup.ts); and the Limiter that caps requests
 * in flight.
 */
import fs from "node:fs";
import type tls from "node:tls";
import type { Agent, Dispatcher, ProxyAgent } from "undici";
import { SlimenvError } from "../base/index.ts";
import { cachedLookup, type LookupFunction } from "./http-lookup.ts";
import { normalizeProxyUrl, type ProxySettings, proxyFor } from "./proxy.ts";

/** The parts of undici slimenv uses. */
export interface Undici {
  Agent: typeof Agent;
  ProxyAgent: typeof ProxyAgent;
  /** undici's `request` on `dispatcher` (a GET: `origin` and `path` of the URL). */
  request(
    dispatcher: Dispatcher,
    options: Dispatcher.RequestOptions,
  ): Promise<Dispatcher.ResponseData>;
}

let undiciModule: Promise<Undici> | undefined;

/** A CommonJS module's exports, whether or not they come back as a default export. */
function exportsOf<T>(m: { default: T } | T): T {
  return typeof m === "object" && m !== null && "default" in m ? (m as { default: T }).default : m;
}

/**
 * undici, loaded on the first request (commands that never touch the network skip its
 * start-up), and only the dispatchers and the request API: its index loads fetch, WebSocket,
 * cookies, caches, mocks and HTTP/2 too (~40 ms and ~14 MiB more before the first request).
 * The request methods are put on Dispatcher's prototype as undici's index does (ProxyAgent
 * opens its tunnels with `connect`).
 */
export function undici(): Promise<Undici> {
  undiciModule ??= (async () => {
    const [agent, proxyAgent, dispatcher, api] = await Promise.all([
      import("undici/lib/dispatcher/agent.js"),
      import("undici/lib/dispatcher/proxy-agent.js"),
      import("undici/lib/dispatcher/dispatcher.js"),
      import("undici/lib/api/index.js"),
    ]);
    Object.assign(exportsOf(dispatcher).prototype, exportsOf(api));
    return {
      Agent: exportsOf(agent),
      ProxyAgent: exportsOf(proxyAgent),
      request: (on, options) => on.request(options),
    };
  })();
  return undiciModule;
}

/** At most `limit` holders at a time; the rest wait in FIFO order. */
export class Limiter {
  readonly limit: number;
  #active = 0;
  #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.limit = Math.max(1, Math.floor(limit));
  }

  async acquire(): Promise<void> {
    if (this.#active < this.limit) {
      this.#active++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#active--;
  }
}

/**
 * node:tls, loaded when first needed: with its root store it is ~6 MiB of a process that may
 * never open a connection (an install from a lock, a sync).
 */
function tlsModule(): typeof tls {
  return process.getBuiltinModule("node:tls") as typeof tls;
}

/** Read extra CA files (PEM) and add them to Node's default roots. */
export function loadCertificates(files: readonly string[]): string[] {
  const extra: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      throw new SlimenvError("IO_ERROR", `cannot read CA certificate file ${file}`, {
        cause: err,
        hint: "check the caFiles option / SSL_CERT_FILE",
      });
    }
    if (!text.includes("-----BEGIN CERTIFICATE-----")) {
      throw new SlimenvError("INVALID_OPTION", `${file} holds no PEM certificate`, {
        hint: "give a PEM file (-----BEGIN CERTIFICATE-----) in caFiles / SSL_CERT_FILE",
      });
    }
    extra.push(text);
  }
  const tls = tlsModule();
  const roots =
    typeof tls.getCACertificates === "function"
      ? tls.getCACertificates("default")
      : [...tls.rootCertificates];
  // The system bundle usually repeats Node's roots: hand each certificate over once.
  return [...new Set([...roots, ...extra.flatMap(splitPem)])];
}

/**
 * The CA list for `files`, or undefined when Node's default roots already hold every one of
 * their certificates (NODE_EXTRA_CA_CERTS naming the same bundle as SSL_CERT_FILE, as is
 * common): the default secure context is then used, which costs nothing to set up.
 */
export function certificatesBeyondDefaults(files: readonly string[]): string[] | undefined {
  const all = loadCertificates(files);
  const tls = tlsModule();
  const defaults = new Set(
    typeof tls.getCACertificates === "function"
      ? tls.getCACertificates("default")
      : tls.rootCertificates,
  );
  return all.length === defaults.size ? undefined : all;
}

function splitPem(text: string): string[] {
  const found = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  return found === null ? [text] : found.map((c) => `${c}\n`);
}

export interface DispatcherOptions {
  proxy: ProxySettings;
  /** Full CA list, or undefined for Node's defaults. */
  ca: string[] | undefined;
  connectTimeoutMs: number;
}

interface ConnectOptions {
  timeout: number;
  /** One look-up per host name for all the connections (http-lookup.ts). */
  lookup: LookupFunction;
  secureContext?: tls.SecureContext;
}

/**
 * Pooled keep-alive connections: one Agent for direct traffic, one ProxyAgent per proxy. A CA
 * list becomes one TLS secure context, built once and shared by every connection (handing the
 * list itself to each connection re-parses every certificate per connection).
 */
export class Dispatchers {
  readonly #options: DispatcherOptions;
  #direct: Agent | undefined;
  readonly #proxies = new Map<string, ProxyAgent>();
  #connect: ConnectOptions | undefined;

  constructor(options: DispatcherOptions) {
    this.#options = options;
  }

  #connectOptions(): ConnectOptions {
    if (this.#connect === undefined) {
      const { ca, connectTimeoutMs } = this.#options;
      this.#connect = {
        timeout: connectTimeoutMs,
        lookup: cachedLookup(),
        ...(ca === undefined ? {} : { secureContext: tlsModule().createSecureContext({ ca }) }),
      };
    }
    return this.#connect;
  }

  async for(url: URL): Promise<Dispatcher> {
    const { Agent, ProxyAgent } = await undici();
    const proxy = proxyFor(url, this.#options.proxy);
    const connect = this.#connectOptions();
    if (proxy === undefined) {
      this.#direct ??= new Agent({ connect });
      return this.#direct;
    }
    let agent = this.#proxies.get(proxy);
    if (agent === undefined) {
      const proxyUrl = new URL(normalizeProxyUrl(proxy));
      let token: string | undefined;
      if (proxyUrl.username !== "" || proxyUrl.password !== "") {
        const user = decodeURIComponent(proxyUrl.username);
        const pass = decodeURIComponent(proxyUrl.password);
        token = `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
        proxyUrl.username = "";
        proxyUrl.password = "";
      }
      agent = new ProxyAgent({
        uri: proxyUrl.href,
        ...(token === undefined ? {} : { token }),
        proxyTunnel: false, // plain http targets are forwarded; https ones tunnel (CONNECT)
        connect,
        requestTls: connect,
        proxyTls: connect,
      });
      this.#proxies.set(proxy, agent);
    }
    return agent;
  }

  async close(): Promise<void> {
    const all: Dispatcher[] = [...this.#proxies.values()];
    if (this.#direct !== undefined) all.push(this.#direct);
    this.#direct = undefined;
    this.#proxies.clear();
    await Promise.all(all.map((d) => d.close().catch(() => {})));
  }
}
