/**
 * The HTTP client a command uses, configured from the resolved settings (offline, retries,
 * timeout, concurrency, CA files) and slimenv's HTTP cache folder. `lock`, `install` and
 * `sync` all make theirs here, so they behave alike on the network.
 */
import { cacheDir, type Reporter } from "../base/index.ts";
import type { ResolvedSettings } from "../settings/load.ts";
import { HttpClient } from "./http.ts";

export interface ClientContext {
  env: NodeJS.ProcessEnv;
  userAgent: string;
  reporter: Reporter;
  /** HTTP cache folder (default cacheDir("http")); null: no cache. */
  httpCacheDir?: string | null | undefined;
}

export function clientFromSettings(settings: ResolvedSettings, ctx: ClientContext): HttpClient {
  const values = settings.values;
  const cache = ctx.httpCacheDir === undefined ? cacheDir("http", ctx.env) : ctx.httpCacheDir;
  return new HttpClient({
    ...(cache === null ? {} : { cacheDir: cache }),
    offline: values.offline ?? false,
    ...(values.retries === undefined ? {} : { retries: values.retries }),
    ...(values.timeout === undefined ? {} : { timeoutMs: values.timeout * 1000 }),
    ...(values.concurrency === undefined ? {} : { concurrency: values.concurrency }),
    ...(values["ca-file"] === undefined ? {} : { caFiles: values["ca-file"] }),
    env: ctx.env,
    reporter: ctx.reporter,
    userAgent: ctx.userAgent,
  });
}
