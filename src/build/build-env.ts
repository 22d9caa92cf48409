/**
 * Isolated build environments from the store. The build requirements are locked for the
 * build interpreter through the one lock pipeline (wheels only: slimenv does not build a
 * build requirement from source), every wheel is fetched into the store, and the env is a
 * folder holding a `sitecustomize.py` that puts each wheel's per-wheel tree (hard links into
 * the store, as link mode `pth` uses) on `sys.path`, plus a `bin/` of console scripts. The
 * folder is named by the hash of the locked wheels, so every build with the same
 * requirements shares one, made once and renamed into place (near-instant after that).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { mapLimit, type Reporter, SlimenvError } from "../base/index.ts";
import type { HttpClient } from "../index/http.ts";
import type { Target } from "../python/target.ts";
import { readLockInputs } from "../resolve/lock-inputs.ts";
import { lockPrepared } from "../resolve/lock-pipeline.ts";
import type { LockSettings } from "../resolve/lock-settings.ts";
import { consoleScripts, parseEntryPoints } from "../standards/entry-points.ts";
import { fileNameOf } from "../standards/pylock-read.ts";
import { createTagRanker } from "../standards/tags.ts";
import { parseWheelFilename } from "../standards/wheel-filename.ts";
import { fetchWheel } from "../store/fetch.ts";
import type { Store } from "../store/store.ts";
import type { StoredWheel } from "../store/types.ts";

export interface BuildEnv {
  /** The env's folder (its sitecustomize.py is in `site/`). */
  dir: string;
  /** PYTHONPATH entries. */
  pythonPath: string[];
  /** PATH entries. */
  binPath: string[];
  /** sha256 over the locked wheels' hashes: the env's identity (part of a build's key). */
  id: string;
  /** "name==version" of each wheel, sorted. */
  packages: string[];
}

export interface BuildEnvContext {
  store: Store;
  client: HttpClient;
  /** The build interpreter's target. */
  target: Target;
  /** Index settings for locking build requirements (binary-only is forced). */
  settings: LockSettings;
  withCredentials: (url: string) => string;
  reporter: Reporter;
  /** Where build envs live (shared between builds). */
  root: string;
}

const SITECUSTOMIZE = (trees: string[]) => `# written by slimenv: an isolated PEP 517 build env
import os, site, sys
if os.environ.get("SLIMENV_BUILD_ISOLATED") == "1":
    _drop = set()
    try:
        _drop.update(site.getsitepackages())
    except Exception:
        pass
    try:
        _drop.add(site.getusersitepackages())
    except Exception:
        pass
    _drop = {os.path.normcase(os.path.abspath(p)) for p in _drop}
    sys.path[:] = [p for p in sys.path if os.path.normcase(os.path.abspath(p)) not in _drop]
for _tree in ${JSON.stringify(trees)}:
    site.addsitedir(_tree)
`;

function scriptText(module: string, attr: string): string {
  return `#!/bin/sh
'''exec' "\${SLIMENV_BUILD_PYTHON:-python3}" "$0" "$@"
' '''
import sys
from ${module} import ${attr.split(".")[0]} as _entry
sys.exit(_entry${attr
    .split(".")
    .slice(1)
    .map((a) => `.${a}`)
    .join("")}())
`;
}

