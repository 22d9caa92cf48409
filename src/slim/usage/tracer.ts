/**
 * The usage tracer of `--keep-used-by CMD`: the user's command runs in a candidate tree with a
 * `.pth` hook that, in every Python process of the env (children included, as they read the
 * same `.pth`), records the files it touched: the modules in sys.modules (`__file__`), every
 * file opened (the `open` audit event, which the import system raises for each source and
 * .pyc too), every path in the tree whose existence or kind Python code asked about
 * (`os.stat`, `os.lstat`, `os.access` — behind `os.path.exists`, `isfile`, `shutil.which`,
 * pathlib — which raise no audit event: torch checks for its `bin/torch_shm_manager` that way
 * at import; the wrappers keep the originals' names and `os.supports_*` entries, so pickling
 * `os.stat` and `shutil.rmtree`'s fd-based walk still work), and every file mapped
 * (`/proc/self/maps` at exit: extension modules and the libraries they load). One JSON file
 * per process goes to the directory named by `SLIMENV_TRACE_DIR`; the union is the usage.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, realpath, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { writeFileAtomic } from "../../base/atomic-write.ts";
import { SlimenvError } from "../../base/index.ts";
import { envActivation } from "../../env/run.ts";
import type { EnvManifest } from "../../env/types.ts";

export const TRACE_MODULE_NAME = "_slimenv_trace.py";
export const TRACE_PTH_NAME = "_slimenv_trace.pth";

/** The tracer: inert unless SLIMENV_TRACE_DIR is set. */
export const TRACE_MODULE_TEXT = `import os, sys
_dir = os.environ.get("SLIMENV_TRACE_DIR")
if _dir:
    import atexit, json
    _seen = set()
    def _hook(event, args):
        if event == "open" and args and isinstance(args[0], (str, bytes)):
            p = args[0]
            if isinstance(p, bytes):
                p = os.fsdecode(p)
            _seen.add(p)
    sys.addaudithook(_hook)
    _roots = tuple(r.rstrip("/") + "/" for r in os.environ.get("SLIMENV_TRACE_ROOTS", "").split(os.pathsep) if r)
    def _asked(fn):
        def wrapper(path, *args, **kwargs):
            if _roots and isinstance(path, (str, bytes, os.PathLike)):
                try:
                    p = os.fsdecode(os.fspath(path))
                    if not p.startswith("/"):
                        p = os.path.join(os.getcwd(), p)
                    if p.startswith(_roots):
                        _seen.add(p)
                except (TypeError, ValueError, OSError):
                    pass
            return fn(path, *args, **kwargs)
        wrapper.__name__ = fn.__name__
        wrapper.__qualname__ = fn.__name__
        wrapper.__module__ = "os"
        wrapper.__doc__ = fn.__doc__
        wrapper.__wrapped__ = fn
        for group in ("supports_dir_fd", "supports_fd", "supports_follow_symlinks", "supports_effective_ids"):
            members = getattr(os, group, None)
            if isinstance(members, set) and fn in members:
                members.add(wrapper)
        return wrapper
    os.stat = _asked(os.stat)
    os.lstat = _asked(os.lstat)
    os.access = _asked(os.access)
    def _dump():
        files = set(_seen)
        for m in list(sys.modules.values()):
            f = getattr(m, "__file__", None)
            if isinstance(f, str):
                files.add(f)
        try:
            with open("/proc/self/maps") as maps:
                for line in maps:
                    parts = line.split(None, 5)
                    if len(parts) == 6 and parts[5].startswith("/"):
                        files.add(parts[5].strip())
        except OSError:
            pass
        cwd = os.getcwd()
        out = sorted(os.path.join(cwd, f) for f in files)
        name = os.path.join(_dir, "%d-%s.json" % (os.getpid(), os.urandom(4).hex()))
        with open(name + ".tmp", "w") as fh:
            json.dump({"pid": os.getpid(), "files": out}, fh)
        os.rename(name + ".tmp", name)
    atexit.register(_dump)
`;

export interface CommandOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `command` (a shell command line) with the tree at `dir` active. */
export function runCommandIn(
  dir: string,
  manifest: EnvManifest,
  command: string,
  options: { env?: NodeJS.ProcessEnv; cwd?: string; extraEnv?: Record<string, string> } = {},
): Promise<CommandOutcome> {
  const env = { ...envActivation(dir, manifest, options.env ?? process.env), ...options.extraEnv };
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", command], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (cause) =>
      reject(new SlimenvError("IO_ERROR", `cannot run ${command}: ${cause.message}`, { cause })),
    );
    child.on("close", (code, signal) =>
      resolve({
        code: code ?? 128 + (signal === null ? 0 : 1),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      }),
    );
  });
}

