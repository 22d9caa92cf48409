/**
 * Where wheels are unpacked: on a pool of worker threads (one per available core by
 * default), so inflating, hashing and writing objects run beside downloads and the main
 * thread; or on the calling thread when the store is opened with `unpackThreads: 0`, or
 * when the worker script cannot be found (a bundle without it).
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { ThreadPool } from "../base/thread-pool.ts";
import { type UnpackJob, type UnpackResult, unpackFiles } from "./unpack-files.ts";

/** The worker script: beside this module in the sources, a chunk of its own in the bundle. */
function workerScript(): URL | undefined {
  const candidates = [
    new URL("./unpack-worker.ts", import.meta.url),
    new URL("./unpack-worker.js", import.meta.url),
    new URL("./chunks/unpack-worker.js", import.meta.url),
  ];
  return candidates.find((url) => existsSync(url));
}

const pools = new Map<number, ThreadPool<UnpackJob, UnpackResult>>();
let script: URL | null | undefined;

/** Threads to use when the store is not told: the cores this process may use. */
export function defaultUnpackThreads(): number {
  return availableParallelism();
}

/** Run `job` on the pool (of `threads` workers), or here when `threads` is 0. */
export function runUnpack(job: UnpackJob, threads: number): Promise<UnpackResult> {
  if (threads <= 0) return unpackFiles(job);
  if (script === undefined) script = workerScript() ?? null;
  if (script === null) return unpackFiles(job);
  let pool = pools.get(threads);
  if (pool === undefined) {
    pool = new ThreadPool<UnpackJob, UnpackResult>(script, threads);
    pools.set(threads, pool);
  }
  return pool.run(job);
}
