/**
 * The resolver's view of package indexes for one Target: the versions of a project and, for
 * each, the files the target can use (see file-selection.ts); dependencies from core
 * metadata; direct URL requirements (see direct-url.ts).
 *
 * Dependencies come from the metadata of the best usable wheel; failing that, from any
 * wheel of the version (wheels of one version declare the same dependencies in practice);
 * failing that, from the sdist's PKG-INFO, but only when it is Metadata-Version 2.2 or later
 * and does not mark Requires-Dist as Dynamic (PEP 643) — otherwise only building the sdist
 * would tell, and building comes later. Such versions, and versions whose metadata cannot be
 * read, are left out of the resolution (see UNREADABLE); `lock` turns a failure they cause
 * into BUILD_REQUIRED or a hint.
 */
import { isSlimenvError, type Reporter, SlimenvError, silentReporter } from "../base/index.ts";
import type { HttpClient } from "../index/http.ts";
import type { IndexSet } from "../index/indexes.ts";
import type { DistributionFile } from "../index/project.ts";
import { CredentialStore } from "../index/source-url.ts";
import type { Target } from "../python/target.ts";
import {
  type CoreMetadata,
  requiresPython as metadataRequiresPython,
  requiresDist,
} from "../standards/metadata.ts";
import { canonicalizeName } from "../standards/names.ts";
import { Requirement } from "../standards/requirement.ts";
import { SpecifierSet } from "../standards/specifiers.ts";
import type { Version } from "../standards/version.ts";
import { type DirectArchive, readDirectUrl } from "./direct-url.ts";
import {
  FileSelector,
  type FormatControl,
  type VersionFiles,
  versionKey,
} from "./file-selection.ts";
import type { Candidate, Dependencies, ResolverProvider } from "./types.ts";

/**
 * The Requires-Python given for a version whose metadata cannot be read: an arbitrary-equality
 * specifier no Python version matches, so the resolver leaves the version out and its
 * explanation says why ("requires Python ===unreadable-metadata").
 */
export const UNREADABLE = "===unreadable-metadata";

/** The same for a version whose dependencies only a build of its sdist would tell. */
export const UNBUILT = "===unknown-until-built";

export interface IndexProviderOptions {
  index: IndexSet;
  target: Target;
  /** For direct URL requirements (the index set has its own). */
  client: HttpClient;
  format?: FormatControl;
  /**
   * Hashes a requirements file allows per canonical name ("sha256:…"): only files with one
   * of them are used.
   */
  requiredHashes?: ReadonlyMap<string, readonly string[]>;
  reporter?: Reporter;
}

function parseRequiresPython(text: string | undefined, reporter: Reporter, where: string) {
  if (text === undefined || text.trim() === "") return undefined;
  try {
    return new SpecifierSet(text);
  } catch {
    reporter.log("debug", `${where}: ignoring invalid requires-python ${JSON.stringify(text)}`);
    return undefined;
  }
}

function metadataVersionAtLeast(meta: CoreMetadata, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(meta.metadataVersion.trim());
  if (m === null) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}

function hashMatches(file: DistributionFile, allowed: readonly string[]): boolean {
  return allowed.some((entry) => {
    const colon = entry.indexOf(":");
    const algo = entry.slice(0, colon).toLowerCase();
    return file.hashes[algo] === entry.slice(colon + 1).toLowerCase();
  });
}

/** Keep only the files whose hash a requirements file lists (`--hash`). */
function restrictToHashes(vf: VersionFiles, allowed: readonly string[]): void {
  const usable = vf.wheels.length > 0 || vf.sdist !== undefined;
  vf.wheels = vf.wheels.filter((f) => hashMatches(f, allowed));
  if (vf.sdist !== undefined && !hashMatches(vf.sdist, allowed)) delete vf.sdist;
  if (usable && vf.wheels.length === 0 && vf.sdist === undefined) {
    vf.unavailableReason = "none of its usable files has a hash given by --hash";
  }
}

