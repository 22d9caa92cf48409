import { stat } from "node:fs/promises";
import path from "node:path";
import type { Reporter } from "../base/index.ts";
import { isSlimenvError, mapLimit, SlimenvError, silentReporter } from "../base/index.ts";
import {
  type Candidate,
  candidateGroups,
  compareVersionArrays,
  findCommand,
  homeDir,
  type InterpreterSource,
  IS_WINDOWS,
  isExecutableFile,
} from "./candidates.ts";
import { probeInterpreter } from "./probe.ts";
import type { InterpreterProbe } from "./probe-types.ts";
import { isSupportedProbe, MIN_PYTHON } from "./probe-types.ts";
import type { PythonRequest } from "./request.ts";
import { describeRequest, parsePythonRequest, requestMatches } from "./request.ts";

export interface FoundInterpreter {
  /** The file as found first (may be a symlink, or a wrapper such as a pyenv shim). */
  path: string;
  /** What the probe describes: realpath(sys.executable). */
  executable: string;
  /** How it was found first. */
  source: InterpreterSource;
  /** Every (path, source) it was found at, in discovery order. */
  foundAt: { path: string; source: InterpreterSource }[];
  probe: InterpreterProbe;
}

export interface DiscoveryFailure {
  path: string;
  source: InterpreterSource;
  /** One line: why this candidate is not usable. */
  reason: string;
}

export interface Discovery {
  /** Working interpreters, deduplicated, in discovery order (PATH first, then pyenv). */
  interpreters: FoundInterpreter[];
  /** Candidates that could not be probed or are too old. */
  failures: DiscoveryFailure[];
}

export interface DiscoveryOptions {
  env?: NodeJS.ProcessEnv;
  reporter?: Reporter;
  /** Use the probe cache (default true). */
  cache?: boolean;
  /** Folder relative paths are resolved against (default: process.cwd()). */
  cwd?: string;
}

