/**
 * Direct URL requirements (`name @ https://…/x.whl`, `name @ file:///…/x.whl`): the archive
 * named, checked to be of that project and to fit the target, its metadata read through the
 * index layer (PEP 658 file, range requests or a download), and its hashes and size (read or
 * downloaded, checked against a `#sha256=` fragment) for the lock's `[packages.archive]`.
 */
import { createHash } from "node:crypto";
import { type Reporter, SlimenvError } from "../base/index.ts";
import type { HttpClient } from "../index/http.ts";
import { fetchMetadata } from "../index/metadata-fetch.ts";
import { classifyFilename, type DistributionFile } from "../index/project.ts";
import { type CredentialStore, stripCredentials } from "../index/source-url.ts";
import type { Target } from "../python/target.ts";
import {
  type CoreMetadata,
  requiresPython as metadataRequiresPython,
} from "../standards/metadata.ts";
import { canonicalizeName } from "../standards/names.ts";
import type { Requirement } from "../standards/requirement.ts";
import { createTagRanker } from "../standards/tags.ts";
import { Version } from "../standards/version.ts";
import { distributionBytes } from "./file-bytes.ts";
import { targetLabel, wheelTagText } from "./file-selection.ts";

/** A direct URL requirement's file, as the lock records it. */
export interface DirectArchive {
  name: string;
  version: Version;
  filename: string;
  kind: "wheel" | "sdist";
  /** The URL without credentials (`file:` for local files). */
  url: string;
  hashes: Record<string, string>;
  size: number;
  requiresPython?: string;
}

export interface DirectUrlOptions {
  client: HttpClient;
  target: Target;
  /** Remembers the URL's credentials (requests use them; nothing stored has them). */
  credentials: CredentialStore;
  reporter: Reporter;
  /** Throws when an sdist's metadata cannot be trusted without a build. */
  checkSdist: (meta: CoreMetadata, file: DistributionFile) => void;
}

/** Read a direct URL requirement: its archive (for the lock) and its metadata. */
export async function readDirectUrl(
  req: Requirement,
  options: DirectUrlOptions,
): Promise<{ archive: DirectArchive; metadata: CoreMetadata }> {
  const name = canonicalizeName(req.name);
  const raw = req.url ?? "";
  const file = directFile(name, raw, options.credentials);
  const rank = createTagRanker(options.target.tags);
  if (file.wheel !== undefined && rank(file.wheel.tags) === undefined) {
    throw new SlimenvError(
      "NO_SOLUTION",
      `${file.filename} (${req.name} @ ${stripCredentials(raw)}) does not fit the target ${targetLabel(options.target)}`,
      { detail: `the wheel is for ${wheelTagText(file.filename)}` },
    );
  }
  const metadata = await fetchMetadata(file, {
    client: options.client,
    reporter: options.reporter,
    credentials: options.credentials,
  });
  if (file.kind === "sdist") options.checkSdist(metadata, file);
  const rp = metadataRequiresPython(metadata);
  const python = new Version(options.target.markerEnvironment.python_full_version);
  if (rp !== undefined && !rp.contains(python, { prereleases: true })) {
    throw new SlimenvError(
      "NO_SOLUTION",
      `${req.name} @ ${stripCredentials(raw)} requires Python ${rp.toString()}, and the target is Python ${python.toString()}`,
    );
  }
  const { hashes, size } = await archiveDigest(file, options);
  const archive: DirectArchive = {
    name,
    version: file.version,
    filename: file.filename,
    kind: file.kind,
    url: file.url,
    hashes,
    size,
  };
  if (rp !== undefined) archive.requiresPython = rp.toString();
  return { archive, metadata };
}

function directFile(name: string, raw: string, credentials: CredentialStore): DistributionFile {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw new SlimenvError("INVALID_REQUIREMENT", `${name} @ ${raw}: not a URL`, { cause });
  }
  if (!["http:", "https:", "file:"].includes(url.protocol)) {
    throw new SlimenvError(
      "INVALID_REQUIREMENT",
      `${name} @ ${stripCredentials(raw)}: only http(s) and file URLs of archives are supported`,
      { hint: "VCS and directory requirements need a build, which comes later" },
    );
  }
  const hashes: Record<string, string> = {};
  const fragment = new URLSearchParams(url.hash.replace(/^#/, ""));
  for (const [key, value] of fragment) {
    if (/^(sha256|sha384|sha512|md5|sha1|sha224)$/i.test(key))
      hashes[key.toLowerCase()] = value.toLowerCase();
  }
  url.hash = "";
  const clean = credentials.add(url.href);
  const filename = decodeURIComponent(url.pathname.split("/").pop() ?? "");
  const kind = classifyFilename(filename);
  if (kind === undefined) {
    throw new SlimenvError(
      "INVALID_REQUIREMENT",
      `${name} @ ${stripCredentials(raw)}: ${JSON.stringify(filename)} is not a wheel or sdist filename`,
      { hint: "a direct URL must name a .whl or .tar.gz archive" },
    );
  }
  if (kind.name !== name) {
    throw new SlimenvError(
      "INVALID_REQUIREMENT",
      `${name} @ ${stripCredentials(raw)}: the archive ${filename} is of ${kind.name}, not ${name}`,
    );
  }
  const file: DistributionFile = {
    filename,
    url: clean,
    kind: kind.kind,
    name,
    version: kind.version,
    hashes,
    index: clean,
  };
  if (kind.kind === "wheel") file.wheel = kind.wheel;
  return file;
}

/** Hashes and size of a direct archive: read (local) or downloaded, checked when hashed. */
async function archiveDigest(
  file: DistributionFile,
  options: DirectUrlOptions,
): Promise<{ hashes: Record<string, string>; size: number }> {
  const bytes = await distributionBytes(file.url, options.client, (url) =>
    options.credentials.apply(url),
  );
  const hashes: Record<string, string> = {};
  for (const [algo, declared] of Object.entries({ sha256: undefined, ...file.hashes } as Record<
    string,
    string | undefined
  >)) {
    const actual = createHash(algo).update(bytes).digest("hex");
    if (declared !== undefined && declared !== actual) {
      throw new SlimenvError(
        "HASH_MISMATCH",
        `${stripCredentials(file.url)} has ${algo} ${actual}, but the requirement says ${declared}`,
      );
    }
    hashes[algo] = actual;
  }
  return { hashes, size: bytes.length };
}
