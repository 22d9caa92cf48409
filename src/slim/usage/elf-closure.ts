/**
 * The ELF closure of usage pruning: what a traced run opened is not all a kept native file
 * needs. When two packages bundle a library with the same soname (auditwheel copies
 * libquadmath, libgfortran, libopenblas… into each `<pkg>.libs/`), the loader reuses the copy
 * loaded first for the second package, so the second copy is never opened in that run; a run
 * that imports the packages in the other order then fails. So every kept ELF file (extension
 * modules, bundled libraries) keeps, transitively, what its DT_NEEDED entries resolve to
 * inside the site dir, searched as the dynamic loader searches: DT_RUNPATH (else DT_RPATH),
 * `$ORIGIN` being the folder the file lies in in the env (the path the loader opened it by,
 * not the store object a link points at). Names found nowhere in the site dir are the
 * system's (libc, libm…, or the env's own files outside the site dir, which pruning keeps
 * anyway): they are reported, not looked for.
 *
 * Not followed (each only ever finds a library the loader would also find elsewhere, or
 * nothing the env ships): LD_LIBRARY_PATH, the DT_RPATH a library inherits from the objects
 * that loaded it, search-path entries with `$LIB` / `$PLATFORM` or relative to the cwd.
 */
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { isSlimenvError } from "../../base/index.ts";
import { loaderSearchDirs, readElfDynamicFile } from "../../elf/index.ts";

export interface ElfClosure {
  /** Site-relative paths kept because a kept ELF file needs them, not in `used` (sorted). */
  added: string[];
  /** DT_NEEDED names that resolve to no file of the site dir (sorted). */
  system: string[];
}

/** `$ORIGIN` / `${ORIGIN}` (not `$ORIGINAL`). */
const ORIGIN = /\$(?:\{ORIGIN\}|ORIGIN(?![A-Za-z0-9_]))/g;

/**
 * A search-path entry with `$ORIGIN` replaced by `origin`, normalized; undefined when the
 * loader's meaning cannot be known here (another `$` token, or a path relative to the cwd).
 */
export function expandOrigin(entry: string, origin: string): string | undefined {
  if (entry.replace(ORIGIN, "").includes("$")) return undefined;
  const dir = entry.replace(ORIGIN, () => origin);
  return path.isAbsolute(dir) ? path.normalize(dir) : undefined;
}

/** Site-relative paths (with `/`) of every file (or file link) under the site dir. */
async function siteFileSet(site: string): Promise<Set<string>> {
  const files = new Set<string>();
  for (const e of await readdir(site, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() && !e.isSymbolicLink()) continue;
    files.add(path.relative(site, path.join(e.parentPath, e.name)).split(path.sep).join("/"));
  }
  return files;
}

async function isFile(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isFile() === true;
}

/** The site file a needed name resolves to; undefined when the loader would look elsewhere. */
async function locate(
  name: string,
  dirs: readonly string[],
  origin: string,
  site: string,
  files: ReadonlySet<string>,
): Promise<string | undefined> {
  let candidates: string[];
  if (name.includes("/")) {
    // A name with a slash is a path, used as it is (relative: to the cwd, unknown here).
    candidates = path.isAbsolute(name) ? [path.normalize(name)] : [];
  } else {
    candidates = dirs.flatMap((d) => {
      const dir = expandOrigin(d, origin);
      return dir === undefined ? [] : [path.join(dir, name)];
    });
  }
  for (const c of candidates) {
    const rel = path.relative(site, c);
    const inside = rel !== "" && rel !== ".." && !rel.startsWith(`..${path.sep}`);
    const ruleRel = rel.split(path.sep).join("/");
    if (inside && !path.isAbsolute(rel) && files.has(ruleRel)) return ruleRel;
    // The loader takes the first file it finds: one outside the site dir ends the search.
    if (await isFile(c)) return undefined;
  }
  return undefined;
}

/** Files that are never ELF: not opened to look. */
const NOT_ELF = /\.(?:py|pyc|pyi)$/;

/**
 * Close the `used` site paths over ELF dependencies: the site files every used ELF file needs
 * (and what those need), found as the loader finds them. Files the site dir lacks are ignored.
 */
export async function elfClosure(site: string, used: readonly string[]): Promise<ElfClosure> {
  const files = await siteFileSet(site);
  const kept = new Set(used.filter((rel) => files.has(rel)));
  const queue = [...kept].filter((rel) => !NOT_ELF.test(rel));
  const queued = new Set(queue);
  const added = new Set<string>();
  const system = new Set<string>();
  for (let rel = queue.pop(); rel !== undefined; rel = queue.pop()) {
    const file = path.join(site, rel);
    let dyn: Awaited<ReturnType<typeof readElfDynamicFile>>;
    try {
      dyn = await readElfDynamicFile(file);
    } catch (err) {
      // A file that cannot be read is not one the loader can use either.
      if (isSlimenvError(err)) continue;
      throw err;
    }
    if (dyn === undefined) continue;
    const { dirs } = loaderSearchDirs(dyn);
    for (const name of dyn.needed) {
      const found = await locate(name, dirs, path.dirname(file), site, files);
      if (found === undefined) {
        system.add(name);
        continue;
      }
      if (!kept.has(found)) {
        kept.add(found);
        added.add(found);
      }
      if (!queued.has(found)) {
        queued.add(found);
        queue.push(found);
      }
    }
  }
  return { added: [...added].sort(), system: [...system].sort() };
}
