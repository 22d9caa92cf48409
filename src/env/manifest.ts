/**
 * Reading an environment's manifest: `DIR/.slimenv/manifest.json` (for prefix and venv a
 * symlink into the current generation; for the target layout a file in the tree).
 */
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { SlimenvError } from "../base/index.ts";
import { MANIFEST_NAME, META_DIR, recoverTarget } from "./generations.ts";
import type { EnvManifest, LayoutKind } from "./types.ts";

export function manifestPath(dir: string): string {
  return path.join(dir, META_DIR, MANIFEST_NAME);
}

function isManifest(value: unknown): value is EnvManifest {
  if (value === null || typeof value !== "object") return false;
  const v = value as Partial<EnvManifest>;
  return (
    v.version === 1 &&
    (v.layout === "prefix" || v.layout === "target" || v.layout === "venv") &&
    Array.isArray(v.packages) &&
    Array.isArray(v.envFiles) &&
    typeof v.interpreterCommand === "string" &&
    typeof v.scheme === "object" &&
    v.scheme !== null
  );
}

/**
 * The manifest of the environment at `dir`, or undefined when `dir` is not a slimenv
 * environment. First repairs an interrupted `--target` swap (DIR missing, DIR.slimenv-old
 * present: old is put back). Throws INVALID_ENV for a damaged manifest.
 */
export function readEnvManifest(dir: string): EnvManifest | undefined {
  const root = path.resolve(dir);
  recoverTarget(root);
  const file = manifestPath(root);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new SlimenvError("IO_ERROR", `cannot read ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new SlimenvError("INVALID_ENV", `${file} is not valid JSON`, {
      cause,
      hint: "rebuild the environment with slimenv install",
    });
  }
  if (!isManifest(value)) {
    throw new SlimenvError(
      "INVALID_ENV",
      `${file} is not a slimenv environment manifest of a version this slimenv reads`,
      { hint: "rebuild the environment with slimenv install" },
    );
  }
  return value;
}

/**
 * The manifest of the environment at `dir` (undefined: a new or empty directory, or one that
 * holds only an unfinished generation). INVALID_ENV for a path that is not a directory, an env
 * of another layout, or a directory that holds something else.
 */
export function existingEnv(dir: string, kind: LayoutKind): EnvManifest | undefined {
  if (!existsSync(dir)) return undefined;
  if (!lstatSync(dir).isDirectory()) {
    throw new SlimenvError("INVALID_ENV", `${dir} exists and is not a directory`);
  }
  const manifest = readEnvManifest(dir);
  if (manifest !== undefined) {
    if (manifest.layout !== kind) {
      throw new SlimenvError(
        "INVALID_ENV",
        `${dir} is a ${manifest.layout} environment, not a ${kind} one`,
        { hint: `use --${manifest.layout} ${dir}, or another directory` },
      );
    }
    return manifest;
  }
  // What a generation left before its manifest was in place: .slimenv and links into it.
  const names = readdirSync(dir).filter((n) => n !== META_DIR);
  const ours = (n: string) => lstatSync(path.join(dir, n)).isSymbolicLink();
  const hasMeta = existsSync(path.join(dir, META_DIR));
  if (names.length > 0 && !(hasMeta && names.every(ours))) {
    throw new SlimenvError(
      "INVALID_ENV",
      `${dir} is not empty and is not a slimenv environment; refusing to install into it`,
      { hint: "pick a new or empty directory" },
    );
  }
  return undefined;
}

/**
 * Distributions in the environment's site dirs that its manifest does not list — installed
 * by another tool (`pip install six` into the env). Their `.dist-info`/`.egg-info` folder names.
 */
export function foreignDistributions(dir: string, manifest: EnvManifest): string[] {
  const known = new Set<string>();
  for (const pkg of manifest.packages) {
    for (const file of pkg.files) {
      const m = /(?:^|\/)([^/]+\.(?:dist|egg)-info)(?:\/|$)/.exec(file.path);
      if (m?.[1] !== undefined) known.add(m[1]);
    }
  }
  const sites = [...new Set([manifest.scheme.purelib, manifest.scheme.platlib])];
  const out: string[] = [];
  for (const site of sites) {
    let names: string[];
    try {
      names = readdirSync(path.join(dir, site));
    } catch {
      continue;
    }
    for (const name of names) {
      if (/\.(?:dist|egg)-info$/.test(name) && !known.has(name)) out.push(name);
    }
  }
  return [...new Set(out)].sort();
}

/**
 * Refuse to rebuild an environment that holds distributions another tool installed: a new
 * generation would silently drop them. INVALID_ENV naming them, with what to do.
 */
export function refuseForeign(dir: string, manifest: EnvManifest, command: string): void {
  const foreign = foreignDistributions(dir, manifest);
  if (foreign.length === 0) return;
  const names = foreign.map((n) => n.replace(/\.(?:dist|egg)-info$/, "").replace(/-/, " "));
  throw new SlimenvError(
    "INVALID_ENV",
    `${dir} holds ${foreign.length} package(s) slimenv did not install (${names.join(", ")}); ${command} would remove them, so nothing was changed`,
    {
      hint: `let slimenv manage them (slimenv install ${names.map((n) => n.replace(" ", "==")).join(" ")} into this env, or lock them), or remove them with the tool that installed them (pip uninstall)`,
    },
  );
}
