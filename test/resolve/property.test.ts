/**
 * Randomized check of the solver against brute force: for small random registries, a returned
 * resolution satisfies every requirement (checked here independently with SpecifierSet and
 * Marker), and NO_SOLUTION is thrown only when no combination of versions works.
 */
import { describe, expect, test } from "vitest";
import { isSlimenvError, RecordingReporter } from "../../src/base/index.ts";
import { Requirement } from "../../src/standards/requirement.ts";
import { SpecifierSet } from "../../src/standards/specifiers.ts";
import { Version } from "../../src/standards/version.ts";
import { Rng } from "../helpers/random.ts";
import { environment, type Registry, resolveTable, type VersionEntry } from "./registry.ts";

const PYTHON = "3.12.4";
const ENV = environment(PYTHON);
const NAMES = ["p0", "p1", "p2", "p3", "p4"];
const VERSIONS = ["1.0", "1.1", "2.0", "2.1"];
const SPECS = ["", ">=1.1", "<2", "==1.0", "!=1.1", ">=2", "~=1.0", "==2.*", ">1.0,<2.1"];
const MARKERS = ["", "", "", "; sys_platform == 'linux'", "; python_version < '3'"];

interface Shape {
  names: string[];
  versions: string[];
  specs: string[];
  /**
   * Neighbouring versions mostly share their package's dependencies (as real releases do),
   * and some are unavailable by the provider's answer.
   */
  shared?: boolean;
}

const SMALL: Shape = { names: NAMES, versions: VERSIONS, specs: SPECS };

/** Many versions per package, so that one decision can reject many versions of another. */
const DENSE: Shape = {
  names: ["p0", "p1", "p2", "p3"],
  versions: [
    "1.0",
    "1.1",
    "1.2",
    "1.3",
    "1.4",
    "1.5",
    "1.6",
    "1.7",
    "1.8",
    "1.9",
    "2.0",
    "2.1",
    "2.2",
    "2.3",
  ],
  specs: ["", "<2", ">=2", "<1.4", ">=1.4", "==1.*", "!=2.1", ">=1.2,<1.6"],
  shared: true,
};

function randomRegistry(rng: Rng, shape: Shape = SMALL): { registry: Registry; roots: string[] } {
  const { names: NAMES, versions: VERSIONS, specs: SPECS } = shape;
  const registry: Registry = {};
  const randomDeps = () => {
    const deps: string[] = [];
    const n = rng.int(3);
    for (let i = 0; i < n; i++) {
      deps.push(`${rng.pick(NAMES)}${rng.pick(SPECS)}${rng.pick(MARKERS)}`);
    }
    return deps;
  };
  for (const name of NAMES) {
    const versions: Record<string, VersionEntry> = {};
    const template = shape.shared === true ? randomDeps() : [];
    // Like boto3 and botocore: each version pins another package at the same version.
    const pinned = shape.shared === true && rng.chance(0.4) ? rng.pick(NAMES) : undefined;
    for (const v of VERSIONS) {
      if (!rng.chance(0.6)) continue;
      const deps = shape.shared === true && rng.chance(0.75) ? [...template] : randomDeps();
      if (pinned !== undefined && pinned !== name) deps.push(`${pinned}==${v}`);
      const entry: VersionEntry = { deps };
      if (shape.shared === true && rng.chance(0.05)) entry.unavailable = "cannot be read";
      if (rng.chance(0.1)) entry.yanked = true;
      if (rng.chance(0.1)) entry.requiresPython = ">=3.13";
      if (rng.chance(0.08)) {
        entry.installable = false;
        entry.reason = "no wheel for the target";
      }
      versions[v] = entry;
    }
    if (Object.keys(versions).length > 0 || rng.chance(0.5)) registry[name] = versions;
  }
  const roots: string[] = [];
  const count = 1 + rng.int(2);
  for (let i = 0; i < count; i++) roots.push(`${rng.pick(NAMES)}${rng.pick(SPECS)}`);
  return { registry, roots };
}

function entry(registry: Registry, name: string, version: string): VersionEntry | undefined {
  const value = registry[name]?.[version];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? { deps: value } : value;
}

function holds(req: Requirement): boolean {
  return req.marker === undefined || req.marker.evaluate({ ...ENV, extra: "" });
}

