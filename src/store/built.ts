/**
 * Built wheels as derived store objects: a row of the `derived` table keyed by the sdist's
 * sha256 (the source) and a transform id `build-wheel:<sha256 of every build input>` (the
 * interpreter and target, the build flags, the config settings, the build env's lock), whose
 * output is the sha256 of the wheel the build produced — a wheel the store holds like any
 * other (its files deduplicated with every other wheel's). A second env with the same inputs
 * finds the row and the wheel, and builds nothing. When prune evicts the wheel, the row no
 * longer leads anywhere and is dropped: the next env builds again.
 */
import { readWheel, type StoreCore, touchWheels } from "./core.ts";
import { writeTransaction } from "./schema.ts";
import type { StoredWheel } from "./types.ts";

/** The prefix of every built-wheel transform id. */
export const BUILT_WHEEL_TRANSFORM = "build-wheel:";

/** The stored wheel built from `sdistSha256` with these inputs, if the store still holds it. */
export function lookupBuiltWheel(
  core: StoreCore,
  sdistSha256: string,
  transform: string,
): StoredWheel | undefined {
  const row = core.db
    .prepare("SELECT out_hash FROM derived WHERE hash = ? AND exec = 0 AND transform = ?")
    .get(sdistSha256.toLowerCase(), transform) as { out_hash: string } | undefined;
  if (row === undefined) return undefined;
  const wheel = readWheel(core, row.out_hash);
  if (wheel !== undefined) touchWheels(core, [wheel.sha256]);
  return wheel;
}

/** Record that building `sdistSha256` with these inputs gave the stored wheel `wheelSha256`. */
export function recordBuiltWheel(
  core: StoreCore,
  sdistSha256: string,
  transform: string,
  wheelSha256: string,
): void {
  writeTransaction(core.db, () => {
    core.db
      .prepare(
        `INSERT INTO derived(hash, exec, transform, out_hash, out_exec, added) VALUES (?, 0, ?, ?, 0, ?)
         ON CONFLICT(hash, exec, transform) DO UPDATE SET out_hash = excluded.out_hash,
           added = excluded.added`,
      )
      .run(sdistSha256.toLowerCase(), transform, wheelSha256.toLowerCase(), core.now());
  });
}

/** Built wheels the store holds (store status). */
export function builtWheelCount(core: StoreCore): number {
  const row = core.db
    .prepare(
      `SELECT COUNT(DISTINCT d.out_hash) AS n FROM derived d JOIN wheels w ON w.sha256 = d.out_hash
       WHERE d.transform LIKE '${BUILT_WHEEL_TRANSFORM}%'`,
    )
    .get() as { n: number };
  return row.n;
}

/** Drop built-wheel rows whose wheel is gone (prune); returns how many. */
export function forgetEvictedBuilds(core: StoreCore): number {
  return writeTransaction(core.db, () => {
    const res = core.db
      .prepare(
        `DELETE FROM derived WHERE transform LIKE '${BUILT_WHEEL_TRANSFORM}%'
         AND out_hash NOT IN (SELECT sha256 FROM wheels)`,
      )
      .run();
    return Number(res.changes);
  });
}
