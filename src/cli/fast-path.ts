/**
 * The no-op fast path of `install` and `sync`: a run whose inputs are exactly those of the
 * last successful run into the same environment, on an environment nobody changed since,
 * is answered from a fingerprint without loading the rest of slimenv, opening the store,
 * probing an interpreter or asking an index (uv and pip answer "already satisfied" the same
 * way). Small on purpose: the bundle's entry loads it before the CLI.
 *
 * The fingerprint (docs/environments.md, "The no-op fast path") covers:
 * - the command line as given (every argument, in order) and the working directory;
 * - slimenv's version;
 * - every `SLIMENV_*` variable and those that steer interpreter discovery and config files
 *   (PATH, HOME, XDG_*, PYENV_*, VIRTUAL_ENV, CONDA_PREFIX);
 * - the content of every file the command line names (requirements, constraints, pyproject,
 *   lock; a large file, a local wheel: its size, mtime and inode), and the mtime of every
 *   folder it names;
 * - the config files that could apply (slimenv.toml and pyproject.toml in the working
 *   directory and every parent, the user's slimenv.toml), present or not;
 * - for `sync`, the lock the env would be synced to (given, or the one its manifest names,
 *   or ./pylock.toml);
 * - the mtime of every PATH folder, pyenv's version files and versions folder (an interpreter
 *   that appears or goes changes what `--python 3.12` or the default finds);
 * and, recorded after the run: the environment's manifest file (its path through the current
 * generation, inode, size, mtime and ctime: any rebuild, by anyone, writes a new one) and the size, mtime, ctime and inode of the interpreter it was built
 * with (an interpreter upgraded in place changes them).
 *
 * It does not cover the index: a repeat `install` of unpinned requirements does not look for
 * newer releases (as pip and uv, it finds them already satisfied); `slimenv lock` does, and
 * `SLIMENV_NO_FAST_PATH=1` turns the fast path off. Runs that do more than install — `--json`,
 * `--slim`, `--keep-used-by`, `--recheck`, `--lock-out`, `--zip`, `--reinstall` — and inputs that name other
 * files from inside (`-r`, `-c`, `-e`, `-f`, `file:` and local paths in a requirements file;
 * `find-links` in a config file) never take it.
 */
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { cacheDir } from "../base/dirs.ts";

declare const SLIMENV_VERSION: string | undefined;

/** What a run computed before it started, to record once it has succeeded. */
export interface FastPathPending {
  command: "install" | "sync";
  dir: string;
  cwd: string;
  key: string;
  /** sync: the lock it syncs to. */
  lock?: string;
  /** `-q`: the no-op line is a summary, which -q silences. */
  quiet: boolean;
}

export interface FastPathRecord {
  dir: string;
  key: string;
  manifest: string;
  interpreter: string;
  /** The manifest's interpreter (so that the answer need not parse the manifest). */
  interpreterPath?: string;
  /** The sha256 of the lock the manifest says the env was built from, if any. */
  lockSha256?: string;
  message: string;
}

const NEVER = new Set([
  "--json",
  "--slim",
  "--keep-used-by",
  "--recheck",
  "--lock-out",
  "--zip",
  "--max-size",
  "-h",
  "--help",
  "--strict",
  "--reinstall",
]);
const GLOBAL_FLAGS = new Set(["-q", "--quiet", "-v", "--verbose"]);
const DIR_OPTIONS = new Set(["--prefix", "--target", "--venv"]);
const ENV_NAMES = /^(SLIMENV_|PYENV|XDG_)|^(PATH|HOME|VIRTUAL_ENV|CONDA_PREFIX)$/;
/** Lines of a requirements file that bring in other files, which the fingerprint would miss. */
const REFERS_ELSEWHERE =
  /^\s*(-r|-c|-e|-f|--requirement|--constraint|--editable|--find-links|\.|\/|~)|file:|find-links/m;
/** Files up to this size are compared by content (the record keeps it); larger ones by stat. */
const HASH_LIMIT = 256 << 10;

/**
 * sha256, loading node:crypto only when needed: the answer itself compares what it read with
 * what was recorded, byte for byte, and never loads it (a few milliseconds of start-up).
 */
function sha256(data: string | Uint8Array): string {
  const crypto = process.getBuiltinModule("node:crypto") as typeof import("node:crypto");
  return crypto.createHash("sha256").update(data).digest("hex");
}

/** FNV-1a (32-bit, twice with two seeds): a file name for the record of an env folder. */
function nameOf(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193) >>> 0;
  }
  return `${a.toString(16).padStart(8, "0")}${b.toString(16).padStart(8, "0")}`;
}

