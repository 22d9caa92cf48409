/**
 * From a PEP 751 lock to the wheels an environment gets: checks that the lock is for the
 * environment's target (its `environments` markers, `requires-python` and slimenv's
 * `[tool.slimenv.target]`), drops packages whose marker is false for the target, and picks
 * per package the wheel the target prefers most (its tag order). Nothing is read or fetched.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isSlimenvError, SlimenvError } from "../base/index.ts";
import type { Target } from "../python/target.ts";
import { Marker } from "../standards/markers.ts";
import { canonicalizeName } from "../standards/names.ts";
import { fileNameOf } from "../standards/pylock-read.ts";
import type { Pylock, PylockPackage } from "../standards/pylock-types.ts";
import { SpecifierSet } from "../standards/specifiers.ts";
import { createTagRanker } from "../standards/tags.ts";
import { Version } from "../standards/version.ts";
import { parseWheelFilename } from "../standards/wheel-filename.ts";
import { HostileWheelError } from "../store/hostile.ts";
import type { WheelFacts } from "../store/wheel-import.ts";

/** One wheel to put into the environment, and where to get it. */
export interface WheelChoice {
  /** Canonical name. */
  name: string;
  version: string;
  filename: string;
  /** Hex sha256 (from the lock, or computed for a local wheel). */
  sha256?: string;
  /** http(s) URL to download it from. */
  url?: string;
  /** Absolute path of a local file. */
  path?: string;
  size?: number;
  /**
   * The package has no wheel for the target, only this sdist: the apply stage builds it
   * (src/build) and the built wheel takes the place of `filename`/`sha256`.
   */
  sdist?: { filename: string; sha256: string; url?: string; path?: string; size?: number };
}

export interface LockPlan {
  wheels: WheelChoice[];
  /** Canonical names of the packages no other package of the lock depends on. */
  roots: string[];
  /** Packages left out because their marker is false for the target. */
  skipped: string[];
}

/** "cp 3.11.7 (cp311) on manylinux_2_35_x86_64": the target in messages. */
export function describeTarget(target: Target): string {
  const platform =
    target.platforms.find((p) => /^(manylinux|musllinux)_\d/.test(p)) ?? target.platforms[0];
  return `${target.implementation} ${target.pythonVersion.join(".")} (${target.abis[0] ?? "none"}) on ${platform ?? target.arch}`;
}

const RELOCK_HINT =
  "lock again for this target (slimenv lock --python … or --python-version … --platform …), or install for the lock's target";

/** The extras and dependency groups a lock is installed with (PEP 751's marker sets). */
export interface LockSelection {
  extras: readonly string[];
  groups: readonly string[];
}

function markerHolds(
  text: string,
  target: Target,
  where: string,
  selection: LockSelection = { extras: [], groups: [] },
): boolean {
  try {
    return new Marker(text).evaluate({
      ...target.markerEnvironment,
      extra: "",
      extras: selection.extras,
      dependency_groups: selection.groups,
    });
  } catch (err) {
    if (isSlimenvError(err)) {
      throw new SlimenvError(
        "INVALID_PYLOCK",
        `${where}: marker ${JSON.stringify(text)}: ${err.message}`,
        {
          cause: err,
        },
      );
    }
    throw err;
  }
}

/** Throw INVALID_TARGET when the lock was made for another target than `target`. */
export function checkLockTarget(lock: Pylock, target: Target, file: string): void {
  const label = describeTarget(target);
  const envs = lock.environments ?? [];
  if (envs.length > 0 && !envs.some((m) => markerHolds(m, target, `${file}: environments`))) {
    throw new SlimenvError(
      "INVALID_TARGET",
      `${file} is not for this environment's target (${label}): no marker of its environments holds`,
      { detail: envs.map((m) => `environments: ${m}`).join("\n"), hint: RELOCK_HINT },
    );
  }
  const python = new Version(target.markerEnvironment.python_full_version);
  if (lock.requiresPython !== undefined) {
    const spec = new SpecifierSet(lock.requiresPython);
    if (!spec.contains(python, { prereleases: true })) {
      throw new SlimenvError(
        "INVALID_TARGET",
        `${file} requires Python ${lock.requiresPython}, and the target is ${label}`,
        { hint: RELOCK_HINT },
      );
    }
  }
  const slimenv = lock.tool?.slimenv as Record<string, unknown> | undefined;
  const table = slimenv?.target as Record<string, unknown> | undefined;
  if (table === undefined) return;
  const problems: string[] = [];
  const impl = typeof table.implementation === "string" ? table.implementation : undefined;
  if (impl !== undefined && impl !== target.implementation) {
    problems.push(`implementation ${impl}, not ${target.implementation}`);
  }
  const pv = typeof table["python-version"] === "string" ? table["python-version"] : undefined;
  if (pv !== undefined) {
    const [maj, min] = pv.replace(/t$/, "").split(".").map(Number);
    if (maj !== target.pythonVersion[0] || min !== target.pythonVersion[1]) {
      problems.push(`Python ${pv}, not ${target.pythonVersion.join(".")}`);
    }
  }
  const abi = typeof table.abi === "string" ? table.abi : undefined;
  if (abi !== undefined && abi !== "none" && target.abis.length > 0 && !target.abis.includes(abi)) {
    problems.push(`ABI ${abi}, not ${target.abis[0]}`);
  }
  const platform = typeof table.platform === "string" ? table.platform : undefined;
  if (platform !== undefined && !target.platforms.includes(platform.toLowerCase())) {
    problems.push(`platform ${platform}, which the target does not accept`);
  }
  if (problems.length > 0) {
    throw new SlimenvError(
      "INVALID_TARGET",
      `${file} was locked for another target: ${problems.join("; ")} (the environment's target is ${label})`,
      { hint: RELOCK_HINT },
    );
  }
}

