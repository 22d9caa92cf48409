/**
 * Unpacking one inspected wheel (wheel-import.ts step 3): the files as flat jobs for
 * unpack-files.ts, run on the thread pool. A big wheel is split into parts, one per worker,
 * balanced by compressed size, so it does not unpack on one core while the others wait;
 * its parts leave their checked temp files in place, and only once every part passed are
 * they linked into objects/ — a refused wheel still leaves nothing.
 */
import { mkdir } from "node:fs/promises";
import { SlimenvError } from "../base/index.ts";
import type { StoreCore } from "./core.ts";
import { HostileWheelError } from "./hostile.ts";
import type { StoredFile } from "./types.ts";
import { promoteTemps, type UnpackFailure, type UnpackJob } from "./unpack-files.ts";
import { runUnpack } from "./unpack-pool.ts";
import type { InspectedWheel } from "./wheel-inspect.ts";

/** A wheel with more compressed bytes than this is split across the workers. */
export const SPLIT_BYTES = 16 * 1024 * 1024;
/** No part smaller than this (compressed). */
const PART_BYTES = 8 * 1024 * 1024;

/** The process's umask, read once (a worker thread cannot). */
const UMASK = process.umask();

/** The job for the files `indices` of `wheel`: flat arrays, no object per file. */
function unpackJob(
  core: StoreCore,
  wheel: InspectedWheel,
  source: string | Uint8Array,
  dir: string,
  indices: readonly number[],
  promote: boolean,
): UnpackJob {
  const job: UnpackJob = {
    wheel: source,
    what: wheel.filename,
    dir,
    objects: core.paths.objects,
    fsync: core.fsync,
    umask: UMASK,
    names: [],
    dataStarts: [],
    compressedSizes: [],
    sizes: [],
    methods: [],
    flags: [],
    crcs: [],
    algorithms: [],
    declared: [],
    exec: [],
    promote,
  };
  for (const i of indices) {
    const { entry, local, record, exec } = wheel.files[i] as InspectedWheel["files"][number];
    job.names.push(entry.name);
    job.dataStarts.push(local.dataStart);
    job.compressedSizes.push(entry.compressedSize);
    job.sizes.push(entry.size);
    job.methods.push(entry.method);
    job.flags.push(entry.flags);
    job.crcs.push(entry.crc32);
    job.algorithms.push(record?.hash?.algorithm ?? "sha256");
    job.declared.push(record?.hash?.digest ?? "");
    job.exec.push(exec ? 1 : 0);
  }
  return job;
}

/**
 * The files of `wheel` in `parts` groups of about equal compressed size (largest file first
 * to the lightest group), each group in archive order.
 */
export function splitFiles(wheel: InspectedWheel, parts: number): number[][] {
  const groups = Array.from({ length: parts }, () => ({ bytes: 0, files: [] as number[] }));
  const order = wheel.files.map((_, i) => i);
  const size = (i: number) => wheel.files[i]?.entry.compressedSize ?? 0;
  order.sort((a, b) => size(b) - size(a));
  for (const i of order) {
    let lightest = groups[0] as (typeof groups)[number];
    for (const g of groups) if (g.bytes < lightest.bytes) lightest = g;
    lightest.bytes += size(i);
    lightest.files.push(i);
  }
  return groups.filter((g) => g.files.length > 0).map((g) => g.files.sort((a, b) => a - b));
}

function failureError(wheel: InspectedWheel, failure: UnpackFailure): Error {
  const { rule, slimenvCode, code, message } = failure;
  if (rule !== undefined) return new HostileWheelError(wheel.filename, rule, message);
  if (slimenvCode !== undefined) return new SlimenvError(slimenvCode, message);
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

/**
 * Unpack every file of `wheel` (its file, or its bytes: `source`) into objects, temp files
 * under `dir` (which the caller removes). Returns the stored files and, per file, 1 when this
 * import's link made its object.
 */
export async function unpackWheel(
  core: StoreCore,
  wheel: InspectedWheel,
  source: string | Uint8Array,
  dir: string,
): Promise<{ files: StoredFile[]; created: readonly number[] }> {
  const n = wheel.files.length;
  const compressed = wheel.files.reduce((sum, f) => sum + f.entry.compressedSize, 0);
  const parts =
    core.unpackThreads > 1 && compressed > SPLIT_BYTES
      ? splitFiles(wheel, Math.min(core.unpackThreads, Math.ceil(compressed / PART_BYTES)))
      : [wheel.files.map((_, i) => i)];
  const hashes = new Array<string>(n);
  const created = new Array<number>(n).fill(0);
  if (parts.length === 1) {
    const all = parts[0] as number[];
    const result = await runUnpack(
      unpackJob(core, wheel, source, dir, all, true),
      core.unpackThreads,
    );
    if ("failure" in result) throw failureError(wheel, result.failure);
    result.hashes.forEach((h, i) => {
      hashes[i] = h;
      created[i] = result.created[i] ?? 0;
    });
  } else {
    // every part to its end (none may still write into `dir` when the caller removes it)
    const settled = await Promise.allSettled(
      parts.map(async (indices, p) => {
        const partDir = `${dir}/${p}`;
        await mkdir(partDir);
        const job = unpackJob(core, wheel, source, partDir, indices, false);
        return runUnpack(job, core.unpackThreads);
      }),
    );
    const results = settled.map((s) => {
      if (s.status === "rejected") throw s.reason;
      if ("failure" in s.value) throw failureError(wheel, s.value.failure);
      return s.value;
    });
    results.forEach((result, p) => {
      const indices = parts[p] as number[];
      const made = new Array<number>(indices.length).fill(0);
      promoteTemps(result.temps ?? [], made);
      indices.forEach((i, k) => {
        hashes[i] = result.hashes[k] as string;
        created[i] = made[k] ?? 0;
      });
    });
  }
  const files = wheel.files.map(({ entry, exec }, i) => ({
    path: entry.name,
    hash: hashes[i] as string,
    exec,
    size: entry.size,
  }));
  return { files, created };
}
