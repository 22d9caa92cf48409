/**
 * Crash-safe switching between environment contents.
 *
 * prefix and venv envs are generations: `DIR/.slimenv/gen-<n>/` holds the whole tree,
 * `DIR/.slimenv/current` is a relative symlink to `gen-<n>`, and the entries users see
 * (`DIR/bin`, `DIR/lib`…) are relative symlinks through `.slimenv/current/…`. A new
 * generation is built completely, then a temp symlink is renamed over `current` (atomic),
 * then old generations are removed. A kill at any point leaves `current` at a complete
 * generation; leftovers are removed by the next run ({@link recoverGenerations}).
 *
 * The target layout (flat) is swapped by renames: DIR.slimenv-new is built, DIR is renamed to
 * DIR.slimenv-old, DIR.slimenv-new to DIR, and the old tree removed. The one window — between
 * the two renames, DIR is missing — is repaired by {@link recoverTarget}: old back to DIR.
 */
import {
  closeSync,
  existsSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { mkdir, open, readdir, readlink, rename, rm, symlink, unlink } from "node:fs/promises";
import path from "node:path";
import { SlimenvError } from "../base/index.ts";

export const META_DIR = ".slimenv";
export const MANIFEST_NAME = "manifest.json";
const GEN_RE = /^gen-(\d+)$/;

/** The generation `current` points at, or undefined. */
export function currentGeneration(dir: string): number | undefined {
  let target: string;
  try {
    target = readlinkSync(path.join(dir, META_DIR, "current"));
  } catch {
    return undefined;
  }
  const m = GEN_RE.exec(target);
  return m === null ? undefined : Number(m[1]);
}

/**
 * Remove what an interrupted run left: generations other than the current one and temp
 * symlinks. Call with the env lock held.
 */
export function recoverGenerations(dir: string): void {
  const meta = path.join(dir, META_DIR);
  let names: string[];
  try {
    names = readdirSync(meta);
  } catch {
    return;
  }
  const current = currentGeneration(dir);
  for (const name of names) {
    const m = GEN_RE.exec(name);
    if ((m !== null && Number(m[1]) !== current) || name.startsWith("current.new-")) {
      rmSync(path.join(meta, name), { recursive: true, force: true });
    }
  }
}

/** Paths of the target layout's temp trees. */
export function targetSiblings(dir: string): { fresh: string; old: string; lock: string } {
  return {
    fresh: `${dir}.slimenv-new`,
    old: `${dir}.slimenv-old`,
    lock: `${dir}.slimenv-lock`,
  };
}

/**
 * Repair an interrupted target-layout swap: DIR missing and DIR.slimenv-old present → put
 * old back; DIR present → old and new are leftovers, removed. Returns what it did.
 */
export function recoverTarget(dir: string): "restored" | "cleaned" | "none" {
  const { fresh, old } = targetSiblings(dir);
  const hasDir = existsSync(dir);
  const hasOld = existsSync(old);
  const hasFresh = existsSync(fresh);
  if (!hasDir && hasOld) {
    renameSync(old, dir);
    if (hasFresh) rmSync(fresh, { recursive: true, force: true });
    return "restored";
  }
  if (hasOld || hasFresh) {
    if (hasOld) rmSync(old, { recursive: true, force: true });
    if (hasFresh) rmSync(fresh, { recursive: true, force: true });
    return "cleaned";
  }
  return "none";
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Take an exclusive lock file holding our pid; a lock left by a dead process is taken over.
 * Waits up to `timeoutMs` for a live holder. Returns the release function.
 */
export async function acquireLock(lockPath: string, timeoutMs = 120_000): Promise<() => void> {
  const start = Date.now();
  for (;;) {
    try {
      const fd = openSync(lockPath, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          unlinkSync(lockPath);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new SlimenvError(
          "IO_ERROR",
          `cannot create lock ${lockPath}: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
    }
    let holder = Number.NaN;
    try {
      holder = Number.parseInt(readFileSync(lockPath, "utf8"), 10);
    } catch {
      continue; // released meanwhile
    }
    if (!Number.isInteger(holder) || !pidAlive(holder) || holder === process.pid) {
      rmSync(lockPath, { force: true });
      continue;
    }
    if (Date.now() - start > timeoutMs) {
      throw new SlimenvError(
        "ENV_BUSY",
        `another slimenv process (pid ${holder}) is changing the environment (lock ${lockPath})`,
        { hint: "wait for it to finish, or remove the lock file if that process is gone" },
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** fsync a file or directory. */
export async function fsyncPath(p: string): Promise<void> {
  const fh = await open(p, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Make `DIR/<name>` → `.slimenv/current/<name>` for every top-level entry of a generation
 * (dangling until the switch is harmless). Throws when DIR holds something else there.
 */
export async function ensureTopLinks(dir: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const link = path.join(dir, name);
    const want = path.posix.join(META_DIR, "current", name);
    let existing: string | undefined;
    try {
      const st = lstatSync(link);
      if (!st.isSymbolicLink()) {
        throw new SlimenvError(
          "INVALID_ENV",
          `${link} is in the way: slimenv links it into the environment's current generation`,
          { hint: "move it out of the environment directory" },
        );
      }
      existing = await readlink(link);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    if (existing === want) continue;
    if (existing !== undefined) await unlink(link);
    await symlink(want, link);
  }
}

/** Remove top-level links into `current` whose entry the current generation no longer has. */
export async function pruneTopLinks(dir: string, keep: ReadonlySet<string>): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name === META_DIR || keep.has(name)) continue;
    const link = path.join(dir, name);
    const st = lstatSync(link);
    if (!st.isSymbolicLink()) continue;
    if ((await readlink(link)) === path.posix.join(META_DIR, "current", name)) await unlink(link);
  }
}

/** Point `current` at `gen-<n>` atomically (temp symlink renamed over it). */
export async function switchCurrent(dir: string, generation: number): Promise<void> {
  const meta = path.join(dir, META_DIR);
  const tmp = path.join(meta, `current.new-${process.pid}`);
  await rm(tmp, { force: true });
  await symlink(`gen-${generation}`, tmp);
  await rename(tmp, path.join(meta, "current"));
  await fsyncPath(meta);
}

/** Remove every generation but `keep`. */
export async function removeOldGenerations(dir: string, keep: number): Promise<void> {
  const meta = path.join(dir, META_DIR);
  for (const name of await readdir(meta)) {
    const m = GEN_RE.exec(name);
    if (m !== null && Number(m[1]) !== keep) {
      await rm(path.join(meta, name), { recursive: true, force: true });
    }
  }
}

/** The manifest link `DIR/.slimenv/manifest.json` → `current/manifest.json`, made once. */
export async function ensureManifestLink(dir: string): Promise<void> {
  const link = path.join(dir, META_DIR, MANIFEST_NAME);
  const want = path.posix.join("current", MANIFEST_NAME);
  try {
    if ((await readlink(link)) === want) return;
    await unlink(link);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EINVAL") await rm(link, { recursive: true, force: true });
    else if (code !== "ENOENT") throw err;
  }
  await symlink(want, link);
}

export async function ensureDir(p: string): Promise<void> {
  await mkdir(p, { recursive: true });
}
