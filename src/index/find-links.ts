/**
 * `--find-links` sources: a local folder of wheels and sdists (or a single such file, or a
 * `file:` URL of either), or a flat HTML page of links (every file of every project on one
 * page, as pip reads it). Files that are neither wheels nor sdists are skipped.
 */
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Reporter, SlimenvError, silentReporter } from "../base/index.ts";
import type { HttpClient } from "./http.ts";
import { type DistributionFile, toDistributionFile } from "./project.ts";
import { parseHtmlLinks } from "./simple-html.ts";
import { type CredentialStore, stripCredentials } from "./source-url.ts";

export interface FindLinksOptions {
  client: HttpClient;
  reporter?: Reporter;
  /** Puts the user's credentials back into URLs for their hosts. */
  credentials?: CredentialStore;
}

/** Whether a find-links source is a page URL (http/https) rather than a local path. */
export function isRemoteSource(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** Every distribution file a find-links source offers, of any project. */
export async function listFindLinks(
  source: string,
  options: FindLinksOptions,
): Promise<DistributionFile[]> {
  const reporter = options.reporter ?? silentReporter;
  if (isRemoteSource(source)) return listPage(source, options, reporter);
  const local = /^file:/i.test(source) ? fileURLToPath(source) : path.resolve(source);
  return listLocal(local, reporter);
}

async function listLocal(location: string, reporter: Reporter): Promise<DistributionFile[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(location);
  } catch (cause) {
    throw new SlimenvError("IO_ERROR", `find-links location ${location} cannot be read`, {
      cause,
      hint: "--find-links takes a folder of wheels and sdists, a file, or a page URL",
    });
  }
  if (info.isFile()) {
    const file = localFile(location, path.dirname(location), info.size, reporter);
    return file === undefined ? [] : [file];
  }
  let names: string[];
  try {
    names = (await readdir(location)).sort();
  } catch (cause) {
    throw new SlimenvError("IO_ERROR", `find-links folder ${location} cannot be read`, { cause });
  }
  const files: DistributionFile[] = [];
  for (const name of names) {
    const full = path.join(location, name);
    let entry: Awaited<ReturnType<typeof stat>>;
    try {
      entry = await stat(full);
    } catch {
      reporter.log("debug", `skipping ${full}: cannot be read`);
      continue;
    }
    if (!entry.isFile()) continue;
    const file = localFile(full, location, entry.size, reporter);
    if (file !== undefined) files.push(file);
  }
  return files;
}

function localFile(
  full: string,
  folder: string,
  size: number,
  reporter: Reporter,
): DistributionFile | undefined {
  return toDistributionFile(
    { filename: path.basename(full), url: pathToFileURL(full).href, hashes: {}, size },
    undefined,
    folder,
    reporter,
  );
}

async function listPage(
  source: string,
  options: FindLinksOptions,
  reporter: Reporter,
): Promise<DistributionFile[]> {
  const url = options.credentials?.apply(source) ?? source;
  const response = await options.client.get(url, { accept: "text/html" });
  if (response.status !== 200) {
    throw new SlimenvError(
      "INDEX_ERROR",
      `find-links page ${stripCredentials(source)} answered HTTP ${response.status}`,
    );
  }
  let html: string;
  try {
    html = new TextDecoder("utf-8", { fatal: true }).decode(response.body);
  } catch (cause) {
    throw new SlimenvError(
      "INDEX_ERROR",
      `malformed page ${stripCredentials(source)}: not valid UTF-8 text`,
      { cause },
    );
  }
  const pageUrl = stripCredentials(response.url);
  const { links } = parseHtmlLinks(html, pageUrl, reporter);
  const files: DistributionFile[] = [];
  for (const link of links) {
    const file = toDistributionFile(link, undefined, stripCredentials(source), reporter);
    if (file !== undefined) files.push(file);
  }
  return files;
}
