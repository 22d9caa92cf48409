/**
 * "As fast as uv": slimenv against uv, case by case, in the same run, interleaved (the order of
 * the two tools alternates per round), several rounds, reported as medians, ratios and spread.
 * Both tools use the same index (real PyPI unless BENCH_INDEX_URL), hardlink mode, and the same
 * interpreter; slimenv runs from the bundle (dist/slimenv.js: run `npm run build` first).
 * pip rows (one run each) are there for reference.
 *
 * Cases, per set: cold install (empty store / cache, new dir), lock (warm), lock (warm) for
 * another target (CPython 3.11 on manylinux_2_28 aarch64, no interpreter), warm install into a
 * new dir, install from a lock with no network (--offline), no-op `sync`, `install -r` again on
 * an up-to-date env, and peak memory (of the warm install); `--version` once.
 *
 * Needs the network; not part of `npm test`. Run: npm run build && npm run bench:speed
 * Variables: BENCH_ROUNDS (default 3), BENCH_SETS (comma-separated set names, default all),
 * BENCH_PYTHON (default pyenv's 3.12, else python3), BENCH_UV (a uv binary; default: pip-install
 * uv into a throwaway venv), BENCH_SLIMENV (another bundle), BENCH_NO_PIP=1 (skip the pip rows),
 * BENCH_DIR (work folder).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { benchPython, median, ROOT, writeSection } from "./report.ts";
import { SETS } from "./speed-sets.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SET_NAMES = (process.env.BENCH_SETS ?? "web,data").split(",");
const INDEX = process.env.BENCH_INDEX_URL ?? "https://pypi.org/simple/";

const PY = benchPython();
const WORK = process.env.BENCH_DIR ?? mkdtempSync(path.join(os.tmpdir(), "slimenv-speed-"));
mkdirSync(WORK, { recursive: true });
const BUNDLE = process.env.BENCH_SLIMENV ?? path.join(ROOT, "dist", "slimenv.js");
if (!existsSync(BUNDLE)) throw new Error("dist/slimenv.js is missing: run `npm run build` first");

// Nothing from the machine's pip / uv / slimenv configuration: both tools see only INDEX.
const BASE_ENV: NodeJS.ProcessEnv = {};
for (const [k, v] of Object.entries(process.env)) {
  if (/^(PIP_|UV_|SLIMENV_)/.test(k)) continue;
  BASE_ENV[k] = v;
}
Object.assign(BASE_ENV, {
  NO_COLOR: "1",
  PIP_CONFIG_FILE: os.devNull,
  PIP_DISABLE_PIP_VERSION_CHECK: "1",
  PIP_NO_INPUT: "1",
  PIP_INDEX_URL: INDEX,
  PIP_CERT: process.env.PIP_CERT,
  UV_NO_CONFIG: "1",
  UV_PYTHON_DOWNLOADS: "never",
  UV_INDEX_URL: INDEX,
  SLIMENV_NO_CONFIG: "1",
  SLIMENV_INDEX_URL: INDEX,
});
if (process.env.PIP_CERT === undefined) delete BASE_ENV.PIP_CERT;

function log(message: string): void {
  process.stderr.write(`[speed] ${message}\n`);
}

interface Run {
  ms: number;
  rssKb: number;
}

/** Wall time and peak RSS (GNU time's %M) of one command; throws if it fails. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd = WORK): Run {
  const rssFile = path.join(WORK, `.rss-${process.pid}`);
  const started = performance.now();
  const res = spawnSync("/usr/bin/time", ["-f", "%M", "-o", rssFile, cmd, ...args], {
    env,
    cwd,
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  const ms = performance.now() - started;
  if (res.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (${res.status}):\n${res.stderr}\n${res.stdout}`,
    );
  }
  const rssKb = Number(readFileSync(rssFile, "utf8").trim().split("\n").pop());
  return { ms, rssKb };
}

// --- tools ---------------------------------------------------------------------------------
let UV = process.env.BENCH_UV;
if (UV === undefined) {
  const venv = path.join(WORK, "uv-tool");
  spawnSync(PY, ["-m", "venv", venv]);
  const pip = spawnSync(path.join(venv, "bin", "pip"), ["install", "-q", "uv"], {
    env: process.env,
    encoding: "utf8",
  });
  if (pip.status !== 0) throw new Error(`pip install uv failed: ${pip.stderr}`);
  UV = path.join(venv, "bin", "uv");
}
const uvBin = UV;
const uvVersion = spawnSync(uvBin, ["--version"], { encoding: "utf8" }).stdout.trim();
const pyVersion = spawnSync(PY, ["--version"], { encoding: "utf8" }).stdout.trim();
log(`${pyVersion} (${PY}), ${uvVersion}, index ${INDEX}, work dir ${WORK}`);

interface Tool {
  name: string;
  /** the command for a case, or undefined when the tool has no such case */
  cold(reqs: string, dir: string): [string, string[]];
  install(reqs: string, dir: string): [string, string[]];
  lock(reqs: string, out: string): [string, string[]];
  /** lock for CPython 3.11 on manylinux_2_28_aarch64, described, with no interpreter */
  lockCross(reqs: string, out: string): [string, string[]];
  installLock(lock: string, dir: string): [string, string[]];
  sync(lock: string, dir: string): [string, string[]];
  env(home: string): NodeJS.ProcessEnv;
}

