/**
 * Core metadata of one distribution file, as cheaply as the source allows:
 *  1. the PEP 658/714 `<url>.metadata` file when the index offers one (hash-checked);
 *  2. for a remote wheel, HTTP range requests: the zip's tail, its central directory, then
 *     only the METADATA entry;
 *  3. otherwise (no range support, an sdist, a damaged range answer) the whole file, checked
 *     against the index's hash, with METADATA / PKG-INFO read from the archive.
 * What 2 and 3 read is kept in a MetadataCache when given (metadata-cache.ts) and read from it
 * first the next time.
 * Local files (find-links folders) are read from disk. The result's name and version must
 * match the filename (METADATA_MISMATCH otherwise).
 */
import { open, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { findTarFiles } from "../archive/tar-read.ts";
import {
  type ByteSource,
  bufferSource,
  readZipDirectory,
  readZipEntry,
  ZIP_TAIL_BYTES,
  type ZipDirectory,
} from "../archive/zip-read.ts";
import { isSlimenvError, type Reporter, SlimenvError, silentReporter } from "../base/index.ts";
import { type CoreMetadata, parseMetadataBytes } from "../standards/metadata.ts";
import { canonicalizeName } from "../standards/names.ts";
import { tryParseVersion } from "../standards/version.ts";
import { chooseHash, verifyHashes } from "./hashes.ts";
import type { HttpClient } from "./http.ts";
import type { MetadataCache } from "./metadata-cache.ts";
import type { DistributionFile } from "./project.ts";
import { RangeSource } from "./range-source.ts";
import { type CredentialStore, stripCredentials } from "./source-url.ts";

export interface MetadataFetchOptions {
  client: HttpClient;
  reporter?: Reporter;
  /** Puts the user's credentials back into URLs for their hosts. */
  credentials?: CredentialStore;
  /** Try HTTP range requests on remote wheels (default true). */
  rangeRequests?: boolean;
  /** Where metadata read from inside files is kept (none: read again each time). */
  metadataCache?: MetadataCache | undefined;
}

/** Where the metadata came from (for logs and tests). */
export type MetadataSource = "metadata-file" | "range" | "download" | "local" | "cache";

export interface FetchedMetadata {
  metadata: CoreMetadata;
  source: MetadataSource;
}

/** Core metadata of `file`; see the module comment for the order of attempts. */
export async function fetchMetadata(
  file: DistributionFile,
  options: MetadataFetchOptions,
): Promise<CoreMetadata> {
  return (await fetchMetadataWithSource(file, options)).metadata;
}

/** Like {@link fetchMetadata}, also saying which way the metadata was obtained. */
export async function fetchMetadataWithSource(
  file: DistributionFile,
  options: MetadataFetchOptions,
): Promise<FetchedMetadata> {
  const reporter = options.reporter ?? silentReporter;
  const bytes = await metadataBytes(file, options, reporter);
  const metadata = parseMetadataBytes(bytes.data, {
    onWarning: (message) => reporter.log("debug", `${file.filename}: ${message}`),
  });
  checkMatches(file, metadata);
  return { metadata, source: bytes.source };
}

/** METADATA_MISMATCH when the metadata names another project or version than the filename. */
export function checkMatches(file: DistributionFile, metadata: CoreMetadata): void {
  const name = canonicalizeName(metadata.name);
  const version = tryParseVersion(metadata.version);
  if (name !== file.name || version === undefined || !version.equals(file.version)) {
    throw new SlimenvError(
      "METADATA_MISMATCH",
      `the metadata of ${file.filename} is for ${metadata.name} ${metadata.version}, not ${file.name} ${file.version.toString()}`,
      { hint: `the file at ${stripCredentials(file.url)} is mislabelled; report it to the index` },
    );
  }
}

async function metadataBytes(
  file: DistributionFile,
  options: MetadataFetchOptions,
  reporter: Reporter,
): Promise<{ data: Uint8Array; source: MetadataSource }> {
  const cache = file.url.startsWith("file:") ? undefined : options.metadataCache;
  const kept = await cache?.read(file);
  if (kept !== undefined) return { data: kept, source: "cache" };
  const got = await readMetadataBytes(file, options, reporter);
  if (cache !== undefined && (got.source === "range" || got.source === "download")) {
    await cache.write(file, got.data).catch((err: unknown) => {
      const reason = (err as { cause?: { code?: string } }).cause?.code ?? "error";
      reporter.log("debug", `cannot keep the metadata of ${file.filename} (${reason})`);
    });
  }
  return got;
}

async function readMetadataBytes(
  file: DistributionFile,
  options: MetadataFetchOptions,
  reporter: Reporter,
): Promise<{ data: Uint8Array; source: MetadataSource }> {
  if (file.url.startsWith("file:")) {
    return { data: await localMetadata(file), source: "local" };
  }
  const withAuth = (url: string) => options.credentials?.apply(url) ?? url;

  if (file.coreMetadata !== undefined && file.coreMetadata !== false) {
    const url = `${file.url}.metadata`;
    const hashes = typeof file.coreMetadata === "object" ? file.coreMetadata : undefined;
    // With a declared hash the file can never change: a cached copy is used without asking
    // the index again (indexes such as PyPI send no caching headers), and checked.
    const hashed = hashes !== undefined && chooseHash(hashes) !== undefined;
    let response = await options.client.get(withAuth(url), {
      cache: hashed ? "immutable" : "default",
    });
    if (response.status === 200 && hashes !== undefined) {
      try {
        verifyHashes(response.body, hashes, url);
      } catch (err) {
        if (!response.fromCache) throw err;
        response = await options.client.get(withAuth(url), { cache: "no-cache" });
        if (response.status === 200) verifyHashes(response.body, hashes, url);
      }
    }
    if (response.status === 200) return { data: response.body, source: "metadata-file" };
    reporter.log(
      "debug",
      `${file.filename}: the index offers a .metadata file but answered ${response.status}; reading the distribution`,
    );
  }

  if (file.kind === "wheel" && options.rangeRequests !== false) {
    try {
      const got = await rangeMetadata(file, options.client, withAuth(file.url));
      if (got !== undefined) return got;
    } catch (err) {
      if (!isSlimenvError(err, "INDEX_ERROR")) throw err;
      reporter.log(
        "debug",
        `${file.filename}: range requests gave an unreadable archive (${err.message}); downloading it whole`,
      );
    }
  }

  const response = await options.client.get(withAuth(file.url), { cache: "no-store" });
  if (response.status !== 200) {
    throw new SlimenvError(
      "INDEX_ERROR",
      `unexpected HTTP status ${response.status} for ${stripCredentials(file.url)}`,
    );
  }
  checkDownload(file, response.body);
  return { data: await archiveMetadata(file, response.body), source: "download" };
}

/** Hash (and, without a hash, size) check of a whole downloaded file. */
function checkDownload(file: DistributionFile, body: Uint8Array): void {
  verifyHashes(body, file.hashes, file.url);
  if (file.size !== undefined && body.length !== file.size) {
    throw new SlimenvError(
      "INDEX_ERROR",
      `${stripCredentials(file.url)} is ${body.length} bytes, but the index says ${file.size}`,
    );
  }
}

/**
 * METADATA through range requests. Undefined when the server does not do ranges (the caller
 * downloads the file); when it answers a range request with the whole file, that is used.
 */
async function rangeMetadata(
  file: DistributionFile,
  client: HttpClient,
  url: string,
): Promise<{ data: Uint8Array; source: MetadataSource } | undefined> {
  const first = await RangeSource.open(client, url, ZIP_TAIL_BYTES);
  if (first === "unsupported") return undefined;
  if (first instanceof Uint8Array) {
    checkDownload(file, first);
    return { data: await wheelMetadata(file, bufferSource(first)), source: "download" };
  }
  const data = await wheelMetadata(file, first);
  if (first.whole !== undefined) checkDownload(file, first.whole);
  return { data, source: first.whole === undefined ? "range" : "download" };
}

async function archiveMetadata(file: DistributionFile, bytes: Uint8Array): Promise<Uint8Array> {
  if (file.kind === "wheel" || file.filename.endsWith(".zip")) {
    return file.kind === "wheel"
      ? wheelMetadata(file, bufferSource(bytes))
      : zipSdistMetadata(file, bufferSource(bytes));
  }
  return tarSdistMetadata(file, bytes);
}

async function localMetadata(file: DistributionFile): Promise<Uint8Array> {
  const path = fileURLToPath(file.url);
  try {
    if (file.kind === "wheel" || file.filename.endsWith(".zip")) {
      const handle = await open(path, "r");
      try {
        const { size } = await handle.stat();
        const source: ByteSource = {
          size,
          async read(start, end) {
            const buffer = new Uint8Array(end - start);
            const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
            return buffer.subarray(0, bytesRead);
          },
        };
        return file.kind === "wheel"
          ? await wheelMetadata(file, source)
          : await zipSdistMetadata(file, source);
      } finally {
        await handle.close();
      }
    }
    return tarSdistMetadata(file, new Uint8Array(await readFile(path)));
  } catch (err) {
    if (err instanceof SlimenvError) throw err;
    throw new SlimenvError("IO_ERROR", `cannot read ${path}`, { cause: err });
  }
}

function noMetadata(file: DistributionFile, what: string): SlimenvError {
  return new SlimenvError(
    "INDEX_ERROR",
    `${file.filename} has no ${what} (at ${stripCredentials(file.url)})`,
  );
}

/** The `.dist-info/METADATA` of a wheel: the one whose directory names this project. */
async function wheelMetadata(file: DistributionFile, source: ByteSource): Promise<Uint8Array> {
  const dir = await readZipDirectory(source, file.url);
  const candidates = dir.entries.filter((e) => /^[^/]+\.dist-info\/METADATA$/.test(e.name));
  const own = candidates.filter((e) => {
    const stem = e.name.slice(0, e.name.indexOf(".dist-info/"));
    const dash = stem.lastIndexOf("-");
    return dash > 0 && canonicalizeName(stem.slice(0, dash)) === file.name;
  });
  const entry = own.length === 1 ? own[0] : candidates.length === 1 ? candidates[0] : undefined;
  if (entry === undefined) {
    throw noMetadata(
      file,
      candidates.length === 0
        ? "<name>-<version>.dist-info/METADATA"
        : "single .dist-info/METADATA",
    );
  }
  return readZipEntry(source, dir, entry, file.url);
}

function pkgInfoPath(paths: string[], file: DistributionFile): string | undefined {
  const top = paths.filter((p) => /^[^/]+\/PKG-INFO$/.test(p));
  if (top.length <= 1) return top[0];
  // Several top folders: the one named after the project.
  return top.find((p) => {
    const stem = p.slice(0, p.indexOf("/"));
    const dash = stem.lastIndexOf("-");
    return dash > 0 && canonicalizeName(stem.slice(0, dash)) === file.name;
  });
}

async function zipSdistMetadata(file: DistributionFile, source: ByteSource): Promise<Uint8Array> {
  const dir: ZipDirectory = await readZipDirectory(source, file.url);
  const path = pkgInfoPath(
    dir.entries.map((e) => e.name),
    file,
  );
  const entry = dir.entries.find((e) => e.name === path);
  if (entry === undefined) throw noMetadata(file, "PKG-INFO");
  return readZipEntry(source, dir, entry, file.url);
}

function tarSdistMetadata(file: DistributionFile, bytes: Uint8Array): Uint8Array {
  let tar: Uint8Array;
  try {
    tar = new Uint8Array(gunzipSync(bytes));
  } catch (cause) {
    throw new SlimenvError(
      "INDEX_ERROR",
      `unreadable sdist ${stripCredentials(file.url)}: not a gzip file`,
      { cause },
    );
  }
  const found = findTarFiles(tar, (p) => /^[^/]+\/PKG-INFO$/.test(p), file.url);
  const path = pkgInfoPath(
    found.map((f) => f.path),
    file,
  );
  const hit = found.find((f) => f.path === path);
  if (hit === undefined) throw noMetadata(file, "PKG-INFO");
  return hit.data;
}
