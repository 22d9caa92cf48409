/**
 * numpy built from source for size, beside numpy's wheel, against the real PyPI:
 *   W: slimenv install numpy pytest hypothesis --prefix W                     (the wheel)
 *   S: … --no-binary numpy --build-flags size --use-system-libs                (built here)
 *   D: S with -C setup-args=-Dcpu-dispatch=max (the size profile without its numpy option)
 * Compares numpy's installed size (as `slimenv size` counts it), install/build time, the
 * output of one program in every env, numpy's own test subset (linalg, fft, random, core
 * umath), the speed of a few SIMD-dispatched operations, and lists the system libraries S
 * needs. Writes the `build` section of docs/benchmarks.md; then bench/build-sdist.ts writes
 * `build-sdist` (one sdist-only package from PyPI).
 *
 * Needs the network, gcc/g++, and Debian's `libopenblas-dev pkg-config`; the builds take many
 * minutes on a small machine. Not part of `npm test`. Run: node bench/build.ts
 * Variables: BENCH_PYTHON (default pyenv's 3.12), BENCH_DIR (default a temp dir),
 * BENCH_HOME (the SLIMENV_HOME to use: reuse one to measure against already built wheels;
 * default BENCH_DIR/home, a cold store), BENCH_KEEP=1 keeps BENCH_DIR, BENCH_ONLY=numpy or
 * BENCH_ONLY=sdist runs one part.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { sizeReport } from "../src/report/size.ts";
import { DIR, MiB, PY, pct, py, slimenv } from "./build-common.ts";
import { benchSdistOnly } from "./build-sdist.ts";
import { writeSection } from "./report.ts";

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

/** Best of 7 runs (ms) of operations numpy dispatches per CPU generation. */
const SPEED = `
import json, time, numpy as np
rng = np.random.default_rng(1)
x = rng.standard_normal(1_000_000)
i = rng.integers(0, 1 << 30, 1_000_000)
f32 = x.astype(np.float32)
ops = {
  "exp f64": lambda: np.exp(x), "sin f32": lambda: np.sin(f32), "log f64": lambda: np.log(np.abs(x)),
  "sort f64": lambda: np.sort(x), "sort i64": lambda: np.sort(i), "x*x+x": lambda: x * x + x,
  "argmax": lambda: np.argmax(x),
}
out = {}
for k, f in ops.items():
  f(); best = 1e9
  for _ in range(7):
    t = time.perf_counter(); f(); best = min(best, time.perf_counter() - t)
  out[k] = best * 1000
print(json.dumps(out))
`;

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

/** numpy's files by what they are (apparent bytes), the wheel's bundled libraries apart. */
function breakdown(env: string): Record<string, number> {
  const lib = path.join(env, "lib");
  const site = path.join(
    lib,
    readdirSync(lib).find((d) => d.startsWith("python3")) ?? "",
    "site-packages",
  );
  const out: Record<string, number> = {
    "extensions (.so)": 0,
    "static libraries (.a)": 0,
    "Python source": 0,
    "type stubs (.pyi)": 0,
    tests: 0,
    "headers and other": 0,
    "bundled libraries (numpy.libs)": 0,
  };
  const add = (k: string, n: number) => {
    out[k] = (out[k] ?? 0) + n;
  };
  for (const top of ["numpy", "numpy.libs"]) {
    const dir = path.join(site, top);
    if (!existsSync(dir)) continue;
    for (const rel of readdirSync(dir, { recursive: true }) as string[]) {
      const st = statSync(path.join(dir, rel));
      if (!st.isFile()) continue;
      const parts = rel.split(path.sep);
      if (top === "numpy.libs") add("bundled libraries (numpy.libs)", st.size);
      else if (rel.endsWith(".so")) add("extensions (.so)", st.size);
      else if (parts.includes("tests")) add("tests", st.size);
      else if (rel.endsWith(".a")) add("static libraries (.a)", st.size);
      else if (rel.endsWith(".pyi")) add("type stubs (.pyi)", st.size);
      else if (rel.endsWith(".py")) add("Python source", st.size);
      else add("headers and other", st.size);
    }
  }
  return out;
}

