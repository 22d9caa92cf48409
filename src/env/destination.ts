/**
 * Where an environment may be made: checked before anything is resolved or written, so an
 * unusable destination is one clear error at once — a dangling symlink on the way, a file where
 * a folder should be, a folder this user cannot write in, or a kernel filesystem (/proc, /sys).
 */
import { accessSync, constants, lstatSync, readlinkSync, statfsSync, statSync } from "node:fs";
import path from "node:path";
import { SlimenvError } from "../base/index.ts";

/** statfs f_type of Linux's pseudo filesystems, where no environment can live. */
const SPECIAL_FS: Readonly<Record<number, string>> = {
  40864: "proc",
  1650812274: "sysfs",
  2613483: "cgroup",
  1667723888: "cgroup2",
  1684170528: "debugfs",
  1953653091: "tracefs",
  1935894131: "securityfs",
  7377: "devpts",
  3405662737: "bpf",
  1634035564: "pstore",
  1650812272: "configfs",
};

const HINT = "choose a folder you can write in (--prefix/--target/--venv DIR)";

function fail(shown: string, why: string): never {
  throw new SlimenvError("IO_ERROR", `cannot make an environment at ${shown}: ${why}`, {
    hint: HINT,
  });
}

/**
 * Throw IO_ERROR naming the problem when `dir` (absolute) cannot hold an environment. Walks up
 * to the first folder that exists, refusing dangling symlinks and non-folders on the way.
 */
export function checkDestination(dir: string, shown = dir): void {
  let p = path.resolve(dir);
  for (;;) {
    let st: ReturnType<typeof lstatSync> | undefined;
    try {
      st = lstatSync(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ENOTDIR: a file further up; the walk up names it.
      if (code !== "ENOENT" && code !== "ENOTDIR") fail(shown, `${p}: ${(err as Error).message}`);
    }
    if (st !== undefined) {
      if (st.isSymbolicLink()) {
        try {
          st = statSync(p);
        } catch {
          fail(shown, `${p} is a dangling symlink (to ${readlinkSync(p)})`);
        }
      }
      if (!st.isDirectory()) {
        fail(shown, `${p} is ${st.isFile() ? "a file" : "not a regular folder"}, not a folder`);
      }
      break;
    }
    const parent = path.dirname(p);
    if (parent === p) fail(shown, "no part of the path exists");
    p = parent;
  }
  // `p` is the deepest folder that exists: the environment is made in (or under) it.
  try {
    const type = SPECIAL_FS[Number(statfsSync(p).type)];
    if (type !== undefined) fail(shown, `${p} is on ${type}, a kernel filesystem`);
  } catch (err) {
    if (err instanceof SlimenvError) throw err;
  }
  try {
    accessSync(p, constants.W_OK | constants.X_OK);
  } catch {
    fail(shown, `${p} is not writable`);
  }
}
