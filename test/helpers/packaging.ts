/**
 * Access to pypa/packaging for differential tests. packaging is installed from PyPI into a
 * cache folder (.cache/test-packaging/<python version>) by the first test that needs it, with
 * the interpreter's own pip. If it cannot be had, the test fails with the reason: it never
 * passes silently.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..", "..");
const CACHE = path.join(ROOT, ".cache", "test-packaging");

export interface PackagingPython {
  python: string;
  /** Environment with PYTHONPATH pointing at the cached packaging. */
  env: NodeJS.ProcessEnv;
  /** packaging.__version__ as installed. */
  packagingVersion: string;
}

function pythonVersion(python: string): [number, number, number] {
  const out = execFileSync(python, ["-c", "import sys;print('%d.%d.%d' % sys.version_info[:3])"], {
    encoding: "utf8",
  }).trim();
  const [a, b, c] = out.split(".").map(Number);
  return [a ?? 0, b ?? 0, c ?? 0];
}

/**
 * Ensure packaging is importable by `python` and return how to run it. Python 3.6 gets
 * packaging 21.3 (the last release for it) without its pyparsing dependency, which is enough
 * for packaging.tags; newer interpreters get the newest packaging.
 */
export function packagingFor(python: string): PackagingPython {
  const [major, minor, micro] = pythonVersion(python);
  const dir = path.join(CACHE, `${major}.${minor}.${micro}`);
  const env = { ...process.env, PYTHONPATH: dir, PYTHONDONTWRITEBYTECODE: "1" };
  const probe = () =>
    spawnSync(python, ["-c", "import packaging;print(packaging.__version__)"], {
      env,
      encoding: "utf8",
    });
  let got = probe();
  if (got.status !== 0 || !existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    const spec = major === 3 && minor < 7 ? "packaging==21.3" : "packaging";
    const install = spawnSync(
      python,
      [
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
        "--no-deps",
        "--upgrade",
        "--target",
        dir,
        spec,
      ],
      { encoding: "utf8", env: { ...process.env, PIP_NO_INPUT: "1" } },
    );
    got = probe();
    if (got.status !== 0) {
      throw new Error(
        `cannot get pypa/packaging for ${python} into ${dir}: pip said: ${install.stderr.slice(-2000)}`,
      );
    }
  }
  return { python, env, packagingVersion: got.stdout.trim() };
}

/** The newest CPython on PATH (python3), with the newest packaging. */
export function defaultPackagingPython(): PackagingPython {
  return packagingFor(process.env.SLIMENV_TEST_PYTHON ?? "python3");
}

/**
 * Run a Python script that reads JSON from stdin and writes JSON to stdout, with packaging
 * importable (or, given any python and env, without). Throws with Python's stderr when the
 * script fails.
 */
export function runPythonJson<T>(
  pp: Pick<PackagingPython, "python" | "env">,
  script: string,
  input: unknown,
): T {
  const res = spawnSync(pp.python, ["-c", script], {
    env: pp.env,
    input: JSON.stringify(input),
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
  });
  if (res.status !== 0) {
    throw new Error(`python failed (${res.status}): ${res.stderr.slice(-4000)}`);
  }
  return JSON.parse(res.stdout) as T;
}

/**
 * runPythonJson with the plain `python3` on PATH, for differential tests against the standard
 * library (csv, email, importlib.metadata): packaging is not installed or put on the path.
 */
export function runStdlibPythonJson<T>(script: string, input: unknown): T {
  return runPythonJson<T>({ python: "python3", env: process.env }, script, input);
}
