/**
 * The simple repository API: fetch a project page by content negotiation (PEP 691 JSON
 * preferred, PEP 503 HTML accepted) and turn it into DistributionFiles, parsed by the
 * response's Content-Type.
 */
import { createHash } from "node:crypto";
import { type Reporter, SlimenvError, silentReporter } from "../base/index.ts";
import { canonicalizeName } from "../standards/names.ts";
import type { HttpClient } from "./http.ts";
import { cacheKey } from "./http-cache.ts";
import type { HttpResponse } from "./http-types.ts";
import type { PageCache, PageSource } from "./page-cache.ts";
import { CompactPage } from "./page-compact.ts";
import { type EncodedPage, encodePage } from "./page-encode.ts";
import { type DistributionFile, type RawLink, toDistributionFile } from "./project.ts";
import { parseHtmlLinks } from "./simple-html.ts";
import { parseJsonPage } from "./simple-json.ts";
import { projectPageUrl, stripCredentials } from "./source-url.ts";

/** The Accept header for project pages: JSON first, HTML as fallback (as PyPI documents). */
export const SIMPLE_ACCEPT =
  "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/** The newest API version (1.x) whose fields this client knows; newer minors get a warning. */
export const SUPPORTED_API_VERSION: readonly [number, number] = [1, 4];

export interface ParsePageOptions {
  /** The project asked for; files of other projects are skipped. */
  project: string;
  /** The final page URL (after redirects), for relative links and messages. */
  pageUrl: string;
  /** Recorded as DistributionFile.index (the index URL, without credentials). */
  index: string;
  reporter?: Reporter;
}

function checkApiVersion(version: string, pageUrl: string, reporter: Reporter): void {
  const m = /^\s*(\d+)\.(\d+)\s*$/.exec(version);
  if (m === null) {
    throw new SlimenvError(
      "INDEX_ERROR",
      `malformed project page ${stripCredentials(pageUrl)}: unreadable API version ${JSON.stringify(version)}`,
    );
  }
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major !== SUPPORTED_API_VERSION[0]) {
    throw new SlimenvError(
      "INDEX_ERROR",
      `unsupported simple API version ${version} at ${stripCredentials(pageUrl)} (slimenv reads 1.x)`,
    );
  }
  if (minor > SUPPORTED_API_VERSION[1]) {
    reporter.log(
      "warn",
      `${stripCredentials(pageUrl)} uses simple API version ${version}, newer than ${SUPPORTED_API_VERSION.join(".")}; fields slimenv does not know are ignored`,
    );
  }
}

function toFiles(links: RawLink[], options: ParsePageOptions): DistributionFile[] {
  const reporter = options.reporter ?? silentReporter;
  const files: DistributionFile[] = [];
  for (const link of links) {
    const file = toDistributionFile(link, options.project, options.index, reporter);
    if (file !== undefined) files.push(file);
  }
  return files;
}

/** Files of a PEP 691 JSON project page. Throws INDEX_ERROR when the page is malformed. */
export function parseSimpleJson(text: string, options: ParsePageOptions): DistributionFile[] {
  const reporter = options.reporter ?? silentReporter;
  const page = parseJsonPage(text, options.pageUrl);
  checkApiVersion(page.apiVersion, options.pageUrl, reporter);
  return toFiles(page.links, options);
}

/** Files of a PEP 503 HTML project page. */
export function parseSimpleHtml(text: string, options: ParsePageOptions): DistributionFile[] {
  const reporter = options.reporter ?? silentReporter;
  const page = parseHtmlLinks(text, options.pageUrl, reporter);
  if (page.repositoryVersion !== undefined) {
    checkApiVersion(page.repositoryVersion, options.pageUrl, reporter);
  }
  return toFiles(page.links, options);
}

type PageFormat = "json" | "html";

function formatOf(contentType: string | undefined, body: string): PageFormat | undefined {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === "") return body.trimStart().startsWith("{") ? "json" : "html";
  if (type === "application/json" || /^application\/vnd\.pypi\.simple\.[^+]+\+json$/.test(type)) {
    return "json";
  }
  if (type === "text/html" || /^application\/vnd\.pypi\.simple\.[^+]+\+html$/.test(type)) {
    return "html";
  }
  return undefined;
}

function makeDecoder(charset: string) {
  try {
    return new TextDecoder(charset, { fatal: true });
  } catch {
    return new TextDecoder("utf-8", { fatal: true });
  }
}

function decodeBody(body: Uint8Array, contentType: string | undefined, url: string): string {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? "")?.[1] ?? "utf-8";
  const decoder = makeDecoder(charset);
  try {
    return decoder.decode(body);
  } catch (cause) {
    throw new SlimenvError(
      "INDEX_ERROR",
      `malformed page ${stripCredentials(url)}: not valid ${charset} text`,
      { cause },
    );
  }
}

function pageText(
  body: Uint8Array,
  contentType: string | undefined,
  pageUrl: string,
): { text: string; format: PageFormat } {
  const text = decodeBody(body, contentType, pageUrl);
  const format = formatOf(contentType, text);
  if (format === undefined) {
    throw new SlimenvError(
      "INDEX_ERROR",
      `unexpected content type ${JSON.stringify(contentType)} for project page ${stripCredentials(pageUrl)}`,
      { hint: "an index answers with PEP 691 JSON or PEP 503 HTML; check --index-url" },
    );
  }
  return { text, format };
}