interface Candidate {
  filename: string;
  url?: string;
  path?: string;
  size?: number;
  hashes: Record<string, string>;
}

function candidates(pkg: PylockPackage): Candidate[] {
  const out: Candidate[] = [];
  const add = (
    w: { url?: string; path?: string; size?: number; hashes: Record<string, string> },
    name?: string,
  ) => {
    const filename = name ?? fileNameOf(w.url ?? w.path ?? "");
    if (!filename.toLowerCase().endsWith(".whl")) return;
    out.push({
      filename,
      hashes: w.hashes,
      ...(w.url === undefined ? {} : { url: w.url }),
      ...(w.path === undefined ? {} : { path: w.path }),
      ...(w.size === undefined ? {} : { size: w.size }),
    });
  };
  for (const w of pkg.wheels ?? []) add(w, w.name);
  if (pkg.archive !== undefined) add(pkg.archive);
  return out;
}

function location(c: Candidate, lockDir: string, where: string): { url?: string; path?: string } {
  if (c.path !== undefined) return { path: path.resolve(lockDir, c.path) };
  const url = c.url ?? "";
  if (/^file:/i.test(url)) return { path: fileURLToPath(url) };
  if (/^https?:/i.test(url)) return { url };
  throw new SlimenvError("INVALID_PYLOCK", `${where}: ${c.filename} has no http(s) URL or path`);
}

/** A package with only an sdist: the choice the apply stage builds. */
function sdistChoice(
  pkg: PylockPackage,
  sdist: {
    name?: string;
    url?: string;
    path?: string;
    size?: number;
    hashes: Record<string, string>;
  },
  lockDir: string,
  where: string,
): WheelChoice {
  const filename = sdist.name ?? fileNameOf(sdist.url ?? sdist.path ?? "");
  const sha256 = sdist.hashes.sha256?.toLowerCase();
  if (sha256 === undefined || !/^[0-9a-f]{64}$/.test(sha256)) {
    throw new SlimenvError(
      "INVALID_PYLOCK",
      `${where}: the sdist ${filename} has no sha256 hash; slimenv builds only files it can verify by sha256`,
    );
  }
  const at = location({ ...sdist, filename }, lockDir, where);
  return {
    name: canonicalizeName(pkg.name),
    version: pkg.version ?? "",
    filename,
    sha256,
    sdist: {
      filename,
      sha256,
      ...at,
      ...(sdist.size === undefined ? {} : { size: sdist.size }),
    },
  };
}

/**
 * The extras and groups to install a lock with: the ones asked for, which the lock must declare
 * (its `extras` / `dependency-groups`: INVALID_OPTION naming what it has otherwise); no groups
 * asked: the lock's `default-groups`.
 */
export function lockSelection(
  lock: Pylock,
  file: string,
  asked: { extras?: readonly string[]; groups?: readonly string[] } = {},
): LockSelection {
  const check = (kind: string, flag: string, names: readonly string[], has: readonly string[]) => {
    const known = new Set(has.map((n) => canonicalizeName(n)));
    const missing = names.find((n) => !known.has(canonicalizeName(n)));
    if (missing === undefined) return names.map((n) => canonicalizeName(n));
    throw new SlimenvError(
      "INVALID_OPTION",
      `${flag} ${missing}: ${file} has no ${kind} ${JSON.stringify(missing)}`,
      {
        hint:
          has.length === 0
            ? `${file} declares no ${kind}s; lock it again with ${flag} ${missing} (slimenv lock ${flag} ${missing})`
            : `name one of ${has.join(", ")}`,
      },
    );
  };
  const extras = check("extra", "--extra", asked.extras ?? [], lock.extras ?? []);
  const groups =
    (asked.groups ?? []).length > 0
      ? check("dependency group", "--group", asked.groups ?? [], lock.dependencyGroups ?? [])
      : (lock.defaultGroups ?? []).map((n) => canonicalizeName(n));
  return { extras, groups };
}

/**
 * The wheels of `lock` for `target`, with the extras and dependency groups of `selection`
 * (default: none, and the lock's default groups). Throws INVALID_TARGET (wrong target, no
 * wheel fits; a package with only an sdist: a choice to build), BUILD_REQUIRED (a package with no
 * wheel and no sdist: a source tree), INVALID_PYLOCK.
 */
