/**
 * Where interpreters are looked for: interpreter-looking files on PATH (python3, python,
 * python3.X in each folder, in PATH order) and under pyenv ($PYENV_ROOT, default ~/.pyenv:
 * versions/<name>/bin/python3), and command names on PATH. discover.ts probes what it finds.
 */
import { constants } from "node:fs";
import { access, readdir, realpath, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** How an interpreter was found. */
export type InterpreterSource = "path" | "pyenv" | "explicit" | "command";

export interface Candidate {
  path: string;
  source: InterpreterSource;
}

export const IS_WINDOWS = process.platform === "win32";

function pathEntries(env: NodeJS.ProcessEnv): string[] {
  const value = env.PATH ?? env.Path ?? "";
  return value.split(path.delimiter).filter((d) => d !== "");
}

export async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const info = await stat(file);
    if (!info.isFile()) return false;
    await access(file, IS_WINDOWS ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const PATH_NAME = IS_WINDOWS ? /^python(3(\.\d+)?)?\.exe$/i : /^python(3(\.\d+)?)?$/;

/** Rank of a file name inside one PATH folder: python3, python, then python3.X newest first. */
function nameRank(name: string): [number, number] {
  const base = name.replace(/\.exe$/i, "");
  if (base === "python3") return [0, 0];
  if (base === "python") return [1, 0];
  const minor = Number(base.slice("python3.".length));
  return [2, -minor];
}

/** Interpreter-looking files on PATH, in PATH order. */
export async function pathCandidates(env: NodeJS.ProcessEnv): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for (const dir of pathEntries(env)) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    const matching = names.filter((n) => PATH_NAME.test(n));
    matching.sort((a, b) => {
      const [ra, ma] = nameRank(a);
      const [rb, mb] = nameRank(b);
      return ra - rb || ma - mb;
    });
    for (const name of matching) {
      const file = path.join(dir, name);
      if (await isExecutableFile(file)) out.push({ path: file, source: "path" });
    }
  }
  return out;
}

/** pyenv's root: $PYENV_ROOT, else ~/.pyenv. */
export function pyenvRoot(env: NodeJS.ProcessEnv): string {
  return env.PYENV_ROOT ? path.resolve(env.PYENV_ROOT) : path.join(homeDir(env), ".pyenv");
}

export function homeDir(env: NodeJS.ProcessEnv): string {
  return env.HOME ?? env.USERPROFILE ?? os.homedir();
}

export function compareVersionArrays(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** Interpreters installed by pyenv, newest version name first. */
export async function pyenvCandidates(env: NodeJS.ProcessEnv): Promise<Candidate[]> {
  const versions = path.join(pyenvRoot(env), "versions");
  let names: string[];
  try {
    names = await readdir(versions);
  } catch {
    return [];
  }
  const key = (n: string) => (/^\d+(\.\d+)*/.exec(n)?.[0] ?? "").split(".").map(Number);
  names.sort((a, b) => compareVersionArrays(key(b), key(a)) || (a < b ? -1 : a > b ? 1 : 0));
  const out: Candidate[] = [];
  for (const name of names) {
    const bin = IS_WINDOWS ? path.join(versions, name) : path.join(versions, name, "bin");
    for (const exe of IS_WINDOWS ? ["python.exe"] : ["python3", "python"]) {
      const file = path.join(bin, exe);
      if (await isExecutableFile(file)) {
        out.push({ path: file, source: "pyenv" });
        break;
      }
    }
  }
  return out;
}

/** Candidates on PATH then under pyenv, grouped by realpath (one probe per file), in order. */
export async function candidateGroups(env: NodeJS.ProcessEnv): Promise<Candidate[][]> {
  const raw = [...(await pathCandidates(env)), ...(await pyenvCandidates(env))];
  // The same file reached twice (symlinks, /bin → /usr/bin) is probed once.
  const groups = new Map<string, Candidate[]>();
  for (const c of raw) {
    const real = await realpath(c.path).catch(() => c.path);
    const group = groups.get(real);
    if (group) group.push(c);
    else groups.set(real, [c]);
  }
  return [...groups.values()];
}

/** The executable file `name` names on PATH (with `.exe` on Windows). */
export async function findCommand(
  name: string,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const exts = IS_WINDOWS ? ["", ".exe"] : [""];
  for (const dir of pathEntries(env)) {
    for (const ext of exts) {
      const file = path.join(dir, name + ext);
      if (await isExecutableFile(file)) return file;
    }
  }
  return undefined;
}