export class IndexProvider implements ResolverProvider {
  readonly #o: IndexProviderOptions;
  readonly #reporter: Reporter;
  readonly #selector: FileSelector;
  readonly #versions = new Map<string, Promise<Map<string, VersionFiles>>>();
  readonly #metadataPython = new Map<string, string>();
  readonly #direct = new Map<string, DirectArchive>();
  readonly #credentials = new CredentialStore();
  readonly #unreadable: string[] = [];
  readonly #buildRequired: SlimenvError[] = [];

  constructor(options: IndexProviderOptions) {
    this.#o = options;
    this.#reporter = options.reporter ?? silentReporter;
    this.#selector = new FileSelector(options.target, options.format ?? {});
  }

  async candidates(name: string): Promise<Candidate[]> {
    const versions = await this.#load(canonicalizeName(name));
    return [...versions.values()].map((vf) => this.#candidate(name, vf));
  }

  /** The usable files of one version (after `candidates` was asked for the project). */
  async files(name: string, version: Version): Promise<VersionFiles | undefined> {
    return (await this.#load(canonicalizeName(name))).get(versionKey(version));
  }

  /** The file of a direct URL requirement, once resolved. */
  directArchive(name: string): DirectArchive | undefined {
    return this.#direct.get(canonicalizeName(name));
  }

  /** Requires-Python of a version: the index's (from its best file), else its metadata's. */
  async requiresPython(name: string, version: Version): Promise<string | undefined> {
    const vf = await this.files(name, version);
    if (vf !== undefined) {
      const fromIndex = this.#indexRequiresPython(vf);
      if (fromIndex !== undefined) return fromIndex;
    }
    const key = `${canonicalizeName(name)} ${versionKey(version)}`;
    if (!this.#metadataPython.has(key)) await this.dependencies(name, version);
    return this.#metadataPython.get(key) || undefined;
  }

  async dependencies(name: string, version: Version): Promise<Dependencies> {
    const canonical = canonicalizeName(name);
    const vf = await this.files(canonical, version);
    if (vf === undefined) {
      throw new SlimenvError(
        "INTERNAL",
        `dependencies of ${canonical} ${version.toString()} asked for, but the index lists no such version`,
      );
    }
    let meta: CoreMetadata;
    let rp: SpecifierSet | undefined;
    try {
      meta = await this.#metadataOf(canonical, vf);
      rp = metadataRequiresPython(meta);
    } catch (err) {
      // Metadata that cannot be read (some ancient releases) makes the version unusable, as
      // pip discards such candidates; it does not stop the resolution.
      if (isSlimenvError(err, "BUILD_REQUIRED")) {
        this.#buildRequired.push(err);
        return { requires: [], requiresPython: new SpecifierSet(UNBUILT) };
      }
      if (!isSlimenvError(err, "INVALID_METADATA") && !isSlimenvError(err, "METADATA_MISMATCH")) {
        throw err;
      }
      this.#note(`${canonical} ${version.toString()}: ${err.message}`);
      return { requires: [], requiresPython: new SpecifierSet(UNREADABLE) };
    }
    this.#metadataPython.set(`${canonical} ${versionKey(version)}`, rp?.toString() ?? "");
    const requires = this.#requirements(canonical, vf.version, meta);
    if (requires === undefined) {
      // The provider contract has no "unusable" answer for dependencies; a Requires-Python
      // no interpreter satisfies rules the version out, and reads as the reason.
      return { requires: [], requiresPython: new SpecifierSet(UNREADABLE) };
    }
    const deps: Dependencies = { requires };
    if (rp !== undefined) deps.requiresPython = rp;
    return deps;
  }

  /** Versions left out because their metadata cannot be read ("name version: why"). */
  get unreadable(): readonly string[] {
    return this.#unreadable;
  }

  /** Versions left out because only building their sdist would tell their dependencies. */
  get buildRequired(): readonly SlimenvError[] {
    return this.#buildRequired;
  }

  #note(text: string): void {
    this.#unreadable.push(text);
    this.#reporter.log("debug", `cannot use ${text}`);
  }

  /**
   * The Requires-Dist of a version; undefined when an entry cannot be read (ancient releases
   * carry some). Such a version cannot be used: its dependencies are unknown.
   */
  #requirements(name: string, version: Version, meta: CoreMetadata): Requirement[] | undefined {
    const out: Requirement[] = [];
    const bad: string[] = [];
    for (const text of meta.requiresDist) {
      try {
        out.push(new Requirement(text));
      } catch {
        bad.push(text);
      }
    }
    if (bad.length === 0) return out;
    this.#note(
      `${name} ${version.toString()}: unreadable Requires-Dist ${bad.map((b) => JSON.stringify(b)).join(", ")}`,
    );
    return undefined;
  }

