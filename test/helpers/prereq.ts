/**
 * What a test needs from the machine (a pyenv CPython, gcc, binutils, llvm…), in one place.
 *
 * Without CI a missing prerequisite skips the tests that need it, as a developer's laptop
 * may lack a tool. With `CI` set (any value but "", "0" or "false") a missing prerequisite is
 * a FAILURE whose message names exactly what to install: CI never passes by skipping.
 *
 *   const PY312 = pyenv("3.12");
 *   describeWith(PY312, GCC)("layouts", () => { ... PY312.exe ... });
 *   itWith(LLVM_STRIP)("strips with llvm-strip", async () => { ... });
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it, type TestContext, type TestFunction } from "vitest";

/** True when the suite runs under CI: a missing prerequisite then fails instead of skipping. */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI;
  return ci !== undefined && ci !== "" && ci !== "0" && ci.toLowerCase() !== "false";
}

export interface Prereq {
  /** What is needed, e.g. "CPython 3.12" or "gcc". */
  what: string;
  ok: boolean;
  /** One line: what is missing and how to install it. */
  missing: string;
}

export interface PythonPrereq extends Prereq {
  /** The interpreter (`…/bin/python3.X`), or undefined when missing. */
  exe: string | undefined;
}

/** The pyenv versions folder the tests search: $PYENV_ROOT/versions, else ~/.pyenv/versions. */
export function pyenvVersionsDir(env: NodeJS.ProcessEnv = process.env): string {
  const root = env.PYENV_ROOT || path.join(os.homedir(), ".pyenv");
  return path.join(root, "versions");
}

/** The newest pyenv CPython of a minor version (e.g. "3.12") as `bin/python3.12`, or undefined. */
export function pyenvPython(minor: string): string | undefined {
  const dir = pyenvVersionsDir();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const patch = (v: string) => Number(v.split(".")[2]);
  const found = names
    .filter((v) => v.startsWith(`${minor}.`) && /^\d+\.\d+\.\d+$/.test(v))
    .sort((a, b) => patch(b) - patch(a));
  for (const name of found) {
    const exe = path.join(dir, name, "bin", `python${minor}`);
    if (existsSync(exe)) return exe;
  }
  return undefined;
}

/**
 * A pyenv CPython: the first of `minors` found (e.g. pyenv("3.12", "3.11") takes 3.11 when
 * 3.12 is missing). When none is found the message asks for the first.
 */
export function pyenv(...minors: [string, ...string[]]): PythonPrereq {
  for (const minor of minors) {
    const exe = pyenvPython(minor);
    if (exe !== undefined) return { what: `CPython ${minor}`, ok: true, missing: "", exe };
  }
  const [first, ...rest] = minors;
  const alt = rest.length > 0 ? ` (or ${rest.join(", ")})` : "";
  return {
    what: `CPython ${first}`,
    ok: false,
    missing:
      `CPython ${first}${alt} not found under ${pyenvVersionsDir()}: ` +
      `install it with \`pyenv install ${first}\``,
    exe: undefined,
  };
}

