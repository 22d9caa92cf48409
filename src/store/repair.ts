/**
 * `store verify --repair`: restore a damaged or missing object from its executable/plain twin
 * (same bytes), from a copy in a registered env, or from the wheel downloaded again from the
 * URL it was fetched from; reset a wrong mode; delete stray files; mend index rows; forget a
 * damaged derived object. Objects are replaced by rename; every env file (and pth-mode tree
 * file) that was a hard link to the edited inode is then re-linked to the restored object, so
 * an edit made through one env's link is undone in every env that shared it.
 */
import { lstatSync, readFileSync, rmSync } from "node:fs";
import { chmod, copyFile, link, rename } from "node:fs/promises";
import path from "node:path";
import { readZipLocalHeader, zipEntryChunks } from "../archive/zip-local.ts";
import { openFileSource, readZipDirectory } from "../archive/zip-read.ts";
import { siblingTempPath } from "../base/atomic-write.ts";
import { isSlimenvError, silentReporter } from "../base/index.ts";
import type { HttpClient } from "../index/http.ts";
import type { StoreCore } from "./core.ts";
import { withDownloadedWheel } from "./download.ts";
import { listEnvs } from "./envs.ts";
import { type KnownObject, objectKey } from "./known-objects.ts";
import { hashFile, objectMode, replaceObject, writeHashed } from "./objects.ts";
import { objectFile, tempName } from "./paths.ts";
import { writeTransaction } from "./schema.ts";
import type { VerifyProblem } from "./types.ts";

export async function repairAll(
  core: StoreCore,
  problems: VerifyProblem[],
  known: Map<string, KnownObject>,
  client: HttpClient | undefined,
): Promise<void> {
  const needContent: VerifyProblem[] = [];
  // The inode of each modified object: env files that link it share the edit.
  const edited = new Map<VerifyProblem, { dev: number; ino: number }>();
  for (const p of problems) {
    if (p.kind !== "modified") continue;
    try {
      const st = lstatSync(p.path);
      if (st.isFile()) edited.set(p, { dev: st.dev, ino: st.ino });
    } catch {
      // gone meanwhile: nothing links it any more
    }
  }
  for (const p of problems) {
    try {
      if (p.kind === "stray") {
        rmSync(p.path, { recursive: true, force: true });
        done(p, "delete");
      } else if (p.kind === "mode" && p.exec !== undefined) {
        await chmod(p.path, objectMode(p.exec));
        done(p, "chmod");
      } else if (
        p.hash !== undefined &&
        p.exec !== undefined &&
        known.get(objectKey(p.hash, p.exec))?.derivedOnly === true &&
        (p.kind === "index" || p.kind === "modified")
      ) {
        forgetDerivedObject(core, p);
      } else if (p.kind === "index" && p.hash !== undefined && p.exec !== undefined) {
        repairIndexRow(core, p, known.get(objectKey(p.hash, p.exec)));
      } else if (p.kind === "modified" || p.kind === "missing") {
        if (!(await fromTwin(core, p)) && !(await fromEnvCopy(core, p))) needContent.push(p);
      }
    } catch (err) {
      p.unrepairedReason = isSlimenvError(err) ? err.message : String(err);
    }
  }
  if (needContent.length > 0) await fromDownload(core, needContent, client);
  for (const [p, inode] of edited) {
    if (!p.repaired) continue;
    try {
      p.relinked = await relinkEditedCopies(core, p, inode);
      if (p.relinked.length > 0) {
        p.detail += `; ${p.relinked.length} env file(s) that linked the edited object now link the restored one`;
      }
    } catch (err) {
      p.detail += `; env files that linked the edited object may still hold the edit (${isSlimenvError(err) ? err.message : String(err)})`;
    }
  }
  for (const p of problems) {
    if (!p.repaired && p.unrepairedReason === undefined) {
      p.unrepairedReason =
        client === undefined
          ? "no other copy; re-downloading needs a network client"
          : "no other copy, and no wheel using it has a known download URL";
    }
  }
}

function done(p: VerifyProblem, by: string): void {
  p.repaired = true;
  p.repairedBy = by;
}

