/**
 * Where things live in a store directory, and the temp area: every temp name starts with
 * the pid of the process that made it, so a later process can tell which ones a dead
 * process left behind.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { cacheDir } from "../base/index.ts";

/** The layout version: a folder name under `$SLIMENV_HOME/store/`. */
export const LAYOUT_VERSION = "v1";

/** Temp entries of a live process are removed after this long anyway (pid reuse, other hosts). */
export const STALE_TEMP_MS = 24 * 60 * 60 * 1000;
/** Temp entries younger than this are never removed (a process may be starting). */
export const FRESH_TEMP_MS = 60 * 1000;

export interface StorePaths {
  root: string;
  objects: string;
  tmp: string;
  trees: string;
  db: string;
}

/** The store root: `root` when given, else `$SLIMENV_HOME/store/v1` (XDG cache dir). */
export function storeRoot(root: string | undefined, env: NodeJS.ProcessEnv): string {
  if (root !== undefined) return path.resolve(root);
  return path.join(cacheDir("store", env), LAYOUT_VERSION);
}

export function storePaths(root: string): StorePaths {
  return {
    root,
    objects: path.join(root, "objects"),
    tmp: path.join(root, "tmp"),
    trees: path.join(root, "trees"),
    db: path.join(root, "index.sqlite"),
  };
}

export function makeLayout(paths: StorePaths): void {
  for (const dir of [paths.root, paths.objects, paths.tmp, paths.trees]) {
    mkdirSync(dir, { recursive: true });
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

export function isObjectHash(hash: string): boolean {
  return HEX64.test(hash);
}

/** `objects/<h[0:2]>/<h[2:]>`, with `.x` for the executable object. */
export function objectFile(paths: StorePaths, hash: string, exec: boolean): string {
  // plain concatenation: `objects` is absolute and normalized, a hash has no "/" or "."
  return `${paths.objects}${path.sep}${hash.slice(0, 2)}${path.sep}${hash.slice(2)}${exec ? ".x" : ""}`;
}

/** A short tag of this host, so pids are only judged on the host that made them. */
const HOST_TAG = createHash("sha256").update(hostname()).digest("hex").slice(0, 8);

/** A fresh temp path under tmp/: `<pid>-<host>-<random><suffix>`. */
export function tempName(paths: StorePaths, suffix = ""): string {
  return path.join(
    paths.tmp,
    `${process.pid}-${HOST_TAG}-${randomBytes(8).toString("hex")}${suffix}`,
  );
}

export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM";
  }
}

/**
 * Remove temp entries left by dead processes of this host, entries of unknown form older
 * than {@link FRESH_TEMP_MS}, and any entry older than {@link STALE_TEMP_MS} (another host's,
 * or a pid reused). Returns how many were removed.
 */
export function cleanTemp(paths: StorePaths, now = Date.now()): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(paths.tmp);
  } catch {
    return 0;
  }
  for (const name of names) {
    const full = path.join(paths.tmp, name);
    let age: number;
    try {
      age = now - statSync(full).mtimeMs;
    } catch {
      continue;
    }
    const m = /^(\d+)-([0-9a-f]{8})-/.exec(name);
    const ours = m !== null && m[2] === HOST_TAG;
    const stale =
      age > STALE_TEMP_MS || (ours ? !pidAlive(Number(m[1])) : m === null && age > FRESH_TEMP_MS);
    if (stale) {
      try {
        rmSync(full, { recursive: true, force: true });
        removed++;
      } catch {
        // another process is removing it too
      }
    }
  }
  return removed;
}
