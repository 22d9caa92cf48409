/**
 * Fixtures for the install / sync tests: a small package world served by the in-process
 * index, hand-written PEP 751 locks over it, snapshots of directories (to prove a failed
 * command changed nothing), and the CLI run by this Node (the built bundle when fresh, else the sources).
 */
import { execFile } from "node:child_process";
import { existsSync, lstatSync, readdirSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { type ErrorCode, isSlimenvError, type SlimenvError } from "../../src/base/index.ts";
import { resolveSettings } from "../../src/settings/load.ts";
import { writePylock } from "../../src/standards/pylock-write.ts";
import type { IndexEntry, IndexProjects } from "../helpers/index-server.ts";
import { pyenv } from "../helpers/prereq.ts";
import { tempDir as cleanedTempDir } from "../helpers/tmp.ts";
import { type BuiltWheel, buildWheel } from "../helpers/wheels.ts";

export const BIN = path.resolve(import.meta.dirname, "..", "..", "bin", "slimenv.js");

/** The newest pyenv CPython 3.12 (else 3.11): the interpreter most install tests use. */
export const TEST_PYTHON = pyenv("3.12", "3.11");

/** TEST_PYTHON's executable, or undefined. */
export function testPython(): string | undefined {
  return TEST_PYTHON.exe;
}

export function tempDir(prefix: string): string {
  return cleanedTempDir(`slimenv-install-${prefix}-`);
}

function pkgFiles(name: string, version: string, extra: Record<string, string> = {}) {
  const mod = name.replace(/-/g, "_");
  return { [`${mod}/__init__.py`]: `__version__ = "${version}"\n`, ...extra };
}

/** A wheel with `count` small modules: a wide window for kill tests. */
export function bigWheel(version: string, count: number): BuiltWheel {
  const files: Record<string, string> = { "big/__init__.py": `__version__ = "${version}"\n` };
  for (let i = 0; i < count; i++) {
    // Half the modules are the same in every version (shared objects), half differ.
    files[`big/m${i}.py`] = i % 2 === 0 ? `X = ${i}\n` : `X = ${i}  # ${version}\n`;
  }
  return buildWheel({ name: "big", version, files, level: 0 });
}

export interface World {
  projects: IndexProjects;
  wheels: Map<string, BuiltWheel>;
}

/**
 *   app 1.0    -> lib>=1, tool ; the console script `app-hello` (exit code 4)
 *   lib 1.0, 1.1, 2.0
 *   tool 1.0   a console script `tool-run`
 *   alpha 1.0, beta 1.0, 2.0, gamma 1.0, delta 1.0   (for the sync tests)
 *   needs-missing 1.0 -> nosuchpackage
 */
export function world(): World {
  const wheels = new Map<string, BuiltWheel>();
  const wheel = (spec: Parameters<typeof buildWheel>[0]): IndexEntry => {
    const w = buildWheel(spec);
    wheels.set(w.filename, w);
    return { file: { filename: w.filename, bytes: w.bytes, metadata: w.metadata } };
  };
  const simple = (name: string, version: string, requiresDist: string[] = []) =>
    wheel({ name, version, files: pkgFiles(name, version), requiresDist });
  const projects: IndexProjects = {
    app: [
      wheel({
        name: "app",
        version: "1.0",
        requiresDist: ["lib>=1", "tool"],
        files: pkgFiles("app", "1.0", {
          "app/cli.py":
            "import sys\ndef hello():\n    print('hello from app', sys.argv[1:])\n    return 4\n",
        }),
        entryPoints: "[console_scripts]\napp-hello = app.cli:hello\n",
      }),
    ],
    lib: [simple("lib", "1.0"), simple("lib", "1.1"), simple("lib", "2.0")],
    tool: [
      wheel({
        name: "tool",
        version: "1.0",
        files: pkgFiles("tool", "1.0", { "tool/main.py": "def run():\n    print('tool ran')\n" }),
        entryPoints: "[console_scripts]\ntool-run = tool.main:run\n",
      }),
    ],
    alpha: [simple("alpha", "1.0")],
    beta: [simple("beta", "1.0"), simple("beta", "2.0")],
    gamma: [simple("gamma", "1.0")],
    delta: [simple("delta", "1.0")],
    "needs-missing": [simple("needs-missing", "1.0", ["nosuchpackage"])],
  };
  return { projects, wheels };
}

/** A single-purpose PEP 751 lock over wheels served at `filesUrl` (no target recorded). */
export function lockText(
  wheels: readonly BuiltWheel[],
  filesUrl: string,
  more: { environments?: string[]; requiresPython?: string } = {},
): string {
  const packages = wheels.map((w) => {
    const [name = "", version = ""] = w.distInfo.replace(/\.dist-info$/, "").split("-");
    return {
      name: name.toLowerCase().replace(/_/g, "-"),
      version,
      wheels: [
        {
          name: w.filename,
          url: `${filesUrl}${w.filename}`,
          size: w.bytes.length,
          hashes: { sha256: w.sha256 },
        },
      ],
    };
  });
  return writePylock({
    lockVersion: "1.0",
    createdBy: "slimenv-tests",
    ...(more.environments === undefined ? {} : { environments: more.environments }),
    ...(more.requiresPython === undefined ? {} : { requiresPython: more.requiresPython }),
    packages,
  });
}

/** Settings as the CLI would merge them, with no config files and the test index. */
export function testSettings(indexUrl: string) {
  return resolveSettings({ flags: { "index-url": indexUrl }, env: {}, noConfig: true });
}

/**
 * Every entry under `dir` (following nothing) with its type, inode, size and mtime: equal
 * snapshots mean nothing was added, removed, replaced or written.
 */
export function snapshot(dir: string): string[] {
  if (!existsSync(dir)) return ["<absent>"];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      const st = lstatSync(full);
      const kind = st.isDirectory() ? "d" : st.isSymbolicLink() ? "l" : "f";
      out.push(`${path.relative(dir, full)} ${kind} ${st.ino} ${st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out;
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** The CLI's environment: a temp SLIMENV_HOME, no config, no retries, no colour. */
export function cliEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SLIMENV_")) env[k] = v;
  return {
    ...env,
    SLIMENV_HOME: home,
    SLIMENV_NO_CONFIG: "1",
    SLIMENV_RETRIES: "0",
    NO_COLOR: "1",
    ...extra,
  };
}

/**
 * Run bin/slimenv.js asynchronously (the index answers from this process): the built bundle
 * when it is newer than every source (CI builds it first), else the sources.
 */
export function slimenv(
  cwd: string,
  env: NodeJS.ProcessEnv,
  ...args: string[]
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, env, encoding: "utf8", timeout: 60_000 },
      (error, stdout, stderr) => {
        const status = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ status, stdout, stderr });
      },
    );
  });
}

/** Run a command with exactly `env`; throws when it cannot start. */
export { run } from "../env/env-fixtures.ts";

/** `{name: version}` of every distribution the env's python sees (importlib.metadata). */
export const VERSIONS_SCRIPT =
  "import json, importlib.metadata as md, sys\n" +
  "site = [p for p in sys.path if p.startswith(sys.argv[1])]\n" +
  "print(json.dumps({d.metadata['Name']: d.version for d in md.distributions(path=site)}, sort_keys=True))";

/** Await `promise`, which must reject with a SlimenvError of `code` (and a message matching `message`). */
export async function expectSlimenvError(
  promise: Promise<unknown>,
  code: ErrorCode,
  message?: RegExp,
): Promise<SlimenvError> {
  let err: unknown;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  if (!isSlimenvError(err)) throw new Error(`expected a SlimenvError ${code}, got ${String(err)}`);
  expect(`${err.code}: ${err.message}`).toMatch(new RegExp(`^${code}: `));
  if (message !== undefined) expect(err.message).toMatch(message);
  return err;
}
