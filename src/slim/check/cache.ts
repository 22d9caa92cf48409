/**
 * The check cache: what `install --slim`'s import check concluded for a set of packages under
 * a policy, so that the same set slimmed the same way for the same interpreter — another
 * project, a rebuilt env — is not imported module by module again.
 *
 * The key is a sha256 of everything the outcome depends on: the check's format version, the
 * interpreter (its real path, version, prefixes and the size and mtime of its executable),
 * the layout and isolation, for a non-isolated env the names of every distribution and `.pth`
 * file in the interpreter's own site-packages (a package installed there can change what
 * imports), the policy id, and the candidate tree itself: the path, sha256 and mode of every
 * file the manifest lists (so a change in the drop rules, the strip tool or the compiler is a
 * different tree). A different value of any of them is a miss. An entry is one JSON file,
 * written atomically; a damaged one is a miss. `install --recheck` ignores the cache (and
 * refreshes it); outcomes with a time-out or a crash are never written (review.ts).
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { writeFileAtomicSync } from "../../base/index.ts";
import type { EnvManifest } from "../../env/types.ts";
import type { SlimCheckFailure } from "./slim-checker.ts";

/** Bump when the check's judgement changes (a different outcome for the same tree). */
export const CHECK_CACHE_VERSION = 1;

export interface CachedCheck {
  version: typeof CHECK_CACHE_VERSION;
  /** Packages slimming broke (rebuilt unslimmed). */
  unslimmed: SlimCheckFailure[];
  /** Packages whose failures are their own (kept slimmed). */
  preexisting: SlimCheckFailure[];
}

/** What the interpreter says of itself, for the key. */
const FINGERPRINT_SCRIPT = `
import json, os, site, sys
sites = []
for d in site.getsitepackages():
    try:
        sites.append([d, sorted(n for n in os.listdir(d) if n.endswith((".dist-info", ".egg-info", ".pth")))])
    except OSError:
        pass
st = os.stat(sys.executable)
print(json.dumps({"version": sys.version, "prefix": sys.prefix, "base": sys.base_prefix,
                  "exe": os.path.realpath(sys.executable), "size": st.st_size,
                  "mtime": st.st_mtime_ns, "sites": sites}))
`;

function runPython(command: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(command, ["-I", "-c", FINGERPRINT_SCRIPT], {
      env,
      stdio: ["ignore", "pipe", "ignore"],
    });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      out += d;
    });
    child.on("error", () => resolve(undefined));
    child.on("close", (code) => resolve(code === 0 ? out : undefined));
  });
}

/**
 * The cache key of a slimmed candidate, or undefined when it cannot be known (no slim
 * policy, the interpreter does not answer).
 */
export async function checkCacheKey(
  manifest: EnvManifest,
  python: string,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const policyId = manifest.slim?.id;
  if (policyId === undefined) return undefined;
  const text = await runPython(python, env);
  if (text === undefined) return undefined;
  let self: { sites?: unknown };
  try {
    self = JSON.parse(text) as { sites?: unknown };
  } catch {
    return undefined;
  }
  const isolated = manifest.isolated || manifest.layout === "venv";
  if (isolated) delete self.sites;
  const key = {
    check: CHECK_CACHE_VERSION,
    interpreter: self,
    layout: manifest.layout,
    isolated,
    policy: policyId,
    wheels: manifest.packages.map((p) => `${p.name}=${p.wheel}`).sort(),
    files: [...manifest.packages.flatMap((p) => p.files), ...(manifest.envFiles ?? [])]
      .map((f) => `${f.path}\t${f.hash}\t${f.exec ? "x" : "-"}`)
      .sort(),
  };
  return createHash("sha256").update(JSON.stringify(key)).digest("hex");
}

function isStrings(v: unknown): boolean {
  return v === undefined || (Array.isArray(v) && v.every((x) => typeof x === "string"));
}

function isFailureList(v: unknown): v is SlimCheckFailure[] {
  return (
    Array.isArray(v) &&
    v.every(
      (f) =>
        typeof f === "object" &&
        f !== null &&
        typeof (f as SlimCheckFailure).name === "string" &&
        typeof (f as SlimCheckFailure).reason === "string" &&
        isStrings((f as SlimCheckFailure).modules) &&
        isStrings((f as SlimCheckFailure).causes),
    )
  );
}

/** The entry for `key`, or undefined (absent or damaged). */
export function readCheckCache(dir: string, key: string): CachedCheck | undefined {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path.join(dir, `${key}.json`), "utf8"));
  } catch {
    return undefined;
  }
  const v = value as Partial<CachedCheck>;
  if (v.version !== CHECK_CACHE_VERSION) return undefined;
  if (!isFailureList(v.unslimmed) || !isFailureList(v.preexisting)) return undefined;
  return { version: CHECK_CACHE_VERSION, unslimmed: v.unslimmed, preexisting: v.preexisting };
}

/** Write the entry for `key` atomically; a cache that cannot be written is no error. */
export function writeCheckCache(dir: string, key: string, entry: Omit<CachedCheck, "version">) {
  const file = path.join(dir, `${key}.json`);
  try {
    writeFileAtomicSync(file, `${JSON.stringify({ version: CHECK_CACHE_VERSION, ...entry })}\n`);
  } catch {
    // the folder itself is unusable: nothing was written
  }
}
