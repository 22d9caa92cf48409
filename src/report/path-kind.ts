/** What a measured path is: a slimenv env, a venv, a site-packages or stdlib folder, or a dir. */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { SizeLayout } from "./types.ts";

export interface DetectedLayout {
  layout: SizeLayout;
  python?: string;
}

/** Look at a few marker files of `root` (a real path). Never throws. */
export function detectLayout(root: string): DetectedLayout {
  if (!isDir(root)) return { layout: "dir" };
  const manifest = readText(path.join(root, ".slimenv", "manifest.json"));
  if (manifest !== undefined) {
    let python: string | undefined;
    try {
      const v = (JSON.parse(manifest) as { target?: { pythonVersion?: unknown } }).target
        ?.pythonVersion;
      if (Array.isArray(v) && v.every((n) => typeof n === "number")) python = v.join(".");
    } catch {
      // A damaged manifest still marks an env; the version is then unknown.
    }
    return python === undefined ? { layout: "env" } : { layout: "env", python };
  }
  const cfg = readText(path.join(root, "pyvenv.cfg"));
  if (cfg !== undefined) {
    const m = /^\s*(?:version|version_info)\s*=\s*(\d+\.\d+(?:\.\d+)?)/m.exec(cfg);
    return m?.[1] === undefined ? { layout: "venv" } : { layout: "venv", python: m[1] };
  }
  const base = path.basename(root);
  if (existsSync(path.join(root, "os.py")) && isDir(path.join(root, "encodings"))) {
    return withPython("stdlib", base);
  }
  if (/^(site|dist)-packages$/.test(base) || hasDistInfo(root)) {
    return withPython("site-packages", path.basename(path.dirname(root)));
  }
  return { layout: "dir" };
}

function withPython(layout: SizeLayout, dirName: string): DetectedLayout {
  const m = /^python(\d+\.\d+)t?$/.exec(dirName);
  return m?.[1] === undefined ? { layout } : { layout, python: m[1] };
}

function hasDistInfo(dir: string): boolean {
  try {
    return readdirSync(dir).some((n) => n.endsWith(".dist-info"));
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