/**
 * Every file of a registered env (by its manifest) and of a pth-mode store tree that is still
 * a hard link to the edited inode is replaced by a link to the restored object (a link made
 * next to it and renamed over it): the edit stays nowhere. Files that are copies are left.
 */
async function relinkEditedCopies(
  core: StoreCore,
  p: VerifyProblem,
  inode: { dev: number; ino: number },
): Promise<string[]> {
  if (p.hash === undefined || p.exec === undefined) return [];
  const object = objectFile(core.paths, p.hash, p.exec);
  const candidates = new Set(envCopies(core, p.hash));
  const rows = core.db
    .prepare(
      `SELECT w.sha256, f.path FROM wheel_files f JOIN wheels w ON w.id = f.wheel_id
       WHERE f.hash = ? AND f.exec = ?`,
    )
    .all(p.hash, p.exec ? 1 : 0) as unknown as { sha256: string; path: string }[];
  for (const row of rows) {
    candidates.add(path.join(core.paths.trees, row.sha256, ...row.path.split("/")));
  }
  const relinked: string[] = [];
  for (const file of candidates) {
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(file);
    } catch {
      continue;
    }
    if (!st.isFile() || st.ino !== inode.ino || st.dev !== inode.dev) continue;
    const temp = siblingTempPath(file, "relink");
    try {
      await link(object, temp);
      await rename(temp, file);
      relinked.push(file);
    } finally {
      rmSync(temp, { force: true });
    }
  }
  return relinked.sort();
}

/** A damaged or missing derived object is a cache entry: drop it, it is made again on demand. */
function forgetDerivedObject(core: StoreCore, p: VerifyProblem): void {
  if (p.hash === undefined || p.exec === undefined) return;
  const { hash, exec } = p;
  writeTransaction(core.db, () => {
    core.db
      .prepare("DELETE FROM derived WHERE out_hash = ? AND out_exec = ?")
      .run(hash, exec ? 1 : 0);
    core.db.prepare("DELETE FROM objects WHERE hash = ? AND exec = ?").run(hash, exec ? 1 : 0);
    rmSync(objectFile(core.paths, hash, exec), { force: true });
  });
  done(p, "forget-derived");
}

function repairIndexRow(core: StoreCore, p: VerifyProblem, info: KnownObject | undefined): void {
  if (p.hash === undefined || p.exec === undefined || info === undefined) return;
  const { hash, exec } = p;
  writeTransaction(core.db, () => {
    if (info.inIndex) {
      core.db.prepare("DELETE FROM objects WHERE hash = ? AND exec = ?").run(hash, exec ? 1 : 0);
    } else {
      core.db
        .prepare("INSERT OR IGNORE INTO objects(hash, exec, size, added) VALUES (?, ?, ?, ?)")
        .run(hash, exec ? 1 : 0, info.size, core.now());
    }
  });
  done(p, "index");
}

/** Copy `source` into place as the object if its bytes hash right. */
async function restoreFrom(core: StoreCore, p: VerifyProblem, source: string): Promise<boolean> {
  if (p.hash === undefined || p.exec === undefined) return false;
  try {
    if (!lstatSync(source).isFile()) return false;
    if ((await hashFile(source)).sha256 !== p.hash) return false;
  } catch {
    return false;
  }
  const temp = tempName(core.paths, ".repair");
  try {
    await copyFile(source, temp);
    if ((await hashFile(temp)).sha256 !== p.hash) return false;
    await replaceObject(temp, objectFile(core.paths, p.hash, p.exec), p.exec);
    return true;
  } finally {
    rmSync(temp, { force: true });
  }
}

async function fromTwin(core: StoreCore, p: VerifyProblem): Promise<boolean> {
  if (p.hash === undefined || p.exec === undefined) return false;
  if (!(await restoreFrom(core, p, objectFile(core.paths, p.hash, !p.exec)))) return false;
  done(p, "twin");
  return true;
}

