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
import { MetadataCache } from "./metadata-cache.ts";
import { fetchMetadata } from "./metadata-fetch.ts";
import { PageCache } from "./page-cache.ts";
import type { CompactPage } from "./page-compact.ts";
import type { DistributionFile } from "./project.ts";
import { ProjectListing } from "./project-listing.ts";
import { fetchProjectPage } from "./simple.ts";
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
  /**
   * Keep the compact form of project pages beside the client's HTTP cache (page-cache.ts), so
   * an unchanged page is not read again (default true; nothing without an HTTP cache).
   */
  pageCache?: boolean;
  /**
   * Keep metadata read from inside files (range requests, downloads) beside the client's HTTP
   * cache (metadata-cache.ts; default true; nothing without an HTTP cache).
   */
  metadataCache?: boolean;
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
  readonly #listings = new Map<string, Promise<ProjectListing>>();
  readonly #pageCache: PageCache | undefined;
  readonly #metadataCache: MetadataCache | undefined;
  readonly #metadata = new Map<string, Promise<CoreMetadata>>();
  #findLinksFiles: Promise<DistributionFile[]> | undefined;

  constructor(options: IndexSetOptions) {
    this.#client = options.client;
    this.#reporter = options.reporter ?? silentReporter;
    this.strategy = options.strategy ?? "first-index";
    this.#rangeRequests = options.rangeRequests ?? true;
    const cacheDir = options.client.cacheDir;
    this.#pageCache =
      options.pageCache === false || cacheDir === undefined ? undefined : new PageCache(cacheDir);
    this.#metadataCache =
      options.metadataCache === false || cacheDir === undefined
        ? undefined
        : new MetadataCache(cacheDir);
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
   */
  async files(name: string): Promise<DistributionFile[]> {
    return (await this.listing(name)).all();
  }

  /**
   * The files of project `name` (as `files`), each whole only when asked for. Remembered per
   * project for the life of this object.
   */
  listing(name: string): Promise<ProjectListing> {
    const key = canonicalizeName(name);
    let pending = this.#listings.get(key);
    if (pending === undefined) {
      pending = this.#loadListing(key);
      this.#listings.set(key, pending);
      pending.catch(() => this.#listings.delete(key));
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
        metadataCache: this.#metadataCache,
      });
      this.#metadata.set(file.url, pending);
      pending.catch(() => this.#metadata.delete(file.url));
    }
    return pending;
  }

  async #loadListing(name: string): Promise<ProjectListing> {
    const pages: CompactPage[] = [];
    for (const index of this.#indexes) {
      const page = await fetchProjectPage(
        this.#client,
        index,
        name,
        this.#reporter,
        this.#pageCache,
      );
      if (page === undefined) continue;
      pages.push(page);
      if (this.strategy === "first-index") break;
    }
    const links = (await this.#allFindLinks()).filter((f) => f.name === name);
    if (links.length === 0) return new ProjectListing(pages);
    const seen = new Set(new ProjectListing(pages).all().map((f) => f.url));
    const others: DistributionFile[] = [];
    for (const file of links) {
      if (!seen.has(file.url)) {
        seen.add(file.url);
        others.push(file);
      }
    }
    return new ProjectListing(pages, others);
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
