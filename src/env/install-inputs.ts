/**
 * What `slimenv install` was given, sorted by kind: a pylock.toml (used as is),
 * requirements.txt and pyproject.toml files (locked first), requirement strings and local
 * wheel files. Also the HTTP client and store every install and sync opens.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { SlimenvError } from "../base/index.ts";
import { isPylockFilename } from "../standards/pylock-types.ts";

export interface InstallInputs {
  /** requirements.txt files and pyproject.toml files, locked for the target first. */
  requirementFiles: string[];
  /** Requirement strings: `requests`, `numpy>=2`. */
  requirements: string[];
  /** Local wheel files (`./x-1.0-py3-none-any.whl`), imported straight into the store. */
  wheels: string[];
  /** Local source folders (`./mypkg`, with a pyproject.toml or setup.py): built first. */
  sourceDirs?: string[];
  /** `-e DIR`: local source folders installed editable (PEP 660), built first. */
  editableDirs?: string[];
  /** `name @ git+URL[@REV]` requirements: checked out and built first. */
  gitRequirements?: string[];
  /** A PEP 751 lock installed as it is (checked to be for the env's target). */
  lockFile?: string;
  constraintFiles?: string[];
  extras?: string[];
  groups?: string[];
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** A path argument (`./x`, `../x`, `/x`, `x/`) naming a folder with pyproject.toml or setup.py. */
function isSourceDir(arg: string, cwd: string): boolean {
  if (!/^(\.{1,2}(\/|$)|\/)|\/$/.test(arg)) return false;
  return isProjectDir(path.resolve(cwd, arg));
}

function isProjectDir(full: string): boolean {
  try {
    if (!statSync(full).isDirectory()) return false;
  } catch {
    return false;
  }
  return existsSync(path.join(full, "pyproject.toml")) || existsSync(path.join(full, "setup.py"));
}

/**
 * Sort positional arguments and `-r` files: `*.whl` → wheels, `pylock.toml` /
 * `pylock.NAME.toml` → the lock, other `*.toml` → pyproject files, an existing `*.txt`
 * file → a requirements file, anything else → a requirement string. A lock excludes every
 * other input. Nothing at all: `./pylock.toml` when it exists.
 */
export function classifyInstallArgs(
  args: readonly string[],
  requirementFiles: readonly string[],
  cwd: string,
  editable: readonly string[] = [],
): InstallInputs {
  const inputs: InstallInputs = { requirementFiles: [], requirements: [], wheels: [] };
  for (const dir of editable) {
    const full = path.resolve(cwd, dir);
    if (!isProjectDir(full)) {
      throw new SlimenvError(
        "INVALID_OPTION",
        `-e ${dir}: not a folder with a pyproject.toml or setup.py`,
        { hint: "-e takes a local project folder (editable VCS URLs are not supported)" },
      );
    }
    inputs.editableDirs = [...(inputs.editableDirs ?? []), full];
  }
  const locks: string[] = [];
  const file = (arg: string) => {
    if (isPylockFilename(arg)) locks.push(arg);
    else inputs.requirementFiles.push(arg);
  };
  for (const f of requirementFiles) file(f);
  for (const arg of args) {
    const lower = arg.toLowerCase();
    if (lower.endsWith(".whl")) {
      const full = path.resolve(cwd, arg);
      if (!isFile(full)) {
        throw new SlimenvError("IO_ERROR", `no wheel file ${arg}`, {
          hint: "name an existing .whl file, or a project name to install from the index",
        });
      }
      inputs.wheels.push(full);
    } else if (/^\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*@\s*git\+/.test(arg)) {
      inputs.gitRequirements = [...(inputs.gitRequirements ?? []), arg];
    } else if (isSourceDir(arg, cwd)) {
      inputs.sourceDirs = [...(inputs.sourceDirs ?? []), path.resolve(cwd, arg)];
    } else if (lower.endsWith(".toml")) file(arg);
    else if (lower.endsWith(".txt") && isFile(path.resolve(cwd, arg))) file(arg);
    else inputs.requirements.push(arg);
  }
  const others =
    inputs.requirementFiles.length +
    inputs.requirements.length +
    inputs.wheels.length +
    (inputs.sourceDirs?.length ?? 0) +
    (inputs.editableDirs?.length ?? 0) +
    (inputs.gitRequirements?.length ?? 0);
  if (locks.length > 1 || (locks.length === 1 && others > 0)) {
    throw new SlimenvError(
      "INVALID_OPTION",
      `a lock file (${locks[0]}) is installed as it is and cannot be combined with other inputs`,
      { hint: "lock everything into one pylock.toml, or install requirements without a lock" },
    );
  }
  const [lock] = locks;
  if (lock !== undefined) inputs.lockFile = lock;
  else if (others === 0) {
    if (!existsSync(path.join(cwd, "pylock.toml"))) {
      throw new SlimenvError("INVALID_OPTION", "nothing to install", {
        hint: "name packages, -r requirements.txt, pyproject.toml, pylock.toml or ./x.whl files",
      });
    }
    inputs.lockFile = "pylock.toml";
  }
  return inputs;
}
