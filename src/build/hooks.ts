/**
 * Running PEP 517 hooks: one subprocess of the build interpreter per hook, in the source
 * folder, with the build env on its path (a `sitecustomize.py` on PYTHONPATH, as pip does it,
 * so the backend's own child Pythons see the same env), a time-out that kills the whole
 * process group, and everything it prints appended to the build's log file. The hook's
 * answer comes back as JSON in a file, never through stdout (backends print freely).
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type Reporter, SlimenvError } from "../base/index.ts";

/** The hook runner (Python ≥ 3.6, standard library only). */
export const HOOK_RUNNER = `
import importlib, json, os, sys, traceback

def main():
    req_file = sys.argv[1]
    with open(req_file) as f:
        req = json.load(f)
    out = {}
    def answer(**kw):
        with open(req["result"], "w") as f:
            json.dump(kw, f)
    backend_path = [os.path.abspath(p) for p in req.get("backendPath") or []]
    for p in reversed(backend_path):
        sys.path.insert(0, p)
    mod_name, _, obj = req["backend"].partition(":")
    try:
        backend = importlib.import_module(mod_name.strip())
    except ImportError as e:
        traceback.print_exc()
        answer(error="backend-unavailable", message="cannot import the build backend %s: %s" % (mod_name, e))
        return 3
    if backend_path:
        where = os.path.abspath(getattr(backend, "__file__", "") or "")
        if not any(where.startswith(p + os.sep) or where == p for p in backend_path):
            answer(error="backend-invalid", message="the backend %s was not loaded from backend-path (%s)" % (mod_name, where))
            return 3
    try:
        for attr in [a for a in obj.strip().split(".") if a]:
            backend = getattr(backend, attr)
    except AttributeError as e:
        answer(error="backend-unavailable", message="the build backend has no %s: %s" % (obj, e))
        return 3
    hook = getattr(backend, req["hook"], None)
    if hook is None:
        answer(missing=True)
        return 0
    cs = req.get("configSettings") or None
    name = req["hook"]
    if name in ("get_requires_for_build_wheel", "get_requires_for_build_editable"):
        value = list(hook(cs))
    elif name == "prepare_metadata_for_build_wheel":
        value = hook(req["metadataDirectory"], cs)
    elif name in ("build_wheel", "build_editable"):
        value = hook(req["wheelDirectory"], cs, req.get("metadataDirectory"))
    else:
        answer(error="unknown-hook", message=name)
        return 3
    answer(value=value)
    return 0

sys.exit(main())
`;

export type HookName =
  | "get_requires_for_build_wheel"
  | "prepare_metadata_for_build_wheel"
  | "build_wheel"
  | "get_requires_for_build_editable"
  | "build_editable";

export interface HookRequest {
  hook: HookName;
  /** The interpreter that runs the backend. */
  python: string;
  /** The source folder (the hook's working directory). */
  sourceDir: string;
  backend: string;
  backendPath?: string[];
  configSettings?: Record<string, string | string[]>;
  wheelDirectory?: string;
  metadataDirectory?: string;
  /** A folder for the runner's own files (request, answer, runner script). */
  workDir: string;
  /** The build env: PYTHONPATH entries (its sitecustomize folder) and PATH entries. */
  pythonPath: string[];
  binPath: string[];
  /** Drop the interpreter's own site-packages (build isolation). */
  isolated: boolean;
  /**
   * Extra environment (size flags: CFLAGS, LDFLAGS, RUSTFLAGS…) over `process.env`; the build
   * frontend passes its whole base environment here (the request's, with the flags).
   */
  env: NodeJS.ProcessEnv;
  /** The log every line of output is appended to. */
  logFile: string;
  timeoutMs: number;
  /** What the error messages call the package ("demo 1.0"). */
  label: string;
  reporter: Reporter;
}

export type HookResult = { missing: true } | { missing: false; value: unknown };

/** The last `n` lines of a log file, for an error's detail. */
export function logTail(file: string, n = 25): string {
  try {
    const lines = readFileSync(file, "utf8").replace(/\s+$/, "").split("\n");
    return lines.slice(-n).join("\n");
  } catch {
    return "";
  }
}

