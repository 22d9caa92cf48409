/** What an install or sync changed in an environment, package by package. */
import { Version } from "../standards/version.ts";
import type { EnvManifest } from "./types.ts";

export interface PackageVersion {
  name: string;
  version: string;
}

export interface PackageChange {
  name: string;
  from: string;
  to: string;
}

export interface EnvChanges {
  added: PackageVersion[];
  removed: PackageVersion[];
  upgraded: PackageChange[];
  downgraded: PackageChange[];
  /** Same version, another wheel (another build or platform tag). */
  reinstalled: PackageVersion[];
  /** Packages left as they were. */
  unchanged: number;
}

function compare(a: string, b: string): number {
  try {
    return new Version(a).compare(new Version(b));
  } catch {
    return a < b ? -1 : a > b ? 1 : 0;
  }
}

/** The difference between two manifests (`before` undefined: a new environment). */
export function envChanges(before: EnvManifest | undefined, after: EnvManifest): EnvChanges {
  const old = new Map((before?.packages ?? []).map((p) => [p.name, p]));
  const changes: EnvChanges = {
    added: [],
    removed: [],
    upgraded: [],
    downgraded: [],
    reinstalled: [],
    unchanged: 0,
  };
  for (const pkg of after.packages) {
    const prev = old.get(pkg.name);
    old.delete(pkg.name);
    if (prev === undefined) changes.added.push({ name: pkg.name, version: pkg.version });
    else if (prev.version !== pkg.version) {
      const change = { name: pkg.name, from: prev.version, to: pkg.version };
      if (compare(pkg.version, prev.version) > 0) changes.upgraded.push(change);
      else changes.downgraded.push(change);
    } else if (prev.wheel !== pkg.wheel) {
      changes.reinstalled.push({ name: pkg.name, version: pkg.version });
    } else changes.unchanged++;
  }
  for (const prev of old.values()) changes.removed.push({ name: prev.name, version: prev.version });
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : 1);
  for (const list of [changes.added, changes.removed, changes.upgraded, changes.downgraded]) {
    list.sort(byName);
  }
  changes.reinstalled.sort(byName);
  return changes;
}

/** True when nothing but unchanged packages. */
export function isUnchanged(changes: EnvChanges): boolean {
  return (
    changes.added.length +
      changes.removed.length +
      changes.upgraded.length +
      changes.downgraded.length +
      changes.reinstalled.length ===
    0
  );
}
