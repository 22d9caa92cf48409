/**
 * `slimenv runtime`: a slim, working copy of an installed CPython (interpreter, libpython,
 * lib-dynload, standard library) with the stdlib in one of six layouts and groups dropped.
 * Built in a sibling temp folder, checked there (copies are relocatable), then renamed into
 * place: a failed build leaves nothing at --out.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, realpath, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Reporter } from "../base/index.ts";
import { isSlimenvError, SlimenvError, silentReporter } from "../base/index.ts";
import type { FoundInterpreter } from "../python/discover.ts";
import { findInterpreter } from "../python/discover.ts";
import { runProcess } from "../python/process.ts";
import { assembleRuntime, posixJoin, RUNTIME_MARKER } from "./assemble.ts";

export { RUNTIME_MARKER } from "./assemble.ts";

import type { StripTool } from "../slim/strip/tool.ts";
import type { RuntimeCheck } from "./check.ts";
import {
  checkRuntime,
  extensionModuleName,
  MODULE_SET,
  runCheckScript,
  runtimeEnv,
} from "./check.ts";
import type { SourceLayout } from "./cpython-paths.ts";
import { sourceLayout } from "./cpython-paths.ts";
import type { DropGroup } from "./drop-groups.ts";
import { DEFAULT_RUNTIME_DROPS, parseDropGroups } from "./drop-groups.ts";
import type { StdlibMode } from "./modes.ts";
import { DEFAULT_STDLIB_MODE, parseStdlibMode, stdlibModeInfo } from "./modes.ts";
import type { RuntimeNativeChanges, StripMode } from "./native.ts";
import { DEFAULT_RUNTIME_STRIP, findRuntimeStripTool, parseStripMode } from "./native.ts";
import { planStdlib } from "./plan.ts";
import type { RuntimeSize } from "./size.ts";
import { measureRuntime } from "./size.ts";

/** What the original interpreter imports: the baseline a copy is held to. */
export interface OriginalFacts {
  /** MODULE_SET members the original imports. */
  modules: string[];
  /** lib-dynload modules the original imports. */
  dynload: string[];
  /** lib-dynload modules that fail in the original too (missing system libraries). */
  dynloadBroken: Record<string, string>;
}

export interface RuntimeBuildOptions {
  /** --python: a request (version, path, command) or an interpreter already found. */
  python?: string | FoundInterpreter;
  out: string;
  /** Default DEFAULT_STDLIB_MODE (pyc-only). */
  mode?: StdlibMode | string;
  /** Group names (or groups). Default DEFAULT_RUNTIME_DROPS (devel). */
  drops?: readonly (string | DropGroup)[];
  /** Default DEFAULT_RUNTIME_STRIP (debug; none, with a note, without a strip tool). */
  strip?: StripMode | string;
  env?: NodeJS.ProcessEnv;
  reporter?: Reporter;
  /** Reuse facts about the original (the table builds many copies of one interpreter). */
  facts?: OriginalFacts;
  /** Keep a copy that fails its check (tables report it as not working) instead of throwing. */
  keepBroken?: boolean;
}

export interface RuntimeBuildResult {
  out: string;
  /** DIR/bin/python3.X */
  executable: string;
  mode: StdlibMode;
  drops: string[];
  strip: StripMode;
  python: { executable: string; version: string; prefix: string };
  files: {
    copied: number;
    compiled: number;
    /** Sources that do not compile (test data); kept as .py in sourceless modes. */
    compileFailed: string[];
    dropped: Record<string, number>;
  };
  native: RuntimeNativeChanges;
  check: RuntimeCheck;
  /** Size of the copy as du counts it. */
  size: RuntimeSize;
  /** Modules and extensions checked in the copy. */
  checked: { modules: string[]; dynload: string[]; source: boolean };
  notes: string[];
}

async function resolveInterpreter(
  python: string | FoundInterpreter | undefined,
  env: NodeJS.ProcessEnv,
  reporter: Reporter,
): Promise<FoundInterpreter> {
  if (python !== undefined && typeof python !== "string") return python;
  return findInterpreter(python, { env, reporter });
}

