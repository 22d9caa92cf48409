/**
 * Where the parts of an installed CPython are, relative to its prefix, from a probe: the
 * executable, the stdlib folder, lib-dynload, the stdlib zip on sys.path, site-packages.
 * A runtime copy reproduces these relative paths under its own folder, which is what lets
 * the interpreter find its prefix there (it searches up from the executable for
 * lib/pythonX.Y/os.py or os.pyc).
 */
import { realpath } from "node:fs/promises";
import path from "node:path";
import { SlimenvError } from "../base/index.ts";
import type { InterpreterProbe } from "../python/probe-types.ts";

export interface SourceLayout {
  /** Real path of the install's base prefix. */
  prefix: string;
  /** Real path of the interpreter binary. */
  executable: string;
  version: [number, number, number];
  /** Relative to prefix, `/`-separated. */
  executableRel: string;
  stdlibRel: string;
  /** Relative to the stdlib folder. */
  dynloadInStdlib: string;
  /** Relative to prefix: lib/pythonXY.zip, when sys.path names one. */
  zipRel: string | undefined;
  /** Relative to the stdlib folder, when site-packages is inside it. */
  sitePackagesInStdlib: string[];
  /** Relative to prefix: where site-packages goes in the copy. */
  sitePackagesRel: string | undefined;
  /** Built with --enable-shared (libpython is a separate library). */
  shared: boolean;
  /** sysconfig LIBDIR, real path, when it exists. */
  libdir: string | undefined;
}

function posixRel(from: string, to: string): string {
  return path.relative(from, to).split(path.sep).join("/");
}

function inside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

async function real(p: string): Promise<string> {
  return realpath(p).catch(() => path.resolve(p));
}

function unsupported(message: string, hint?: string): SlimenvError {
  return new SlimenvError("RUNTIME_UNSUPPORTED", message, {
    hint:
      hint ??
      "slimenv runtime copies CPython installs on Linux (pyenv, python.org builds, distro /usr)",
  });
}

/** The layout of the install a probe describes; RUNTIME_UNSUPPORTED when it is not one slimenv can copy. */
export async function sourceLayout(probe: InterpreterProbe): Promise<SourceLayout> {
  const exe = probe.realExecutable;
  if (probe.implementation.name !== "cpython") {
    throw unsupported(`${exe} is ${probe.implementation.name}, not CPython`);
  }
  if (probe.sysPlatform !== "linux" || probe.elf === null) {
    throw unsupported(`${exe} is not a Linux ELF build (sys.platform ${probe.sysPlatform})`);
  }
  if (probe.stdlib === null) throw unsupported(`${exe} reports no stdlib folder`);
  const prefix = await real(probe.basePrefix);
  const executable = await real(exe);
  const stdlib = await real(probe.stdlib);
  if (!inside(prefix, executable)) {
    throw unsupported(`the interpreter ${executable} is not inside its prefix ${prefix}`);
  }
  if (!inside(prefix, stdlib)) {
    throw unsupported(`the stdlib ${stdlib} is not inside the prefix ${prefix}`);
  }
  const dynloadEntry = probe.sysPath.find((p) => path.basename(p) === "lib-dynload");
  if (dynloadEntry === undefined) throw unsupported(`${exe} has no lib-dynload on sys.path`);
  const dynload = await real(dynloadEntry);
  if (!inside(stdlib, dynload)) {
    throw unsupported(`lib-dynload ${dynload} is not inside the stdlib folder ${stdlib}`);
  }
  const zipEntry = probe.sysPath.find((p) => p.endsWith(".zip"));
  let zipRel: string | undefined;
  if (zipEntry !== undefined) {
    const zipAbs = path.join(await real(path.dirname(zipEntry)), path.basename(zipEntry));
    if (inside(prefix, zipAbs)) zipRel = posixRel(prefix, zipAbs);
  }
  const sitePackagesInStdlib: string[] = [];
  let sitePackagesRel: string | undefined;
  for (const key of ["purelib", "platlib"]) {
    const p = probe.schemes.prefix.paths?.[key];
    if (p === undefined) continue;
    const abs = await real(p);
    if (inside(stdlib, abs)) {
      const rel = posixRel(stdlib, abs);
      if (!sitePackagesInStdlib.includes(rel)) sitePackagesInStdlib.push(rel);
    }
    if (inside(prefix, abs) && sitePackagesRel === undefined)
      sitePackagesRel = posixRel(prefix, abs);
  }
  const sharedVar = probe.configVars.Py_ENABLE_SHARED;
  const shared = sharedVar === 1 || sharedVar === true || sharedVar === "1";
  const libdirVar = probe.configVars.LIBDIR;
  const libdir = libdirVar ? await real(libdirVar) : undefined;
  return {
    prefix,
    executable,
    version: probe.version,
    executableRel: posixRel(prefix, executable),
    stdlibRel: posixRel(prefix, stdlib),
    dynloadInStdlib: posixRel(stdlib, dynload),
    zipRel,
    sitePackagesInStdlib,
    sitePackagesRel,
    shared,
    libdir,
  };
}
