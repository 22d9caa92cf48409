/**
 * Which distribution owns each file: every `*.dist-info/RECORD` in the tree (paths relative to
 * the directory holding the `.dist-info`, so `../../../bin/tool` reaches the scripts dir;
 * absolute paths as written), and the legacy `*.egg-info/installed-files.txt` (paths relative
 * to the `.egg-info` directory). Files inside a `.dist-info`/`.egg-info` directory belong to
 * its distribution even when the RECORD omits them. When two RECORDs list the same file, the
 * distribution found first (shallowest, then by path) keeps it. `.dist-info` directories under
 * a test directory (fixtures of a test suite), and those another distribution's RECORD lists
 * (vendored copies, e.g. `setuptools/_vendor/*.dist-info`), are not distributions.
 */
import { readFileSync, realpathSync } from "node:fs";
import path from "node:path";
import type { Reporter } from "../base/index.ts";
import { parseRecord } from "../standards/record.ts";
import type { TreeEntry } from "./walk.ts";

export interface FoundDistribution {
  name: string;
  version: string;
  /** The metadata directory, relative to the root. */
  metadataDir: string;
}

export interface Ownership {
  distributions: FoundDistribution[];
  /** Per entry index: the owning distribution's index, or -1. */
  owner: Int32Array;
}

const TEST_DIR = /^(tests?|testsuite|.+_tests?)$/i;

/** Find distributions and assign every entry (directories included) an owner. */
export function assignOwners(entries: readonly TreeEntry[], reporter?: Reporter): Ownership {
  const byAbs = new Map<string, number>();
  entries.forEach((e, i) => {
    byAbs.set(e.abs, i);
  });
  const candidates = entries
    .map((e, i) => ({ e, i }))
    .filter(({ e }) => /\.(dist-info|egg-info)$/i.test(e.name) && e.parent >= 0)
    .filter(({ e }) => {
      const dirs = e.rel.split("/").slice(0, -1);
      return !dirs.some((d) => TEST_DIR.test(d) || /\.(dist-info|egg-info)$/i.test(d));
    })
    .sort(
      (a, b) =>
        depth(a.e.rel) - depth(b.e.rel) || (a.e.rel < b.e.rel ? -1 : a.e.rel > b.e.rel ? 1 : 0),
    );

  const owner = new Int32Array(entries.length).fill(-1);
  const distributions: FoundDistribution[] = [];
  const claim = (index: number | undefined, dist: number) => {
    if (index !== undefined && owner[index] === -1 && entries[index]?.type !== "dir")
      owner[index] = dist;
  };
  const lookup = (abs: string): number | undefined => {
    const direct = byAbs.get(abs);
    if (direct !== undefined) return direct;
    try {
      return byAbs.get(realpathSync(abs));
    } catch {
      return undefined;
    }
  };

  const vendored = (dir: TreeEntry, index: number): boolean => {
    for (let j = index + 1; j < entries.length && isUnder(entries[j] as TreeEntry, dir); j++) {
      if (owner[j] !== -1) return true;
    }
    return false;
  };

  for (const { e, i } of candidates) {
    const dist = distributions.length;
    if (e.type === "dir") {
      const isDistInfo = /\.dist-info$/i.test(e.name);
      // A metadata directory another distribution's RECORD lists is vendored inside it
      // (setuptools/_vendor/*.dist-info): part of that distribution, not one of its own.
      if (vendored(e, i)) continue;
      const meta = readText(path.join(e.abs, isDistInfo ? "METADATA" : "PKG-INFO"));
      const listed = isDistInfo ? recordPaths(e, reporter) : installedFiles(e);
      if (meta === undefined && listed === undefined) continue;
      distributions.push({ ...nameAndVersion(e.name, meta), metadataDir: e.rel });
      const base = isDistInfo ? path.dirname(e.abs) : e.abs;
      for (const p of listed ?? []) claim(lookup(path.resolve(base, p)), dist);
      // Everything in the metadata directory is the distribution's own.
      for (let j = i + 1; j < entries.length && isUnder(entries[j] as TreeEntry, e); j++)
        claim(j, dist);
    } else if (e.type === "file" && /\.egg-info$/i.test(e.name)) {
      distributions.push({ ...nameAndVersion(e.name, readText(e.abs)), metadataDir: e.rel });
      claim(i, dist);
    }
  }

  // A directory belongs to a distribution when everything under it does (and it is not empty).
  const state = new Int32Array(entries.length).fill(-2); // -2: no child seen yet
  for (let j = entries.length - 1; j >= 1; j--) {
    const e = entries[j] as TreeEntry;
    if (e.type === "dir") owner[j] = (state[j] as number) >= 0 ? (state[j] as number) : -1;
    const p = e.parent;
    const mine = owner[j] as number;
    const before = state[p] as number;
    state[p] = before === -2 ? mine : before === mine ? mine : -1;
  }
  const root = entries[0];
  if (root?.type === "dir") owner[0] = (state[0] as number) >= 0 ? (state[0] as number) : -1;
  return { distributions, owner };
}

function depth(rel: string): number {
  return rel.split("/").length;
}

function isUnder(entry: TreeEntry, dir: TreeEntry): boolean {
  return entry.rel.startsWith(`${dir.rel}/`);
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function recordPaths(distInfo: TreeEntry, reporter?: Reporter): string[] | undefined {
  const file = path.join(distInfo.abs, "RECORD");
  const text = readText(file);
  if (text === undefined) return undefined;
  try {
    return parseRecord(text, { kind: "installed" }).map((r) => r.path);
  } catch (err) {
    reporter?.log("warn", `${file}: ${(err as Error).message}; reading its paths leniently`);
    // Take the first CSV field of each line, unquoted: enough to know which files it lists.
    return text
      .split(/\r?\n/)
      .filter((l) => l.trim() !== "")
      .map((l) =>
        l.startsWith('"')
          ? (/^"((?:[^"]|"")*)"/.exec(l)?.[1] ?? "").replace(/""/g, '"')
          : (l.split(",")[0] ?? ""),
      );
  }
}

function installedFiles(eggInfo: TreeEntry): string[] | undefined {
  const text = readText(path.join(eggInfo.abs, "installed-files.txt"));
  if (text === undefined) return undefined;
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

/** Name and Version from core-metadata headers; else from the `name-version.dist-info` name. */
function nameAndVersion(
  dirName: string,
  meta: string | undefined,
): { name: string; version: string } {
  const stem = dirName.replace(/\.(dist-info|egg-info)$/i, "");
  const dash = stem.indexOf("-");
  let name = dash > 0 ? stem.slice(0, dash) : stem;
  let version = dash > 0 ? (stem.slice(dash + 1).split("-")[0] ?? "") : "";
  if (meta !== undefined) {
    for (const line of meta.split(/\r?\n/)) {
      if (line === "") break;
      const m = /^(Name|Version):\s*(.*?)\s*$/i.exec(line);
      if (m?.[1]?.toLowerCase() === "name" && m[2]) name = m[2];
      if (m?.[1]?.toLowerCase() === "version" && m[2]) version = m[2];
    }
  }
  return { name, version };
}
