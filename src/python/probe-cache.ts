/**
 * The probe cache: one JSON file per interpreter under cacheDir("probes"), named after a
 * hash of the executable's realpath and holding the key it was made for (realpath, size,
 * mtime, probe script version). A file whose key no longer matches, or that cannot be read
 * or parsed, is ignored (and replaced by the next write). Writes go to a temp file that is
 * renamed into place, so readers never see half a file.
 */
import { createHash } from "node:crypto";
import type { Stats } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Reporter } from "../base/index.ts";
import { cacheDir, writeFileAtomic } from "../base/index.ts";
import { PROBE_SCRIPT_VERSION } from "./probe-script.ts";
import type { InterpreterProbe } from "./probe-types.ts";
import { isProbe } from "./probe-types.ts";

export interface ProbeCacheKey {
  realpath: string;
  size: number;
  mtimeMs: number;
  probeVersion: number;
}

export function probeCacheKey(
  realPath: string,
  info: Pick<Stats, "size" | "mtimeMs">,
): ProbeCacheKey {
  return {
    realpath: realPath,
    size: info.size,
    mtimeMs: info.mtimeMs,
    probeVersion: PROBE_SCRIPT_VERSION,
  };
}

/** Where the cached probe of `realPath` lives. */
export function probeCacheFile(realPath: string, env: NodeJS.ProcessEnv): string {
  const digest = createHash("sha256").update(realPath).digest("hex").slice(0, 32);
  return path.join(cacheDir("probes", env), `${digest}.json`);
}

function sameKey(a: unknown, b: ProbeCacheKey): boolean {
  if (a === null || typeof a !== "object") return false;
  const k = a as Partial<ProbeCacheKey>;
  return (
    k.realpath === b.realpath &&
    k.size === b.size &&
    k.mtimeMs === b.mtimeMs &&
    k.probeVersion === b.probeVersion
  );
}

/** The cached probe for `key`, or undefined (missing, stale or corrupt: all logged at debug). */
export async function readProbeCache(
  realPath: string,
  key: ProbeCacheKey,
  env: NodeJS.ProcessEnv,
  reporter: Reporter,
): Promise<InterpreterProbe | undefined> {
  const file = probeCacheFile(realPath, env);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    reporter.log("debug", `probe cache miss for ${realPath}`);
    return undefined;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    reporter.log("debug", `ignoring corrupt probe cache file ${file}`);
    return undefined;
  }
  const entry = data as { key?: unknown; probe?: unknown } | null;
  if (entry === null || typeof entry !== "object" || !isProbe(entry.probe)) {
    reporter.log("debug", `ignoring corrupt probe cache file ${file}`);
    return undefined;
  }
  if (!sameKey(entry.key, key)) {
    reporter.log("debug", `probe cache for ${realPath} is stale`);
    return undefined;
  }
  reporter.log("debug", `probe cache hit for ${realPath}`);
  return entry.probe;
}

/** Store a probe; failures to write are logged (a cache is never worth failing for). */
export async function writeProbeCache(
  realPath: string,
  key: ProbeCacheKey,
  probe: InterpreterProbe,
  env: NodeJS.ProcessEnv,
  reporter: Reporter,
): Promise<void> {
  const file = probeCacheFile(realPath, env);
  try {
    await writeFileAtomic(file, `${JSON.stringify({ key, probe })}\n`);
  } catch (err) {
    const cause = err instanceof Error ? (err.cause ?? err) : err;
    reporter.log(
      "warn",
      `cannot write the probe cache ${file}: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}