const node = process.execPath;
const slimenv: Tool = {
  name: "slimenv",
  cold: (r, d) => slimenv.install(r, d),
  install: (r, d) => [
    node,
    [BUNDLE, "-q", "install", "-r", r, "--prefix", d, "--python", PY, "--link-mode", "hardlink"],
  ],
  lock: (r, o) => [node, [BUNDLE, "-q", "lock", "-r", r, "-o", o, "--python", PY]],
  lockCross: (r, o) => [
    node,
    [BUNDLE, "-q", "lock", "-r", r, "-o", o, "--python-version", "3.11"].concat(
      "--platform",
      "manylinux_2_28_aarch64",
    ),
  ],
  installLock: (l, d) => [
    node,
    [BUNDLE, "-q", "install", l, "--prefix", d, "--python", PY, "--link-mode", "hardlink"].concat(
      "--offline",
    ),
  ],
  sync: (l, d) => [node, [BUNDLE, "-q", "sync", d, l]],
  env: (home) => ({ ...BASE_ENV, SLIMENV_HOME: home }),
};
const uv: Tool = {
  name: "uv",
  cold: (r, d) => uv.install(r, d),
  install: (r, d) => [
    uvBin,
    ["pip", "install", "-q", "-r", r, "--prefix", d, "--python", PY, "--link-mode", "hardlink"],
  ],
  lock: (r, o) => [
    uvBin,
    ["pip", "compile", "-q", r, "--format", "pylock.toml", "-o", o, "--python", PY],
  ],
  lockCross: (r, o) => [
    uvBin,
    ["pip", "compile", "-q", r, "--format", "pylock.toml", "-o", o].concat(
      ["--python-version", "3.11", "--python-platform", "aarch64-manylinux_2_28"],
      ["--python", PY],
    ),
  ],
  installLock: (l, d) => [
    uvBin,
    [
      "pip",
      "install",
      "-q",
      "-r",
      l,
      "--prefix",
      d,
      "--python",
      PY,
      "--link-mode",
      "hardlink",
      "--offline",
    ],
  ],
  sync: (l, d) => [uvBin, ["pip", "sync", "-q", l, "--prefix", d, "--python", PY]],
  env: (cache) => ({ ...BASE_ENV, UV_CACHE_DIR: cache, UV_PREVIEW_FEATURES: "pylock" }),
};
const TOOLS = [slimenv, uv];

const CASES = [
  "cold install (new dir, empty store / cache)",
  "lock (warm)",
  "lock (warm) for aarch64 / CPython 3.11",
  "warm install into a new dir",
  "install from a lock, no network",
  "no-op sync",
  "install -r again, env up to date",
] as const;
type CaseName = (typeof CASES)[number];

