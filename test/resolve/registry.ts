/**
 * An in-memory package index for resolver tests, written as a compact table:
 *   { a: { "1.0": ["b>=1"], "2.0": { deps: ["b>=2"], requiresPython: ">=3.12" } } }
 * It counts calls and calls in flight, and can delay each answer.
 */
import { isSlimenvError } from "../../src/base/index.ts";
import { resolve } from "../../src/resolve/resolve.ts";
import type {
  Candidate,
  Dependencies,
  Resolution,
  ResolveOptions,
  ResolverProvider,
} from "../../src/resolve/types.ts";
import type { MarkerEnvironment } from "../../src/standards/markers.ts";
import { canonicalizeName } from "../../src/standards/names.ts";
import { Requirement } from "../../src/standards/requirement.ts";
import { SpecifierSet } from "../../src/standards/specifiers.ts";
import { Version } from "../../src/standards/version.ts";

export interface VersionEntry {
  deps?: string[];
  yanked?: boolean;
  /** Requires-Python the index lists for the files. */
  requiresPython?: string;
  /** Requires-Python in the metadata only (the index does not list it). */
  metadataRequiresPython?: string;
  installable?: boolean;
  reason?: string;
  /** The provider answers that this version cannot be used, for this reason. */
  unavailable?: string;
}

export type Registry = Record<string, Record<string, string[] | VersionEntry>>;

export interface UrlEntry {
  name: string;
  version: string;
  deps?: string[];
}

function entryOf(value: string[] | VersionEntry): VersionEntry {
  return Array.isArray(value) ? { deps: value } : value;
}

export class TableProvider implements ResolverProvider {
  readonly #table = new Map<string, Map<string, VersionEntry>>();
  readonly #urls: Record<string, UrlEntry>;
  readonly delayMs: number;
  inFlight = 0;
  maxInFlight = 0;
  /** Most calls in flight at once per kind ("candidates", "dependencies", "url"). */
  readonly maxInFlightOf = new Map<string, number>();
  readonly #inFlightOf = new Map<string, number>();
  readonly calls: string[] = [];

  constructor(
    registry: Registry,
    options: { delayMs?: number; urls?: Record<string, UrlEntry> } = {},
  ) {
    for (const [name, versions] of Object.entries(registry)) {
      this.#table.set(
        canonicalizeName(name),
        new Map(Object.entries(versions).map(([v, e]) => [v, entryOf(e)])),
      );
    }
    this.#urls = options.urls ?? {};
    this.delayMs = options.delayMs ?? 0;
  }

  async #answer<T>(label: string, value: () => T): Promise<T> {
    this.calls.push(label);
    const kind = label.split(" ")[0] as string;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const ofKind = (this.#inFlightOf.get(kind) ?? 0) + 1;
    this.#inFlightOf.set(kind, ofKind);
    this.maxInFlightOf.set(kind, Math.max(this.maxInFlightOf.get(kind) ?? 0, ofKind));
    try {
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      else await Promise.resolve();
      return value();
    } finally {
      this.inFlight--;
      this.#inFlightOf.set(kind, (this.#inFlightOf.get(kind) ?? 1) - 1);
    }
  }

  candidates(name: string): Promise<Candidate[]> {
    return this.#answer(`candidates ${name}`, () => {
      const versions = this.#table.get(canonicalizeName(name));
      if (versions === undefined) return [];
      return [...versions].map(([v, e]) => {
        const c: Candidate = {
          version: new Version(v),
          yanked: e.yanked ?? false,
          installable: e.installable ?? true,
        };
        if (e.requiresPython !== undefined) c.requiresPython = new SpecifierSet(e.requiresPython);
        if (e.reason !== undefined) c.unavailableReason = e.reason;
        return c;
      });
    });
  }

  dependencies(name: string, version: Version): Promise<Dependencies> {
    return this.#answer(`dependencies ${name} ${version}`, () => {
      const versions = this.#table.get(canonicalizeName(name));
      const found = [...(versions ?? [])].find(([v]) => new Version(v).equals(version));
      if (found === undefined) throw new Error(`no ${name} ${version} in the table`);
      const e = found[1];
      if (e.unavailable !== undefined) return { unavailable: e.unavailable };
      const rp = e.metadataRequiresPython ?? e.requiresPython;
      return {
        requires: (e.deps ?? []).map((d) => new Requirement(d)),
        ...(rp === undefined ? {} : { requiresPython: new SpecifierSet(rp) }),
      };
    });
  }

  directUrl(req: Requirement) {
    return this.#answer(`url ${req.url}`, () => {
      const found = this.#urls[req.url ?? ""];
      if (found === undefined) throw new Error(`no URL ${req.url}`);
      return {
        version: new Version(found.version),
        requires: (found.deps ?? []).map((d) => new Requirement(d)),
      };
    });
  }
}

export function environment(
  python = "3.12.4",
  overrides: Partial<MarkerEnvironment> = {},
): MarkerEnvironment {
  const [major, minor] = python.split(".");
  return {
    implementation_name: "cpython",
    implementation_version: python,
    os_name: "posix",
    platform_machine: "x86_64",
    platform_release: "6.1.0",
    platform_system: "Linux",
    platform_version: "#1 SMP",
    python_full_version: python,
    platform_python_implementation: "CPython",
    python_version: `${major}.${minor}`,
    sys_platform: "linux",
    ...overrides,
  };
}

export interface SolveOptions
  extends Partial<Omit<ResolveOptions, "provider" | "constraints" | "preferences">> {
  python?: string;
  constraints?: string[];
  preferences?: Record<string, string>;
  urls?: Record<string, UrlEntry>;
  provider?: ResolverProvider;
}

export function resolveTable(
  registry: Registry,
  requirements: string[],
  options: SolveOptions = {},
): Promise<Resolution> {
  const python = options.python ?? "3.12.4";
  const { python: _p, constraints, preferences, urls, provider, ...rest } = options;
  return resolve(
    requirements.map((r) => new Requirement(r)),
    {
      environment: options.environment ?? environment(python),
      pythonVersion: new Version(python),
      ...rest,
      provider: provider ?? new TableProvider(registry, urls === undefined ? {} : { urls }),
      constraints: (constraints ?? []).map((c) => new Requirement(c)),
      preferences: new Map(Object.entries(preferences ?? {}).map(([k, v]) => [k, new Version(v)])),
    },
  );
}

/** "a==1.0 b[x]==2.0" — every resolved package, sorted; with @url for URL packages. */
export function summary(resolution: Resolution): string {
  return resolution.packages
    .map((p) => {
      const extras = p.extras.length > 0 ? `[${p.extras.join(",")}]` : "";
      return p.url === undefined
        ? `${p.name}${extras}==${p.version}`
        : `${p.name}${extras} @ ${p.url}`;
    })
    .join(" ");
}

/**
 * The summary of a resolution, or "NO_SOLUTION:\n<explanation>" when there is none. Any other
 * error is rethrown.
 */
export async function outcome(
  registry: Registry,
  requirements: string[],
  options: SolveOptions = {},
): Promise<string> {
  try {
    return summary(await resolveTable(registry, requirements, options));
  } catch (err) {
    if (isSlimenvError(err, "NO_SOLUTION")) {
      if (err.message !== "no version of the requirements can be satisfied") {
        throw new Error(`unexpected message: ${err.message}`);
      }
      return `NO_SOLUTION:\n${err.detail}`;
    }
    throw err;
  }
}
