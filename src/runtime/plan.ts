/**
 * What a runtime copy takes from the original stdlib folder: every file and symlink except
 * `__pycache__` folders, site-packages content and the dropped groups; and, for the pyc-zip
 * mode, which of them go into lib/pythonXY.zip.
 */
import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { SlimenvError } from "../base/index.ts";
import { type DropGroup, DropMatcher } from "./drop-groups.ts";

export interface PlannedFile {
  /** Relative to the stdlib folder, `/`-separated. */
  rel: string;
  kind: "file" | "symlink";
}

export interface StdlibPlan {
  files: PlannedFile[];
  /** Files left out, by drop group name. */
  dropped: Record<string, string[]>;
}

/**
 * Top-level stdlib entries a pyc-zip copy keeps outside the zip, each with the reason.
 * Everything else that is a module (top-level .py) or a package (folder with __init__.py)
 * goes into the zip, data files included (importlib.resources and pkgutil.get_data read
 * them through zipimport).
 */
export const ZIP_OUTSIDE: readonly { name: string; reason: string }[] = [
  {
    name: "os.py",
    reason:
      "the landmark the interpreter looks for (lib/pythonX.Y/os.py or os.pyc) to find its prefix; os itself is frozen in 3.11+",
  },
  { name: "venv", reason: "copies its scripts/ folder from beside its __file__" },
  { name: "ensurepip", reason: "puts its bundled wheel files on sys.path by file path" },
  { name: "idlelib", reason: "opens icons, help and config files beside its __file__" },
  { name: "turtledemo", reason: "lists and opens its demo scripts beside its __file__" },
  { name: "test", reason: "the test suite opens its data files by path" },
  { name: "site-packages", reason: "third-party packages are installed there" },
];

function walkError(cause: unknown, dir: string): SlimenvError {
  return new SlimenvError("IO_ERROR", `cannot read ${dir}: ${(cause as Error).message}`, { cause });
}

/** Walk the original stdlib folder and decide what the copy takes. */
export async function planStdlib(
  stdlibDir: string,
  options: { drops: readonly DropGroup[]; skip: readonly string[] },
): Promise<StdlibPlan> {
  const matcher = new DropMatcher(options.drops);
  const skip = new Set(options.skip);
  const files: PlannedFile[] = [];
  const dropped: Record<string, string[]> = {};
  const note = (group: string, rel: string) => {
    const list = dropped[group] ?? [];
    list.push(rel);
    dropped[group] = list;
  };
  const walk = async (rel: string, dropGroup: string | undefined): Promise<void> => {
    const dir = rel === "" ? stdlibDir : path.join(stdlibDir, rel);
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (cause) {
      throw walkError(cause, dir);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.name === "__pycache__" || skip.has(child)) continue;
      const group = dropGroup ?? matcher.matchSelf(child);
      if (entry.isDirectory()) {
        await walk(child, group);
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        if (group !== undefined) note(group, child);
        else files.push({ rel: child, kind: entry.isFile() ? "file" : "symlink" });
      }
    }
  };
  await walk("", undefined);
  return { files, dropped };
}

/** Whether a stdlib-relative file goes into the zip of a pyc-zip copy. */
export function goesInZip(rel: string, packages: ReadonlySet<string>, dynload: string): boolean {
  const top = rel.split("/", 1)[0] ?? rel;
  if (ZIP_OUTSIDE.some((o) => o.name === top)) return false;
  if (rel === dynload || rel.startsWith(`${dynload}/`)) return false;
  if (!rel.includes("/")) return rel.endsWith(".py");
  return packages.has(top);
}

/** Top-level folders of the plan that are packages (hold an __init__.py). */
export function topLevelPackages(files: readonly PlannedFile[]): Set<string> {
  const out = new Set<string>();
  for (const f of files) {
    const parts = f.rel.split("/");
    if (parts.length === 2 && parts[1] === "__init__.py" && parts[0] !== undefined)
      out.add(parts[0]);
  }
  return out;
}
