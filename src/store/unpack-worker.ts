/**
 * The worker thread that unpacks wheels (unpack-files.ts): answers each `{ id, job }` with
 * `{ id, result }`. Loaded by unpack-pool.ts; in the bundle it is its own entry
 * (dist/chunks/unpack-worker.js, scripts/build.ts).
 */
import { parentPort } from "node:worker_threads";
import { type UnpackJob, unpackFiles } from "./unpack-files.ts";

parentPort?.on("message", (message: { id: number; job: UnpackJob }) => {
  void unpackFiles(message.job).then((result) => {
    parentPort?.postMessage({ id: message.id, result });
  });
});
