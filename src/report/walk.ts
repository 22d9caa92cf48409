/**
 * Walk a tree the way `du` does: lstat every entry (symlinks are not followed and count their
 * own size), directories count their own size, and an inode with several links is counted at
 * the first path that reaches it only. The walk is depth-first in name order, so which link
 * counts is the same on every run.
 */
import { lstatSync, readdirSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { type Reporter, SlimenvError } from "../base/index.ts";

export type EntryType = "file" | "dir" | "symlink" | "other";

export interface TreeEntry {
  /** Path relative to the root with `/` separators; "" for the root itself. */
  rel: string;
  /** Absolute physical path (under the root's real path). */
  abs: string;
  name: string;
  type: EntryType;
  /** Index of the parent directory's entry; -1 for the root. */
  parent: number;
  /** st_size. */
  apparent: number;
  /** st_blocks × 512. */
  onDisk: number;
  /** st_blksize, for estimates of what a smaller file would occupy. */
  blockSize: number;
  /** False when an earlier path reached the same inode (a hardlink): its bytes count there. */
  counted: boolean;
}

export interface WalkResult {
  /** The real path of the root, the base of every `abs`. */
  root: string;
  /** Pre-order: a directory comes before everything under it. */
  entries: TreeEntry[];
}

/** Walk `root` (a directory or a single file; a symlink given as root is followed). */
export function walkTree(root: string, reporter?: Reporter): WalkResult {
  let real: string;
  try {
    real = realpathSync(root);
  } catch (cause) {
    throw new SlimenvError("IO_ERROR", `cannot measure ${root}: ${(cause as Error).message}`, {
      cause,
    });
  }
  const entries: TreeEntry[] = [];
  const seen = new Set<string>();
  const add = (abs: string, rel: string, name: string, parent: number, follow: boolean): number => {
    const st = follow ? statSync(abs, { bigint: true }) : lstatSync(abs, { bigint: true });
    const type: EntryType = st.isDirectory()
      ? "dir"
      : st.isFile()
        ? "file"
        : st.isSymbolicLink()
          ? "symlink"
          : "other";
    let counted = true;
    if (type !== "dir" && st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) counted = false;
      else seen.add(key);
    }
    entries.push({
      rel,
      abs,
      name,
      type,
      parent,
      apparent: Number(st.size),
      onDisk: Number(st.blocks) * 512,
      blockSize: Number(st.blksize) || 4096,
      counted,
    });
    return entries.length - 1;
  };
  const visit = (index: number): void => {
    const dir = entries[index] as TreeEntry;
    let names: string[];
    try {
      names = readdirSync(dir.abs);
    } catch (err) {
      reporter?.log(
        "warn",
        `cannot list ${dir.abs}: ${(err as Error).message}; its contents are not counted`,
      );
      return;
    }
    names.sort();
    for (const name of names) {
      const abs = path.join(dir.abs, name);
      let child: number;
      try {
        child = add(abs, dir.rel === "" ? name : `${dir.rel}/${name}`, name, index, false);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT") continue; // removed while we walked
        reporter?.log("warn", `cannot stat ${abs}: ${(err as Error).message}; not counted`);
        continue;
      }
      if ((entries[child] as TreeEntry).type === "dir") visit(child);
    }
  };
  try {
    add(real, "", path.basename(real), -1, true);
  } catch (cause) {
    throw new SlimenvError("IO_ERROR", `cannot measure ${root}: ${(cause as Error).message}`, {
      cause,
    });
  }
  if ((entries[0] as TreeEntry).type === "dir") visit(0);
  return { root: real, entries };
}
