/**
 * .pyc files as derived objects: (source object, transform id) → pyc object, cached in the
 * store. The transform id names everything the output depends on: the format version of
 * this compiler, the interpreter's magic number and the site-relative name compiled into the
 * code object. Cache misses of one materialization are compiled in one batch (one process);
 * a second env with the same policy compiles nothing.
 */
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { EnvStore } from "../../env/types.ts";
import type { PycCompiler } from "./compile.ts";

/** Bump when the compiler script's output changes for the same inputs. */
export const PYC_FORMAT = "pyc1";

export interface PycRequest {
  hash: string;
  exec: boolean;
  /** Site-relative path of the .py (the compiled-in name). */
  dfile: string;
}

/** A compiled pyc: a store object, or bytes when the store keeps no derived objects. */
export type PycResult =
  | {
      ok: true;
      object?: { hash: string; exec: boolean };
      bytes?: Uint8Array;
      size: number;
      cached: boolean;
    }
  | { ok: false; error: string };

export function pycTransformId(magic: string, dfile: string): string {
  return `${PYC_FORMAT}:${magic}:${encodeURIComponent(dfile)}`;
}

/**
 * A source that does not compile is remembered too (its derived object holds the error), so
 * the next env does not start a compiler just to fail again.
 */
export function pycFailureId(magic: string, dfile: string): string {
  return `${PYC_FORMAT}-error:${magic}:${encodeURIComponent(dfile)}`;
}

function requestKey(r: PycRequest): string {
  return `${r.hash}:${r.exec ? 1 : 0}:${r.dfile}`;
}

/**
 * Compile (or find cached) every request; the result map is keyed by
 * `${hash}:${exec}:${dfile}`. One compiler run at most.
 */
export async function derivePycs(
  store: EnvStore,
  compiler: PycCompiler,
  requests: readonly PycRequest[],
): Promise<Map<string, PycResult>> {
  const results = new Map<string, PycResult>();
  const misses: PycRequest[] = [];
  const missing = new Set<string>();
  for (const r of requests) {
    const key = requestKey(r);
    if (results.has(key) || missing.has(key)) continue;
    const cached = store.lookupDerived?.(r.hash, r.exec, pycTransformId(compiler.magic, r.dfile));
    const failed =
      cached === undefined
        ? store.lookupDerived?.(r.hash, r.exec, pycFailureId(compiler.magic, r.dfile))
        : undefined;
    if (cached !== undefined) {
      const { size } = await stat(store.objectPath(cached.hash, cached.exec));
      results.set(key, { ok: true, object: cached, size, cached: true });
    } else if (failed !== undefined) {
      const error = await readFile(store.objectPath(failed.hash, failed.exec), "utf8");
      results.set(key, { ok: false, error });
    } else {
      missing.add(key);
      misses.push(r);
    }
  }
  if (misses.length === 0) return results;
  const dir =
    (await store.workDir?.("pycs")) ?? (await mkdtemp(path.join(tmpdir(), "slimenv-pycs-")));
  try {
    const jobs = misses.map((r, i) => ({
      source: store.objectPath(r.hash, r.exec),
      dfile: r.dfile,
      out: path.join(dir, `${i}.pyc`),
    }));
    const errors = await compiler.compile(jobs);
    for (const [i, r] of misses.entries()) {
      const key = requestKey(r);
      const error = errors[i];
      const job = jobs[i];
      if (error !== undefined || job === undefined) {
        const text = error ?? "not compiled";
        results.set(key, { ok: false, error: text });
        await store.storeDerived?.(
          r.hash,
          r.exec,
          pycFailureId(compiler.magic, r.dfile),
          new TextEncoder().encode(text),
          false,
        );
        continue;
      }
      if (store.storeDerived !== undefined) {
        const object = await store.storeDerived(
          r.hash,
          r.exec,
          pycTransformId(compiler.magic, r.dfile),
          { path: job.out },
          false,
        );
        const { size } = await stat(job.out);
        results.set(key, { ok: true, object, size, cached: false });
      } else {
        const bytes = new Uint8Array(await readFile(job.out));
        results.set(key, { ok: true, bytes, size: bytes.length, cached: false });
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}

export function pycResultKey(r: PycRequest): string {
  return requestKey(r);
}
