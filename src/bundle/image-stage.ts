/**
 * The tree an image is built from, laid out in a fresh folder exactly as a bundle's manifest
 * describes it: every file copied (never linked: its mode is set, and an env's files may be
 * store objects) and checked against its sha256 and size, mode 0644 or 0755, every folder
 * 0755, the symlinks, and one timestamp on everything. The image tools then see nothing of
 * the machine: not the env's link mode, its owners, its umask or when it was built.
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  closeSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { type Reporter, SlimenvError } from "../base/index.ts";
import type { TreeFile } from "./from-env.ts";
import type { SymlinkEntry } from "./types.ts";

/** The files (with where their bytes are) and symlinks of an app tree, as a bundle has them. */
export interface ImageTree {
  files: readonly TreeFile[];
  symlinks: readonly SymlinkEntry[];
}

function treeError(message: string): SlimenvError {
  return new SlimenvError("INVALID_ENV", message, {
    hint: "rebuild the environment with slimenv install, then build the image again",
  });
}

function checkPath(p: string): void {
  const segments = p.split("/");
  if (
    p === "" ||
    p.startsWith("/") ||
    p.includes("\\") ||
    p.includes("\0") ||
    segments.some((s) => s === "" || s === "." || s === "..")
  ) {
    throw treeError(`${JSON.stringify(p)} is not a relative path inside the tree`);
  }
}

/**
 * Refuse a tree a device would refuse (docs/fleet.md, `files` and `symlinks`): bad paths,
 * a path twice, an entry under a file or symlink, a symlink leaving the tree (lexically).
 */
export function checkImageTree(tree: ImageTree): void {
  const leaves = new Set<string>();
  for (const e of [...tree.files, ...tree.symlinks]) {
    checkPath(e.path);
    if (leaves.has(e.path)) throw treeError(`${e.path} is in the tree twice`);
    leaves.add(e.path);
  }
  for (const p of leaves) {
    const segments = p.split("/");
    for (let i = 1; i < segments.length; i++) {
      const parent = segments.slice(0, i).join("/");
      if (leaves.has(parent)) throw treeError(`${p} lies under the file or symlink ${parent}`);
    }
  }
  for (const l of tree.symlinks) {
    const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(l.path), l.target));
    if (l.target.startsWith("/") || resolved === ".." || resolved.startsWith("../")) {
      throw treeError(`${l.path} is a symlink to ${l.target}, outside the tree`);
    }
  }
}

/**
 * Lay `tree` out under `root` (created; its parent must exist) with every timestamp at
 * `time` (seconds). Returns the bytes of the files. Throws INVALID_ENV when a file's bytes
 * are not the ones the tree names (the env changed since it was read).
 */
export function stageTree(tree: ImageTree, root: string, time: number, reporter: Reporter): number {
  checkImageTree(tree);
  const folders = new Set<string>([root]);
  mkdirSync(root, { mode: 0o755 });
  const folder = (rel: string) => {
    const dir = path.join(root, path.posix.dirname(rel));
    if (!folders.has(dir)) {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      for (let d = dir; d !== root && !folders.has(d); d = path.dirname(d)) folders.add(d);
    }
    return path.join(root, rel);
  };
  const task = reporter.task("staging the image tree", tree.files.length, "files");
  let bytes = 0;
  for (const f of tree.files) {
    const data = readFileSync(f.abs);
    const sha = createHash("sha256").update(data).digest("hex");
    if (data.length !== f.size || sha !== f.sha256) {
      throw treeError(`${f.path} changed since the env was read (sha256 ${sha})`);
    }
    const dest = folder(f.path);
    const fd = openSync(dest, "wx", 0o600);
    try {
      let done = 0;
      while (done < data.length) done += writeSync(fd, data, done, data.length - done);
    } finally {
      closeSync(fd);
    }
    chmodSync(dest, f.mode);
    utimesSync(dest, time, time);
    bytes += data.length;
    task.advance(1);
  }
  task.done();
  for (const l of tree.symlinks) {
    const dest = folder(l.path);
    symlinkSync(l.target, dest);
    lutimesSync(dest, time, time);
  }
  // Deepest first, so setting a folder's time is not undone by touching its children.
  for (const dir of [...folders].sort((a, b) => b.length - a.length)) {
    chmodSync(dir, 0o755);
    utimesSync(dir, time, time);
  }
  return bytes;
}
