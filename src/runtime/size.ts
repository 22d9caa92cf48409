/**
 * Size of a runtime copy as `du` counts it: every file, symlink and folder; apparent bytes
 * (st_size) and on-disk bytes (st_blocks × 512, hardlinked inodes once). Split into the
 * native part (the interpreter, shared libraries, lib-dynload) and the rest (the pure-Python
 * standard library: sources, bytecode, archives, data).
 */
import type { Dirent } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";

export interface SizeFigures {
  apparent: number;
  onDisk: number;
  files: number;
}

export interface RuntimeSize {
  total: SizeFigures;
  /** bin/, shared libraries, lib-dynload. */
  native: SizeFigures;
  /** Everything else: the pure-Python standard library and its data. */
  python: SizeFigures;
}

function empty(): SizeFigures {
  return { apparent: 0, onDisk: 0, files: 0 };
}

/** Measure `root`; `dynloadRel` is lib-dynload relative to root (`/`-separated). */
export async function measureRuntime(root: string, dynloadRel: string): Promise<RuntimeSize> {
  const size: RuntimeSize = { total: empty(), native: empty(), python: empty() };
  const seen = new Set<string>();
  const add = (rel: string, apparent: number, onDisk: number, isFile: boolean) => {
    const native =
      rel === "bin" ||
      rel.startsWith("bin/") ||
      rel === dynloadRel ||
      rel.startsWith(`${dynloadRel}/`) ||
      /(^|\/)lib[^/]*\.so(\.[0-9.]+)?$/.test(rel) ||
      /\.(a|o)$/.test(rel);
    for (const f of [size.total, native ? size.native : size.python]) {
      f.apparent += apparent;
      f.onDisk += onDisk;
      if (isFile) f.files += 1;
    }
  };
  const walk = async (rel: string): Promise<void> => {
    const dir = rel === "" ? root : path.join(root, rel);
    const entries: Dirent[] = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      const child = rel === "" ? e.name : `${rel}/${e.name}`;
      const st = await lstat(path.join(root, child), { bigint: true });
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1n && !st.isDirectory()) {
        if (seen.has(key)) continue;
        seen.add(key);
      }
      add(child, Number(st.size), Number(st.blocks) * 512, st.isFile());
      if (st.isDirectory()) await walk(child);
    }
  };
  const top = await lstat(root, { bigint: true });
  add("", Number(top.size), Number(top.blocks) * 512, false);
  await walk("");
  return size;
}