function oneLine(err: unknown): string {
  if (isSlimenvError(err)) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/** The first working, supported interpreter in discovery order, probing one at a time. */
export async function firstInterpreter(
  options: DiscoveryOptions = {},
): Promise<FoundInterpreter | undefined> {
  const env = options.env ?? process.env;
  const reporter = options.reporter ?? silentReporter;
  for (const group of await candidateGroups(env)) {
    const c = group[0] as Candidate;
    try {
      const probe = await probeInterpreter(c.path, { env, reporter, cache: options.cache });
      if (!isSupportedProbe(probe)) continue;
      return {
        path: c.path,
        executable: probe.realExecutable,
        source: c.source,
        foundAt: group.map((g) => ({ path: g.path, source: g.source })),
        probe,
      };
    } catch (err) {
      reporter.log("debug", `skipping ${c.path}: ${oneLine(err)}`);
    }
  }
  return undefined;
}

/** Find and probe every interpreter on PATH and under pyenv. */
export async function discoverInterpreters(options: DiscoveryOptions = {}): Promise<Discovery> {
  const env = options.env ?? process.env;
  const reporter = options.reporter ?? silentReporter;
  const groups = await candidateGroups(env);
  const probed = await mapLimit(groups, 8, async (group) => {
    const c = group[0] as Candidate;
    try {
      const probe = await probeInterpreter(c.path, { env, reporter, cache: options.cache });
      return { group, probe };
    } catch (err) {
      reporter.log("debug", `skipping ${c.path}: ${oneLine(err)}`);
      return { group, error: oneLine(err) };
    }
  });
  const byExecutable = new Map<string, FoundInterpreter>();
  const interpreters: FoundInterpreter[] = [];
  const failures: DiscoveryFailure[] = [];
  for (const item of probed) {
    const candidate = item.group[0] as Candidate;
    const all = item.group.map((c) => ({ path: c.path, source: c.source }));
    if (item.probe === undefined) {
      failures.push({ ...candidate, reason: item.error ?? "probe failed" });
      continue;
    }
    const probe = item.probe;
    if (!isSupportedProbe(probe)) {
      failures.push({
        ...candidate,
        reason: `Python ${probe.version.join(".")} is older than ${MIN_PYTHON.join(".")}`,
      });
      continue;
    }
    const known = byExecutable.get(probe.realExecutable);
    if (known) {
      known.foundAt.push(...all);
      continue;
    }
    const found: FoundInterpreter = {
      path: candidate.path,
      executable: probe.realExecutable,
      source: candidate.source,
      foundAt: all,
      probe,
    };
    byExecutable.set(probe.realExecutable, found);
    interpreters.push(found);
  }
  return { interpreters, failures };
}

function label(i: FoundInterpreter): string {
  const impl = i.probe.implementation.name === "cpython" ? "CPython" : i.probe.implementation.name;
  return `${impl} ${i.probe.version.join(".")} (${i.path})`;
}

const NOT_FOUND_HINT =
  "install one (e.g. 'pyenv install 3.12'), put it on PATH, or pass --python with a path; " +
  "SLIMENV_PYTHON sets the default request";

async function findOne(
  file: string,
  source: InterpreterSource,
  env: NodeJS.ProcessEnv,
  reporter: Reporter,
  cache: boolean | undefined,
): Promise<FoundInterpreter> {
  const probe = await probeInterpreter(file, { env, reporter, cache });
  if (!isSupportedProbe(probe)) {
    throw new SlimenvError(
      "INTERPRETER_PROBE_FAILED",
      `${file} is Python ${probe.version.join(".")}; slimenv needs Python ${MIN_PYTHON.join(".")} or newer`,
      { hint: "pass a newer interpreter with --python" },
    );
  }
  return {
    path: file,
    executable: probe.realExecutable,
    source,
    foundAt: [{ path: file, source }],
    probe,
  };
}

/** An explicit path: a file, or an env/prefix folder with bin/python3 (Scripts\python.exe) in it. */
async function resolveExplicitPath(
  text: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<string> {
  const expanded =
    text === "~" || text.startsWith("~/") || text.startsWith("~\\")
      ? path.join(homeDir(env), text.slice(1))
      : text;
  const file = path.resolve(cwd, expanded);
  const info = await stat(file).catch(() => undefined);
  if (info === undefined) {
    throw new SlimenvError("INTERPRETER_NOT_FOUND", `no interpreter at ${file}: no such file`, {
      hint: "check the path given to --python (or SLIMENV_PYTHON)",
    });
  }
  if (!info.isDirectory()) return file;
  const inside = IS_WINDOWS ? ["Scripts/python.exe", "python.exe"] : ["bin/python3", "bin/python"];
  for (const rel of inside) {
    const exe = path.join(file, rel);
    if (await isExecutableFile(exe)) return exe;
  }
  throw new SlimenvError(
    "INTERPRETER_NOT_FOUND",
    `${file} is a folder with no ${inside.join(" or ")} in it`,
    { hint: "pass the interpreter itself, or an environment folder that holds one" },
  );
}

/**
 * The interpreter a request names. A version request gets the newest interpreter that
 * satisfies it (ties go to the one found first: PATH order, then pyenv); no request (and no
 * SLIMENV_PYTHON) gets the first working interpreter on PATH, then pyenv. Throws
 * INTERPRETER_NOT_FOUND listing what was found, INTERPRETER_PROBE_FAILED for a file that
 * is not a working Python 3.6+, INVALID_OPTION for a malformed request.
 */
/** Requests spelled as an executable name: python, python3, python3.12, python3.13t. */
const EXECUTABLE_NAME = /^python(\d+(\.\d+)?t?)?$/;

export async function findInterpreter(
  request: PythonRequest | string | undefined,
  options: DiscoveryOptions = {},
): Promise<FoundInterpreter> {
  const env = options.env ?? process.env;
  const reporter = options.reporter ?? silentReporter;
  const cwd = options.cwd ?? process.cwd();
  let req: PythonRequest;
  if (request === undefined) req = parsePythonRequest(env.SLIMENV_PYTHON || undefined);
  else if (typeof request === "string") req = parsePythonRequest(request);
  else req = request;

  if (req.kind === "path") {
    const file = await resolveExplicitPath(req.path, env, cwd);
    return findOne(file, "explicit", env, reporter, options.cache);
  }
  if (req.kind === "command") {
    const file = await findCommand(req.name, env);
    if (file === undefined) {
      throw new SlimenvError(
        "INTERPRETER_NOT_FOUND",
        `no command ${JSON.stringify(req.name)} on PATH`,
        {
          hint: `${NOT_FOUND_HINT}; a version such as --python 3.12 searches PATH and pyenv`,
        },
      );
    }
    return findOne(file, "command", env, reporter, options.cache);
  }
  if (req.kind === "version" && EXECUTABLE_NAME.test(req.text)) {
    // `python3`, `python3.12`: what the shell would run, when that satisfies the request.
    const file = await findCommand(req.text, env);
    if (file !== undefined) {
      const found = await findOne(file, "command", env, reporter, options.cache).catch(
        () => undefined,
      );
      if (found && requestMatches(req, found.probe)) return found;
    }
  }
  if (req.kind === "default") {
    const first = await firstInterpreter({ ...options, env, reporter });
    if (first) {
      reporter.log("debug", `using ${label(first)} (the first found)`);
      return first;
    }
  }
  const { interpreters } = await discoverInterpreters({ ...options, env, reporter });
  const best = selectInterpreter(req, interpreters);
  reporter.log("debug", `using ${label(best)} for ${describeRequest(req)}`);
  return best;
}

/**
 * Pick from discovered interpreters: the newest that satisfies a version request (ties to
 * the first found), or the first one for the default request. Throws INTERPRETER_NOT_FOUND
 * listing what there is.
 */
export function selectInterpreter(
  request: PythonRequest,
  interpreters: readonly FoundInterpreter[],
): FoundInterpreter {
  const matching = interpreters.filter(
    (i) =>
      (request.kind === "version" || request.kind === "default") &&
      requestMatches(request, i.probe),
  );
  let best: FoundInterpreter | undefined;
  if (request.kind === "default") best = matching[0];
  else {
    for (const i of matching) {
      if (best === undefined || compareVersionArrays(i.probe.version, best.probe.version) > 0) {
        best = i;
      }
    }
  }
  if (best === undefined) {
    const found = interpreters.length
      ? `found: ${interpreters.map(label).join(", ")}`
      : "found no working interpreter on PATH or under pyenv";
    throw new SlimenvError(
      "INTERPRETER_NOT_FOUND",
      `no interpreter matches ${describeRequest(request)}; ${found}`,
      { hint: NOT_FOUND_HINT },
    );
  }
  return best;
}

export interface InterpreterList extends Discovery {
  /** The executable findInterpreter(undefined) gives, when it gives one. */
  defaultExecutable?: string;
  /** Why there is no default (SLIMENV_PYTHON names nothing usable), when there is none. */
  defaultError?: string;
}

/** Every interpreter found, with the default marked (what no --python would use). */
export async function listInterpreters(options: DiscoveryOptions = {}): Promise<InterpreterList> {
  const env = options.env ?? process.env;
  const discovery = await discoverInterpreters({ ...options, env });
  const result: InterpreterList = { ...discovery };
  if (env.SLIMENV_PYTHON) {
    try {
      const req = parsePythonRequest(env.SLIMENV_PYTHON);
      result.defaultExecutable =
        req.kind === "version"
          ? selectInterpreter(req, discovery.interpreters).executable
          : (await findInterpreter(req, { ...options, env })).executable;
    } catch (err) {
      result.defaultError = `SLIMENV_PYTHON=${env.SLIMENV_PYTHON}: ${oneLine(err)}`;
    }
  } else if (discovery.interpreters[0]) {
    result.defaultExecutable = discovery.interpreters[0].executable;
  }
  return result;
}