/** Whether a choice of versions (name → version, absent = not installed) is a valid answer. */
function valid(registry: Registry, roots: Requirement[], choice: Map<string, string>): boolean {
  const satisfied = (req: Requirement) => {
    const v = choice.get(req.name);
    return v !== undefined && req.specifier.contains(new Version(v), { prereleases: true });
  };
  if (!roots.every((r) => !holds(r) || satisfied(r))) return false;
  for (const [name, version] of choice) {
    const e = entry(registry, name, version);
    if (e === undefined) return false;
    if (e.installable === false || e.unavailable !== undefined) return false;
    if (e.requiresPython !== undefined && !new SpecifierSet(e.requiresPython).contains(PYTHON)) {
      return false;
    }
    if (e.yanked === true) {
      const pinned = roots.some(
        (r) =>
          r.name === name &&
          holds(r) &&
          r.specifier.specifiers.some((s) => s.operator === "==" && !s.version.endsWith(".*")) &&
          r.specifier.contains(new Version(version)),
      );
      if (!pinned) return false;
    }
    for (const d of (e.deps ?? []).map((t) => new Requirement(t))) {
      if (d.name === name) continue;
      if (holds(d) && !satisfied(d)) return false;
    }
  }
  return true;
}

function bruteForce(registry: Registry, roots: Requirement[]): boolean {
  const names = Object.keys(registry);
  const choice = new Map<string, string>();
  const search = (i: number): boolean => {
    if (i === names.length) return valid(registry, roots, choice);
    const name = names[i] as string;
    if (search(i + 1)) return true;
    for (const v of Object.keys(registry[name] ?? {})) {
      choice.set(name, v);
      if (search(i + 1)) return true;
      choice.delete(name);
    }
    return false;
  };
  return search(0);
}

async function check(
  shape: Shape,
  seeds: number,
  options: { reporter?: RecordingReporter; conflictThreshold?: number } = {},
): Promise<{ solved: number; unsolvable: number }> {
  let solved = 0;
  let unsolvable = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const rng = new Rng(seed);
    const { registry, roots } = randomRegistry(rng, shape);
    const reqs = roots.map((r) => new Requirement(r));
    const exists = bruteForce(registry, reqs);
    try {
      const resolution = await resolveTable(registry, roots, {
        python: PYTHON,
        ...options,
      });
      const choice = new Map(resolution.packages.map((p) => [p.name, p.version.toString()]));
      expect(valid(registry, reqs, choice), `seed ${seed}: invalid ${[...choice]}`).toBe(true);
      // Nothing unneeded: every package is a top-level one or a dependency of another.
      for (const p of resolution.packages) {
        const needed = p.direct || resolution.packages.some((q) => q.dependencies.includes(p.name));
        expect(needed, `seed ${seed}: ${p.name} not needed`).toBe(true);
      }
      solved++;
    } catch (err) {
      if (!isSlimenvError(err, "NO_SOLUTION")) throw err;
      expect(exists, `seed ${seed}: NO_SOLUTION but brute force found one\n${err.detail}`).toBe(
        false,
      );
      expect(err.detail ?? "").toMatch(/no solution exists\.$/);
      unsolvable++;
    }
  }
  return { solved, unsolvable };
}

describe("randomized resolution against brute force", () => {
  test("solutions are valid and NO_SOLUTION is only thrown when none exists", async () => {
    const { solved, unsolvable } = await check(SMALL, 1500);
    // The generator must exercise both outcomes.
    expect(solved).toBeGreaterThan(50);
    expect(unsolvable).toBeGreaterThan(20);
  });

  test.each([1, 2])(
    "the same with many versions per package, priorities changing after %i conflicts",
    async (conflictThreshold) => {
      const reporter = new RecordingReporter();
      const { solved, unsolvable } = await check(DENSE, 300, { reporter, conflictThreshold });
      expect(solved).toBeGreaterThan(50);
      expect(unsolvable).toBeGreaterThan(20);
      // Conflict tracking changed the order of decisions in some of these resolutions.
      const swaps = reporter.messages("debug").filter((m) => m.includes(" conflicted with "));
      expect(swaps.length).toBeGreaterThan(0);
    },
  );
});