const TESTS = ["numpy.linalg", "numpy.fft", "numpy.random", "numpy._core.tests.test_umath"];

function testSummary(env: string): string {
  const res = py(env, ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", "--pyargs", ...TESTS]);
  const line = res.out
    .trim()
    .split("\n")
    .reverse()
    .find((l) => /passed|failed|error/.test(l));
  return (line ?? `exit ${res.status}`)
    .replace(/=+/g, "")
    .replace(/ in [\d.]+s( \(\d+:\d+:\d+\))?/, "")
    .trim();
}

interface Built {
  env: string;
  seconds: number;
  compiled: boolean;
  settings: string;
}

function builtEnv(name: string, extra: string[]): Built {
  const env = path.join(DIR, name);
  rmSync(env, { recursive: true, force: true });
  const run = slimenv([
    ...common,
    "--prefix",
    env,
    "--no-binary",
    "numpy",
    "--build-flags",
    "size",
    "--use-system-libs",
    ...extra,
  ]);
  const manifest = JSON.parse(readFileSync(path.join(env, ".slimenv", "manifest.json"), "utf8"));
  const rec = manifest.built?.find((b: { name: string }) => b.name === "numpy");
  const list = (s: Record<string, string | string[]> | undefined) =>
    Object.entries(s ?? {}).flatMap(([k, v]) =>
      (Array.isArray(v) ? v : [v]).map((one) => `\`${k}=${one}\``),
    );
  return {
    env,
    seconds: run.seconds,
    compiled: rec?.compiled !== false,
    settings: [...list(rec?.packageSettings), ...list(rec?.configSettings)].join(" "),
  };
}

const common = ["install", "numpy", "pytest", "hypothesis", "--python", PY, "-v"];

function benchNumpy(): void {
  const wheelEnv = path.join(DIR, "env-wheel");
  rmSync(wheelEnv, { recursive: true, force: true });
  const w = slimenv([...common, "--prefix", wheelEnv]);
  const s = builtEnv("env-source", []);
  const d = builtEnv("env-source-dispatch", ["-C", "setup-args=-Dcpu-dispatch=max"]);
  const manifest = JSON.parse(readFileSync(path.join(s.env, ".slimenv", "manifest.json"), "utf8"));
  const version = (manifest.packages as { name: string; version: string }[]).find(
    (p) => p.name === "numpy",
  )?.version;
  const sizeW = numpySize(wheelEnv);
  const outW = py(wheelEnv, ["-c", PROGRAM]).out;
  const speed = (env: string) => JSON.parse(py(env, ["-c", SPEED]).out) as Record<string, number>;
  const speedW = speed(wheelEnv);
  const row = (label: string, b: Built): string => {
    const z = numpySize(b.env);
    const out = py(b.env, ["-c", PROGRAM]).out;
    const time = `${b.seconds.toFixed(1)} s${b.compiled ? " (includes the build)" : " (the wheel was already in the store)"}`;
    return `| ${label} | ${MiB(z.onDisk)} (${pct(z.onDisk, sizeW.onDisk)}) | ${MiB(z.apparent)} (${pct(z.apparent, sizeW.apparent)}) | ${MiB(z.native)} (${pct(z.native, sizeW.native)}) | ${time} | ${out === outW ? "identical" : "DIFFERENT"} | ${testSummary(b.env)} |`;
  };
  const rowS = row("built, `--build-flags size`", s);
  const rowD = row("built, `--build-flags size -C setup-args=-Dcpu-dispatch=max`", d);
  const speedS = speed(s.env);
  const speedD = speed(d.env);
  const libs = sizeReport(s.env).systemLibraries ?? [];
  const blas = py(s.env, [
    "-c",
    "import numpy; c = numpy.show_config(mode='dicts'); print(c['Build Dependencies']['blas']['name'], c['Build Dependencies']['blas'].get('version'))",
  ]).out.trim();
  const cpu = py(s.env, [
    "-c",
    "import numpy._core._multiarray_umath as m; print(' '.join(k for k, v in m.__cpu_features__.items() if v and k.startswith(('AVX', 'X86'))))",
  ]).out.trim();
  const parts = [breakdown(wheelEnv), breakdown(s.env), breakdown(d.env)];
  const total = parts.map((p) => Object.values(p).reduce((a, b) => a + b, 0));
  const breakdownRows = [
    ...Object.keys(parts[0] ?? {}).map(
      (k) => `| ${k} | ${parts.map((p) => MiB(p[k] ?? 0)).join(" | ")} |`,
    ),
    `| **total** | ${total.map((t) => `**${MiB(t)}**`).join(" | ")} |`,
  ].join("\n");
  const speedRows = Object.keys(speedW)
    .map(
      (k) =>
        `| ${k} | ${speedW[k]?.toFixed(2)} | ${speedS[k]?.toFixed(2)} (${((speedS[k] ?? 0) / (speedW[k] ?? 1)).toFixed(2)}×) | ${speedD[k]?.toFixed(2)} (${((speedD[k] ?? 0) / (speedW[k] ?? 1)).toFixed(2)}×) |`,
    )
    .join("\n");

  const md = `
## Build from source: numpy for size

\`npm run bench:build\` (Python ${PY}, numpy ${version}; ${os.cpus().length} cores, shared). numpy
from PyPI's wheel beside numpy built here from its sdist with \`--no-binary numpy --build-flags
size --use-system-libs\`: meson \`minsize\` with asserts off (\`-Db_ndebug=true\`, as in a release
wheel), \`-g0 -Os -ffunction-sections -fdata-sections\`,
\`-Wl,--gc-sections\`, stripped, numpy's SIMD kernels for the baseline CPU only
(\`-Dcpu-dispatch=none\`, the size profile's one numpy option), and Debian's OpenBLAS through
pkg-config instead of the wheel's bundled \`numpy.libs\`. The third row gives numpy its default
dispatch back with \`-C\`. Sizes are numpy's files as \`slimenv size\` counts them.

| | numpy on disk | apparent | of which native code | install time | program output | numpy tests (${TESTS.join(", ")}) |
| --- | --- | --- | --- | --- | --- | --- |
| wheel | ${MiB(sizeW.onDisk)} | ${MiB(sizeW.apparent)} | ${MiB(sizeW.native)} | ${w.seconds.toFixed(1)} s | reference | ${testSummary(wheelEnv)} |
${rowS}
${rowD}

Config settings the env manifests record for numpy: ${s.settings} (size); ${d.settings} (third row).
BLAS of the built numpy: ${blas}. System libraries the built env needs (ELF DT_NEEDED that
nothing in the env provides): ${libs.map((l) => `\`${l.name}\``).join(", ")}.

Where numpy's bytes go (apparent sizes of numpy's files):

| | wheel | built, size | built, size, dispatch=max |
| --- | ---: | ---: | ---: |
${breakdownRows}

The price of \`cpu-dispatch=none\`: best of 7 runs, ms, 10⁶ elements, on this machine's CPU
(${cpu || "no AVX"}); × is the time over the wheel's.

| operation | wheel | built, size | built, size, dispatch=max |
| --- | ---: | ---: | ---: |
${speedRows}
`;
  writeSection("build", md);
  process.stdout.write(md);
}

const only = process.env.BENCH_ONLY;
if (only === undefined || only === "numpy") benchNumpy();
if (only === undefined || only === "sdist") await benchSdistOnly();
if (process.env.BENCH_KEEP !== "1" && process.env.BENCH_DIR === undefined) {
  rmSync(DIR, { recursive: true, force: true });
}