function failure(req: HookRequest, why: string, timeout = false): SlimenvError {
  return new SlimenvError(
    timeout ? "BUILD_TIMEOUT" : "BUILD_FAILED",
    `building ${req.label} failed: ${why} (the whole log: ${req.logFile})`,
    {
      detail: logTail(req.logFile),
      hint: timeout
        ? "raise --build-timeout SECONDS, or install a wheel of it"
        : "read the log; a missing compiler or system library is the usual cause (or use a wheel: --only-binary)",
    },
  );
}

/** Run one hook; BUILD_FAILED / BUILD_TIMEOUT (log kept) when it fails. */
export async function runHook(req: HookRequest): Promise<HookResult> {
  const runner = path.join(req.workDir, "slimenv_hook_runner.py");
  writeFileSync(runner, HOOK_RUNNER);
  const requestFile = path.join(req.workDir, `${req.hook}.json`);
  const resultFile = path.join(req.workDir, `${req.hook}.result.json`);
  writeFileSync(
    requestFile,
    JSON.stringify({
      hook: req.hook,
      backend: req.backend,
      backendPath: (req.backendPath ?? []).map((p) => path.resolve(req.sourceDir, p)),
      configSettings: req.configSettings ?? {},
      wheelDirectory: req.wheelDirectory,
      metadataDirectory: req.metadataDirectory,
      result: resultFile,
    }),
  );
  const base: NodeJS.ProcessEnv = { ...process.env, ...req.env };
  for (const k of Object.keys(base)) {
    if (k === "PYTHONHOME" || k === "PYTHONSTARTUP" || k === "PYTHONSAFEPATH") delete base[k];
  }
  const env: NodeJS.ProcessEnv = {
    ...base,
    PYTHONPATH: req.pythonPath.join(path.delimiter),
    PYTHONNOUSERSITE: req.isolated ? "1" : (base.PYTHONNOUSERSITE ?? ""),
    PATH: [...req.binPath, base.PATH ?? "/usr/bin:/bin"].join(path.delimiter),
    PYTHONUNBUFFERED: "1",
    SLIMENV_BUILD_ISOLATED: req.isolated ? "1" : "0",
  };
  if (env.PYTHONNOUSERSITE === "") delete env.PYTHONNOUSERSITE;
  const log = openSync(req.logFile, "a");
  writeFileSync(log, `\n== ${req.hook} (${req.backend}) in ${req.sourceDir}\n`);
  const task = req.reporter.task(`build ${req.label}: ${req.hook}`);
  let timedOut = false;
  let code: number | null;
  try {
    code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(req.python, [runner, requestFile], {
        cwd: req.sourceDir,
        env,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      let partial = "";
      const onData = (chunk: Buffer) => {
        writeFileSync(log, chunk);
        const text = partial + chunk.toString("utf8");
        const lines = text.split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) {
          if (line.trim() !== "") req.reporter.log("debug", `${req.label}: ${line}`);
        }
        task.advance(lines.length);
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
        } catch {
          child.kill("SIGKILL");
        }
      }, req.timeoutMs);
      child.on("error", (err) => {
        clearTimeout(timer);
        reject(
          new SlimenvError("BUILD_FAILED", `cannot run ${req.python} to build ${req.label}`, {
            cause: err,
          }),
        );
      });
      child.on("close", (exit) => {
        clearTimeout(timer);
        resolve(exit);
      });
    });
  } finally {
    closeSync(log);
    task.done();
  }
  if (timedOut) {
    throw failure(req, `${req.hook} ran longer than ${Math.round(req.timeoutMs / 1000)} s`, true);
  }
  let answer: { missing?: boolean; value?: unknown; error?: string; message?: string } = {};
  try {
    answer = JSON.parse(readFileSync(resultFile, "utf8"));
  } catch {
    // no answer: the hook raised or the process died
  }
  if (answer.error !== undefined) throw failure(req, answer.message ?? answer.error);
  if (code !== 0) throw failure(req, `${req.hook} exited with status ${code ?? "killed"}`);
  if (answer.missing === true) return { missing: true };
  if (!("value" in answer)) throw failure(req, `${req.hook} gave no answer`);
  return { missing: false, value: answer.value };
}