/** "new" (absent), "empty" (an empty folder) or "runtime" (a previous build); else INVALID_OPTION. */
export async function checkOutDir(out: string): Promise<"new" | "empty" | "runtime"> {
  const info = await stat(out).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw new SlimenvError("IO_ERROR", `cannot read ${out}: ${e.message}`, { cause: e });
  });
  if (info === undefined) {
    const parent = path.dirname(out);
    if (!existsSync(parent)) {
      throw new SlimenvError(
        "INVALID_OPTION",
        `--out ${out}: the folder ${parent} does not exist`,
        {
          hint: "create the parent folder first, or choose another --out",
        },
      );
    }
    return "new";
  }
  if (!info.isDirectory()) {
    throw new SlimenvError("INVALID_OPTION", `--out ${out} exists and is not a folder`, {
      hint: "choose a new or empty folder for --out",
    });
  }
  const entries = await readdir(out);
  if (entries.length === 0) return "empty";
  if (entries.includes(RUNTIME_MARKER)) return "runtime";
  throw new SlimenvError(
    "INVALID_OPTION",
    `--out ${out} is not empty and is not a slimenv runtime (no ${RUNTIME_MARKER})`,
    { hint: "choose a new or empty folder for --out; slimenv only replaces a folder it built" },
  );
}

/** What the original imports: MODULE_SET members and lib-dynload extensions. */
export async function originalFacts(
  layout: SourceLayout,
  env: NodeJS.ProcessEnv,
): Promise<OriginalFacts> {
  const dynloadDir = path.join(layout.prefix, layout.stdlibRel, layout.dynloadInStdlib);
  const names = (await readdir(dynloadDir))
    .map(extensionModuleName)
    .filter((n): n is string => n !== undefined)
    .sort();
  const { result, error } = await runCheckScript(
    layout.executable,
    { modules: MODULE_SET, dynload: names, source: false },
    runtimeEnv(env),
    ["-I"],
  );
  if (result === undefined) {
    throw new SlimenvError(
      "INTERPRETER_PROBE_FAILED",
      error ?? "the original interpreter did not run",
      {
        hint: "pass a working CPython with --python",
      },
    );
  }
  const dynloadBroken: Record<string, string> = {};
  for (const [n, e] of Object.entries(result.dynload)) if (e !== null) dynloadBroken[n] = e;
  return {
    modules: Object.entries(result.modules)
      .filter(([, e]) => e === null)
      .map(([n]) => n),
    dynload: Object.entries(result.dynload)
      .filter(([, e]) => e === null)
      .map(([n]) => n),
    dynloadBroken,
  };
}

