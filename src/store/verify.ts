/**
 * `store verify [--repair]`: re-hash every object and check its mode; compare objects/ with
 * the index (missing objects, orphans, stray files, rows without objects). Repair restores a
 * damaged or missing object from its executable/plain twin (same bytes), from a copy in a
 * registered env, or by downloading the wheel again from the URL it was fetched from; a
 * wrong mode is reset (repair.ts). Objects are replaced by rename, and every env file that
 * was a hard link to an edited object is re-linked to the restored one.
 */
import { lstatSync } from "node:fs";
import type { HttpClient } from "../index/http.ts";
import type { StoreCore } from "./core.ts";
import { loadKnown, objectKey } from "./known-objects.ts";
import { hashFile, objectMode } from "./objects.ts";
import { isObjectHash, objectFile } from "./paths.ts";
import { deleteOrphans, findOrphans } from "./prune.ts";
import { repairAll } from "./repair.ts";
import { objectFiles } from "./status.ts";
import type { VerifyProblem, VerifyReport } from "./types.ts";

export interface VerifyOptions {
  repair?: boolean;
  /** Needed to repair by downloading again. */
  client?: HttpClient;
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
    const k = objectKey(hash, exec);
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
    if (info.referenced && !info.inIndex && seen.has(objectKey(info.hash, info.exec))) {
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