/** Files of registered envs with this hash, from their manifests (best effort). */
function envCopies(core: StoreCore, hash: string): string[] {
  const out: string[] = [];
  for (const env of listEnvs(core)) {
    let manifest: unknown;
    try {
      manifest = JSON.parse(readFileSync(env.manifest, "utf8"));
    } catch {
      continue;
    }
    const packages = (manifest as { packages?: unknown }).packages;
    if (!Array.isArray(packages)) continue;
    for (const pkg of packages) {
      const files = (pkg as { files?: unknown }).files;
      if (!Array.isArray(files)) continue;
      for (const f of files) {
        const { path: rel, hash: h } = f as { path?: unknown; hash?: unknown };
        if (h === hash && typeof rel === "string" && !path.isAbsolute(rel)) {
          out.push(path.join(env.path, rel));
        }
      }
    }
  }
  return out;
}

async function fromEnvCopy(core: StoreCore, p: VerifyProblem): Promise<boolean> {
  if (p.hash === undefined) return false;
  for (const candidate of envCopies(core, p.hash)) {
    if (await restoreFrom(core, p, candidate)) {
      done(p, "env-copy");
      return true;
    }
  }
  return false;
}

interface WheelSource {
  sha256: string;
  filename: string;
  url: string;
  path: string;
  hash: string;
  exec: number;
}

async function fromDownload(
  core: StoreCore,
  problems: VerifyProblem[],
  client: HttpClient | undefined,
): Promise<void> {
  if (client === undefined) return;
  const byWheel = new Map<
    string,
    { url: string; filename: string; items: [VerifyProblem, string][] }
  >();
  const find = core.db.prepare(
    `SELECT w.sha256, w.filename, w.url, f.path, f.hash, f.exec FROM wheel_files f
     JOIN wheels w ON w.id = f.wheel_id
     WHERE f.hash = ? AND f.exec = ? AND w.url IS NOT NULL ORDER BY w.last_used DESC LIMIT 1`,
  );
  for (const p of problems) {
    if (p.hash === undefined || p.exec === undefined) continue;
    const row = find.get(p.hash, p.exec ? 1 : 0) as WheelSource | undefined;
    if (row === undefined) continue;
    const group = byWheel.get(row.sha256) ?? { url: row.url, filename: row.filename, items: [] };
    group.items.push([p, row.path]);
    byWheel.set(row.sha256, group);
  }
  for (const [sha256, group] of byWheel) {
    const ref = { url: group.url, filename: group.filename, sha256 };
    let downloaded = false;
    try {
      await withDownloadedWheel(core.paths, client, ref, silentReporter, async (wheel) => {
        downloaded = true;
        await restoreFromWheel(core, group.filename, group.items, wheel.path);
      });
    } catch (err) {
      if (downloaded) throw err;
      for (const [p] of group.items) {
        p.unrepairedReason = `download failed: ${isSlimenvError(err) ? err.message : String(err)}`;
      }
    }
  }
}

/** Restore each problem's object from its entry of the (checked) wheel file at `wheelPath`. */
async function restoreFromWheel(
  core: StoreCore,
  filename: string,
  items: readonly [VerifyProblem, string][],
  wheelPath: string,
): Promise<void> {
  const source = await openFileSource(wheelPath);
  try {
    const directory = await readZipDirectory(source, filename);
    for (const [p, entryPath] of items) {
      const entry = directory.entries.find((e) => e.name === entryPath);
      if (entry === undefined || p.hash === undefined || p.exec === undefined) continue;
      const temp = tempName(core.paths, ".repair");
      try {
        const local = await readZipLocalHeader(source, entry, filename);
        const digests = await writeHashed(
          zipEntryChunks(source, entry, local.dataStart, filename),
          temp,
          "sha256",
        );
        if (digests.sha256 !== p.hash) {
          p.unrepairedReason = `${filename} no longer holds these bytes`;
          continue;
        }
        await replaceObject(temp, objectFile(core.paths, p.hash, p.exec), p.exec);
        done(p, "download");
      } catch (err) {
        p.unrepairedReason = isSlimenvError(err) ? err.message : String(err);
      } finally {
        rmSync(temp, { force: true });
      }
    }
  } finally {
    await source.close();
  }
}
