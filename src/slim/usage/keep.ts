/**
 * Usage-based pruning (the `used` input of a policy): every site file of a package that the
 * traced command never touched is dropped, except what is always kept — the .dist-info (its
 * RECORD is written anew for what remains), `.pth` files, the `__init__` files of every
 * package on the way to a touched file, files outside the site dir (console-script launchers,
 * data, headers), and what the `slim-keep` globs name.
 */
import path from "node:path";
import { compileGlob } from "../drop/glob.ts";

export interface UsageKeep {
  /** Whether the file at this rule path stays. */
  keeps(rulePath: string): boolean;
}

/** The keep test for a set of used rule paths and the policy's keep globs. */
export function usageKeep(used: readonly string[], keepGlobs: readonly string[]): UsageKeep {
  const kept = new Set<string>();
  for (const rel of used) {
    kept.add(rel);
    // Package __init__ files (and their caches) on the way to every touched file.
    let dir = path.posix.dirname(rel);
    while (dir !== "." && dir !== "") {
      kept.add(`${dir}/__init__.py`);
      kept.add(`${dir}/__init__.pyc`);
      dir = path.posix.dirname(dir);
    }
  }
  const globs = keepGlobs.map((g) => compileGlob(g));
  return {
    keeps(rulePath) {
      if (kept.has(rulePath)) return true;
      const top = rulePath.split("/", 1)[0] ?? "";
      if (top.endsWith(".dist-info") || top.endsWith(".egg-info")) return true;
      if (!rulePath.includes("/") && rulePath.endsWith(".pth")) return true;
      return globs.some((g) => g.test(rulePath));
    },
  };
}
