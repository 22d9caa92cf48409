/**
 * Access to pypa/packaging for differential tests. packaging is the oracle, so it is pinned:
 * an exact version per interpreter (the newest release that supports it, as of the version
 * docs/standards.md names), installed from PyPI into a cache folder
 * (.cache/test-packaging/<python version>/<packaging version>) by the first test that needs it,
 * with the interpreter's own pip. The suite therefore gives the same answer on every day,
 * whatever PyPI serves. If it cannot be had, the test fails with the reason: it never passes
 * silently.
 *
 * SLIMENV_TEST_PACKAGING=<version>|latest overrides the pin for interpreters that can run it
 * (scripts/packaging-newest.ts uses it to see what a newer packaging changes); CI never sets it.
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

/** The oracle: the packaging release the suite compares against (docs/standards.md). */
export const PACKAGING_ORACLE = "26.3";

/**
 * The exact packaging version for a Python minor version: the oracle where it runs, else the
 * last release that supports that Python (21.3 for 3.6, without its pyparsing dependency,
 * which is enough for packaging.tags; 24.0 for 3.7; 26.2 for 3.8).
 */
export function pinnedPackaging(minor: number): string {
  const override = process.env.SLIMENV_TEST_PACKAGING;
  if (minor < 7) return "21.3";
  if (minor < 8) return "24.0";
  if (minor < 9) return "26.2";
  if (override && minor >= 10) return override;
  return PACKAGING_ORACLE;
}

/** Ensure the pinned packaging is importable by `python` and return how to run it. */
export function packagingFor(python: string): PackagingPython {
  const [major, minor, micro] = pythonVersion(python);
  const wanted = pinnedPackaging(minor);
  const dir = path.join(CACHE, `${major}.${minor}.${micro}`, wanted);
  const env = { ...process.env, PYTHONPATH: dir, PYTHONDONTWRITEBYTECODE: "1" };
  const probe = () =>
    spawnSync(python, ["-c", "import packaging;print(packaging.__version__)"], {
      env,
      encoding: "utf8",
    });
  let got = probe();
  // "latest" is looked up again on every run (opt-in only); a pin is installed once.
  const stale = wanted === "latest" || got.stdout.trim() !== wanted;
  if (got.status !== 0 || !existsSync(dir) || stale) {
    mkdirSync(dir, { recursive: true });
    const spec = wanted === "latest" ? "packaging" : `packaging==${wanted}`;
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
    if (got.status !== 0 || (wanted !== "latest" && got.stdout.trim() !== wanted)) {
      throw new Error(
        `cannot get pypa/packaging for ${python} into ${dir}: pip said: ${install.stderr.slice(-2000)}`,
      );
    }
  }
  return { python, env, packagingVersion: got.stdout.trim() };
}

/** The python3 on PATH (or SLIMENV_TEST_PYTHON), with the pinned packaging. */
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
