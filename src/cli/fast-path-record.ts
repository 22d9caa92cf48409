/**
 * The no-op fast path's record (see fast-path.ts): written after a successful run, by the
 * full CLI only. Apart from fast-path.ts because writing it atomically needs node:crypto (a
 * temp name) and node:fs/promises, which the fast path's answer must not load: a few
 * milliseconds of every no-op run.
 */

import { readFileSync } from "node:fs";
import path from "node:path";
import { writeFileAtomicSync } from "../base/atomic-write.ts";
import {
  type FastPathPending,
  type FastPathRecord,
  interpreterSig,
  manifestFile,
  manifestSig,
  recordFile,
} from "./fast-path.ts";

/** After a successful run: remember its fingerprint and the environment it left. */
export function fastPathRecord(
  pending: FastPathPending | undefined,
  env: NodeJS.ProcessEnv = process.env,
): void {
  if (pending === undefined) return;
  try {
    const sig = manifestSig(pending.dir);
    const text = readFileSync(manifestFile(pending.dir));
    const manifest = JSON.parse(text.toString("utf8")) as {
      interpreter?: string;
      packages?: unknown[];
      lock?: { sha256?: string };
    };
    const shown = path.relative(pending.cwd, pending.dir) || ".";
    const lock = pending.lock ?? "";
    const message =
      pending.command === "install"
        ? `${shown} already holds these ${manifest.packages?.length ?? 0} packages; nothing changed`
        : `${shown} already matches ${path.relative(pending.cwd, lock) || lock}; nothing changed`;
    const record: FastPathRecord = {
      dir: pending.dir,
      key: pending.key,
      manifest: sig,
      interpreter: interpreterSig(manifest),
      ...(manifest.interpreter === undefined ? {} : { interpreterPath: manifest.interpreter }),
      ...(typeof manifest.lock?.sha256 === "string" ? { lockSha256: manifest.lock.sha256 } : {}),
      message,
    };
    writeFileAtomicSync(recordFile(pending.dir, env), JSON.stringify(record));
  } catch {
    // No record: the next run takes the full path.
  }
}
