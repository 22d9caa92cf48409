/**
 * The resolution problem as the solver sees it: package ids (a canonical name, or
 * "name[extra]" for the virtual package of an extra), each package's universe of versions,
 * the version sets of requirements, which versions cannot be used and why, and the
 * dependencies of one version. Also starts the background prefetch of candidates and
 * metadata as packages are discovered.
 *
 * Direct URLs: only top-level requirements and constraints may name one; it replaces the index
 * versions of that package. Which versions are usable (pre-releases, yanked, Requires-Python)
 * is version-policy.ts.
 */
import { SlimenvError } from "../base/index.ts";
import type { MarkerEnvironment } from "../standards/markers.ts";
import { canonicalizeName } from "../standards/names.ts";
import type { Requirement } from "../standards/requirement.ts";
import type { Version } from "../standards/version.ts";
import type { Fetcher } from "./fetcher.ts";
import { type Cause, Incompatibility, ROOT } from "./incompatibility.ts";
import { baseName, extraOf, requirementTargetIds } from "./package-ids.ts";
import type {
  Dependencies,
  PrereleaseMode,
  ResolutionStrategy,
  UnavailableVersion,
} from "./types.ts";
import { allowsPrereleases, unusableReason } from "./version-policy.ts";
import {
  bit,
  highestBit,
  lowestBit,
  specifierText,
  Universe,
  type UniverseEntry,
  type VersionSet,
} from "./version-set.ts";

export interface ProblemOptions {
  fetcher: Fetcher;
  environment: MarkerEnvironment;
  pythonVersion: Version;
  prereleases: PrereleaseMode;
  strategy: ResolutionStrategy;
  preferences: Map<string, Version>;
  upgrade: boolean | Set<string>;
}

/** A dependency edge of one version: the package id and its allowed versions. */
export interface DependencyTarget {
  id: string;
  set: VersionSet;
}

export type VersionDependencies =
  | { kind: "ok"; targets: DependencyTarget[] }
  | { kind: "requiresPython"; spec: string }
  | { kind: "unavailable"; reason: string };

/** The provider's answer says the version cannot be used. */
export function isUnavailable(deps: Dependencies): deps is UnavailableVersion {
  return "unavailable" in deps;
}

interface PackageState {
  universe: Universe;
  allowPre: boolean;
  /** Requirements and constraints of the user that name this package. */
  userSpecs: Requirement[];
}

export class Problem {
  readonly #o: ProblemOptions;
  readonly #rootRequirements: Requirement[];
  readonly #constraints: Requirement[];
  /** URL of each package pinned by a top-level requirement or constraint. */
  readonly #urls = new Map<string, Requirement>();
  readonly #packages = new Map<string, PackageState>();
  readonly #pending = new Map<string, Promise<PackageState>>();
  readonly #discoveryOrder = new Map<string, number>();
  readonly #prefetched = new Set<string>();
  readonly #direct = new Set<string>();
  /** External incompatibilities found while building universes (constraints). */
  readonly newIncompatibilities: Incompatibility[] = [];
  rootUniverse: Universe | undefined;

