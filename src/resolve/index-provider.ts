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
 * read, are answered as unavailable, with the reason the explanation quotes; `lock` turns a
 * failure they cause into BUILD_REQUIRED or a hint (see `leftOut`).
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
  parseMetadata,
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
  type VersionChoice,
  type VersionFiles,
  versionKey,
  wholeFiles,
} from "./file-selection.ts";
import type {
  Candidate,
  Dependencies,
  ResolverProvider,
  UnavailableVersion,
  VersionRequirements,
} from "./types.ts";

/** Why versions were left out of a resolution, for the reasons the resolver was given. */
export interface LeftOut {
  /** Versions only a build of their sdist would describe (BUILD_REQUIRED errors). */
  buildRequired: SlimenvError[];
  /** Versions whose metadata cannot be read ("name version: why"). */
  unreadable: string[];
}

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
  /**
   * Builds an sdist's metadata (PEP 517 prepare_metadata_for_build_wheel) when its PKG-INFO
   * does not state its dependencies reliably; absent: such versions need a build
   * (BUILD_REQUIRED). Supplied from above (src/build) by install and lock.
   */
  sdistMetadata?: SdistMetadataBuilder;
}

/** Every file of a release repeats its requires-python: each distinct text is parsed once. */
const requiresPythonMemo = new Map<string, SpecifierSet>();
/** The METADATA text of an sdist, built (src/build supplies it). */
export type SdistMetadataBuilder = (sdist: DistributionFile) => Promise<string>;

