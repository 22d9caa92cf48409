/**
 * Derived objects: the output of a transform (a compiled .pyc, a stripped library…) of a
 * source object, cached in the store under (source hash, exec, transform id) and stored as
 * an ordinary read-only object, so every env with the same policy shares it.
 *
 * Crash safety as for imports: the output is written to a temp file while hashed, linked
 * into objects/ (an existing object is kept), and only then one transaction records the
 * object and the derived row — after checking both the source and the output object still
 * exist, so prune never sees a row whose object is gone. A kill before that transaction
 * leaves an orphan object that prune and verify --repair remove after the grace period.
 * Derived rows live as long as their source object (prune drops them together).
 */
import { createReadStream } from "node:fs";
import { rm } from "node:fs/promises";
import { SlimenvError } from "../base/index.ts";
import { objectExists, type StoreCore } from "./core.ts";
import { promoteObject, writeHashed } from "./objects.ts";
import { objectFile, tempName } from "./paths.ts";
import { writeTransaction } from "./schema.ts";

/** A derived object: its hash and executable bit. */
export interface DerivedObject {
  hash: string;
  exec: boolean;
}

/** What a transform produces: the bytes, or the path of a file holding them (read, not moved). */
export type DerivedOutput = Uint8Array | { path: string };

const TRANSFORM_ID = /^[\x21-\x7e]{1,1000}$/;

function checkTransformId(id: string): void {
  if (!TRANSFORM_ID.test(id)) {
    throw new SlimenvError("INTERNAL", `transform id ${JSON.stringify(id)} is not usable`);
  }
}

/** The cached output of `transform` on the object (hash, exec), if known and present. */
export function lookupDerived(
  core: StoreCore,
  hash: string,
  exec: boolean,
  transform: string,
): DerivedObject | undefined {
  checkTransformId(transform);
  const row = core.db
    .prepare("SELECT out_hash, out_exec FROM derived WHERE hash = ? AND exec = ? AND transform = ?")
    .get(hash, exec ? 1 : 0, transform) as { out_hash: string; out_exec: number } | undefined;
  if (row === undefined) return undefined;
  const out = { hash: row.out_hash, exec: row.out_exec !== 0 };
  return objectExists(core, out.hash, out.exec) ? out : undefined;
}

async function* chunksOf(output: DerivedOutput): AsyncIterable<Uint8Array> {
  if (output instanceof Uint8Array) {
    yield output;
    return;
  }
  for await (const chunk of createReadStream(output.path, { highWaterMark: 1024 * 1024 })) {
    yield chunk as Buffer;
  }
}

/** Store `output` as the result of `transform` on (hash, exec); returns the derived object. */
export async function storeDerived(
  core: StoreCore,
  hash: string,
  exec: boolean,
  transform: string,
  output: DerivedOutput,
  outExec: boolean = exec,
): Promise<DerivedObject> {
  checkTransformId(transform);
  const temp = tempName(core.paths, ".derived");
  let digests: Awaited<ReturnType<typeof writeHashed>>;
  try {
    digests = await writeHashed(chunksOf(output), temp, "sha256", { fsync: core.fsync });
    promoteObject(temp, objectFile(core.paths, digests.sha256, outExec), outExec);
  } finally {
    await rm(temp, { force: true });
  }
  const out: DerivedObject = { hash: digests.sha256, exec: outExec };
  const ok = writeTransaction(core.db, () => {
    const source = core.db
      .prepare("SELECT 1 FROM objects WHERE hash = ? AND exec = ?")
      .get(hash, exec ? 1 : 0);
    if (source === undefined || !objectExists(core, out.hash, out.exec)) return false;
    const now = core.now();
    core.db
      .prepare("INSERT OR IGNORE INTO objects(hash, exec, size, added) VALUES (?, ?, ?, ?)")
      .run(out.hash, out.exec ? 1 : 0, digests.size, now);
    core.db
      .prepare("DELETE FROM pending_deletes WHERE hash = ? AND exec = ?")
      .run(out.hash, out.exec ? 1 : 0);
    core.db
      .prepare(
        `INSERT INTO derived(hash, exec, transform, out_hash, out_exec, added) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(hash, exec, transform) DO UPDATE SET out_hash = excluded.out_hash,
           out_exec = excluded.out_exec, added = excluded.added`,
      )
      .run(hash, exec ? 1 : 0, transform, out.hash, out.exec ? 1 : 0, now);
    return true;
  });
  if (!ok) {
    throw new SlimenvError(
      "STORE_CORRUPT",
      `the source object ${hash} of a derived object is no longer in the store (pruned meanwhile?)`,
      { hint: "run the command again; it re-imports what it needs" },
    );
  }
  return out;
}

/**
 * The output of `transform` on (hash, exec): from the cache, else `produce(inputPath)` is
 * called with the source object's path and its result stored.
 */
export async function derive(
  core: StoreCore,
  hash: string,
  exec: boolean,
  transform: string,
  produce: (inputPath: string) => Promise<DerivedOutput>,
  outExec: boolean = exec,
): Promise<DerivedObject & { cached: boolean }> {
  const cached = lookupDerived(core, hash, exec, transform);
  if (cached !== undefined) return { ...cached, cached: true };
  const output = await produce(objectFile(core.paths, hash, exec));
  return { ...(await storeDerived(core, hash, exec, transform, output, outExec)), cached: false };
}

/** Forget every derived row whose output is (hash, exec): verify --repair uses it. */
export function forgetDerivedOutput(core: StoreCore, hash: string, exec: boolean): number {
  return writeTransaction(core.db, () => {
    const res = core.db
      .prepare("DELETE FROM derived WHERE out_hash = ? AND out_exec = ?")
      .run(hash, exec ? 1 : 0);
    return Number(res.changes);
  });
}

/** Number of derived rows (store status). */
export function derivedCount(core: StoreCore): number {
  const row = core.db.prepare("SELECT COUNT(*) AS n FROM derived").get() as { n: number };
  return row.n;
}