/** Whether an executable file `name` is in a folder of PATH. */
function onPath(name: string): boolean {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const full = path.join(dir, name);
    try {
      accessSync(full, constants.X_OK);
      if (statSync(full).isFile()) return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** A command on PATH, from a Debian package. */
export function command(name: string, debianPackage: string): Prereq {
  const ok = onPath(name);
  return {
    what: name,
    ok,
    missing: ok
      ? ""
      : `${name} not found on PATH: install it with \`apt-get install -y ${debianPackage}\``,
  };
}

/** Several prerequisites as one: ok when all are; the message names every missing one. */
export function all(what: string, ...needs: Prereq[]): Prereq {
  const missing = needs.filter((n) => !n.ok);
  return { what, ok: missing.length === 0, missing: missing.map((n) => n.missing).join("; ") };
}

/** A condition that is not a command (a file, a mount, a compiler mode). */
export function condition(what: string, ok: boolean, howToGet: string): Prereq {
  return { what, ok, missing: ok ? "" : `${what} not available: ${howToGet}` };
}

export const GCC = command("gcc", "gcc");
export const BINUTILS = all(
  "binutils",
  command("strip", "binutils"),
  command("readelf", "binutils"),
  command("objcopy", "binutils"),
);
export const LLVM_STRIP = command("llvm-strip", "llvm");
export const OPENSSL = command("openssl", "openssl");
export const LLVM_MC_PATH = ["/usr/lib/llvm-14/bin/llvm-mc", "/usr/bin/llvm-mc"].find((p) =>
  existsSync(p),
);
export const LLVM_MC = condition(
  "llvm-mc",
  LLVM_MC_PATH !== undefined,
  "install it with `apt-get install -y llvm`",
);
export const MKSQUASHFS = all(
  "squashfs-tools",
  command("mksquashfs", "squashfs-tools"),
  command("unsquashfs", "squashfs-tools"),
);
export const MKFS_EROFS = all(
  "erofs-utils",
  command("mkfs.erofs", "erofs-utils"),
  command("fsck.erofs", "erofs-utils"),
);

function kernelFilesystems(): string {
  try {
    return readFileSync("/proc/filesystems", "utf8");
  } catch {
    return "";
  }
}

/** Loop-mounting squashfs and erofs images: root, /dev/loop-control, both in the kernel. */
export const LOOP_MOUNT = condition(
  "loop mounts of squashfs and erofs",
  process.getuid?.() === 0 &&
    existsSync("/dev/loop-control") &&
    /\tsquashfs$/m.test(kernelFilesystems()) &&
    /\terofs$/m.test(kernelFilesystems()),
  "run the tests as root, with loop devices and a kernel with squashfs and erofs (modprobe loop squashfs erofs)",
);
export const GCC_M32 = condition(
  "gcc -m32",
  GCC.ok &&
    spawnSync("gcc", ["-m32", "-x", "c", "-c", "-o", "/dev/null", "-"], { input: "int x;" })
      .status === 0,
  "install 32-bit gcc support with `apt-get install -y gcc-multilib`",
);

function failure(missing: Prereq[]): Error {
  return new Error(
    `missing prerequisite${missing.length > 1 ? "s" : ""} (CI is set, so this fails instead of ` +
      `skipping): ${missing.map((n) => n.missing).join("; ")}`,
  );
}

type SuiteFn = (name: string, fn: () => void) => void;
type TestFn = (name: string, fn: TestFunction, timeout?: number) => void;

/**
 * `describe` when every prerequisite is there. When one is missing: `describe.skip` without
 * CI; under CI one failing test that names what to install (the suite's own tests are not run).
 */
export function describeWith(...needs: Prereq[]): SuiteFn {
  const missing = needs.filter((n) => !n.ok);
  if (missing.length === 0) return (name, fn) => describe(name, fn);
  if (!inCi()) return (name, fn) => describe.skip(name, fn);
  return (name) =>
    describe(name, () => {
      it(`needs ${missing.map((n) => n.what).join(", ")}`, () => {
        throw failure(missing);
      });
    });
}

/** `it` when every prerequisite is there; else skipped without CI, failing under CI. */
export function itWith(...needs: Prereq[]): TestFn {
  const missing = needs.filter((n) => !n.ok);
  if (missing.length === 0) return (name, fn, timeout) => it(name, fn, timeout);
  if (!inCi()) return (name, fn, timeout) => it.skip(name, fn, timeout);
  return (name) =>
    it(name, () => {
      throw failure(missing);
    });
}

/** Inside a test: skip it (without CI) or fail it (under CI) when a prerequisite is missing. */
export function requireOrSkip(ctx: TestContext, ...needs: Prereq[]): void {
  const missing = needs.filter((n) => !n.ok);
  if (missing.length === 0) return;
  if (inCi()) throw failure(missing);
  ctx.skip();
}
