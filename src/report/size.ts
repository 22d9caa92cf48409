/**
 * `slimenv size`: measure a tree (env, venv, site-packages, stdlib or any directory) as `du`
 * does, split it by distribution and by kind, and estimate what each slimming policy saves.
 * Totals equal `du -s -B1` (on disk) and `du -s --apparent-size -B1` to the byte; the
 * distributions plus the unowned part add up to the total exactly, and so do the kinds.
 */
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import path from "node:path";
import { isSlimenvError, type Reporter } from "../base/index.ts";
import { elfDebugBytes, fdReader, parseElf, readElfDynamic } from "../elf/index.ts";
import { readEnvManifest } from "../env/manifest.ts";
import { classifyPath, nativeMagic } from "./kinds.ts";
import { assignOwners } from "./ownership.ts";
import { detectLayout } from "./path-kind.ts";
import { blocksFor, type ClassifiedEntry, estimateSavings } from "./savings.ts";
import {
  type DistributionSize,
  type SizeFigures,
  type SizeKind,
  type SizeReport,
  type SystemLibrary,
  zeroByKind,
  zeroFigures,
} from "./types.ts";
import { type TreeEntry, walkTree } from "./walk.ts";

export interface SizeOptions {
  reporter?: Reporter;
}

/** Measure `target`. Throws IO_ERROR when it cannot be read at all. */
export function sizeReport(target: string, options: SizeOptions = {}): SizeReport {
  const reporter = options.reporter;
  const { root, entries } = walkTree(target, reporter);
  const packages = new Set<string>();
  for (const e of entries) {
    if (e.type === "file" && e.name === "__init__.py" && e.parent >= 0) {
      packages.add((entries[e.parent] as TreeEntry).rel);
    }
  }
  const { distributions, owner } = assignOwners(entries, reporter);
  const items: ClassifiedEntry[] = [];
  const needed = new Map<string, string[]>();
  const provided = new Set<string>();
  for (const entry of entries) {
    const facts = classifyPath(entry.rel, entry.type, (d) => packages.has(d));
    let kind: SizeKind;
    let debugApparent = 0;
    let debugOnDisk = 0;
    if (facts.kind !== "native-candidate") kind = facts.kind;
    else if (!entry.counted)
      kind = "data"; // its bytes count at another link
    else {
      const native = probeNative(entry, reporter);
      if (native === undefined) kind = "data";
      else {
        kind = "native-code";
        if (native.elf) linkFacts(entry, needed, provided);
        debugApparent = native.debug;
        if (debugApparent > 0) {
          const code = Math.min(
            entry.onDisk,
            blocksFor(entry.apparent - debugApparent, entry.blockSize),
          );
          debugOnDisk = entry.onDisk - code;
        }
      }
    }
    items.push({ entry, facts, kind, debugApparent, debugOnDisk });
  }

  const total = zeroFigures();
  const byKind = zeroByKind();
  const dists: DistributionSize[] = distributions.map((d) => ({
    name: d.name,
    version: d.version,
    total: zeroFigures(),
    byKind: zeroByKind(),
  }));
  const unowned = { total: zeroFigures(), byKind: zeroByKind() };
  items.forEach((item, i) => {
    const e = item.entry;
    if (!e.counted) return;
    const o = owner[i] as number;
    const holder = o >= 0 ? (dists[o] as DistributionSize) : unowned;
    const files = e.type === "dir" ? 0 : 1;
    const dA = item.debugApparent;
    const dD = item.debugOnDisk;
    for (const [figs, kinds] of [
      [total, byKind],
      [holder.total, holder.byKind],
    ] as const) {
      add(figs, e.apparent, e.onDisk, files);
      add(kinds[item.kind], e.apparent - dA, e.onDisk - dD, files);
      if (dA > 0 || dD > 0) add(kinds["native-debug"], dA, dD, 0);
    }
  });
  dists.sort(
    (a, b) => b.total.onDisk - a.total.onDisk || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const { layout, python } = detectLayout(root);
  const systemLibraries: SystemLibrary[] = [...needed.entries()]
    .filter(([name]) => !provided.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, by]) => ({ name, neededBy: by.slice(0, 5), count: by.length }));
  const manifest = safeManifest(path.resolve(target));
  const built = manifest?.built?.map((b) => ({
    name: b.name,
    version: b.version,
    flags: b.flags,
    ...(b.useSystemLibs === true ? { useSystemLibs: true } : {}),
    ...settingList(b.packageSettings, b.configSettings),
  }));
  return {
    version: 1,
    path: path.resolve(target),
    layout,
    ...(python === undefined ? {} : { python }),
    total,
    byKind,
    distributions: dists,
    unowned,
    savings: estimateSavings(items),
    systemLibraries,
    ...(built === undefined || built.length === 0 ? {} : { built }),
  };
}

function safeManifest(dir: string) {
  try {
    return readEnvManifest(dir);
  } catch {
    return undefined;
  }
}

/** Record what an ELF file needs (DT_NEEDED) and what it provides (its name, its soname). */
function linkFacts(entry: TreeEntry, needed: Map<string, string[]>, provided: Set<string>): void {
  provided.add(entry.name);
  let dynamic: ReturnType<typeof readElfDynamic>;
  try {
    dynamic = readElfDynamic(readFileSync(entry.abs));
  } catch {
    return;
  }
  if (dynamic === undefined) return;
  if (dynamic.soname !== undefined) provided.add(dynamic.soname);
  for (const lib of dynamic.needed) {
    const list = needed.get(lib) ?? [];
    list.push(entry.rel);
    needed.set(lib, list);
  }
}

function add(f: SizeFigures, apparent: number, onDisk: number, files: number): void {
  f.apparent += apparent;
  f.onDisk += onDisk;
  f.files += files;
}

/** Native code by magic; for ELF, the bytes of its debug sections. */
function probeNative(
  entry: TreeEntry,
  reporter?: Reporter,
): { debug: number; elf: boolean } | undefined {
  if (entry.type !== "file" || entry.apparent < 4) return undefined;
  let fd: number;
  try {
    fd = openSync(entry.abs, "r");
  } catch (err) {
    reporter?.log("warn", `cannot read ${entry.abs}: ${(err as Error).message}; counted as data`);
    return undefined;
  }
  try {
    const head = new Uint8Array(4);
    readSync(fd, head, 0, 4, 0);
    const magic = nativeMagic(head, entry.name);
    if (magic === undefined) return undefined;
    if (magic !== "elf") return { debug: 0, elf: false };
    try {
      return {
        debug: elfDebugBytes(parseElf(fdReader(fd), entry.apparent, entry.abs), entry.apparent),
        elf: true,
      };
    } catch (err) {
      if (!isSlimenvError(err)) throw err;
      reporter?.log("warn", `${err.message}; counted as native code without debug bytes`);
      return { debug: 0, elf: true };
    }
  } finally {
    closeSync(fd);
  }
}

type Settings = Record<string, string | string[]> | undefined;

/** `key=value` lines of the settings a built package got: slimenv's per package, then the user's. */
function settingList(...all: Settings[]): { settings?: string[] } {
  const out: string[] = [];
  for (const s of all) {
    for (const [k, v] of Object.entries(s ?? {})) {
      for (const one of Array.isArray(v) ? v : [v]) out.push(`${k}=${one}`);
    }
  }
  return out.length === 0 ? {} : { settings: out };
}