export function planFromLock(
  lock: Pylock,
  target: Target,
  file: string,
  selection: LockSelection = lockSelection(lock, file),
): LockPlan {
  checkLockTarget(lock, target, file);
  const lockDir = path.dirname(path.resolve(file));
  const rank = rankerFor(target);
  const python = new Version(target.markerEnvironment.python_full_version);
  const label = describeTarget(target);
  const wheels: WheelChoice[] = [];
  const skipped: string[] = [];
  const needed = new Set<string>();
  for (const [i, pkg] of lock.packages.entries()) {
    const where = `${file}: packages[${i}] (${pkg.name})`;
    if (pkg.marker !== undefined && !markerHolds(pkg.marker, target, where, selection)) {
      skipped.push(pkg.name);
      continue;
    }
    if (
      pkg.requiresPython !== undefined &&
      !new SpecifierSet(pkg.requiresPython).contains(python, { prereleases: true })
    ) {
      throw new SlimenvError(
        "INVALID_TARGET",
        `${pkg.name} ${pkg.version ?? ""} in ${file} requires Python ${pkg.requiresPython}; the target is ${label}`,
        { hint: RELOCK_HINT },
      );
    }
    for (const dep of pkg.dependencies ?? []) {
      if (typeof dep.name === "string") needed.add(canonicalizeName(dep.name));
    }
    const all = candidates(pkg);
    let best: { c: Candidate; r: number } | undefined;
    for (const c of all) {
      let tags: string[];
      try {
        tags = parseWheelFilename(c.filename).tags.map(String);
      } catch (cause) {
        throw new SlimenvError(
          "INVALID_PYLOCK",
          `${where}: ${c.filename} is not a wheel file name`,
          {
            cause,
          },
        );
      }
      const r = rank(tags);
      if (r !== undefined && (best === undefined || r < best.r)) best = { c, r };
    }
    if (best === undefined) {
      if (all.length > 0) {
        throw new SlimenvError(
          "INVALID_TARGET",
          `no wheel of ${pkg.name} ${pkg.version ?? ""} in ${file} fits the target ${label}`,
          { detail: all.map((c) => `has: ${c.filename}`).join("\n"), hint: RELOCK_HINT },
        );
      }
      const archive = pkg.archive;
      const archiveSdist =
        archive !== undefined && /\.tar\.gz$/i.test(fileNameOf(archive.url ?? archive.path ?? ""))
          ? archive
          : undefined;
      const source = pkg.sdist ?? archiveSdist;
      if (source !== undefined) {
        wheels.push(sdistChoice(pkg, source, lockDir, where));
        continue;
      }
      throw new SlimenvError(
        "BUILD_REQUIRED",
        `${pkg.name} ${pkg.version ?? ""} in ${file} has no wheel (a source tree); installing it needs a build`,
        { hint: "lock a wheel or an sdist of it instead" },
      );
    }
    const sha256 = best.c.hashes.sha256?.toLowerCase();
    if (sha256 === undefined || !/^[0-9a-f]{64}$/.test(sha256)) {
      throw new SlimenvError(
        "INVALID_PYLOCK",
        `${where}: ${best.c.filename} has no sha256 hash; slimenv installs only files it can verify by sha256`,
      );
    }
    const parsed = parseWheelFilename(best.c.filename);
    wheels.push({
      name: canonicalizeName(pkg.name),
      version: pkg.version ?? parsed.version.toString(),
      filename: best.c.filename,
      sha256,
      ...location(best.c, lockDir, where),
      ...(best.c.size === undefined ? {} : { size: best.c.size }),
    });
  }
  const roots = wheels.map((w) => w.name).filter((n) => !needed.has(n));
  return { wheels, roots, skipped };
}

/** One tag ranker per target's tag list (building one costs a map of ~1,000 tags). */
const rankers = new WeakMap<object, ReturnType<typeof createTagRanker>>();

function rankerFor(target: Target): ReturnType<typeof createTagRanker> {
  let rank = rankers.get(target.tags);
  if (rank === undefined) {
    rank = createTagRanker(target.tags);
    rankers.set(target.tags, rank);
  }
  return rank;
}

/** Throw INVALID_TARGET when a local wheel's tags do not fit the target. */
export function checkWheelFits(filename: string, target: Target): void {
  const tags = parseWheelFilename(filename).tags.map(String);
  if (rankerFor(target)(tags) === undefined) {
    throw new SlimenvError(
      "INVALID_TARGET",
      `${filename} does not fit the target ${describeTarget(target)}`,
      { hint: "choose the wheel built for this target, or another target with --python" },
    );
  }
}

/**
 * A wheel's WHEEL file must fit the target too: a filename that says `py3-none-any` over a
 * WHEEL file that says `cp311-cp311-manylinux…` is refused (rule `wheel-tags`) when the WHEEL
 * file's tags do not fit; that they merely differ is the store's warning.
 */
export function checkWheelFileFits(facts: WheelFacts, target: Target): void {
  if (facts.wheelTags.length === 0) return;
  if (rankerFor(target)(facts.wheelTags) === undefined) {
    throw new HostileWheelError(
      facts.filename,
      "wheel-tags",
      `its WHEEL file's tags (${facts.wheelTags.join(", ")}) do not fit the target ${describeTarget(target)}, though its filename's do`,
    );
  }
}
