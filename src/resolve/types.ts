/**
 * The resolver's contract: what it asks of a package source (`ResolverProvider`), the options
 * of one resolution, and what it returns. The solver sees packages only through the provider,
 * so it knows nothing of HTTP, indexes or caches.
 */
import type { Reporter } from "../base/index.ts";
import type { MarkerEnvironment } from "../standards/markers.ts";
import type { Requirement } from "../standards/requirement.ts";
import type { SpecifierSet } from "../standards/specifiers.ts";
import type { Version } from "../standards/version.ts";

/** One version of a project as the index lists it. */
export interface Candidate {
  version: Version;
  yanked: boolean;
  requiresPython?: SpecifierSet;
  /**
   * False when no file of this version is installable for the target (no compatible wheel
   * and sdists not allowed).
   */
  installable: boolean;
  /** Why the version is not installable, e.g. "no wheel for the target: available tags are …". */
  unavailableReason?: string;
}

/** What a version needs: its requirements and Requires-Python. */
export interface VersionRequirements {
  requires: Requirement[];
  requiresPython?: SpecifierSet;
}

/**
 * A version the resolution cannot use although the index lists it, and why (its metadata
 * cannot be read; only a build of its sdist would tell its dependencies). The reason reads
 * after "x==1.0 is unavailable (…)"; give neighbouring versions the same text when the cause
 * is the same, so the explanation can group them.
 */
export interface UnavailableVersion {
  unavailable: string;
}

export type Dependencies = VersionRequirements | UnavailableVersion;

export interface ResolverProvider {
  /** Every version of a project (any order); [] when the project does not exist. */
  candidates(name: string): Promise<Candidate[]>;
  /**
   * The requirements (Requires-Dist) and Requires-Python of one version, or why that version
   * cannot be used.
   */
  dependencies(name: string, version: Version): Promise<Dependencies>;
  /** The version and requirements of a direct URL requirement (`name @ url`). */
  directUrl?(req: Requirement): Promise<{ version: Version; requires: Requirement[] }>;
}

export type PrereleaseMode = "if-necessary-or-explicit" | "allow" | "disallow";
export type ResolutionStrategy = "highest" | "lowest" | "lowest-direct";

export interface ResolveOptions {
  provider: ResolverProvider;
  /** The target's marker environment. */
  environment: MarkerEnvironment;
  /** The target's python_full_version. */
  pythonVersion: Version;
  prereleases?: PrereleaseMode;
  strategy?: ResolutionStrategy;
  /** Versions of an existing lock, kept when still allowed (names in any spelling). */
  preferences?: Map<string, Version>;
  /** true: ignore every preference; a set: ignore the preferences of these names. */
  upgrade?: boolean | Set<string>;
  /** Restrict versions of packages (when they are needed) without adding packages. */
  constraints?: Requirement[];
  reporter?: Reporter;
  /** Provider calls in flight at once; default 16. */
  concurrency?: number;
  /**
   * Conflicts between the same two packages after which the one whose versions keep failing
   * is decided first (see solver.ts); default 5.
   */
  conflictThreshold?: number;
}

export interface ResolvedPackage {
  /** Canonical (PEP 503) name. */
  name: string;
  version: Version;
  /** The extras asked of this package (normalized, sorted). */
  extras: string[];
  /** Named by a top-level requirement. */
  direct: boolean;
  /** The URL of a direct URL requirement. */
  url?: string;
  /** Canonical names of the packages it needs in this resolution (sorted). */
  dependencies: string[];
}

export interface Resolution {
  /** Sorted by name. */
  packages: ResolvedPackage[];
}
