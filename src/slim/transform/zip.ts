/**
 * Whether a package works from a zip on sys.path (bytecode mode `zip`), by static checks
 * on the files it keeps: only Python modules (and stubs), no extension modules or other
 * native code, no data files (they are read through paths next to the module), no module
 * that uses `__file__`, no namespace-package folders, no `.pth` file. The import check after
 * materialization catches what these checks miss (the package is then rebuilt unslimmed).
 */
import path from "node:path";
import type { EnvStore } from "../../env/types.ts";
import { isSiteSource, readText, type SlimFile } from "./files.ts";

const NATIVE = /\.(so|pyd|dll|dylib)$|\.so\./;
const HARMLESS = /(\.pyi|\/py\.typed|^py\.typed)$/;

/** Why the package cannot be zipped, or undefined when it can. */
export async function zipRefusal(
  store: EnvStore,
  files: readonly SlimFile[],
): Promise<string | undefined> {
  const site = files.filter(
    (f) =>
      f.inSite &&
      f.rulePath !== undefined &&
      !(f.rulePath.split("/", 1)[0] ?? "").endsWith(".dist-info"),
  );
  const sources = site.filter(isSiteSource);
  if (sources.length === 0) return "it has no Python modules";
  const paths = new Set(site.map((f) => f.rulePath as string));
  for (const f of site) {
    const p = f.rulePath as string;
    if (!p.includes("/") && p.endsWith(".pth")) return `it has a .pth file (${p})`;
    if (NATIVE.test(p)) return `it has native code (${p})`;
    if (!p.endsWith(".py") && !HARMLESS.test(p)) return `it has a data file (${p})`;
  }
  for (const f of sources) {
    const dir = path.posix.dirname(f.rulePath);
    if (dir !== "." && !paths.has(`${dir}/__init__.py`)) {
      return `${dir} is a namespace package folder (no __init__.py)`;
    }
    if (/\b__file__\b/.test(await readText(store, f.file))) {
      return `${f.rulePath} uses __file__`;
    }
  }
  return undefined;
}
