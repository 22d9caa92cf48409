/**
 * What the store's index says should be in objects/: every object row, every object a stored
 * wheel uses, and which are only derived (cached transform outputs). `store verify` compares
 * the files with it; repair decides by it.
 */
import type { StoreCore } from "./core.ts";

/** The key of an object in the maps below: its hash and whether it is the executable one. */
export const objectKey = (hash: string, exec: boolean) => `${hash}:${exec ? 1 : 0}`;

export interface KnownObject {
  hash: string;
  exec: boolean;
  size: number;
  inIndex: boolean;
  referenced: boolean;
  /** A derived object (a cached transform output) no wheel uses: repaired by forgetting it. */
  derivedOnly?: boolean;
}

export function loadKnown(core: StoreCore): Map<string, KnownObject> {
  const known = new Map<string, KnownObject>();
  for (const r of core.db.prepare("SELECT hash, exec, size FROM objects").all() as unknown as {
    hash: string;
    exec: number;
    size: number;
  }[]) {
    known.set(objectKey(r.hash, r.exec !== 0), {
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
    const k = objectKey(r.hash, r.exec !== 0);
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
    const entry = known.get(objectKey(r.out_hash, r.out_exec !== 0));
    if (entry !== undefined && !entry.referenced) entry.derivedOnly = true;
  }
  return known;
}