  async directUrl(req: Requirement): Promise<{ version: Version; requires: Requirement[] }> {
    const { archive, metadata } = await readDirectUrl(req, {
      client: this.#o.client,
      target: this.#o.target,
      credentials: this.#credentials,
      reporter: this.#reporter,
      checkSdist: (meta, file) => this.#checkSdistMetadata(meta, file),
    });
    this.#direct.set(archive.name, archive);
    return { version: archive.version, requires: requiresDist(metadata) };
  }

  #load(name: string): Promise<Map<string, VersionFiles>> {
    let pending = this.#versions.get(name);
    if (pending === undefined) {
      pending = (async () => {
        const files = await this.#o.index.files(name);
        const allowed = this.#o.requiredHashes?.get(name);
        const out = new Map<string, VersionFiles>();
        for (const vf of this.#selector.select(name, files)) {
          if (allowed !== undefined && allowed.length > 0) restrictToHashes(vf, allowed);
          out.set(versionKey(vf.version), vf);
        }
        return out;
      })();
      this.#versions.set(name, pending);
      pending.catch(() => this.#versions.delete(name));
    }
    return pending;
  }

  #candidate(name: string, vf: VersionFiles): Candidate {
    const candidate: Candidate = {
      version: vf.version,
      yanked: vf.yanked,
      installable: vf.unavailableReason === undefined,
    };
    const rp = parseRequiresPython(
      this.#indexRequiresPython(vf),
      this.#reporter,
      `${name} ${vf.version.toString()}`,
    );
    if (rp !== undefined) candidate.requiresPython = rp;
    if (vf.unavailableReason !== undefined) candidate.unavailableReason = vf.unavailableReason;
    return candidate;
  }

  #indexRequiresPython(vf: VersionFiles): string | undefined {
    const best = vf.wheels[0] ?? vf.sdist;
    if (best?.requiresPython !== undefined) return best.requiresPython;
    return vf.all.find((f) => f.requiresPython !== undefined)?.requiresPython;
  }

  async #metadataOf(name: string, vf: VersionFiles): Promise<CoreMetadata> {
    const anyWheel = vf.all.find((f) => f.kind === "wheel" && f.yanked === undefined);
    const wheel = vf.wheels[0] ?? anyWheel ?? vf.all.find((f) => f.kind === "wheel");
    if (wheel !== undefined) return this.#o.index.metadata(wheel);
    const sdist = vf.sdist ?? vf.all.find((f) => f.kind === "sdist");
    if (sdist === undefined) {
      throw new SlimenvError(
        "INDEX_ERROR",
        `${name} ${vf.version.toString()} has no file to read its metadata from`,
      );
    }
    const meta = await this.#o.index.metadata(sdist);
    this.#checkSdistMetadata(meta, sdist);
    return meta;
  }

  /** BUILD_REQUIRED unless an sdist's PKG-INFO states its dependencies reliably (PEP 643). */
  #checkSdistMetadata(meta: CoreMetadata, sdist: DistributionFile): void {
    const dynamic = new Set(meta.dynamic.map((d) => d.trim().toLowerCase()));
    const why = !metadataVersionAtLeast(meta, 2, 2)
      ? `its PKG-INFO is Metadata-Version ${meta.metadataVersion}, older than 2.2, so its dependencies may differ once built`
      : dynamic.has("requires-dist") || dynamic.has("requires-python")
        ? "its PKG-INFO marks its dependencies as Dynamic"
        : undefined;
    if (why === undefined) return;
    throw new SlimenvError(
      "BUILD_REQUIRED",
      `the dependencies of ${sdist.name} ${sdist.version.toString()} are known only by building its sdist ${sdist.filename}: ${why}`,
      {
        hint: `building sdists comes in a later slimenv; pin ${sdist.name} to a version with a wheel, or add a wheel of it with --find-links`,
      },
    );
  }
}
