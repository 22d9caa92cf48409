/**
 * Which versions of a package the solver may use. Decided once per package, from the user's
 * requirements and constraints only, so that every incompatibility stays true for the whole
 * resolution:
 *   - pre-releases: "allow" / "disallow"; by default a package's pre-releases are usable when
 *     a top-level requirement or constraint on it names a pre-release, or when no final
 *     release satisfies all of those (for a package only reached transitively: when it has
 *     no final release at all);
 *   - yanked: usable only when a top-level requirement or constraint pins it (== or ===);
 *   - Requires-Python must hold for the target's Python, and some file must be installable.
 */
import type { Requirement } from "../standards/requirement.ts";
import type { Version } from "../standards/version.ts";
import type { Cause } from "./incompatibility.ts";
import type { PrereleaseMode } from "./types.ts";
import { specifierText, type Universe, type UniverseEntry } from "./version-set.ts";

/** Whether the package's pre-releases are usable under `mode`. */
export function allowsPrereleases(
  mode: PrereleaseMode,
  universe: Universe,
  userSpecs: readonly Requirement[],
): boolean {
  if (mode === "allow") return true;
  if (mode === "disallow") return false;
  if (userSpecs.some((r) => r.specifier.prereleases === true)) return true;
  // If necessary: no final release satisfies what the user asked of this package.
  return !universe.entries.some(
    (e) =>
      !e.version.isPrerelease &&
      userSpecs.every((r) => r.specifier.contains(e.version, { prereleases: true })),
  );
}

/** A yanked version is usable only when the user pins it exactly (== or ===). */
export function yankAllowed(userSpecs: readonly Requirement[], version: Version): boolean {
  return userSpecs.some(
    (r) =>
      r.specifier.specifiers.some(
        (s) => s.operator === "===" || (s.operator === "==" && !s.version.endsWith(".*")),
      ) && r.specifier.contains(version, { prereleases: true }),
  );
}

/**
 * Why a version cannot be used (a key that groups neighbours failing for the same reason, and
 * the cause), or undefined when it can. A direct URL's version is always usable.
 */
export function unusableReason(
  e: UniverseEntry,
  pkg: { allowPre: boolean; userSpecs: readonly Requirement[] },
  prereleases: PrereleaseMode,
  pythonVersion: Version,
): { key: string; cause: Cause } | undefined {
  if (e.url !== undefined) return undefined;
  const c = e.candidate;
  if (e.version.isPrerelease && !pkg.allowPre) {
    const mode = prereleases === "disallow" ? "disallow" : "default";
    return { key: "pre", cause: { kind: "prerelease", mode } };
  }
  if (c.yanked && !yankAllowed(pkg.userSpecs, e.version)) {
    return { key: "yanked", cause: { kind: "yanked" } };
  }
  const rp = c.requiresPython;
  if (rp !== undefined && !rp.contains(pythonVersion, { prereleases: true })) {
    const spec = specifierText(rp);
    return { key: `python ${spec}`, cause: { kind: "requiresPython", spec } };
  }
  if (!c.installable) {
    const reason = c.unavailableReason ?? "no file of it can be installed on the target";
    return { key: `unavailable ${reason}`, cause: { kind: "unavailable", reason } };
  }
  return undefined;
}