/** Parse a project page response by its Content-Type (JSON or HTML). */
export function parseProjectPage(
  body: Uint8Array,
  contentType: string | undefined,
  options: ParsePageOptions,
): DistributionFile[] {
  const { text, format } = pageText(body, contentType, options.pageUrl);
  return format === "json" ? parseSimpleJson(text, options) : parseSimpleHtml(text, options);
}

/**
 * Read a project page response into its compact form (page-compact.ts): the same checks and
 * the same files as `parseProjectPage`, grouped by version, the text and parsed JSON dropped.
 */
export function encodeProjectPage(
  body: Uint8Array,
  contentType: string | undefined,
  options: ParsePageOptions,
): EncodedPage {
  const reporter = options.reporter ?? silentReporter;
  const { text, format } = pageText(body, contentType, options.pageUrl);
  if (format === "json") {
    const page = parseJsonPage(text, options.pageUrl);
    checkApiVersion(page.apiVersion, options.pageUrl, silentReporter);
    return encodePage(page.links, page, options.project, reporter);
  }
  const page = parseHtmlLinks(text, options.pageUrl, reporter);
  if (page.repositoryVersion !== undefined) {
    checkApiVersion(page.repositoryVersion, options.pageUrl, silentReporter);
  }
  const facts = { apiVersion: page.repositoryVersion, name: undefined };
  return encodePage(page.links, facts, options.project, reporter);
}

async function projectPageResponse(
  client: HttpClient,
  indexUrl: string,
  project: string,
): Promise<HttpResponse | undefined> {
  const url = projectPageUrl(indexUrl, project);
  const response = await client.get(url, { accept: SIMPLE_ACCEPT });
  if (response.status === 404) return undefined;
  if (response.status < 200 || response.status >= 300) {
    throw new SlimenvError(
      "INDEX_ERROR",
      `unexpected HTTP status ${response.status} for project page ${stripCredentials(url)}`,
    );
  }
  return response;
}

/**
 * Fetch the files of `project` from one index (`indexUrl` may carry credentials; they go to the
 * HTTP client and nowhere else). Undefined when the index does not have the project (404).
 */
export async function fetchProjectFiles(
  client: HttpClient,
  indexUrl: string,
  project: string,
  reporter: Reporter = silentReporter,
): Promise<DistributionFile[] | undefined> {
  const response = await projectPageResponse(client, indexUrl, project);
  if (response === undefined) return undefined;
  return parseProjectPage(response.body, response.headers["content-type"], {
    project,
    pageUrl: stripCredentials(response.url),
    index: stripCredentials(indexUrl),
    reporter,
  });
}

/**
 * Fetch the page of `project` from one index as a CompactPage, like `fetchProjectFiles`.
 * With `pageCache`, a page whose body is the one an entry was made from is not read again;
 * only answers the HTTP cache holds are used with it (never one sent with credentials that
 * the server did not mark as shareable).
 */
export async function fetchProjectPage(
  client: HttpClient,
  indexUrl: string,
  project: string,
  reporter: Reporter = silentReporter,
  pageCache?: PageCache,
): Promise<CompactPage | undefined> {
  const response = await projectPageResponse(client, indexUrl, project);
  if (response === undefined) return undefined;
  const options: ParsePageOptions = {
    project,
    pageUrl: stripCredentials(response.url),
    index: stripCredentials(indexUrl),
    reporter,
  };
  const canonical = canonicalizeName(project);
  const contentType = response.headers["content-type"];
  const cache = response.cached === true ? pageCache : undefined;
  let source: PageSource | undefined;
  const key = cacheKey(
    stripCredentials(projectPageUrl(indexUrl, project)),
    SIMPLE_ACCEPT,
    undefined,
  );
  if (cache !== undefined) {
    source = {
      body: response.sha256 ?? createHash("sha256").update(response.body).digest("hex"),
      url: options.pageUrl,
      contentType,
      project: canonical,
    };
    const read = await cache.read(key, source, options.index);
    if (read.page !== undefined) {
      reporter.log("debug", `${options.pageUrl}: unchanged, read from the page cache`);
      if (read.page.apiVersion !== undefined) {
        checkApiVersion(read.page.apiVersion, options.pageUrl, reporter);
      }
      return read.page;
    }
    if (read.why === "damaged") {
      reporter.log("debug", `${options.pageUrl}: ignoring a damaged page cache entry`);
    }
  }
  const encoded = encodeProjectPage(response.body, contentType, options);
  const page = new CompactPage(encoded, canonical, options.index);
  if (page.apiVersion !== undefined) checkApiVersion(page.apiVersion, options.pageUrl, reporter);
  if (cache !== undefined && source !== undefined) {
    await cache.write(key, source, encoded).catch((err: unknown) => {
      const reason = (err as { cause?: { code?: string } }).cause?.code ?? "error";
      reporter.log("warn", `cannot write the page cache under ${cache.dir} (${reason})`);
    });
  }
  return page;
}
