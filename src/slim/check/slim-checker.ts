/**
 * The check a slimmed candidate tree must pass before it is switched in: `checkEnv` (every
 * importable module of every distribution, in the env's interpreter) run on the candidate's
 * site dir, the modules slimming moved into the code zip (RECORD no longer lists them)
 * included. Returns the packages that fail. A cross-target env (a spec target, no
 * interpreter) cannot be checked here: undefined, with a warning.
 */
import { accessSync, constants, readdirSync } from "node:fs";
import path from "node:path";
import { type Reporter, silentReporter } from "../../base/index.ts";
import type { EnvManifest } from "../../env/types.ts";
import { pyenvRoot } from "../../python/candidates.ts";
import { canonicalizeName } from "../../standards/names.ts";
import { hostArch, normalizeArch, whichCommand } from "../strip/tool.ts";
import type { SlimSummary } from "../transform/summary.ts";
import { checkEnv } from "./check.ts";

export interface SlimCheckFailure {
  /** Canonical package name. */
  name: string;
  /** The first failing module and its error. */
  reason: string;
  /** Every failing module (absent: the package as a whole). */
  modules?: string[];
  /**
   * Per module of `modules`, what failed: the exception's type (`ImportError`, `OSError`…),
   * `timeout` or `crash`.
   */
  causes?: string[];
}

/** What failed, in one word: the exception type of an error's last line, or the status. */
export function failureCause(kind: "error" | "timeout" | "crash", error: string): string {
  if (kind !== "error") return kind;
  const m = /^([A-Za-z_][\w.]*)(?::|$)/.exec(error.trim());
  return m?.[1] ?? "error";
}

/**
 * Checks a candidate tree — with `only`, just those packages (canonical names), each with the
 * modules to import or `all`; undefined when it cannot be checked on this machine.
 */
export type SlimChecker = (
  candidate: { dir: string; manifest: EnvManifest },
  only?: Readonly<Record<string, readonly string[] | "all">>,
) => Promise<SlimCheckFailure[] | undefined>;

export interface SlimCheckerOptions {
  env?: NodeJS.ProcessEnv;
  reporter?: Reporter;
  /** Per module (default 60 s). */
  timeoutMs?: number;
}

/** The interpreter that runs a candidate tree, or undefined for a cross target. */
export function candidatePython(
  manifest: EnvManifest,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (manifest.interpreter !== undefined) return manifest.interpreter;
  if (manifest.target.source === "spec") {
    // A spec target of this machine's OS and CPU whose interpreter command is installed here
    // is checked like a probed one; another platform cannot be.
    const t = manifest.target;
    const hostOs = process.platform === "darwin" ? "macos" : process.platform;
    if (t.os !== hostOs || normalizeArch(t.arch) !== hostArch()) return undefined;
    return installedCommand(manifest.interpreterCommand, env);
  }
  return manifest.interpreterCommand;
}

/**
 * The file that runs `command` (e.g. `python3.12`) here. A pyenv shim runs it only while a
 * selected pyenv version has it, so past a shim the newest pyenv version that has the command
 * is taken (the shim itself when none has it: its error then says what to do).
 */
function installedCommand(command: string, env: NodeJS.ProcessEnv): string | undefined {
  const found = whichCommand(command, env.PATH);
  const root = pyenvRoot(env);
  if (found !== undefined && !found.startsWith(path.join(root, "shims") + path.sep)) return found;
  const minor = /^python(\d+\.\d+)$/.exec(command)?.[1];
  if (minor === undefined) return found;
  let names: string[];
  try {
    names = readdirSync(path.join(root, "versions")).filter((n) =>
      new RegExp(`^${minor.replace(".", "\\.")}\\.\\d+$`).test(n),
    );
  } catch {
    return found;
  }
  const micro = (n: string) => Number(n.split(".")[2]);
  for (const name of names.sort((a, b) => micro(b) - micro(a))) {
    const exe = path.join(root, "versions", name, "bin", command);
    try {
      accessSync(exe, constants.X_OK);
      return exe;
    } catch {
      // not this one
    }
  }
  return found;
}

export function defaultSlimChecker(options: SlimCheckerOptions = {}): SlimChecker {
  const reporter = options.reporter ?? silentReporter;
  const timeoutMs = options.timeoutMs ?? 60_000;
  return async ({ dir, manifest }, only) => {
    const python = candidatePython(manifest, options.env ?? process.env);
    if (python === undefined) {
      reporter.log(
        "warn",
        "a cross-target environment cannot be import-checked on this machine: slimmed without a check",
      );
      return undefined;
    }
    const site = path.join(dir, manifest.scheme.purelib);
    const env = { ...(options.env ?? process.env) };
    // Modules slimming moved into the code zip: RECORD no longer lists them.
    const summary = manifest.slim?.summary as SlimSummary | undefined;
    const extraModules: Record<string, string[]> = {};
    for (const p of summary?.packages ?? []) {
      if ((p.zipModules ?? []).length > 0)
        extraModules[canonicalizeName(p.name)] = p.zipModules ?? [];
    }
    const report = await checkEnv(site, {
      python,
      env,
      reporter,
      timeoutMs,
      extraModules,
      isolated: manifest.isolated || manifest.layout === "venv",
      ...(only === undefined ? {} : { only }),
    });
    const failures: SlimCheckFailure[] = [];
    for (const p of report.packages) {
      const first = p.failed[0];
      if (first !== undefined) {
        failures.push({
          name: p.name,
          reason: `${first.module}: ${first.error}`,
          modules: p.failed.map((f) => f.module),
          causes: p.failed.map((f) => failureCause(f.kind, f.error)),
        });
      }
    }
    return failures;
  };
}
