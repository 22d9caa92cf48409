// Layer 4: the index client. Public names of src/index/.

export type { FindLinksOptions } from "./find-links.ts";
export { isRemoteSource, listFindLinks } from "./find-links.ts";
export { HttpClient } from "./http.ts";
export type { CacheEntry, CacheMeta } from "./http-cache.ts";
export { HttpCache } from "./http-cache.ts";
export { HttpError } from "./http-errors.ts";
export type { ClientContext } from "./http-from-settings.ts";
export { clientFromSettings } from "./http-from-settings.ts";
export type {
  HttpClientOptions,
  HttpDownload,
  HttpDownloadOptions,
  HttpGetOptions,
  HttpRange,
  HttpResponse,
} from "./http-types.ts";
export type { IndexSetOptions, IndexStrategy } from "./indexes.ts";
export { DEFAULT_INDEX_URL, IndexSet } from "./indexes.ts";
export type { ListedFile } from "./listed-file.ts";
export type { FetchedMetadata, MetadataFetchOptions, MetadataSource } from "./metadata-fetch.ts";
export { checkMatches, fetchMetadata, fetchMetadataWithSource } from "./metadata-fetch.ts";
export type { NetrcEntry, ParsedNetrc } from "./netrc.ts";
export { lookupNetrc, netrcPath, parseNetrc, readNetrc } from "./netrc.ts";
export type { PageCacheRead, PageSource } from "./page-cache.ts";
export { PageCache } from "./page-cache.ts";
export { CompactPage } from "./page-compact.ts";
export type { DistributionFile, RawLink } from "./project.ts";
export { classifyFilename, toDistributionFile } from "./project.ts";
export { ProjectListing } from "./project-listing.ts";
export type { ProxySettings } from "./proxy.ts";
export { proxyFor, proxySettingsFromEnv } from "./proxy.ts";
export type { ParsePageOptions } from "./simple.ts";
export {
  encodeProjectPage,
  fetchProjectFiles,
  fetchProjectPage,
  parseProjectPage,
  parseSimpleHtml,
  parseSimpleJson,
  SIMPLE_ACCEPT,
  SUPPORTED_API_VERSION,
} from "./simple.ts";
export { CredentialStore, projectPageUrl, stripCredentials } from "./source-url.ts";
