/**
 * Checking a runtime copy: it starts, its sys.prefix is its own folder, it maps its own
 * libpython, it imports a fixed module set and every lib-dynload extension the original
 * imports, and (where sources ship) tracebacks and inspect show source lines.
 */
import path from "node:path";
import { SlimenvError } from "../base/index.ts";
import { runProcess } from "../python/process.ts";
import { CHECK_SCRIPT, SCRIPT_MARK } from "./python-scripts.ts";

/** The modules every copy must import (those the original imports). */
export const MODULE_SET: readonly string[] = [
  "json",
  "decimal",
  "sqlite3",
  "ssl",
  "asyncio",
  "email.message",
  "xml.etree.ElementTree",
  "ctypes",
  "unittest",
  "argparse",
  "http.client",
  "urllib.request",
  "logging",
  "subprocess",
  "zipfile",
  "tarfile",
  "lzma",
  "bz2",
  "zlib",
  "hashlib",
  "csv",
  "datetime",
  "pickle",
  "uuid",
  "multiprocessing",
  "concurrent.futures",
  "importlib.metadata",
  "sysconfig",
  "tomllib",
  "zoneinfo",
];

export interface ScriptResult {
  prefix: string;
  execPrefix: string;
  basePrefix: string;
  executable: string;
  path: string[];
  libpython: string[];
  modules: Record<string, string | null>;
  dynload: Record<string, string | null>;
  source: {
    traceback: boolean;
    uncaught: boolean;
    getsource: boolean;
    detail: string;
  } | null;
}

export interface RuntimeCheck {
  ok: boolean;
  /** One line per thing that is wrong. */
  problems: string[];
  result: ScriptResult | undefined;
}

/**
 * The environment copies run in: the caller's, without anything that would make the copy
 * lean on the original (PYTHONHOME, PYTHONPATH, LD_LIBRARY_PATH…) or write bytecode
 * elsewhere; user site-packages off so ~/.local does not change what is measured.
 */
export function runtimeEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (k.startsWith("PYTHON") || k === "LD_LIBRARY_PATH" || k === "LD_PRELOAD") continue;
    env[k] = v;
  }
  env.PYTHONNOUSERSITE = "1";
  return env;
}

/** Run the check script with `exe` (extra interpreter flags first). */
export async function runCheckScript(
  exe: string,
  spec: { modules: readonly string[]; dynload: readonly string[]; source: boolean },
  env: NodeJS.ProcessEnv,
  flags: readonly string[] = [],
): Promise<{ result: ScriptResult | undefined; error: string | undefined }> {
  const res = await runProcess(exe, [...flags, "-c", CHECK_SCRIPT, JSON.stringify(spec)], {
    env,
    timeoutMs: 120_000,
  });
  const at = res.stdout.lastIndexOf(SCRIPT_MARK);
  if (res.status !== 0 || at < 0) {
    const said = (res.stderr.trim() || res.stdout.trim()).split("\n").slice(-6).join(" | ");
    const how = res.error
      ? (res.error.code ?? res.error.message)
      : res.status === null
        ? `killed by ${res.signal}`
        : `exit status ${res.status}`;
    return {
      result: undefined,
      error: `${exe} did not run the check (${how})${said ? `: ${said}` : ""}`,
    };
  }
  const line = res.stdout.slice(at + SCRIPT_MARK.length).split("\n", 1)[0] ?? "";
  try {
    return { result: JSON.parse(line) as ScriptResult, error: undefined };
  } catch (cause) {
    throw new SlimenvError("INTERNAL", `the check printed broken JSON`, { cause });
  }
}

export interface CheckExpectations {
  /** The folder sys.prefix must be. */
  root: string;
  modules: readonly string[];
  dynload: readonly string[];
  /** Whether tracebacks and inspect must show sources. */
  source: boolean;
  env: NodeJS.ProcessEnv;
}

/** Check a built copy whose interpreter is `exe`. */
export async function checkRuntime(exe: string, expect: CheckExpectations): Promise<RuntimeCheck> {
  const { result, error } = await runCheckScript(
    exe,
    { modules: expect.modules, dynload: expect.dynload, source: expect.source },
    expect.env,
  );
  if (result === undefined)
    return { ok: false, problems: [error ?? "the copy did not start"], result };
  const problems: string[] = [];
  const root = path.resolve(expect.root);
  for (const [what, value] of [
    ["sys.prefix", result.prefix],
    ["sys.exec_prefix", result.execPrefix],
  ] as const) {
    if (path.resolve(value) !== root) problems.push(`${what} is ${value}, not ${root}`);
  }
  for (const lib of result.libpython) {
    if (!lib.startsWith(`${root}/`))
      problems.push(`libpython is loaded from ${lib}, outside the copy`);
  }
  for (const [name, err] of Object.entries(result.modules)) {
    if (err !== null) problems.push(`import ${name} fails: ${err}`);
  }
  for (const [name, err] of Object.entries(result.dynload)) {
    if (err !== null) problems.push(`lib-dynload ${name} fails to import: ${err}`);
  }
  if (expect.source) {
    const s = result.source;
    if (s === null) problems.push("the source check did not run");
    else {
      if (!s.traceback)
        problems.push("traceback.extract_tb shows no source line for json/decoder.py");
      if (!s.uncaught) problems.push(`an uncaught traceback shows no source line (${s.detail})`);
      if (!s.getsource) problems.push(`inspect.getsource(json.dumps) fails (${s.detail})`);
    }
  }
  return { ok: problems.length === 0, problems, result };
}

/** lib-dynload module name from a file name: `_ssl.cpython-311-x86_64-linux-gnu.so` → `_ssl`. */
export function extensionModuleName(file: string): string | undefined {
  const base = path.basename(file);
  if (!base.endsWith(".so")) return undefined;
  const name = base.split(".", 1)[0];
  return name === undefined || name === "" ? undefined : name;
}