/** samples.get(`${set}\0${case}\0${tool}`) = runs */
const samples = new Map<string, Run[]>();
const setsRun: string[] = [];
function record(set: string, c: string, tool: string, r: Run): void {
  const key = `${set}\0${c}\0${tool}`;
  samples.set(key, [...(samples.get(key) ?? []), r]);
}
const runsOf = (set: string, c: string, tool: string) => samples.get(`${set}\0${c}\0${tool}`) ?? [];

const pipRows: string[] = [];

for (const setName of SET_NAMES) {
  const reqs = SETS[setName];
  if (reqs === undefined) throw new Error(`unknown set ${setName}`);
  setsRun.push(setName);
  const setDir = path.join(WORK, setName);
  mkdirSync(setDir, { recursive: true });
  const reqFile = path.join(setDir, "requirements.txt");
  writeFileSync(reqFile, `${reqs.join("\n")}\n`);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? TOOLS : [...TOOLS].reverse();
    const rd = path.join(setDir, `r${round}`);
    rmSync(rd, { recursive: true, force: true });
    mkdirSync(rd, { recursive: true });
    const home = (t: Tool) => path.join(rd, `${t.name}-home`);
    const step = (c: CaseName, cmd: (t: Tool) => [string, string[]]) => {
      for (const t of order) {
        const [bin, args] = cmd(t);
        const r = run(bin, args, t.env(home(t)));
        record(setName, c, t.name, r);
        log(`${setName} r${round} ${t.name} ${c}: ${r.ms.toFixed(0)} ms, ${r.rssKb} KiB`);
      }
    };
    step(CASES[0], (t) => t.cold(reqFile, path.join(rd, `${t.name}-cold`)));
    step(CASES[1], (t) => t.lock(reqFile, path.join(rd, `pylock.${t.name}.toml`)));
    step(CASES[2], (t) => t.lockCross(reqFile, path.join(rd, `pylock.${t.name}-aarch64.toml`)));
    step(CASES[3], (t) => t.install(reqFile, path.join(rd, `${t.name}-warm`)));
    // Both install slimenv's lock (PEP 751), so they install the same thing.
    const lock = path.join(rd, "pylock.slimenv.toml");
    step(CASES[4], (t) => t.installLock(lock, path.join(rd, `${t.name}-fromlock`)));
    step(CASES[5], (t) => t.sync(lock, path.join(rd, `${t.name}-fromlock`)));
    step(CASES[6], (t) => t.install(reqFile, path.join(rd, `${t.name}-warm`)));
    rmSync(rd, { recursive: true, force: true });
  }
  if (process.env.BENCH_NO_PIP !== "1") {
    const cache = path.join(setDir, "pip-cache");
    const env = { ...BASE_ENV, PIP_CACHE_DIR: cache };
    const pip = (dir: string) =>
      run(PY, ["-m", "pip", "install", "-q", "--prefix", dir, "-r", reqFile], env);
    const cold = pip(path.join(setDir, "pip-cold"));
    const warm = pip(path.join(setDir, "pip-warm"));
    const again = pip(path.join(setDir, "pip-warm"));
    const f = (r: Run) => `${(r.ms / 1000).toFixed(2)} s, ${(r.rssKb / 1024).toFixed(0)} MiB`;
    pipRows.push(`| ${setName} | ${f(cold)} | ${f(warm)} | ${f(again)} |`);
    rmSync(setDir, { recursive: true, force: true });
  }
}

// --- start-up ----------------------------------------------------------------------------------
const versionRuns: Record<string, Run[]> = { slimenv: [], uv: [], "node -e 0": [] };
const versionCmds: [string, string, string[]][] = [
  ["slimenv", node, [BUNDLE, "--version"]],
  ["uv", uvBin, ["--version"]],
  ["node -e 0", node, ["-e", "0"]],
];
for (const [, c, a] of versionCmds) run(c, a, BASE_ENV);
for (let i = 0; i < Math.max(10, ROUNDS * 5); i++) {
  for (const [label, c, a] of versionCmds) versionRuns[label]?.push(run(c, a, BASE_ENV));
}

