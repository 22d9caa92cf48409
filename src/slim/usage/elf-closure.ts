/**
 * The ELF closure of usage pruning: what a traced run opened is not all a kept native file
 * needs. When two packages bundle a library with the same soname (auditwheel copies
 * libquadmath, libgfortran, libopenblas… into each `<pkg>.libs/`), the loader reuses the copy
 * loaded first for the second package, so the second copy is never opened in that run; a run
 * that imports the packages in the other order then fails. So every kept ELF file (extension
 * modules, bundled libraries) keeps, transitively, what its DT_NEEDED entries resolve to
 * inside the site dir, searched as glibc's loader searches (first match wins):
 *
 * - a file with DT_RUNPATH: that path only;
 * - otherwise its own DT_RPATH, then the DT_RPATH of the object that loaded it, of that one's
 *   loader, and on up (a RUNPATH object in the chain adds nothing but does not end it). This
 *   is how opencv's wheel works: only `cv2.abi3.so` has an RPATH (`$ORIGIN/../
 *   opencv_python_headless.libs`); its libopenblas finds libgfortran, and that libquadmath,
 *   through it.
 *
 * `$ORIGIN` is the folder of the object whose path it is, in the env (the path the loader
 * opened it by, not the store object a link points at). Names found nowhere in the site dir
 * are the system's (libc, libm…, or the env's own files outside the site dir, which pruning
 * keeps anyway): they are reported, not looked for.
 *
 * Not followed (each only ever finds a library the loader would also find elsewhere, or
 * nothing the env ships): LD_LIBRARY_PATH, the interpreter's own RPATH, search-path entries
 * with `$LIB` / `$PLATFORM` or relative to the cwd.
 */
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { isSlimenvError, SlimenvError } from "../../base/index.ts";
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
  const entries = await readdir(site, { recursive: true, withFileTypes: true }).catch((cause) => {
    throw new SlimenvError("IO_ERROR", `cannot list the site dir ${site}: ${cause.message}`, {
      cause,
    });
  });
  for (const e of entries) {
    if (!e.isFile() && !e.isSymbolicLink()) continue;
    files.add(path.relative(site, path.join(e.parentPath, e.name)).split(path.sep).join("/"));
  }
  return files;
}

async function isFile(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isFile() === true;
}

/**
 * The site file a needed name resolves to in `dirs` (absolute, `$ORIGIN` expanded);
 * undefined when the loader would take a file outside the site dir, or find none.
 */
async function locate(
  name: string,
  dirs: readonly string[],
  site: string,
  files: ReadonlySet<string>,
): Promise<string | undefined> {
  let candidates: string[];
  if (name.includes("/")) {
    // A name with a slash is a path, used as it is (relative: to the cwd, unknown here).
    candidates = path.isAbsolute(name) ? [path.normalize(name)] : [];
  } else {
    candidates = dirs.map((dir) => path.join(dir, name));
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

/** A kept ELF file to look at, with the DT_RPATH folders its loaders pass down (nearest first). */
interface Visit {
  rel: string;
  inherited: readonly string[];
}

/** Guard against pathological chains: (file, inherited path) pairs looked at, at most. */
const MAX_ELF_VISITS = 100_000;

/**
 * Close the `used` site paths over ELF dependencies: the site files every used ELF file needs
 * (and what those need), found as the loader finds them. Files the site dir lacks are ignored.
 */
export async function elfClosure(
  site: string,
  used: readonly string[],
  options: { maxVisits?: number } = {},
): Promise<ElfClosure> {
  const maxVisits = options.maxVisits ?? MAX_ELF_VISITS;
  const files = await siteFileSet(site);
  const kept = new Set(used.filter((rel) => files.has(rel)));
  // Every used ELF file is a root (its loaders unknown); what it loads inherits its RPATH.
  const queue: Visit[] = [...kept]
    .filter((rel) => !NOT_ELF.test(rel))
    .map((rel) => ({ rel, inherited: [] }));
  const key = (v: Visit) => [v.rel, ...v.inherited].join("\0");
  const seen = new Set(queue.map(key));
  const dynamics = new Map<string, Awaited<ReturnType<typeof readElfDynamicFile>>>();
  const added = new Set<string>();
  const system = new Set<string>();
  const resolved = new Set<string>();
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i] as Visit;
    if (i >= maxVisits) {
      throw new SlimenvError(
        "SLIM_FAILED",
        `--keep-used-by: the shared libraries' load chains in ${site} are too many to follow (over ${maxVisits})`,
        { hint: "install without --keep-used-by, or list the packages in slim-skip" },
      );
    }
    const file = path.join(site, v.rel);
    if (!dynamics.has(v.rel)) {
      try {
        dynamics.set(v.rel, await readElfDynamicFile(file));
      } catch (err) {
        // A file that cannot be read is not one the loader can use either.
        if (!isSlimenvError(err)) throw err;
        dynamics.set(v.rel, undefined);
      }
    }
    const dyn = dynamics.get(v.rel);
    if (dyn === undefined) continue;
    const own = loaderSearchDirs(dyn);
    const origin = path.dirname(file);
    const ownDirs = own.dirs.flatMap((d) => expandOrigin(d, origin) ?? []);
    // RUNPATH: the only path searched, and not passed down. RPATH: searched before the
    // loaders' RPATHs, and passed down with them.
    const dirs = own.tag === "RUNPATH" ? ownDirs : [...new Set([...ownDirs, ...v.inherited])];
    const passDown = own.tag === "RUNPATH" ? v.inherited : dirs;
    for (const name of dyn.needed) {
      const found = await locate(name, dirs, site, files);
      if (found === undefined) {
        system.add(name);
        continue;
      }
      resolved.add(name);
      if (!kept.has(found)) {
        kept.add(found);
        added.add(found);
      }
      const next = { rel: found, inherited: passDown };
      if (!seen.has(key(next))) {
        seen.add(key(next));
        queue.push(next);
      }
    }
  }
  // A name one chain could not resolve but another did is not the system's.
  return { added: [...added].sort(), system: [...system].filter((n) => !resolved.has(n)).sort() };
}