export interface TraceResult extends CommandOutcome {
  /** Absolute paths (as the processes saw them) of every file touched, union of processes. */
  files: string[];
  /** How many Python processes reported. */
  processes: number;
}

/** Run `command` in the tree at `dir` with the tracer in `siteDir` (removed after). */
/**
 * Where a stat'ed path is worth recording: the tree, its site dir and the store trees of
 * link mode `pth`, as given and as real paths (everything else would only fill the trace).
 */
async function traceRoots(dir: string, site: string, manifest: EnvManifest): Promise<string> {
  const given = [
    dir,
    site,
    ...manifest.packages.flatMap((p) => (p.tree === undefined ? [] : [p.tree])),
  ];
  const real = await Promise.all(given.map((p) => realpath(p).catch(() => p)));
  return [...new Set([...given, ...real])].join(path.delimiter);
}

export async function traceCommand(
  dir: string,
  manifest: EnvManifest,
  command: string,
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<TraceResult> {
  const site = path.join(dir, manifest.scheme.purelib);
  const moduleFile = path.join(site, TRACE_MODULE_NAME);
  const pthFile = path.join(site, TRACE_PTH_NAME);
  const traceDir = await mkdtemp(path.join(tmpdir(), "slimenv-trace-"));
  try {
    // New files renamed into place: a path that is a hard link into the store is replaced.
    await writeFileAtomic(moduleFile, TRACE_MODULE_TEXT, { fsync: false });
    await writeFileAtomic(pthFile, "import _slimenv_trace\n", { fsync: false });
    const outcome = await runCommandIn(dir, manifest, command, {
      ...options,
      extraEnv: {
        SLIMENV_TRACE_DIR: traceDir,
        SLIMENV_TRACE_ROOTS: await traceRoots(dir, site, manifest),
        PYTHONDONTWRITEBYTECODE: "1",
      },
    });
    const files = new Set<string>();
    let processes = 0;
    for (const name of await readdir(traceDir)) {
      if (!name.endsWith(".json")) continue;
      const data = JSON.parse(await readFile(path.join(traceDir, name), "utf8")) as {
        files: string[];
      };
      processes++;
      for (const f of data.files) files.add(f);
    }
    return { ...outcome, files: [...files].sort(), processes };
  } finally {
    await rm(moduleFile, { force: true });
    await rm(pthFile, { force: true });
    await rm(traceDir, { recursive: true, force: true });
  }
}

export interface SiteUsage {
  /** Site-relative paths of the files touched, as rule paths (sources for their .pyc). */
  used: string[];
  /** Bytes of the touched files in the site dir (the floor). */
  floorBytes: number;
}

/** A touched site path as the rule path of the file it stands for. */
export function usedRulePaths(rel: string): string[] {
  const cached = /^(.*?)(?:^|\/)__pycache__\/([^/.]+)\.[^/]+\.pyc$/.exec(rel);
  if (cached !== null) {
    const dir = cached[1] ?? "";
    return [rel, `${dir === "" ? "" : `${dir}/`}${cached[2]}.py`];
  }
  if (rel.endsWith(".pyc")) return [rel, `${rel.slice(0, -1)}`];
  return [rel];
}

/** Map the touched absolute paths onto the site dir of the tree (following symlinks). */
export async function siteUsage(site: string, touched: readonly string[]): Promise<SiteUsage> {
  const byPath = new Map<string, { rel: string; size: number }>();
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) {
        await walk(full);
        continue;
      }
      const rel = path.relative(site, full).split(path.sep).join("/");
      const info = await stat(full).catch(() => undefined);
      if (info === undefined || !info.isFile()) continue;
      const entry = { rel, size: info.size };
      byPath.set(full, entry);
      const real = await realpath(full).catch(() => full);
      if (!byPath.has(real)) byPath.set(real, entry);
    }
  };
  await walk(site);
  const used = new Set<string>();
  let floorBytes = 0;
  const counted = new Set<string>();
  for (const raw of touched) {
    let p = path.normalize(raw);
    const zip = /^(.*?\.zip)\/(.+)$/.exec(p);
    if (zip !== null && byPath.has(zip[1] ?? "")) {
      for (const r of usedRulePaths(zip[2] ?? "")) used.add(r);
      p = zip[1] ?? p;
    }
    let entry = byPath.get(p);
    if (entry === undefined) {
      const real = await realpath(p).catch(() => undefined);
      if (real !== undefined) entry = byPath.get(real);
    }
    if (entry === undefined) continue;
    for (const r of usedRulePaths(entry.rel)) used.add(r);
    if (!counted.has(entry.rel)) {
      counted.add(entry.rel);
      floorBytes += entry.size;
    }
  }
  return { used: [...used].sort(), floorBytes };
}

/** Apparent bytes of every file under `dir`. */
export async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) total += await treeBytes(full);
    else if (e.isFile()) total += (await stat(full)).size;
  }
  return total;
}
