/**
 * `store verify [--repair]`: re-hash every object and check its mode; compare objects/ with
 * the index (missing objects, orphans, stray files, rows without objects). Repair restores a
 * damaged or missing object from its executable/plain twin (same bytes), from a copy in a
 * registered env, or by downloading the wheel again from the URL it was fetched from; a
 * wrong mode is reset. Objects are replaced by rename, so a file an env hard-linked keeps
 * the changed bytes: the report says so, and the env needs a re-install (sync).
 */
import { lstatSync, readFileSync, rmSync } from "node:fs";
import { chmod, copyFile } from "node:fs/promises";
import path from "node:path";
import { readZipLocalHeader, zipEntryChunks } from "../archive/zip-local.ts";
import { openFileSource, readZipDirectory } from "../archive/zip-read.ts";
import { isSlimenvError, silentReporter } from "../base/index.ts";
import type { HttpClient } from "../index/http.ts";
import type { StoreCore } from "./core.ts";
import { listEnvs } from "./envs.ts";
import { withDownloadedWheel } from "./fetch.ts";
import { isObjectHash, objectFile, tempName } from "./layout.ts";
import { hashFile, objectMode, replaceObject, writeHashed } from "./objects.ts";
import { deleteOrphans, findOrphans } from "./prune.ts";
import { writeTransaction } from "./schema.ts";
import { objectFiles } from "./status.ts";
import type { VerifyProblem, VerifyReport } from "./types.ts";

export interface VerifyOptions {
  repair?: boolean;
  /** Needed to repair by downloading again. */
  client?: HttpClient;
}

const key = (hash: string, exec: boolean) => `${hash}:${exec ? 1 : 0}`;

interface Known {
  hash: string;
  exec: boolean;
  size: number;
  inIndex: boolean;
  referenced: boolean;
  /** A derived object (a cached transform output) no wheel uses: repaired by forgetting it. */
  derivedOnly?: boolean;
}

function loadKnown(core: StoreCore): Map<string, Known> {
  const known = new Map<string, Known>();
  for (const r of core.db.prepare("SELECT hash, exec, size FROM objects").all() as unknown as {
    hash: string;
    exec: number;
    size: number;
  }[]) {
    known.set(key(r.hash, r.exec !== 0), {
      hash: r.hash,
      exec: r.exec !== 0,
      size: r.size,
      inIndex: true,
      referenced: false,
    });
  }
  for (const r of core.db
    .prepare("SELECT DISTINCT hash, exec, size FROM wheel_files")
    .all() as unknown as { hash: string; exec: number; size: number }[]) {
    const k = key(r.hash, r.exec !== 0);
    const entry = known.get(k);
    if (entry !== undefined) entry.referenced = true;
    else {
      known.set(k, {
        hash: r.hash,
        exec: r.exec !== 0,
        size: r.size,
        inIndex: false,
        referenced: true,
      });
    }
  }
  for (const r of core.db
    .prepare("SELECT DISTINCT out_hash, out_exec FROM derived")
    .all() as unknown as { out_hash: string; out_exec: number }[]) {
    const entry = known.get(key(r.out_hash, r.out_exec !== 0));
    if (entry !== undefined && !entry.referenced) entry.derivedOnly = true;
  }
  return known;
}

export async function verifyStore(
  core: StoreCore,
  options: VerifyOptions,
  orphanGraceMs: number,
): Promise<VerifyReport> {
  const repair = options.repair === true;
  const known = loadKnown(core);
  const problems: VerifyProblem[] = [];
  const seen = new Set<string>();
  let objects = 0;
  let bytes = 0;
  let orphans = 0;
  for (const [file, name, shard] of objectFiles(core.paths.objects)) {
    const m = /^([0-9a-f]{62})(\.x)?$/.exec(name);
    const hash = m === null ? "" : `${shard}${m[1]}`;
    if (m === null || !isObjectHash(hash)) {
      problems.push({ kind: "stray", path: file, detail: "not an object name", repaired: false });
      continue;
    }
    const exec = m[2] !== undefined;
    const k = key(hash, exec);
    const info = known.get(k);
    if (info === undefined) {
      orphans++;
      continue;
    }
    seen.add(k);
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(file);
    } catch {
      continue;
    }
    const base = { path: file, hash, exec, repaired: false } as const;
    if (!st.isFile()) {
      problems.push({ ...base, kind: "modified", detail: "is not a regular file" });
      continue;
    }
    objects++;
    const { sha256, size } = await hashFile(file);
    bytes += size;
    if (sha256 !== hash) {
      problems.push({
        ...base,
        kind: "modified",
        detail: `its bytes hash to ${sha256} (${size} bytes): changed in place, maybe through a hard link`,
      });
    } else if ((st.mode & 0o7777) !== objectMode(exec)) {
      problems.push({
        ...base,
        kind: "mode",
        detail: `mode is ${(st.mode & 0o7777).toString(8)}, should be ${objectMode(exec).toString(8)}`,
      });
    }
  }
  for (const [k, info] of known) {
    if (seen.has(k)) continue;
    const file = objectFile(core.paths, info.hash, info.exec);
    if (info.referenced) {
      problems.push({
        kind: "missing",
        path: file,
        hash: info.hash,
        exec: info.exec,
        detail: "a stored wheel uses it, but the file is gone",
        repaired: false,
      });
    } else {
      problems.push({
        kind: "index",
        path: file,
        hash: info.hash,
        exec: info.exec,
        detail:
          info.derivedOnly === true
            ? "a derived object (cached transform output) is gone; repair forgets the cache entry"
            : "the index lists it, but no file exists (and no wheel uses it)",
        repaired: false,
      });
    }
  }
  for (const info of known.values()) {
    if (info.referenced && !info.inIndex && seen.has(key(info.hash, info.exec))) {
      problems.push({
        kind: "index",
        path: objectFile(core.paths, info.hash, info.exec),
        hash: info.hash,
        exec: info.exec,
        detail: "a wheel uses it, but the index has no row for it",
        repaired: false,
      });
    }
  }
  let orphansRemoved = 0;
  if (repair) {
    await repairAll(core, problems, known, options.client);
    orphansRemoved = deleteOrphans(core, findOrphans(core, orphanGraceMs)).count;
    orphans -= orphansRemoved;
  }
  return {
    objects,
    bytes,
    problems,
    orphans,
    orphansRemoved,
    ok: problems.every((p) => p.repaired),
  };
}

async function repairAll(
  core: StoreCore,
  problems: VerifyProblem[],
  known: Map<string, Known>,
  client: HttpClient | undefined,
): Promise<void> {
  const needContent: VerifyProblem[] = [];
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
        known.get(key(p.hash, p.exec))?.derivedOnly === true &&
        (p.kind === "index" || p.kind === "modified")
      ) {
        forgetDerivedObject(core, p);
      } else if (p.kind === "index" && p.hash !== undefined && p.exec !== undefined) {
        repairIndexRow(core, p, known.get(key(p.hash, p.exec)));
      } else if (p.kind === "modified" || p.kind === "missing") {
        if (!(await fromTwin(core, p)) && !(await fromEnvCopy(core, p))) needContent.push(p);
      }
    } catch (err) {
      p.unrepairedReason = isSlimenvError(err) ? err.message : String(err);
    }
  }
  if (needContent.length > 0) await fromDownload(core, needContent, client);
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
  if (p.kind === "modified") {
    p.detail +=
      "; env files hard-linked to the old object keep the changed bytes (re-install them)";
  }
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

function repairIndexRow(core: StoreCore, p: VerifyProblem, info: Known | undefined): void {
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