/** Lock, fetch and materialize the build env for `requires` (cached by its lock). */
export async function buildEnvFor(
  requires: readonly string[],
  python: string,
  ctx: BuildEnvContext,
): Promise<BuildEnv> {
  if (requires.length === 0) {
    return { dir: "", pythonPath: [], binPath: [], id: "none", packages: [] };
  }
  const inputs = readLockInputs({ requirements: requires, cwd: process.cwd() });
  const settings: LockSettings = { ...ctx.settings, onlyBinary: [":all:"], noBinary: [] };
  let locked: Awaited<ReturnType<typeof lockPrepared>>;
  try {
    // Through the one lock pipeline, as lock, install and sync use it.
    locked = await lockPrepared(
      { inputs, settings },
      {
        context: {
          target: ctx.target,
          targetInfo: { kind: "interpreter" },
          client: ctx.client,
        },
        lockDir: process.cwd(),
        reporter: ctx.reporter,
      },
    );
  } catch (cause) {
    const err = cause as SlimenvError;
    throw new SlimenvError(
      "BUILD_FAILED",
      `cannot lock the build requirements ${requires.join(", ")}: ${err.message}`,
      {
        cause,
        ...(err.detail === undefined ? {} : { detail: err.detail }),
        hint: "build requirements must be available as wheels on the configured indexes (or --find-links)",
      },
    );
  }
  const rank = createTagRanker(ctx.target.tags);
  const chosen: { filename: string; url?: string; path?: string; sha256: string; size?: number }[] =
    [];
  for (const pkg of locked.pylock.packages) {
    let best: { w: (typeof chosen)[number]; r: number } | undefined;
    for (const w of pkg.wheels ?? []) {
      const filename = w.name ?? fileNameOf(w.url ?? w.path ?? "");
      const r = rank(parseWheelFilename(filename).tags.map(String));
      const sha256 = w.hashes.sha256;
      if (r === undefined || sha256 === undefined) continue;
      if (best === undefined || r < best.r) {
        best = {
          r,
          w: {
            filename,
            sha256,
            ...(w.url === undefined ? {} : { url: w.url }),
            ...(w.path === undefined ? {} : { path: w.path }),
            ...(w.size === undefined ? {} : { size: w.size }),
          },
        };
      }
    }
    if (best === undefined) {
      throw new SlimenvError(
        "BUILD_FAILED",
        `the build requirement ${pkg.name} ${pkg.version ?? ""} has no wheel for ${python}`,
        { hint: "slimenv does not build build requirements from source; provide a wheel of it" },
      );
    }
    chosen.push(best.w);
  }
  const id = createHash("sha256")
    .update(
      chosen
        .map((c) => c.sha256)
        .sort()
        .join("\n"),
    )
    .digest("hex");
  const wheels = await mapLimit(chosen, 4, async (c): Promise<StoredWheel> => {
    const known = ctx.store.findWheel(c.sha256);
    if (known !== undefined) return known;
    if (c.url !== undefined && /^https?:/i.test(c.url)) {
      return fetchWheel(
        ctx.store,
        ctx.client,
        {
          url: ctx.withCredentials(c.url),
          filename: c.filename,
          sha256: c.sha256,
          ...(c.size === undefined ? {} : { size: c.size }),
        },
        ctx.reporter,
      );
    }
    const file = c.path ?? (c.url === undefined ? undefined : new URL(c.url).pathname);
    if (file === undefined) throw new SlimenvError("INTERNAL", `no source for ${c.filename}`);
    return ctx.store.importWheel({ path: file }, { filename: c.filename, sha256: c.sha256 });
  });
  const packages = wheels.map((w) => `${w.name}==${w.version}`).sort();
  const dir = path.join(ctx.root, id.slice(0, 32));
  const site = path.join(dir, "site");
  const bin = path.join(dir, "bin");
  const result = { dir, pythonPath: [site], binPath: [bin], id, packages };
  const trees = await mapLimit(wheels, 4, (w) => ctx.store.wheelTree(w));
  if (existsSync(path.join(site, "sitecustomize.py")) && trees.every((t) => existsSync(t))) {
    return result;
  }
  mkdirSync(ctx.root, { recursive: true });
  const temp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(path.join(temp, "site"), { recursive: true });
  mkdirSync(path.join(temp, "bin"), { recursive: true });
  writeFileSync(path.join(temp, "site", "sitecustomize.py"), SITECUSTOMIZE(trees));
  for (const [i, w] of wheels.entries()) {
    const tree = trees[i] as string;
    const ep = w.files.find((f) => /^[^/]+\.dist-info\/entry_points\.txt$/.test(f.path));
    if (ep !== undefined) {
      try {
        const text = readFileSync(path.join(tree, ep.path), "utf8");
        for (const s of consoleScripts(parseEntryPoints(text))) {
          writeFileSync(path.join(temp, "bin", s.name), scriptText(s.module, s.attr), {
            mode: 0o755,
          });
        }
      } catch {
        // a wheel whose scripts cannot be written still serves as a library
      }
    }
    for (const f of w.files) {
      const m = /^[^/]+\.data\/scripts\/([^/]+)$/.exec(f.path);
      if (m?.[1] !== undefined) {
        writeFileSync(path.join(temp, "bin", m[1]), readFileSync(path.join(tree, f.path)), {
          mode: 0o755,
        });
      }
    }
  }
  try {
    rmSync(dir, { recursive: true, force: true });
    renameSync(temp, dir);
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    if (!existsSync(path.join(site, "sitecustomize.py"))) throw err;
  }
  return result;
}