/** Build a runtime copy. Bad input throws before anything is written. */
export async function buildRuntime(options: RuntimeBuildOptions): Promise<RuntimeBuildResult> {
  const env = options.env ?? process.env;
  const reporter = options.reporter ?? silentReporter;
  const mode = parseStdlibMode(options.mode ?? DEFAULT_STDLIB_MODE);
  const info = stdlibModeInfo(mode);
  const drops = parseDropGroups(
    (options.drops ?? DEFAULT_RUNTIME_DROPS).map((d) => (typeof d === "string" ? d : d.name)),
  );
  let strip = parseStripMode(options.strip ?? DEFAULT_RUNTIME_STRIP);
  const out = path.resolve(options.out);
  const notes: string[] = [];
  const found = await resolveInterpreter(options.python, env, reporter);
  const layout = await sourceLayout(found.probe);
  if (
    out === layout.prefix ||
    out.startsWith(`${layout.prefix}/`) ||
    layout.prefix.startsWith(`${out}/`)
  ) {
    throw new SlimenvError(
      "INVALID_OPTION",
      `--out ${out} overlaps the interpreter's prefix ${layout.prefix}`,
      {
        hint: "choose a folder outside the Python install",
      },
    );
  }
  const outState = await checkOutDir(out);
  let stripTool: StripTool | undefined;
  if (strip !== "none") {
    try {
      stripTool = findRuntimeStripTool(env, layout.executable);
    } catch (err) {
      // Only the default gives way; an explicit --strip without a tool is an error.
      if (options.strip !== undefined || !isSlimenvError(err)) throw err;
      strip = "none";
      notes.push(
        `native code left unstripped: ${err.message} (install binutils for the default --strip ${DEFAULT_RUNTIME_STRIP}, or pass --strip none)`,
      );
    }
  }
  if (mode === "pyc-zip" && layout.zipRel === undefined) {
    throw new SlimenvError(
      "RUNTIME_UNSUPPORTED",
      `${layout.executable} has no pythonXY.zip on its sys.path inside its prefix, so pyc-zip cannot work`,
      { hint: "choose another --stdlib mode" },
    );
  }
  const stdlibSrc = path.join(layout.prefix, layout.stdlibRel);
  const plan = await planStdlib(stdlibSrc, { drops, skip: layout.sitePackagesInStdlib });
  if (mode === "pyc+zipped-source" && plan.files.some((f) => f.rel === "sitecustomize.py")) {
    throw new SlimenvError(
      "RUNTIME_UNSUPPORTED",
      `${stdlibSrc} already has a sitecustomize.py; pyc+zipped-source installs its source hook under that name`,
      { hint: "choose another --stdlib mode" },
    );
  }
  const facts = options.facts ?? (await originalFacts(layout, env));

  const staging = path.join(
    path.dirname(out),
    `.${path.basename(out)}.slimenv-tmp-${process.pid}-${randomBytes(4).toString("hex")}`,
  );
  reporter.log(
    "info",
    `building a ${mode} runtime of Python ${found.probe.version.join(".")} in ${out}`,
  );
  try {
    await mkdir(staging);
    reporter.log("debug", "copying");
    const result = await assembleRuntime({
      staging,
      out,
      layout,
      plan: plan.files,
      mode,
      stripTool,
      strip,
      env,
      reporter,
      notes,
    });
    // Check in the staging folder: copies are relocatable, and a broken one never reaches --out.
    const dynloadPrefix = `${layout.dynloadInStdlib}/`;
    const keptDynload = new Set(
      plan.files
        .filter((f) => f.rel.startsWith(dynloadPrefix))
        .map((f) => extensionModuleName(f.rel))
        .filter((n): n is string => n !== undefined),
    );
    const checked = {
      modules: facts.modules,
      dynload: facts.dynload.filter((n) => keptDynload.has(n)),
      source: info.sources !== "none",
    };
    const stagingReal = await realpath(staging);
    const exeStaging = path.join(stagingReal, "bin", path.basename(layout.executableRel));
    reporter.log("debug", "checking the copy");
    const check = await checkRuntime(exeStaging, {
      root: stagingReal,
      ...checked,
      env: runtimeEnv(env),
    });
    if (mode === "py") {
      const written = await findPycacheDirs(staging);
      if (written.length > 0) {
        check.ok = false;
        check.problems.push(
          `the interpreter wrote bytecode caches: ${written.slice(0, 3).join(", ")}`,
        );
      }
    }
    if (!check.ok && options.keepBroken !== true) {
      throw new SlimenvError(
        "RUNTIME_CHECK_FAILED",
        `the ${mode} copy of ${layout.executable} does not work: ${check.problems[0] ?? "unknown"}`,
        {
          detail: check.problems.join("\n"),
          hint: "try another --stdlib mode or --strip none; report this if the original works",
        },
      );
    }
    await moveIntoPlace(staging, out, outState);
    const executable = path.join(out, "bin", path.basename(layout.executableRel));
    if (check.ok) await verifyMoved(executable, out, env);
    const dropped: Record<string, number> = {};
    for (const [g, list] of Object.entries(plan.dropped)) dropped[g] = list.length;
    return {
      out,
      executable,
      mode,
      drops: drops.map((d) => d.name),
      strip,
      python: {
        executable: layout.executable,
        version: found.probe.version.join("."),
        prefix: layout.prefix,
      },
      files: {
        copied: result.copied,
        compiled: result.compiled,
        compileFailed: result.failed,
        dropped,
      },
      native: result.native,
      check,
      size: await measureRuntime(out, posixJoin(layout.stdlibRel, layout.dynloadInStdlib)),
      checked,
      notes,
    };
  } catch (err) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    if (isSlimenvError(err)) throw err;
    throw new SlimenvError("IO_ERROR", `building the runtime failed: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

async function findPycacheDirs(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      if (e.name === "__pycache__") found.push(path.relative(root, p));
      else await walk(p);
    }
  };
  await walk(root);
  return found;
}

async function moveIntoPlace(
  staging: string,
  out: string,
  state: "new" | "empty" | "runtime",
): Promise<void> {
  if (state === "new") {
    await rename(staging, out);
    return;
  }
  const trash = `${staging}-old`;
  await rename(out, trash);
  try {
    await rename(staging, out);
  } catch (err) {
    await rename(trash, out).catch(() => undefined);
    throw err;
  }
  await rm(trash, { recursive: true, force: true });
}

async function verifyMoved(executable: string, out: string, env: NodeJS.ProcessEnv): Promise<void> {
  const res = await runProcess(executable, ["-c", "import sys; sys.stdout.write(sys.prefix)"], {
    env: runtimeEnv(env),
    timeoutMs: 60_000,
  });
  const real = await realpath(out);
  if (res.status !== 0 || path.resolve(res.stdout) !== real) {
    throw new SlimenvError(
      "RUNTIME_CHECK_FAILED",
      `the runtime at ${out} reports sys.prefix ${res.stdout || "(none)"} after the move`,
      { detail: res.stderr.trim() || undefined },
    );
  }
}
