/**
 * A bundle's app tree from a slimenv environment: the files, symlinks, target and interpreter
 * of a bundle manifest, read from the env's current generation.
 *
 *   prefix, venv  DIR/.slimenv/current → gen-N: the tree is gen-N (its `manifest.json` ships
 *                 as `.slimenv/manifest.json`, so the device tree reads as an env);
 *   target        DIR itself (flat; `.slimenv/manifest.json` is already in it).
 *
 * Hashes: a file the env manifest lists with the same size that is the very store object
 * (same inode: link mode hardlink, or clone/copy never) keeps the manifest's hash; every
 * other file is hashed. Python's runtime caches are left out: a `__pycache__/*.pyc` the env
 * manifest does not list was written by an interpreter that ran the env (timestamped, made
 * for that interpreter), not by the bytecode policy (reproducible .pyc, listed). Envs built
 * with link mode `pth` point outside themselves and are refused.
 */
import { createHash } from "node:crypto";
import { lstatSync, readFileSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { isSlimenvError, type Reporter, SlimenvError, silentReporter } from "../base/index.ts";
import { acquireLock, targetSiblings } from "../env/generations.ts";
import { readEnvManifest } from "../env/manifest.ts";
import type { EnvManifest, ManifestFile } from "../env/types.ts";
import { objectFile, storePaths } from "../store/paths.ts";
import { envTarget } from "./env-target.ts";
import type { BundleTarget, FileEntry, SymlinkEntry } from "./types.ts";

export const ENV_MANIFEST_PATH = ".slimenv/manifest.json";

/** A file of the tree and where its bytes are. */
export interface TreeFile extends FileEntry {
  abs: string;
}

export interface EnvTree {
  dir: string;
  /** The folder walked: the current generation, or DIR for the target layout. */
  root: string;
  manifest: EnvManifest;
  files: TreeFile[];
  symlinks: SymlinkEntry[];
  target: BundleTarget;
  interpreter: string;
  /** Runtime `__pycache__` files left out. */
  skipped: string[];
  /** Files hashed (the rest reused the env manifest's hash). */
  hashed: number;
}

export interface EnvTreeOptions {
  /** The slimenv store the env links into (hash reuse; symlink mode). */
  storeRoot?: string;
  reporter?: Reporter;
}

function envError(message: string, hint: string): SlimenvError {
  return new SlimenvError("INVALID_ENV", message, { hint });
}

/**
 * Hold the env's lock (the one install and sync take) while it is read, so a concurrent
 * install cannot switch generations under the walk. Returns the release function.
 */
export async function lockEnv(dir: string): Promise<() => void> {
  const abs = path.resolve(dir);
  const meta = path.join(abs, ".slimenv");
  let generations = false;
  try {
    generations = lstatSync(path.join(meta, "current")).isSymbolicLink();
  } catch {
    // the target layout, or not an env (readEnvTree says which)
  }
  try {
    return await acquireLock(generations ? path.join(meta, "lock") : targetSiblings(abs).lock);
  } catch (err) {
    if (isSlimenvError(err, "ENV_BUSY")) throw err;
    return () => {}; // a read-only place: nothing can install there either
  }
}

function treeRoot(dir: string, manifest: EnvManifest): string {
  if (manifest.layout === "target") return dir;
  try {
    return realpathSync(path.join(dir, ".slimenv", "current"));
  } catch (cause) {
    throw new SlimenvError("INVALID_ENV", `${dir} has no current generation`, {
      cause,
      hint: "rebuild the environment with slimenv install",
    });
  }
}

function hashFile(abs: string): string {
  return createHash("sha256").update(readFileSync(abs)).digest("hex");
}

/** Read the env at `dir` into a bundle's tree. Throws INVALID_ENV for what cannot ship. */
export async function readEnvTree(dir: string, options: EnvTreeOptions = {}): Promise<EnvTree> {
  const reporter = options.reporter ?? silentReporter;
  const abs = path.resolve(dir);
  const manifest = readEnvManifest(abs);
  if (manifest === undefined) {
    throw envError(`${dir} is not a slimenv environment`, "build it with slimenv install first");
  }
  if (manifest.linkMode === "pth") {
    throw envError(
      `${dir} was installed with --link-mode pth: its packages live in this machine's store`,
      "reinstall with --link-mode hardlink (or copy) to bundle it",
    );
  }
  const root = treeRoot(abs, manifest);
  const listed = new Map<string, ManifestFile>();
  for (const f of [...manifest.packages.flatMap((p) => p.files), ...manifest.envFiles]) {
    listed.set(f.path, f);
  }
  const store = options.storeRoot === undefined ? undefined : storePaths(options.storeRoot);
  let storeObjects: string | undefined;
  try {
    if (store !== undefined) storeObjects = realpathSync(store.objects) + path.sep;
  } catch {
    // no store there: symlinked files are refused below
  }
  const files: TreeFile[] = [];
  const symlinks: SymlinkEntry[] = [];
  const skipped: string[] = [];
  let hashed = 0;
  const task = reporter.task("reading the env", listed.size, "files");

  const addFile = (rel: string, file: string, fromLink: boolean) => {
    const st = statSync(file);
    const exec = (st.mode & 0o111) !== 0;
    const known = listed.get(rel);
    let sha: string | undefined;
    if (known !== undefined && known.size === st.size && store !== undefined) {
      try {
        const obj = statSync(objectFile(store, known.hash, known.exec));
        if (obj.ino === st.ino && obj.dev === st.dev) sha = known.hash;
      } catch {
        // not in the store: hash it
      }
    }
    if (sha === undefined) {
      sha = hashFile(file);
      hashed++;
    }
    if (fromLink && known === undefined) {
      throw envError(`${rel} links outside the environment`, "bundle an env built with copies");
    }
    files.push({ path: rel, sha256: sha, size: st.size, mode: exec ? 493 : 420, abs: file });
    task.advance(1);
  };

  const walk = async (folder: string, prefix: string): Promise<void> => {
    const names = (await readdir(folder)).sort();
    for (const name of names) {
      const full = path.join(folder, name);
      const rel = prefix === "" ? name : `${prefix}/${name}`;
      const st = lstatSync(full);
      if (st.isDirectory()) {
        await walk(full, rel);
      } else if (st.isFile()) {
        if (isRuntimeCache(rel) && !listed.has(rel)) skipped.push(rel);
        else addFile(rel, full, false);
      } else if (st.isSymbolicLink()) {
        const target = readlinkSync(full);
        if (!path.isAbsolute(target) && insideTree(rel, target)) {
          symlinks.push({ path: rel, target });
        } else if (storeObjects !== undefined && realpathSync(full).startsWith(storeObjects)) {
          addFile(rel, full, true); // link mode symlink: the store object's bytes
        } else {
          throw envError(
            `${rel} is a symlink to ${target}, outside the environment`,
            "bundle a prefix or target env (a venv links to its interpreter)",
          );
        }
      }
    }
  };
  await walk(root, "");
  task.done();

  if (manifest.layout !== "target") {
    const top = files.find((f) => f.path === "manifest.json");
    if (top !== undefined) top.path = ENV_MANIFEST_PATH;
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (skipped.length > 0) {
    reporter.log("info", `left out ${skipped.length} runtime __pycache__ file(s)`);
  }
  return {
    dir: abs,
    root,
    manifest,
    files,
    symlinks,
    target: envTarget(manifest),
    interpreter: manifest.interpreterCommand,
    skipped,
    hashed,
  };
}

function isRuntimeCache(rel: string): boolean {
  return /(^|\/)__pycache__\/[^/]+\.pyc$/.test(rel);
}

/** A relative link target that stays inside the tree once resolved from the link's folder. */
function insideTree(rel: string, target: string): boolean {
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(rel), target));
  return resolved !== ".." && !resolved.startsWith("../") && !resolved.startsWith("/");
}