function parseRequiresPython(text: string | undefined, reporter: Reporter, where: string) {
  if (text === undefined || text.trim() === "") return undefined;
  const hit = requiresPythonMemo.get(text);
  if (hit !== undefined) return hit;
  try {
    const parsed = new SpecifierSet(text);
    if (requiresPythonMemo.size >= 10_000) requiresPythonMemo.clear();
    requiresPythonMemo.set(text, parsed);
    return parsed;
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
  readonly #versions = new Map<string, Promise<Map<string, ProjectVersion>>>();
  readonly #metadataPython = new Map<string, string>();
  readonly #direct = new Map<string, DirectArchive>();
  readonly #credentials = new CredentialStore();
  /** By the reason given to the resolver. */
  readonly #unreadable = new Map<string, string[]>();
  readonly #buildRequired = new Map<string, SlimenvError[]>();

  constructor(options: IndexProviderOptions) {
    this.#o = options;
    this.#reporter = options.reporter ?? silentReporter;
    this.#selector = new FileSelector(options.target, options.format ?? {});
  }

  async candidates(name: string): Promise<Candidate[]> {
    const versions = await this.#load(canonicalizeName(name));
    return [...versions.values()].map((v) => this.#candidate(name, v.files ?? v.choice));
  }

  /** The usable files of one version (after `candidates` was asked for the project). */
  async files(name: string, version: Version): Promise<VersionFiles | undefined> {
    const entry = (await this.#load(canonicalizeName(name))).get(versionKey(version));
    if (entry === undefined) return undefined;
    entry.files ??= wholeFiles(entry.choice);
    return entry.files;
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
    let meta: CoreMetadata | BuildRequired;
    let rp: SpecifierSet | undefined;
    try {
      meta = await this.#metadataOf(canonical, vf);
      if (!(meta instanceof BuildRequired)) rp = metadataRequiresPython(meta);
    } catch (err) {
      // Metadata that cannot be read (some ancient releases) makes the version unavailable,
      // as pip discards such candidates; it does not stop the resolution.
      if (!isSlimenvError(err, "INVALID_METADATA") && !isSlimenvError(err, "METADATA_MISMATCH")) {
        throw err;
      }
      return this.#unreadableVersion(canonical, version, err.message);
    }
    if (meta instanceof BuildRequired) {
      const reason = `only a build of its sdist would tell its dependencies: ${meta.why}`;
      remember(this.#buildRequired, reason, meta.error);
      return { unavailable: reason };
    }
    this.#metadataPython.set(`${canonical} ${versionKey(version)}`, rp?.toString() ?? "");
    const requires: Requirement[] = [];
    const bad: string[] = [];
    for (const text of meta.requiresDist) {
      try {
        requires.push(new Requirement(text));
      } catch {
        bad.push(text);
      }
    }
    if (bad.length > 0) {
      // Its dependencies are unknown: the version cannot be used.
      const quoted = bad.map((b) => JSON.stringify(b)).join(", ");
      return this.#unreadableVersion(canonical, version, `unreadable Requires-Dist ${quoted}`);
    }
    const deps: VersionRequirements = { requires };
    if (rp !== undefined) deps.requiresPython = rp;
    return deps;
  }

  #unreadableVersion(name: string, version: Version, why: string): UnavailableVersion {
    const reason = `its metadata cannot be read: ${why}`;
    remember(this.#unreadable, reason, `${name} ${version.toString()}: ${why}`);
    this.#reporter.log("debug", `cannot use ${name} ${version.toString()}: ${why}`);
    return { unavailable: reason };
  }

  /**
   * The versions left out for these reasons (as a failed resolution names them, see
   * `unavailableReasons`), in the order of the reasons.
   */
  leftOut(reasons: readonly string[]): LeftOut {
    return {
      buildRequired: reasons.flatMap((r) => this.#buildRequired.get(r) ?? []),
      unreadable: reasons.flatMap((r) => this.#unreadable.get(r) ?? []),
    };
  }

  async directUrl(req: Requirement): Promise<{ version: Version; requires: Requirement[] }> {
    const { archive, metadata } = await readDirectUrl(req, {
      client: this.#o.client,
      target: this.#o.target,
      credentials: this.#credentials,
      reporter: this.#reporter,
      checkSdist: (meta, file) => {
        const needsBuild = sdistNeedsBuild(meta, file);
        if (needsBuild !== undefined) throw needsBuild.error;
      },
    });
    this.#direct.set(archive.name, archive);
    return { version: archive.version, requires: requiresDist(metadata) };
  }

  /**
   * The versions of a project and the files chosen for each. Whole files are built only for
   * the versions asked for (`files`), except under `--hash`, which needs every file's hashes.
   */
  #load(name: string): Promise<Map<string, ProjectVersion>> {
    let pending = this.#versions.get(name);
    if (pending === undefined) {
      pending = (async () => {
        const listing = await this.#o.index.listing(name);
        const allowed = this.#o.requiredHashes?.get(name);
        const out = new Map<string, ProjectVersion>();
        for (const choice of this.#selector.choose(name, listing.groups)) {
          const entry: ProjectVersion = { choice };
          if (allowed !== undefined && allowed.length > 0) {
            const vf = wholeFiles(choice);
            restrictToHashes(vf, allowed);
            entry.files = vf;
          }
          out.set(versionKey(choice.version), entry);
        }
        return out;
      })();
      this.#versions.set(name, pending);
      pending.catch(() => this.#versions.delete(name));
    }
    return pending;
  }

  #candidate(name: string, vf: VersionChoice | VersionFiles): Candidate {
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

  #indexRequiresPython(vf: VersionChoice | VersionFiles): string | undefined {
    const best = vf.wheels[0] ?? vf.sdist;
    if (best?.requiresPython !== undefined) return best.requiresPython;
    for (const f of vf.all) if (f.requiresPython !== undefined) return f.requiresPython;
    return undefined;
  }

  /** The metadata of a version, or why only a build of its sdist would tell. */
  async #metadataOf(name: string, vf: VersionFiles): Promise<CoreMetadata | BuildRequired> {
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
    const needs = sdistNeedsBuild(meta, sdist);
    if (needs === undefined || this.#o.sdistMetadata === undefined) return needs ?? meta;
    this.#reporter.log("info", `${sdist.filename}: ${needs.why}; preparing its metadata`);
    const built = parseMetadata(await this.#o.sdistMetadata(sdist));
    if (canonicalizeName(built.name) !== canonicalizeName(sdist.name)) {
      throw new SlimenvError(
        "METADATA_MISMATCH",
        `the metadata built from ${sdist.filename} names ${built.name}, not ${sdist.name}`,
      );
    }
    return built;
  }
}

/** A version of a project: the files chosen for the target, whole once asked for (or under --hash, restricted to the allowed hashes). */
interface ProjectVersion {
  choice: VersionChoice;
  files?: VersionFiles;
}

/** An sdist whose PKG-INFO does not state its dependencies reliably. */
class BuildRequired {
  readonly why: string;
  readonly error: SlimenvError;
  constructor(why: string, error: SlimenvError) {
    this.why = why;
    this.error = error;
  }
}

/** Unless an sdist's PKG-INFO states its dependencies reliably (PEP 643): why not. */
function sdistNeedsBuild(meta: CoreMetadata, sdist: DistributionFile): BuildRequired | undefined {
  const dynamic = new Set(meta.dynamic.map((d) => d.trim().toLowerCase()));
  let why: string;
  let consequence = "";
  if (!metadataVersionAtLeast(meta, 2, 2)) {
    why = `its PKG-INFO is Metadata-Version ${meta.metadataVersion}, older than 2.2`;
    consequence = ", so its dependencies may differ once built";
  } else if (dynamic.has("requires-dist") || dynamic.has("requires-python")) {
    why = "its PKG-INFO marks its dependencies as Dynamic";
  } else {
    return undefined;
  }
  const error = new SlimenvError(
    "BUILD_REQUIRED",
    `the dependencies of ${sdist.name} ${sdist.version.toString()} are known only by building its sdist ${sdist.filename}: ${why}${consequence}`,
    {
      hint: `building sdists comes in a later slimenv; pin ${sdist.name} to a version with a wheel, or add a wheel of it with --find-links`,
    },
  );
  return new BuildRequired(why, error);
}

function remember<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