  constructor(requirements: Requirement[], constraints: Requirement[], options: ProblemOptions) {
    this.#o = options;
    this.#rootRequirements = requirements.filter((r) => this.#markerHolds(r, ""));
    this.#constraints = constraints.filter((r) => this.#markerHolds(r, ""));
    for (const r of this.#rootRequirements) this.#direct.add(canonicalizeName(r.name));
    for (const r of [...this.#rootRequirements, ...this.#constraints]) {
      if (r.url === undefined) continue;
      const name = canonicalizeName(r.name);
      const known = this.#urls.get(name);
      if (known !== undefined && known.url !== r.url) {
        throw new SlimenvError("NO_SOLUTION", "no version of the requirements can be satisfied", {
          detail: `${name} is required from two different URLs: ${known.url} and ${r.url}`,
        });
      }
      this.#urls.set(name, r);
    }
  }

  get rootRequirements(): readonly Requirement[] {
    return this.#rootRequirements;
  }

  isDirect(name: string): boolean {
    return this.#direct.has(name);
  }

  #markerHolds(r: Requirement, extra: string): boolean {
    return r.marker === undefined || r.marker.evaluate({ ...this.#o.environment, extra });
  }

  /** The universe of a package id whose universe was ensured (virtual ids share the base's). */
  universe(id: string): Universe {
    if (id === ROOT) {
      if (this.rootUniverse === undefined) throw new Error("internal: no root universe");
      return this.rootUniverse;
    }
    const state = this.#packages.get(baseName(id));
    if (state === undefined) throw new Error(`internal: universe of ${id} not loaded`);
    return state.universe;
  }

  /** Order in which the solver met the package (ties in the decision heuristic). */
  discoveryIndex(id: string): number {
    return this.#discoveryOrder.get(id) ?? Number.MAX_SAFE_INTEGER;
  }

  #noteDiscovered(id: string): void {
    if (!this.#discoveryOrder.has(id)) this.#discoveryOrder.set(id, this.#discoveryOrder.size);
  }

  /** Loads the universes of these package ids (in parallel), noting their discovery order. */
  async ensure(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.#noteDiscovered(id);
    const loads = ids.map((id) => this.#load(baseName(id)));
    for (const load of loads) await load;
  }

  #load(name: string): Promise<PackageState> {
    let pending = this.#pending.get(name);
    if (pending === undefined) {
      pending = this.#build(name);
      this.#pending.set(name, pending);
    }
    return pending;
  }

  async #build(name: string): Promise<PackageState> {
    const urlReq = this.#urls.get(name);
    let entries: UniverseEntry[];
    if (urlReq !== undefined && urlReq.url !== undefined) {
      const found = await this.#o.fetcher.directUrl(urlReq);
      entries = [
        {
          version: found.version,
          candidate: { version: found.version, yanked: false, installable: true },
          url: urlReq.url,
          urlRequires: found.requires,
        },
      ];
    } else {
      const candidates = await this.#o.fetcher.candidates(name);
      entries = candidates.map((candidate) => ({ version: candidate.version, candidate }));
    }
    const universe = new Universe(entries);
    const userSpecs = [...this.#rootRequirements, ...this.#constraints].filter(
      (r) => canonicalizeName(r.name) === name,
    );
    const state: PackageState = {
      universe,
      allowPre: allowsPrereleases(this.#o.prereleases, universe, userSpecs),
      userSpecs,
    };
    this.#packages.set(name, state);
    for (const c of this.#constraints) {
      if (canonicalizeName(c.name) !== name) continue;
      const allowed = this.setFor(c, universe);
      const forbidden = universe.full & ~allowed.bits;
      if (forbidden === 0n) continue;
      this.newIncompatibilities.push(
        new Incompatibility([{ pkg: name, positive: true, set: { bits: forbidden } }], {
          kind: "constraint",
          text: c.toString(),
        }),
      );
    }
    this.#prefetchFrom(name, state);
    return state;
  }

  /** The versions of the package (already loaded) a requirement allows, with its text. */
  setFor(req: Requirement, universe = this.universe(canonicalizeName(req.name))): VersionSet {
    const matching = universe.where(
      (e) =>
        (req.url === undefined || e.url === req.url) &&
        req.specifier.contains(e.version, { prereleases: true }),
    );
    // Nothing listed matches: the set is "versions that do not exist", not the empty set.
    const bits = matching === 0n ? universe.phantom : matching;
    let label: string | undefined = specifierText(req.specifier);
    if (req.url !== undefined) label = ` @ ${req.url}`;
    else if (label === "") label = undefined;
    return label === undefined ? { bits } : { bits, label };
  }

  /** The package ids a requirement points at: the package, or one virtual id per extra. */
  static targetIds(req: Requirement): string[] {
    return requirementTargetIds(req);
  }

  /**
   * Why version `index` of a real package cannot be used, with the run of neighbouring
   * versions that cannot be used for the same reason; undefined when it can be used.
   */
  unusable(name: string, index: number): { bits: bigint; cause: Cause } | undefined {
    const state = this.#packages.get(name);
    if (state === undefined) throw new Error(`internal: ${name} not loaded`);
    const key = this.#unusableKey(state, index);
    if (key === undefined) return undefined;
    let from = index;
    let to = index;
    while (from > 0 && this.#unusableKey(state, from - 1)?.key === key.key) from--;
    while (to < state.universe.size - 1 && this.#unusableKey(state, to + 1)?.key === key.key) to++;
    let bits = 0n;
    for (let i = from; i <= to; i++) bits |= bit(i);
    return { bits, cause: key.cause };
  }

  #unusableKey(state: PackageState, index: number): { key: string; cause: Cause } | undefined {
    const { prereleases, pythonVersion } = this.#o;
    return unusableReason(state.universe.entry(index), state, prereleases, pythonVersion);
  }

  /** The version index the strategy (and an existing lock) would pick within `bits`. */
  preferredIndex(name: string, bits: bigint, universe = this.universe(name)): number {
    const preferred = this.#preference(name);
    if (preferred !== undefined) {
      const i = universe.entries.findIndex((e) => e.version.equals(preferred));
      if (i >= 0 && (bits & bit(i)) !== 0n) return i;
    }
    const strategy = this.#o.strategy;
    const lowest =
      strategy === "lowest" || (strategy === "lowest-direct" && this.#direct.has(name));
    return lowest ? lowestBit(bits) : highestBit(bits);
  }

  #preference(name: string): Version | undefined {
    const up = this.#o.upgrade;
    if (up === true || (up instanceof Set && up.has(name))) return undefined;
    return this.#o.preferences.get(name);
  }

  /** Dependencies of one version of a package id (root, real or virtual). */
  async dependencies(id: string, index: number): Promise<VersionDependencies> {
    let reqs: Requirement[];
    if (id === ROOT) {
      reqs = [...this.#rootRequirements];
    } else {
      const name = baseName(id);
      const extra = extraOf(id);
      const entry = this.universe(name).entry(index);
      let all: readonly Requirement[];
      if (entry.urlRequires !== undefined) {
        all = entry.urlRequires;
      } else {
        const deps = await this.#o.fetcher.dependencies(name, entry.version);
        if (isUnavailable(deps)) return { kind: "unavailable", reason: deps.unavailable };
        const rp = deps.requiresPython;
        if (
          extra === undefined &&
          rp !== undefined &&
          !rp.contains(this.#o.pythonVersion, { prereleases: true })
        ) {
          return { kind: "requiresPython", spec: specifierText(rp) };
        }
        all = deps.requires;
      }
      reqs =
        extra === undefined
          ? all.filter((r) => this.#markerHolds(r, ""))
          : all.filter(
              (r) =>
                r.marker !== undefined && this.#markerHolds(r, extra) && !this.#markerHolds(r, ""),
            );
      reqs = reqs.filter((r) => {
        if (canonicalizeName(r.name) !== name) return true;
        const ids = Problem.targetIds(r);
        return !(r.extras.length === 0 || (extra !== undefined && ids.every((t) => t === id)));
      });
    }
    const ids = reqs.flatMap((r) => Problem.targetIds(r));
    await this.ensure(ids);
    const targets: DependencyTarget[] = [];
    if (id !== ROOT && extraOf(id) !== undefined) {
      const name = baseName(id);
      const v = this.universe(name).entry(index).version;
      targets.push({ id: name, set: { bits: bit(index), label: `==${v}` } });
    }
    for (const r of reqs) {
      const set = this.setFor(r);
      for (const t of Problem.targetIds(r)) targets.push({ id: t, set });
    }
    return { kind: "ok", targets };
  }

  /** Starts fetching, in the background, the metadata of the version likely to be chosen. */
  #prefetchFrom(name: string, state: PackageState): void {
    if (this.#prefetched.has(name)) return;
    this.#prefetched.add(name);
    const universe = state.universe;
    let plausible = 0n;
    universe.entries.forEach((e, i) => {
      if (e.url === undefined && this.#unusableKey(state, i) === undefined) plausible |= bit(i);
    });
    if (plausible === 0n) return;
    const version = universe.entry(this.preferredIndex(name, plausible, universe)).version;
    this.#o.fetcher
      .dependencies(name, version, false)
      .then((deps) => {
        if (isUnavailable(deps)) return;
        for (const r of deps.requires) {
          if (this.#markerHolds(r, "")) this.#discover(canonicalizeName(r.name));
        }
      })
      .catch(() => {});
  }

  /** A package seen in some metadata: fetch its candidates, then its likely metadata. */
  #discover(name: string): void {
    if (this.#pending.has(name) || this.#urls.has(name)) return;
    this.#o.fetcher
      .candidates(name, false)
      .then((candidates) => {
        if (this.#prefetched.has(name)) return;
        const universe = new Universe(
          candidates.map((candidate) => ({ version: candidate.version, candidate })),
        );
        const userSpecs: Requirement[] = [];
        this.#prefetchFrom(name, {
          universe,
          allowPre: allowsPrereleases(this.#o.prereleases, universe, userSpecs),
          userSpecs,
        });
      })
      .catch(() => {});
  }

  static rootUniverseFor(version: Version): Universe {
    return new Universe([{ version, candidate: { version, yanked: false, installable: true } }]);
  }
}
