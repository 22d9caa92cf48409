/**
 * Shared libraries and extension modules built with gcc for the ELF-dependency tests of
 * usage pruning: `sharedLib` links one library (its soname, what it needs, its search path),
 * and `twinWheels` builds three packages that each bundle their own copy of a library with the
 * SAME soname in `<pkg>.libs/` (as auditwheel does: opencv and scipy both ship
 * `libquadmath-96973f99.so.0.0.0`), found through RUNPATH `$ORIGIN/../<pkg>.libs` or, as in
 * opencv's wheel, through the RPATH of the extension that loaded the library needing it.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Interp } from "../env/env-fixtures.ts";
import { tempDir } from "../helpers/tmp.ts";
import { type BuiltWheel, buildWheel } from "../helpers/wheels.ts";

function gcc(args: readonly string[]): void {
  const res = spawnSync("gcc", args, { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`gcc ${args.join(" ")} failed: ${res.stderr}`);
}

export interface LibSpec {
  /** C source. */
  source: string;
  /** DT_SONAME (default: none). */
  soname?: string;
  /** Libraries to link against, as files (each becomes a DT_NEEDED of its soname or name). */
  links?: string[];
  /** The search path to record (`$ORIGIN/...` kept literally). */
  searchPath?: string;
  /** DT_RPATH instead of DT_RUNPATH. */
  oldTags?: boolean;
  /** Extra compiler flags (-I for Python.h). */
  flags?: string[];
}

/** Compile `spec` into the shared library `out` (its folder is made). */
export function sharedLib(out: string, spec: LibSpec): string {
  mkdirSync(path.dirname(out), { recursive: true });
  const src = `${out}.c`;
  writeFileSync(src, spec.source);
  const args = ["-shared", "-fPIC", "-O0", ...(spec.flags ?? []), src, "-o", out];
  if (spec.soname !== undefined) args.push(`-Wl,-soname,${spec.soname}`);
  for (const lib of spec.links ?? []) {
    args.push(`-L${path.dirname(lib)}`, `-l:${path.basename(lib)}`);
    args.push(`-Wl,-rpath-link,${path.dirname(lib)}`);
  }
  if (spec.searchPath !== undefined) {
    args.push(`-Wl,-rpath,${spec.searchPath}`);
    args.push(spec.oldTags === true ? "-Wl,--disable-new-dtags" : "-Wl,--enable-new-dtags");
  }
  gcc(["-Wl,--no-as-needed", ...args]);
  return out;
}

/** A library function `name` returning `value`, or `value` plus what `calls()` returns. */
export function libSource(name: string, value: number, calls?: string): string {
  if (calls === undefined) return `int ${name}(void) { return ${value}; }\n`;
  return `int ${calls}(void);\nint ${name}(void) { return ${value} + ${calls}(); }\n`;
}

/** An extension module `<module>` whose `value()` returns `<fn>()`. */
function extensionSource(module: string, fn: string): string {
  return `#define PY_SSIZE_T_CLEAN
#include <Python.h>
int ${fn}(void);
static PyObject *value(PyObject *self, PyObject *args) { return PyLong_FromLong(${fn}()); }
static PyMethodDef methods[] = {{"value", value, METH_NOARGS, "${fn}()"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "${module}", NULL, -1, methods};
PyMODINIT_FUNC PyInit_${module}(void) { return PyModule_Create(&mod); }
`;
}

export const TWIN_SONAME = "libtwin.so.1";

/**
 * `pkga`, `pkgb` and `pkgc`, each with its own `<pkg>.libs/libtwin.so.1` (`twin_value()`):
 * - pkga: `_ext` (RUNPATH `$ORIGIN/../pkga.libs`) needs it; its copy gives 1. Also bundles a
 *   library nothing needs.
 * - pkgb: the same, RUNPATH; its copy gives 20 + `deep_value()` = 22, needing `libdeep.so.1`
 *   beside it through its own RUNPATH `$ORIGIN`. Also has a module nothing imports.
 * - pkgc, as opencv's wheel: `_ext` has an RPATH (`$ORIGIN/../pkgc.libs`) and needs
 *   `libmid.so.1` only (`mid_value()` = 300 + `twin_value()`); libmid and pkgc's libtwin (30)
 *   have no search path: libmid finds libtwin through `_ext`'s RPATH, inherited.
 */
export function twinWheels(interp: Interp): BuiltWheel[] {
  const include = interp.probe.schemes.prefix.paths?.include;
  const suffix = interp.probe.configVars.EXT_SUFFIX;
  if (include === undefined || suffix === null) throw new Error("probe lacks include/EXT_SUFFIX");
  const [major, minor] = interp.probe.version;
  const tag = `cp${major}${minor}`;
  const platform = interp.target.platforms.at(-1) ?? "linux_x86_64";
  const dir = tempDir("twin-");
  const build = (pkg: "pkga" | "pkgb" | "pkgc"): BuiltWheel => {
    const libs = path.join(dir, pkg, `${pkg}.libs`);
    const files: Record<string, Uint8Array | string> = {
      [`${pkg}/__init__.py`]: `from ${pkg}._ext import value\n`,
    };
    let twin: string;
    let extNeeds: string;
    let extFn = "twin_value";
    let oldTags = false;
    if (pkg === "pkgc") {
      twin = sharedLib(path.join(libs, TWIN_SONAME), {
        source: libSource("twin_value", 30),
        soname: TWIN_SONAME,
      });
      extNeeds = sharedLib(path.join(libs, "libmid.so.1"), {
        source: libSource("mid_value", 300, "twin_value"),
        soname: "libmid.so.1",
        links: [twin],
      });
      files["pkgc.libs/libmid.so.1"] = new Uint8Array(readFileSync(extNeeds));
      extFn = "mid_value";
      oldTags = true;
    } else if (pkg === "pkga") {
      twin = sharedLib(path.join(libs, TWIN_SONAME), {
        source: libSource("twin_value", 1),
        soname: TWIN_SONAME,
      });
      const unused = sharedLib(path.join(libs, "libunused.so.1"), {
        source: libSource("unused_value", 7),
        soname: "libunused.so.1",
      });
      files[`pkga.libs/libunused.so.1`] = new Uint8Array(readFileSync(unused));
      extNeeds = twin;
    } else {
      const deep = sharedLib(path.join(libs, "libdeep.so.1"), {
        source: libSource("deep_value", 2),
        soname: "libdeep.so.1",
      });
      twin = sharedLib(path.join(libs, TWIN_SONAME), {
        source: libSource("twin_value", 20, "deep_value"),
        soname: TWIN_SONAME,
        links: [deep],
        searchPath: "$ORIGIN",
      });
      files[`pkgb.libs/libdeep.so.1`] = new Uint8Array(readFileSync(deep));
      files["pkgb/unused.py"] = "NEVER = 'imported'\n";
      extNeeds = twin;
    }
    files[`${pkg}.libs/${TWIN_SONAME}`] = new Uint8Array(readFileSync(twin));
    const ext = sharedLib(path.join(dir, pkg, pkg, `_ext${suffix}`), {
      source: extensionSource("_ext", extFn),
      links: [extNeeds],
      searchPath: `$ORIGIN/../${pkg}.libs`,
      oldTags,
      flags: [`-I${include}`],
    });
    files[`${pkg}/_ext${suffix}`] = new Uint8Array(readFileSync(ext));
    return buildWheel({
      name: pkg,
      version: "1.0",
      tags: `${tag}-${tag}-${platform}`,
      purelib: false,
      files,
    });
  };
  return [build("pkga"), build("pkgb"), build("pkgc")];
}
