/**
 * Proving a native file still loads, in the target interpreter: an extension module is
 * imported (by its dotted name when it lies under the site directory, else from its file);
 * a plain shared library is opened with ctypes.CDLL — and when that fails on an undefined
 * symbol, again after its sibling libraries were opened with RTLD_GLOBAL (libraries that
 * expect another library's symbols to be global already). One process per file, so a crash
 * or a hang costs only that file.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { mapLimit } from "../../base/index.ts";
import { readElfInfo } from "../../elf/index.ts";
import { hostArch, normalizeArch } from "./tool.ts";

export interface LoadResult {
  file: string;
  status: "ok" | "failed" | "skipped";
  kind?: "extension" | "library";
  /** The error's last line (failed), or why it was not tried (skipped). */
  error?: string;
  /** The library loaded only with its siblings opened RTLD_GLOBAL. */
  global?: boolean;
}

export interface VerifyOptions {
  /** The site directory extension modules are imported from by dotted name. */
  siteDir?: string;
  /** Libraries to open RTLD_GLOBAL when a library misses symbols (default: the other files). */
  siblings?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Per file (default 60 s). */
  timeoutMs?: number;
  concurrency?: number;
  /** The architecture the interpreter runs (default: the host's); other files are skipped. */
  arch?: string;
}

const VERIFY_SCRIPT = `
import sys, os, json, ctypes, importlib, importlib.util, importlib.machinery, traceback
sys.dont_write_bytecode = True
path, site, siblings = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
suffixes = sorted(importlib.machinery.EXTENSION_SUFFIXES, key=len, reverse=True)
ext = next((s for s in suffixes if path.endswith(s)), None)
res = {"kind": "extension" if ext else "library"}
def load_extension():
    name = None
    if site and os.path.abspath(path).startswith(os.path.abspath(site) + os.sep):
        parts = os.path.relpath(path, site)[:-len(ext)].split(os.sep)
        if all(p.isidentifier() for p in parts):
            name = ".".join(parts)
    if name:
        sys.path.insert(0, site)
        importlib.import_module(name)
    else:
        spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-len(ext)], path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
def load_library():
    try:
        ctypes.CDLL(path)
    except OSError as e:
        if "undefined symbol" not in str(e):
            raise
        for s in siblings:
            try:
                ctypes.CDLL(s, mode=ctypes.RTLD_GLOBAL)
            except OSError:
                pass
        ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        res["global"] = True
try:
    if ext:
        try:
            load_extension()
        except ImportError as e:
            # A plain library named *.so: it loads, but is no Python module.
            if "module export function" not in str(e) and "PyInit_" not in str(e):
                raise
            res["kind"] = "library"
            load_library()
    else:
        load_library()
    res["ok"] = True
except BaseException as e:
    res["ok"] = False
    lines = traceback.format_exception_only(type(e), e)
    res["error"] = (lines[-1].strip() if lines else type(e).__name__)[:1000]
out.write(json.dumps(res))
out.flush()
os._exit(0)
`;

function verifyOne(
  interpreter: string,
  file: string,
  options: VerifyOptions,
  siblings: readonly string[],
): Promise<LoadResult> {
  return new Promise((resolve) => {
    const child = spawn(
      interpreter,
      ["-c", VERIFY_SCRIPT, file, options.siteDir ?? "", JSON.stringify(siblings)],
      { env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr = (stderr + c).slice(-4096);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? 60_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      resolve({ file, status: "failed", error: `cannot run ${interpreter}: ${err.message}` });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      try {
        const res = JSON.parse(stdout) as {
          kind: "extension" | "library";
          ok: boolean;
          error?: string;
          global?: boolean;
        };
        resolve({
          file,
          status: res.ok ? "ok" : "failed",
          kind: res.kind,
          ...(res.error === undefined ? {} : { error: res.error }),
          ...(res.global === true ? { global: true } : {}),
        });
      } catch {
        const how = timedOut
          ? "timed out"
          : signal !== null
            ? `killed by ${signal}`
            : code !== null && code > 128
              ? `killed by signal ${code - 128} (${Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0] ?? "?"})`
              : `exited with code ${code}`;
        const last = stderr.trim().split("\n").pop() ?? "";
        resolve({ file, status: "failed", error: last === "" ? how : `${how}: ${last}` });
      }
    });
  });
}

/** Load each file in `interpreter` (a python or an env's bin/python); results in input order. */
export async function verifyLoads(
  files: readonly string[],
  interpreter: string,
  options: VerifyOptions = {},
): Promise<LoadResult[]> {
  const arch = normalizeArch(options.arch ?? hostArch());
  return mapLimit(files, options.concurrency ?? 4, async (file): Promise<LoadResult> => {
    let info: ReturnType<typeof readElfInfo>;
    try {
      info = readElfInfo(file);
    } catch (err) {
      return { file, status: "failed", error: (err as Error).message };
    }
    if (info === undefined) return { file, status: "skipped", error: "not an ELF file" };
    if (info.arch !== arch) {
      return {
        file,
        status: "skipped",
        error: `built for ${info.arch}: cannot be loaded on ${arch}`,
      };
    }
    const siblings = (options.siblings ?? files).filter((f) => f !== file);
    return verifyOne(interpreter, file, options, siblings);
  });
}
