/**
 * Several package sources seen as one: index URLs (primary first) and find-links sources.
 *
 * Strategy "first-index" (the default): a project's files come from the FIRST index that has
 * the project (its page exists); later indexes are not asked about that name. Someone who
 * uploads a same-named package to an extra index therefore cannot take over a private one
 * (dependency confusion). "unsafe-best-match" merges the files of every index, as pip does.
 * Find-links files are added in both strategies.
 */
import { type Reporter, silentReporter } from "../base/index.ts";
import type { CoreMetadata } from "../standards/metadata.ts";
import { canonicalizeName } from "../standards/names.ts";
import { listFindLinks } from "./find-links.ts";
import type { HttpClient } from "./http.ts";
import { fetchMetadata } from "./metadata-fetch.ts";
import type { DistributionFile } from "./project.ts";
import { fetchProjectFiles } from "./simple.ts";
import { CredentialStore, parseSourceUrl } from "./source-url.ts";

export type IndexStrategy = "first-index" | "unsafe-best-match";

export const DEFAULT_INDEX_URL = "https://pypi.org/simple/";

export interface IndexSetOptions {
  client: HttpClient;
  /** Index URLs, primary first (may carry credentials). Default: PyPI. `[]`: no index. */
  indexUrls?: string[];
  /** Folders, files, `file:` URLs or flat page URLs. */
  findLinks?: string[];
  strategy?: IndexStrategy;
  reporter?: Reporter;
  /** Try HTTP range requests for wheel metadata (default true). */
  rangeRequests?: boolean;
}

export class IndexSet {
  readonly strategy: IndexStrategy;
  /** Index URLs without credentials, primary first. */
  readonly indexUrls: readonly string[];
  readonly #client: HttpClient;
  readonly #reporter: Reporter;
  readonly #credentials = new CredentialStore();
  /** With credentials, for requests only. */
  readonly #indexes: readonly string[];
  readonly #findLinks: readonly string[];
  readonly #rangeRequests: boolean;
  readonly #files = new Map<string, Promise<DistributionFile[]>>();
  readonly #metadata = new Map<string, Promise<CoreMetadata>>();
  #findLinksFiles: Promise<DistributionFile[]> | undefined;

  constructor(options: IndexSetOptions) {
    this.#client = options.client;
    this.#reporter = options.reporter ?? silentReporter;
    this.strategy = options.strategy ?? "first-index";
    this.#rangeRequests = options.rangeRequests ?? true;
    const indexes = options.indexUrls ?? [DEFAULT_INDEX_URL];
    for (const url of indexes) parseSourceUrl(url, "index URL");
    this.#indexes = indexes;
    this.indexUrls = indexes.map((url) => this.#credentials.add(url));
    this.#findLinks = (options.findLinks ?? []).map((source) => {
      if (/^https?:\/\//i.test(source)) {
        parseSourceUrl(source, "find-links URL");
        this.#credentials.add(source);
      }
      return source;
    });
  }

  /**
   * Every file of project `name`: from the first index that has it ("first-index") or from
   * all indexes ("unsafe-best-match"), plus find-links files. [] when no source has it.
   * Remembered per project for the life of this object.
   */
  files(name: string): Promise<DistributionFile[]> {
    const key = canonicalizeName(name);
    let pending = this.#files.get(key);
    if (pending === undefined) {
      pending = this.#loadFiles(key);
      this.#files.set(key, pending);
      pending.catch(() => this.#files.delete(key));
    }
    return pending;
  }

  /**
   * Core metadata of a file (PEP 658 file, else range requests, else a full download; see
   * metadata-fetch.ts), checked against the file's name and version. Remembered per URL.
   */
  metadata(file: DistributionFile): Promise<CoreMetadata> {
    let pending = this.#metadata.get(file.url);
    if (pending === undefined) {
      pending = fetchMetadata(file, {
        client: this.#client,
        reporter: this.#reporter,
        credentials: this.#credentials,
        rangeRequests: this.#rangeRequests,
      });
      this.#metadata.set(file.url, pending);
      pending.catch(() => this.#metadata.delete(file.url));
    }
    return pending;
  }

  async #loadFiles(name: string): Promise<DistributionFile[]> {
    let found: DistributionFile[] = [];
    for (const index of this.#indexes) {
      const files = await fetchProjectFiles(this.#client, index, name, this.#reporter);
      if (files === undefined) continue;
      found = found.length === 0 ? files : found.concat(files);
      if (this.strategy === "first-index") break;
    }
    const links = (await this.#allFindLinks()).filter((f) => f.name === name);
    if (links.length === 0) return found; // (a page lists tens of thousands of files)
    const seen = new Set(found.map((f) => f.url));
    for (const file of links) {
      if (!seen.has(file.url)) {
        seen.add(file.url);
        found.push(file);
      }
    }
    return found;
  }

  #allFindLinks(): Promise<DistributionFile[]> {
    if (this.#findLinksFiles === undefined) {
      const load = async () => {
        const all: DistributionFile[] = [];
        for (const source of this.#findLinks) {
          all.push(
            ...(await listFindLinks(source, {
              client: this.#client,
              reporter: this.#reporter,
              credentials: this.#credentials,
            })),
          );
        }
        return all;
      };
      this.#findLinksFiles = load();
      this.#findLinksFiles.catch(() => {
        this.#findLinksFiles = undefined;
      });
    }
    return this.#findLinksFiles;
  }
}
