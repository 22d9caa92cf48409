/**
 * Per-wheel trees for link mode `pth`: trees/<wheel sha256>/ holds the wheel's files as
 * hard links to their objects, built in a temp folder and renamed into place, so a tree
 * either exists complete or not at all. Where an object has too many links (EMLINK) the
 * file is copied (and made read-only) instead.
 */
import { existsSync, renameSync, rmSync } from "node:fs";
import { chmod, copyFile, link, mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { type StoreCore, touchWheels } from "./core.ts";
import { objectMode } from "./objects.ts";
import { objectFile, tempName } from "./paths.ts";
import type { StoredWheel } from "./types.ts";

export function treePath(core: StoreCore, sha256: string): string {
  return path.join(core.paths.trees, sha256);
}

export async function wheelTree(core: StoreCore, wheel: StoredWheel): Promise<string> {
  const target = treePath(core, wheel.sha256);
  touchWheels(core, [wheel.sha256]);
  if (existsSync(target)) return target;
  const temp = tempName(core.paths, ".tree");
  try {
    for (const file of wheel.files) {
      const dest = path.join(temp, ...file.path.split("/"));
      await mkdir(path.dirname(dest), { recursive: true });
      const source = objectFile(core.paths, file.hash, file.exec);
      try {
        await link(source, dest);
      } catch (err) {
        if ((err as { code?: string }).code !== "EMLINK") throw err;
        await copyFile(source, dest);
        await chmod(dest, objectMode(file.exec));
      }
    }
    await mkdir(temp, { recursive: true });
    try {
      await rename(temp, target);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if ((code !== "EEXIST" && code !== "ENOTEMPTY") || !existsSync(target)) throw err;
    }
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  return target;
}

/** Remove a wheel's tree (rename aside first, so no half tree is ever seen). */
export function removeTree(core: StoreCore, sha256: string): boolean {
  const target = treePath(core, sha256);
  if (!existsSync(target)) return false;
  const aside = tempName(core.paths, ".old-tree");
  try {
    renameSync(target, aside);
  } catch {
    return false;
  }
  rmSync(aside, { recursive: true, force: true });
  return true;
}
