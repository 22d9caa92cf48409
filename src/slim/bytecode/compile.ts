/**
 * Compiling .py files to .pyc with an interpreter of the target's Python version, in one
 * process per batch (never one per file).
 *
 * The .pyc are reproducible: unchecked-hash pycs (PEP 552: flags = 1, the source's siphash,
 * so no timestamp), compiled with PYTHONHASHSEED=0 (frozenset constants marshal in a fixed
 * order), with a fixed `co_filename` — the path relative to the site dir (`pkg/mod.py`), so
 * a traceback from a sourceless module names an env-relative path, and the same source at
 * the same place gives the same bytes on any machine. Python 3.6 has no hash-based pycs: its
 * header gets mtime 0 (fine for sourceless pycs, which nothing checks).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Reporter, SlimenvError, silentReporter } from "../../base/index.ts";
import { findInterpreter } from "../../python/discover.ts";
import type { InterpreterProbe } from "../../python/probe-types.ts";
import { runProcess } from "../../python/process.ts";
import type { Target } from "../../python/target.ts";

export interface CompileJob {
  /** The .py file to read. */
  source: string;
  /** The name compiled into the code object (`co_filename`): site-relative. */
  dfile: string;
  /** Where to write the .pyc. */
  out: string;
}

export interface PycCompiler {
  /** The interpreter that compiles. */
  python: string;
  /** importlib.util.MAGIC_NUMBER as hex. */
  magic: string;
  /** sys.implementation.cache_tag, e.g. cpython-312 (names __pycache__ files). */
  cacheTag: string;
  version: [number, number, number];
  /** How many compiler processes ran (tests count them). */
  readonly runs: number;
  /** Compile every job in one process; per job: undefined, or why it failed (SyntaxError…). */
  compile(jobs: readonly CompileJob[]): Promise<(string | undefined)[]>;
}

const SCRIPT = `
import sys, json, marshal, importlib.util
jobs = json.load(open(sys.argv[1], encoding="utf-8"))
magic = importlib.util.MAGIC_NUMBER
hashed = sys.version_info >= (3, 7)
out = []
for job in jobs:
    try:
        with open(job["source"], "rb") as f:
            data = f.read()
        code = compile(data, job["dfile"], "exec", dont_inherit=True, optimize=0)
        if hashed:
            head = magic + (1).to_bytes(4, "little") + importlib.util.source_hash(data)
        else:
            head = magic + (0).to_bytes(4, "little") + (len(data) & 0xFFFFFFFF).to_bytes(4, "little")
        with open(job["out"], "wb") as f:
            f.write(head + marshal.dumps(code))
        out.append(None)
    except Exception as e:
        out.append("%s: %s" % (type(e).__name__, e))
sys.stdout.write(json.dumps(out))
`;

/** Compile timeout: generous, the batch may hold every module of a big environment. */
const COMPILE_TIMEOUT_MS = 30 * 60 * 1000;

/** A compiler running `python` (whose probe is given). */
export function pycCompiler(python: string, probe: InterpreterProbe): PycCompiler {
  const magic = probe.magicNumber;
  const cacheTag = probe.cacheTag ?? probe.implementation.cacheTag;
  if (magic === null || cacheTag === null) {
    throw new SlimenvError(
      "INTERPRETER_PROBE_FAILED",
      `${python} reports no bytecode magic number or cache tag; it cannot compile .pyc files`,
    );
  }
  let runs = 0;
  return {
    python,
    magic,
    cacheTag,
    version: probe.version,
    get runs() {
      return runs;
    },
    async compile(jobs) {
      if (jobs.length === 0) return [];
      runs++;
      const dir = await mkdtemp(path.join(tmpdir(), "slimenv-pyc-"));
      try {
        const list = path.join(dir, "jobs.json");
        await writeFile(list, JSON.stringify(jobs));
        const res = await runProcess(python, ["-s", "-S", "-B", "-c", SCRIPT, list], {
          env: { PYTHONHASHSEED: "0", PYTHONIOENCODING: "utf-8" },
          timeoutMs: COMPILE_TIMEOUT_MS,
        });
        let results: unknown;
        try {
          results = res.status === 0 ? JSON.parse(res.stdout) : undefined;
        } catch {
          results = undefined;
        }
        if (!Array.isArray(results) || results.length !== jobs.length) {
          const why = res.error?.message ?? (res.timedOut ? "timed out" : res.stderr.trim());
          throw new SlimenvError(
            "SLIM_FAILED",
            `compiling ${jobs.length} modules with ${python} failed: ${why.split("\n").pop() ?? ""}`,
            { detail: res.stderr.slice(-4000) },
          );
        }
        return results.map((r) => (typeof r === "string" ? r : undefined));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

export interface FindCompilerOptions {
  env?: NodeJS.ProcessEnv;
  reporter?: Reporter;
  cwd?: string;
}

/**
 * An interpreter of the target's Python version (implementation, major.minor) on this
 * machine, as a compiler. INTERPRETER_NOT_FOUND with a hint when there is none (a cross
 * target whose version is not installed): only `--bytecode source` works then.
 */
export async function findPycCompiler(
  target: Target,
  options: FindCompilerOptions = {},
): Promise<PycCompiler> {
  const [major, minor] = target.pythonVersion;
  const impl = target.implementation === "pp" ? "pypy" : "cpython";
  const request = `${impl}@${major}.${minor}`;
  let found: Awaited<ReturnType<typeof findInterpreter>>;
  try {
    found = await findInterpreter(request, {
      ...(options.env === undefined ? {} : { env: options.env }),
      reporter: options.reporter ?? silentReporter,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
  } catch (cause) {
    throw new SlimenvError(
      "INTERPRETER_NOT_FOUND",
      `bytecode for the target's Python ${major}.${minor} needs a ${impl} ${major}.${minor} on this machine to compile with, and there is none`,
      {
        cause,
        hint: `install one (e.g. pyenv install ${major}.${minor}), or use --bytecode source`,
      },
    );
  }
  const compiler = pycCompiler(found.executable, found.probe);
  if (target.pycMagic !== undefined && target.pycMagic !== compiler.magic) {
    throw new SlimenvError(
      "INTERPRETER_NOT_FOUND",
      `${found.executable} writes bytecode with magic ${compiler.magic}, the target expects ${target.pycMagic}`,
      { hint: "compile with the target's exact Python build, or use --bytecode source" },
    );
  }
  return compiler;
}
