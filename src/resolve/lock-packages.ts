/**
 * Turning resolved packages into PEP 751 `[[packages]]` entries: the target's wheels of the
 * chosen version (name, url or path, size, upload-time, hashes — all the index gives), the
 * sdist when sdists are allowed, the index URL, and `[packages.archive]` for direct URLs.
 * No credentials ever: URLs are stripped of user info.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SlimenvError } from "../base/index.ts";
import type { HttpClient } from "../index/http.ts";
import type { DistributionFile } from "../index/project.ts";
import { stripCredentials } from "../index/source-url.ts";
import type { PylockArchive, PylockPackage, PylockWheel } from "../standards/pylock-types.ts";
import { UTC_DATETIME } from "../standards/toml-text.ts";
import type { DirectArchive } from "./direct-url.ts";
import { distributionBytes } from "./file-bytes.ts";
import type { IndexProvider } from "./index-provider.ts";
import type { ResolvedPackage } from "./types.ts";

export interface PackageBuildContext {
  provider: IndexProvider;
  client: HttpClient;
  /** Index URLs without credentials: a file listed by one of them names it as `index`. */
  indexUrls: readonly string[];
  /** The folder of the lock file: local files are written as paths relative to it. */
  lockDir: string;
  /** Puts credentials back into URLs (for downloading a file the index gave no hash of). */
  withCredentials: (url: string) => string;
}

/** A local file's path relative to the lock's folder (POSIX separators). */
export function lockPath(fileUrl: string, lockDir: string): string {
  return path.relative(lockDir, fileURLToPath(fileUrl)).split(path.sep).join("/");
}

function uploadTime(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (UTC_DATETIME.test(text)) return text;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function sortedHashes(hashes: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(hashes).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The file's hashes; when the index gave none, the sha256 of its bytes. */
async function hashesOf(
  file: DistributionFile,
  ctx: PackageBuildContext,
): Promise<Record<string, string>> {
  if (Object.keys(file.hashes).length > 0) return sortedHashes(file.hashes);
  const bytes = await distributionBytes(file.url, ctx.client, ctx.withCredentials);
  return { sha256: createHash("sha256").update(bytes).digest("hex") };
}

async function fileEntry(file: DistributionFile, ctx: PackageBuildContext): Promise<PylockWheel> {
  const entry: PylockWheel = { name: file.filename, hashes: await hashesOf(file, ctx) };
  const time = uploadTime(file.uploadTime);
  if (time !== undefined) entry.uploadTime = time;
  if (file.url.startsWith("file:")) entry.path = lockPath(file.url, ctx.lockDir);
  else entry.url = stripCredentials(file.url);
  if (file.size !== undefined) entry.size = file.size;
  return entry;
}

function archiveEntry(archive: DirectArchive, lockDir: string): PylockArchive {
  const out: PylockArchive = { hashes: sortedHashes(archive.hashes), size: archive.size };
  if (archive.url.startsWith("file:")) out.path = lockPath(archive.url, lockDir);
  else out.url = stripCredentials(archive.url);
  return out;
}

/** The `[[packages]]` entry of one resolved package. */
export async function packageEntry(
  pkg: ResolvedPackage,
  ctx: PackageBuildContext,
): Promise<PylockPackage> {
  const entry: PylockPackage = { name: pkg.name, version: pkg.version.toString() };
  const dependencies = pkg.dependencies.map((name) => ({ name }));
  if (pkg.url !== undefined) {
    const archive = ctx.provider.directArchive(pkg.name);
    if (archive === undefined) {
      throw new SlimenvError("INTERNAL", `no archive recorded for ${pkg.name} @ ${pkg.url}`);
    }
    if (archive.requiresPython !== undefined) entry.requiresPython = archive.requiresPython;
    entry.dependencies = dependencies;
    entry.archive = archiveEntry(archive, ctx.lockDir);
    return entry;
  }
  const vf = await ctx.provider.files(pkg.name, pkg.version);
  if (vf === undefined || (vf.wheels.length === 0 && vf.sdist === undefined)) {
    throw new SlimenvError(
      "INTERNAL",
      `${pkg.name} ${pkg.version.toString()} was chosen but has no usable file`,
    );
  }
  const requiresPython = await ctx.provider.requiresPython(pkg.name, pkg.version);
  if (requiresPython !== undefined) entry.requiresPython = requiresPython;
  entry.dependencies = dependencies;
  const files = [...vf.wheels, ...(vf.sdist === undefined ? [] : [vf.sdist])];
  const indexes = new Set(files.map((f) => stripCredentials(f.index)));
  const [only] = [...indexes];
  if (indexes.size === 1 && only !== undefined && ctx.indexUrls.includes(only)) entry.index = only;
  if (vf.sdist !== undefined) entry.sdist = await fileEntry(vf.sdist, ctx);
  const wheels = [...vf.wheels].sort((a, b) => (a.filename < b.filename ? -1 : 1));
  entry.wheels = await Promise.all(wheels.map((w) => fileEntry(w, ctx)));
  if (entry.wheels.length === 0) delete entry.wheels;
  return entry;
}