function statSig(file: string): string {
  try {
    const st = statSync(file);
    return `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;
  } catch {
    return "-";
  }
}

/** The env folder and command of an eligible run, or undefined. */
function parseArgv(
  argv: string[],
): { command: "install" | "sync"; dir: string; lock?: string } | undefined {
  let i = 0;
  while (i < argv.length && GLOBAL_FLAGS.has(argv[i] as string)) i++;
  const command = argv[i];
  if (command !== "install" && command !== "sync") return undefined;
  if (argv.some((a) => NEVER.has(a.split("=")[0] as string))) return undefined;
  const rest = argv.slice(i + 1);
  if (command === "sync") {
    // global flags may come after the command too
    const args = rest.filter((a) => !GLOBAL_FLAGS.has(a));
    const [dir, lock, ...more] = args.filter((a) => !a.startsWith("-"));
    if (dir === undefined || more.length > 0 || args.some((a) => a.startsWith("-"))) {
      return undefined; // index options and the like: the full path reads them
    }
    return lock === undefined ? { command, dir } : { command, dir, lock };
  }
  const dirs: string[] = [];
  rest.forEach((a, j) => {
    const [name, value] = a.split("=", 2) as [string, string | undefined];
    if (!DIR_OPTIONS.has(name)) return;
    const v = value ?? rest[j + 1];
    if (v !== undefined) dirs.push(v);
  });
  return dirs.length === 1 ? { command, dir: dirs[0] as string } : undefined;
}

/** Adds `file` (content, or a signature when large or not a regular file) to the hash. */
function addFile(parts: string[], file: string, mustBeSelfContained: boolean): boolean {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(file);
  } catch {
    parts.push(`${file}:-`);
    return true;
  }
  if (st.isDirectory()) {
    parts.push(`${file}:dir:${st.mtimeMs}:${st.ino}`);
    return true;
  }
  if (!st.isFile() || st.size > HASH_LIMIT || file.endsWith(".whl")) {
    parts.push(`${file}:${statSig(file)}`);
    return true;
  }
  const data = readFileSync(file);
  const text = data.includes(0) ? undefined : data.toString("utf8"); // a binary refers nowhere
  if (mustBeSelfContained && text !== undefined && REFERS_ELSEWHERE.test(text)) return false;
  parts.push(`${file}:${text === undefined ? data.toString("base64") : JSON.stringify(text)}`);
  return true;
}

export function manifestFile(dir: string): string {
  return path.join(dir, ".slimenv", "manifest.json");
}

/**
 * The manifest file as it is on disk: its real path (through the current generation), inode,
 * size, mtime and ctime. slimenv writes a manifest only as a new file (never in place), so any
 * rebuild — by any process — changes this.
 */
export function manifestSig(dir: string): string {
  const real = realpathSync(manifestFile(dir));
  return `${real}:${statSig(real)}`;
}

export function recordFile(dir: string, env: NodeJS.ProcessEnv): string {
  return path.join(cacheDir("fast-path", env), `${nameOf(dir)}.json`);
}

function version(): string {
  return typeof SLIMENV_VERSION === "string" ? SLIMENV_VERSION : "source";
}

/** The fingerprint of this run's inputs, or undefined when the run is not eligible. */
export function fastPathStart(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): FastPathPending | undefined {
  if (env.SLIMENV_NO_FAST_PATH) return undefined;
  const parsed = parseArgv(argv);
  if (parsed === undefined) return undefined;
  const dir = path.resolve(cwd, parsed.dir);
  try {
    const parts: string[] = [version(), cwd, JSON.stringify(argv)];
    for (const name of Object.keys(env).sort()) {
      if (ENV_NAMES.test(name)) parts.push(`${name}=${env[name]}`);
    }
    for (const a of argv) {
      const value = a.startsWith("-") ? a.split("=", 2)[1] : a;
      if (value === undefined || value === "") continue;
      const file = path.resolve(cwd, value);
      if (file === dir) continue;
      if (!addFile(parts, file, true)) return undefined;
    }
    for (let d = cwd; ; d = path.dirname(d)) {
      for (const name of ["slimenv.toml", "pyproject.toml"]) {
        if (!addFile(parts, path.join(d, name), true)) return undefined;
      }
      if (path.dirname(d) === d) break;
    }
    const xdg = env.XDG_CONFIG_HOME;
    const home = env.HOME ?? "";
    const userConfig = path.join(
      xdg && path.isAbsolute(xdg) ? xdg : path.join(home, ".config"),
      "slimenv",
      "slimenv.toml",
    );
    if (!addFile(parts, userConfig, true)) return undefined;
    let lock: string | undefined;
    if (parsed.command === "sync") {
      // The lock sync() would read: the one given, else the manifest's when it exists, else ./pylock.toml.
      if (parsed.lock !== undefined) {
        lock = path.resolve(cwd, parsed.lock);
      } else {
        let manifest: { lock?: { path?: string } } | undefined;
        try {
          manifest = JSON.parse(readFileSync(manifestFile(dir), "utf8"));
        } catch {
          return undefined;
        }
        const recorded = manifest?.lock?.path;
        lock =
          recorded !== undefined && existsSync(recorded) ? recorded : path.join(cwd, "pylock.toml");
      }
      parts.push(`lock:${lock}`);
      addFile(parts, lock, false);
    }
    for (const p of (env.PATH ?? "").split(path.delimiter)) {
      if (p !== "") parts.push(`path:${p}:${statSig(p)}`);
    }
    const pyenv = env.PYENV_ROOT ?? path.join(home, ".pyenv");
    for (const p of [path.join(pyenv, "version"), path.join(pyenv, "versions")]) {
      parts.push(`pyenv:${p}:${statSig(p)}`);
    }
    for (let d = cwd; ; d = path.dirname(d)) {
      parts.push(`pv:${d}:${statSig(path.join(d, ".python-version"))}`);
      if (path.dirname(d) === d) break;
    }
    const key = parts.join("\n");
    const quiet = argv.some((a) => a === "-q" || a === "--quiet");
    return {
      command: parsed.command,
      dir,
      cwd,
      key,
      quiet,
      ...(lock === undefined ? {} : { lock }),
    };
  } catch {
    return undefined;
  }
}

export function interpreterSig(manifest: { interpreter?: string }): string {
  if (manifest.interpreter === undefined) return "none";
  try {
    return statSig(realpathSync(manifest.interpreter));
  } catch {
    return "-";
  }
}

/**
 * Answer the run from its fingerprint when the last successful run had the same one and
 * the environment is as it left it: prints what the full run prints for a no-op, returns true.
 */
export function fastPathAnswer(
  pending: FastPathPending | undefined,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (pending === undefined) return false;
  // the recorded fingerprint first: it hashes nothing (node:crypto stays unloaded)
  if (recordedNoOp(pending, env)) return true;
  return pending.command === "sync" && syncIsNoOp(pending, env);
}

/** The last successful run had this fingerprint and left the env as it is: say so, true. */
function recordedNoOp(pending: FastPathPending, env: NodeJS.ProcessEnv): boolean {
  try {
    const record = JSON.parse(readFileSync(recordFile(pending.dir, env), "utf8")) as FastPathRecord;
    if (record.dir !== pending.dir || record.key !== pending.key) return false;
    if (manifestSig(pending.dir) !== record.manifest) return false;
    // The same manifest file as recorded: the same interpreter path.
    const python =
      record.interpreterPath === undefined ? {} : { interpreter: record.interpreterPath };
    if (interpreterSig(python) !== record.interpreter) return false;
    if (!pending.quiet) process.stdout.write(`${record.message}\n`);
    return true;
  } catch {
    return false;
  }
}

/**
 * `sync DIR LOCK` on an env its manifest says was built from exactly this lock (same sha256),
 * for an interpreter not changed since (its ctime older than the manifest; or a spec target):
 * sync would plan the same packages with the env's own settings and change nothing. The same
 * answer as a recorded fingerprint, for the first sync after an install from the lock.
 */
function syncIsNoOp(pending: FastPathPending, env: NodeJS.ProcessEnv): boolean {
  if (pending.lock === undefined) return false;
  try {
    const file = manifestFile(pending.dir);
    const facts = manifestFacts(pending.dir, env);
    const lockSha = facts.lockSha256;
    if (lockSha === undefined || lockSha !== sha256(readFileSync(pending.lock))) return false;
    if (facts.interpreter !== undefined) {
      const built = statSync(file).mtimeMs;
      const python = statSync(realpathSync(facts.interpreter));
      if (python.ctimeMs >= built || python.mtimeMs >= built) return false;
    }
    const shown = path.relative(pending.cwd, pending.dir) || ".";
    const lock = path.relative(pending.cwd, pending.lock) || pending.lock;
    if (!pending.quiet) process.stdout.write(`${shown} already matches ${lock}; nothing changed\n`);
    return true;
  } catch {
    return false;
  }
}

/** What `sync`'s no-op answer needs of an env's manifest, and where it came from. */
export interface ManifestFacts {
  interpreter: string | undefined;
  lockSha256: string | undefined;
  from: "record" | "manifest";
}

/**
 * The interpreter and lock sha256 of the env in `dir`: from the record of the last run into
 * it while the manifest is the very file that run left (its path, inode, size and times), else
 * from the manifest itself. A manifest lists every file of the env (1.7 MB of JSON for the web
 * set of docs/benchmarks.md): parsing it was most of a no-op sync's time over Node's start-up.
 * Throws when neither can be read.
 */
export function manifestFacts(dir: string, env: NodeJS.ProcessEnv = process.env): ManifestFacts {
  try {
    const record = JSON.parse(readFileSync(recordFile(dir, env), "utf8")) as FastPathRecord;
    if (
      record.dir === dir &&
      typeof record.lockSha256 === "string" &&
      record.manifest === manifestSig(dir)
    ) {
      return { interpreter: record.interpreterPath, lockSha256: record.lockSha256, from: "record" };
    }
  } catch {
    // no record, or not for this manifest: read the manifest
  }
  const manifest = JSON.parse(readFileSync(manifestFile(dir), "utf8")) as {
    interpreter?: string;
    lock?: { sha256?: string };
  };
  return { interpreter: manifest.interpreter, lockSha256: manifest.lock?.sha256, from: "manifest" };
}
