/**
 * numpy built from source for size, beside numpy's wheel, against the real PyPI:
 *   W: slimenv install numpy pytest hypothesis --prefix W                     (the wheel)
 *   S: … --no-binary numpy --build-flags size --use-system-libs                (built here)
 * Compares numpy's installed size (as `slimenv size` counts it), install/build time, the
 * output of one program in both envs, numpy's own test subset (linalg, fft, random, core
 * umath), and lists the system libraries S needs. Writes the `build` section of
 * docs/benchmarks.md.
 *
 * Needs the network, gcc/g++, and Debian's `libopenblas-dev pkg-config`; the build takes many
 * minutes on a small machine. Not part of `npm test`. Run: node bench/build.ts
 * Variables: BENCH_PYTHON (default pyenv's 3.12), BENCH_DIR (default a temp dir),
 * BENCH_HOME (the SLIMENV_HOME to use: reuse one to measure against an already built wheel;
 * default BENCH_DIR/home, a cold store), BENCH_KEEP=1 keeps BENCH_DIR.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { sizeReport } from "../src/report/size.ts";
import { ROOT, writeSection } from "./report.ts";

function defaultPython(): string {
  if (process.env.BENCH_PYTHON) return process.env.BENCH_PYTHON;
  const pyenv = path.join(os.homedir(), ".pyenv", "versions");
  const v = existsSync(pyenv)
    ? readdirSync(pyenv)
        .filter((x) => /^3\.12\.\d+$/.test(x))
        .pop()
    : undefined;
  return v === undefined ? "python3" : path.join(pyenv, v, "bin", "python3.12");
}

const PY = defaultPython();
const DIR = process.env.BENCH_DIR ?? mkdtempSync(path.join(os.tmpdir(), "slimenv-bench-build-"));
const HOME = process.env.BENCH_HOME ?? path.join(DIR, "home");
mkdirSync(DIR, { recursive: true });
const BIN = path.join(ROOT, "bin", "slimenv.js");

const PROGRAM = `
import numpy as np
rng = np.random.default_rng(12345)
a = rng.standard_normal((200, 200))
b = rng.standard_normal(200)
x = np.linalg.solve(a, b)
print("solve residual < 1e-9:", bool(np.abs(a @ x - b).max() < 1e-9))
print("det sign:", np.sign(np.linalg.det(a[:50, :50])))
print("eigvals sum:", round(float(np.linalg.eigvals(a[:60, :60]).real.sum()), 6))
print("fft:", np.round(np.abs(np.fft.fft(np.arange(8.0))), 6).tolist())
print("sorted head:", np.sort(rng.integers(0, 1000, 20)).tolist()[:5])
print("mean/std:", round(float(a.mean()), 9), round(float(a.std()), 9))
`;

function slimenv(args: string[]): { seconds: number; out: string } {
  const started = performance.now();
  const res = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, SLIMENV_HOME: HOME, SLIMENV_FROM_SOURCE: "1", NO_COLOR: "1" },
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  const seconds = (performance.now() - started) / 1000;
  if (res.status !== 0) {
    throw new Error(`slimenv ${args.join(" ")} failed:\n${res.stderr.slice(-4000)}`);
  }
  return { seconds, out: res.stdout + res.stderr };
}

function py(env: string, args: string[]): { status: number; out: string } {
  const res = spawnSync(path.join(env, "bin", "python"), args, {
    encoding: "utf8",
    env: { ...process.env, PATH: `${path.dirname(PY)}:${process.env.PATH ?? ""}` },
    cwd: DIR,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: res.status ?? -1, out: `${res.stdout}${res.stderr}` };
}

function numpySize(env: string): { onDisk: number; apparent: number; native: number } {
  const report = sizeReport(env);
  const d = report.distributions.find((x) => x.name.toLowerCase() === "numpy");
  if (d === undefined) throw new Error(`no numpy in ${env}`);
  return {
    onDisk: d.total.onDisk,
    apparent: d.total.apparent,
    native: d.byKind["native-code"].apparent + d.byKind["native-debug"].apparent,
  };
}

const MiB = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)}%`;
const TESTS = ["numpy.linalg", "numpy.fft", "numpy.random", "numpy._core.tests.test_umath"];

function testSummary(env: string): string {
  const res = py(env, ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", "--pyargs", ...TESTS]);
  const line = res.out
    .trim()
    .split("\n")
    .reverse()
    .find((l) => /passed|failed|error/.test(l));
  return (line ?? `exit ${res.status}`).replace(/=+/g, "").trim();
}

const common = ["install", "numpy", "pytest", "hypothesis", "--python", PY, "-v"];
const wheelEnv = path.join(DIR, "env-wheel");
const srcEnv = path.join(DIR, "env-source");
const w = slimenv([...common, "--prefix", wheelEnv]);
const s = slimenv([
  ...common,
  "--prefix",
  srcEnv,
  "--no-binary",
  "numpy",
  "--build-flags",
  "size",
  "--use-system-libs",
]);
const manifest = JSON.parse(readFileSync(path.join(srcEnv, ".slimenv", "manifest.json"), "utf8"));
const built = manifest.built?.find((b: { name: string }) => b.name === "numpy");
const version = (manifest.packages as { name: string; version: string }[]).find(
  (p) => p.name === "numpy",
)?.version;
const sizeW = numpySize(wheelEnv);
const sizeS = numpySize(srcEnv);
const outW = py(wheelEnv, ["-c", PROGRAM]).out;
const outS = py(srcEnv, ["-c", PROGRAM]).out;
const testsW = testSummary(wheelEnv);
const testsS = testSummary(srcEnv);
const libs = sizeReport(srcEnv).systemLibraries ?? [];
const blas = py(srcEnv, [
  "-c",
  "import numpy; c = numpy.show_config(mode='dicts'); print(c['Build Dependencies']['blas']['name'], c['Build Dependencies']['blas'].get('version'))",
]).out.trim();

const md = `
## Build from source: numpy for size

\`node bench/build.ts\` (Python ${PY}, numpy ${version}; ${os.cpus().length} cores, shared). numpy
from PyPI's wheel beside numpy built here from its sdist with \`--no-binary numpy --build-flags
size --use-system-libs\` (meson \`minsize\`, \`-g0 -Os\`, gc-sections, stripped; Debian's OpenBLAS
through pkg-config instead of the wheel's bundled \`numpy.libs\`). Sizes are numpy's files as
\`slimenv size\` counts them (on disk).

| | numpy on disk | apparent | of which native code | install time | program output | numpy tests (${TESTS.join(", ")}) |
| --- | --- | --- | --- | --- | --- | --- |
| wheel | ${MiB(sizeW.onDisk)} | ${MiB(sizeW.apparent)} | ${MiB(sizeW.native)} | ${w.seconds.toFixed(1)} s | reference | ${testsW} |
| built for size | ${MiB(sizeS.onDisk)} (${pct(sizeS.onDisk, sizeW.onDisk)}) | ${MiB(sizeS.apparent)} (${pct(sizeS.apparent, sizeW.apparent)}) | ${MiB(sizeS.native)} (${pct(sizeS.native, sizeW.native)}) | ${s.seconds.toFixed(1)} s${built?.compiled === false ? " (the wheel was already in the store)" : " (includes the build)"} | ${outS === outW ? "identical" : "DIFFERENT"} | ${testsS} |

BLAS of the built numpy: ${blas}. System libraries the built env needs (ELF DT_NEEDED that
nothing in the env provides): ${libs.map((l) => `\`${l.name}\``).join(", ")}. The goal was ≤ 45%
of the wheel's installed size; the field report's figure is 85 → 23 MB (−70%) with \`-g0\`.
`;
writeSection("build", md);
process.stdout.write(md);
if (process.env.BENCH_KEEP !== "1" && process.env.BENCH_DIR === undefined) {
  rmSync(DIR, { recursive: true, force: true });
}