// --- does the index send caching headers? --------------------------------------------------------
async function cachingHeaders(): Promise<string> {
  try {
    const res = await fetch(new URL("numpy/", INDEX), {
      headers: { accept: "application/vnd.pypi.simple.v1+json" },
    });
    await res.arrayBuffer();
    const names = ["cache-control", "etag", "last-modified", "age", "expires"];
    const got = names.filter((n) => res.headers.get(n) !== null);
    return got.length === 0
      ? "no caching headers"
      : got.map((n) => `\`${n}: ${res.headers.get(n)}\``).join(", ");
  } catch (err) {
    return `could not ask (${(err as Error).message})`;
  }
}
const headers = await cachingHeaders();

// --- report ----------------------------------------------------------------------------------
const sec = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const spread = (runs: Run[]) => {
  const ms = runs.map((r) => r.ms);
  return `${sec(Math.min(...ms))}–${sec(Math.max(...ms))}`;
};
const lines: string[] = [
  `${pyVersion} on ${os.platform()} ${os.arch()}, ${os.cpus().length} cores (shared, loaded), Node ${process.version}, ${uvVersion}, ${new Date().toISOString().slice(0, 16)}Z.`,
  `Index for both: ${INDEX} (the simple page of numpy came with ${headers}). ${ROUNDS} rounds, the two tools interleaved (order alternating per round); slimenv is the bundle (dist/slimenv.js), both in hardlink mode into \`--prefix\` dirs, store / cache on the same file system.`,
  "",
  "| set | case | slimenv median | uv median | slimenv ÷ uv | slimenv spread | uv spread |",
  "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
];
for (const setName of setsRun) {
  for (const c of CASES) {
    const s = runsOf(setName, c, "slimenv");
    const u = runsOf(setName, c, "uv");
    if (s.length === 0 || u.length === 0) continue;
    const ms = median(s.map((r) => r.ms));
    const mu = median(u.map((r) => r.ms));
    lines.push(
      `| ${setName} | ${c} | ${sec(ms)} | ${sec(mu)} | ${(ms / mu).toFixed(1)}× | ${spread(s)} | ${spread(u)} |`,
    );
  }
  const s = runsOf(setName, CASES[3], "slimenv");
  const u = runsOf(setName, CASES[3], "uv");
  const ks = median(s.map((r) => r.rssKb));
  const ku = median(u.map((r) => r.rssKb));
  lines.push(
    `| ${setName} | peak memory (warm install) | ${(ks / 1024).toFixed(0)} MiB | ${(ku / 1024).toFixed(0)} MiB | ${(ks / ku).toFixed(1)}× | | |`,
  );
}
{
  const s = versionRuns.slimenv ?? [];
  const u = versionRuns.uv ?? [];
  const n = versionRuns["node -e 0"] ?? [];
  const ms = median(s.map((r) => r.ms));
  const mu = median(u.map((r) => r.ms));
  lines.push(
    `| — | \`--version\` (node -e 0: ${sec(median(n.map((r) => r.ms)))}) | ${sec(ms)} | ${sec(mu)} | ${(ms / mu).toFixed(1)}× | ${spread(s)} | ${spread(u)} |`,
  );
}
if (pipRows.length > 0) {
  lines.push(
    "",
    "pip for reference (`pip install --prefix DIR -r requirements.txt`, one run each, after the rounds above):",
    "",
    "| set | cold cache | warm cache, new dir | again, up to date |",
    "| --- | ---: | ---: | ---: |",
    ...pipRows,
  );
}
const markdown = lines.join("\n");
writeSection("speed", markdown);
process.stdout.write(`${markdown}\n`);
if (process.env.BENCH_DIR === undefined) rmSync(WORK, { recursive: true, force: true });
