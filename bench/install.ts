/**
 * Install time and disk cost, side by side, against the real PyPI: `slimenv install --prefix`
 * (cold store, then warm), `python -m venv` + `pip install`, `pip install --prefix`, and
 * `uv pip install` (uv is pip-installed into a throwaway venv here; hardlink mode, which
 * uv and slimenv both use on ext4). Then 10 "projects" that each need numpy: 10 envs per
 * tool, with disk measured over all of them at once (`du -s` counts a hard-linked file once).
 * Also the bytes two numpy versions share in slimenv's store.
 *
 * Needs the network; not part of `npm test`. Run: npm run bench:install
 * Variables: BENCH_PYTHON (default: pyenv's 3.12, else python3), BENCH_DIR (work folder,
 * default a temp dir; removed at the end unless BENCH_KEEP=1).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { benchPython, ROOT, writeSection } from "./report.ts";

const SET = ["numpy", "pandas", "requests"];
const PROJECT_EXTRAS = [
  "requests",
  "pyyaml",
  "click",
  "attrs",
  "packaging",
  "six",
  "tqdm",
  "python-dateutil",
  "pandas",
  "jinja2",
];
const NUMPY_VERSIONS = ["numpy==2.1.3", "numpy==2.2.6"];

const PY = benchPython();
const WORK = process.env.BENCH_DIR ?? mkdtempSync(path.join(os.tmpdir(), "slimenv-bench-"));
mkdirSync(WORK, { recursive: true });
const SLIMENV = [process.execPath, path.join(ROOT, "bin", "slimenv.js")];
const BASE_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  PIP_DISABLE_PIP_VERSION_CHECK: "1",
  PIP_NO_INPUT: "1",
  NO_COLOR: "1",
};

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = BASE_ENV): number {
  const started = performance.now();
  const res = spawnSync(cmd, args, { env, encoding: "utf8", cwd: WORK, maxBuffer: 1 << 28 });
  const ms = performance.now() - started;
  if (res.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (${res.status}):\n${res.stderr}\n${res.stdout}`,
    );
  }
  return ms;
}

/** [apparent bytes, disk bytes] of the paths together (hard links counted once). */
function du(paths: string[]): [number, number] {
  const total = (extra: string[]) => {
    const res = spawnSync("du", ["-s", "-c", "-B1", ...extra, ...paths], { encoding: "utf8" });
    const last = res.stdout.trim().split("\n").pop() ?? "0";
    return Number(last.split(/\s+/)[0]);
  };
  return [total(["--apparent-size"]), total([])];
}

const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)}`;
const sec = (ms: number) => `${(ms / 1000).toFixed(1)}`;

interface Row {
  tool: string;
  what: string;
  ms: number;
  apparent: number;
  disk: number;
  note?: string;
}
const rows: Row[] = [];
const projectRows: Row[] = [];

function slimenvEnv(home: string): NodeJS.ProcessEnv {
  return { ...BASE_ENV, SLIMENV_HOME: home };
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

// --- tools ---------------------------------------------------------------------------
log(`python ${PY}, work dir ${WORK}`);
const uvVenv = path.join(WORK, "uv-tool");
let UV: string | undefined;
try {
  sh(PY, ["-m", "venv", uvVenv]);
  sh(path.join(uvVenv, "bin", "pip"), ["install", "-q", "uv"]);
  UV = path.join(uvVenv, "bin", "uv");
  log(`uv: ${spawnSync(UV, ["--version"], { encoding: "utf8" }).stdout.trim()}`);
} catch (err) {
  log(`uv unavailable: ${(err as Error).message.split("\n")[0]}`);
}

// --- one set, cold and warm -------------------------------------------------------------
const home = path.join(WORK, "slimenv-home");
{
  const dir = path.join(WORK, "s-cold");
  const ms = sh(
    SLIMENV[0] as string,
    [...SLIMENV.slice(1), "-q", "install", ...SET, "--prefix", dir, "--python", PY],
    slimenvEnv(home),
  );
  rows.push({ tool: "slimenv install --prefix", what: "cold store", ms, ...sizes([dir]) });
  const warm = path.join(WORK, "s-warm");
  const ms2 = sh(
    SLIMENV[0] as string,
    [...SLIMENV.slice(1), "-q", "install", ...SET, "--prefix", warm, "--python", PY],
    slimenvEnv(home),
  );
  rows.push({
    tool: "slimenv install --prefix",
    what: "warm store",
    ms: ms2,
    ...sizes([warm]),
    note: `store ${mb(du([path.join(home, "store")])[1])} MB; env + store: ${mb(du([warm, path.join(home, "store")])[1])} MB`,
  });
  const pth = path.join(WORK, "s-pth");
  const ms3 = sh(
    SLIMENV[0] as string,
    [
      ...SLIMENV.slice(1),
      "-q",
      "install",
      ...SET,
      "--prefix",
      pth,
      "--python",
      PY,
      "--link-mode",
      "pth",
    ],
    slimenvEnv(home),
  );
  rows.push({
    tool: "slimenv install --prefix --link-mode pth",
    what: "warm store",
    ms: ms3,
    ...sizes([pth]),
  });
}

function sizes(paths: string[]): { apparent: number; disk: number } {
  const [apparent, disk] = du(paths);
  return { apparent, disk };
}

const pipCache = path.join(WORK, "pip-cache");
const pipEnv = { ...BASE_ENV, PIP_CACHE_DIR: pipCache };
{
  for (const what of ["cold cache", "warm cache"]) {
    const dir = path.join(WORK, `pip-venv-${what.split(" ")[0]}`);
    const ms =
      sh(PY, ["-m", "venv", dir], pipEnv) +
      sh(path.join(dir, "bin", "pip"), ["install", "-q", ...SET], pipEnv);
    rows.push({ tool: "python -m venv + pip install", what, ms, ...sizes([dir]) });
  }
  const prefix = path.join(WORK, "pip-prefix");
  const ms = sh(PY, ["-m", "pip", "install", "-q", "--prefix", prefix, ...SET], pipEnv);
  rows.push({ tool: "pip install --prefix", what: "warm cache", ms, ...sizes([prefix]) });
}

const uvCache = path.join(WORK, "uv-cache");
const uvEnv = { ...BASE_ENV, UV_CACHE_DIR: uvCache, UV_PYTHON_DOWNLOADS: "never" };
if (UV !== undefined) {
  for (const what of ["cold cache", "warm cache"]) {
    const dir = path.join(WORK, `uv-prefix-${what.split(" ")[0]}`);
    const ms = sh(
      UV,
      ["pip", "install", "-q", "--python", PY, "--prefix", dir, "--link-mode", "hardlink", ...SET],
      uvEnv,
    );
    rows.push({ tool: "uv pip install --prefix (hardlink)", what, ms, ...sizes([dir]) });
  }
  const venv = path.join(WORK, "uv-venv");
  const ms =
    sh(UV, ["venv", "-q", "--python", PY, venv], uvEnv) +
    sh(
      UV,
      [
        "pip",
        "install",
        "-q",
        "--python",
        path.join(venv, "bin", "python"),
        "--link-mode",
        "hardlink",
        ...SET,
      ],
      uvEnv,
    );
  rows.push({
    tool: "uv venv + uv pip install (hardlink)",
    what: "warm cache",
    ms,
    ...sizes([venv]),
    note: `cache ${mb(du([uvCache])[1])} MB; env + cache: ${mb(du([venv, uvCache])[1])} MB`,
  });
}

// --- 10 projects that each need numpy --------------------------------------------------------
const projects = PROJECT_EXTRAS.map((extra) => ["numpy", extra]);
{
  for (const mode of ["hardlink", "pth"]) {
    const dirs: string[] = [];
    let ms = 0;
    projects.forEach((reqs, i) => {
      const dir = path.join(WORK, `p-slimenv-${mode}-${i}`);
      dirs.push(dir);
      ms += sh(
        SLIMENV[0] as string,
        [
          ...SLIMENV.slice(1),
          "-q",
          "install",
          ...reqs,
          "--prefix",
          dir,
          "--python",
          PY,
          "--link-mode",
          mode,
        ],
        slimenvEnv(home),
      );
    });
    const store = path.join(home, "store");
    projectRows.push({
      tool: `slimenv --prefix, link mode ${mode}`,
      what: "10 envs",
      ms,
      ...sizes(dirs),
      note: `envs + whole store: ${mb(du([...dirs, store])[1])} MB (the store also holds the other benchmarks' wheels)`,
    });
  }
  const dirs: string[] = [];
  let ms = 0;
  projects.forEach((reqs, i) => {
    const dir = path.join(WORK, `p-pip-${i}`);
    dirs.push(dir);
    ms +=
      sh(PY, ["-m", "venv", dir], pipEnv) +
      sh(path.join(dir, "bin", "pip"), ["install", "-q", ...reqs], pipEnv);
  });
  projectRows.push({ tool: "python -m venv + pip install", what: "10 venvs", ms, ...sizes(dirs) });
  if (UV !== undefined) {
    const uvDirs: string[] = [];
    let uvMs = 0;
    projects.forEach((reqs, i) => {
      const dir = path.join(WORK, `p-uv-${i}`);
      uvDirs.push(dir);
      uvMs +=
        sh(UV as string, ["venv", "-q", "--python", PY, dir], uvEnv) +
        sh(
          UV as string,
          [
            "pip",
            "install",
            "-q",
            "--python",
            path.join(dir, "bin", "python"),
            "--link-mode",
            "hardlink",
            ...reqs,
          ],
          uvEnv,
        );
    });
    projectRows.push({
      tool: "uv venv + uv pip install, hardlink",
      what: "10 venvs",
      ms: uvMs,
      ...sizes(uvDirs),
      note: `envs + whole uv cache: ${mb(du([...uvDirs, uvCache])[1])} MB`,
    });
  }
}

// --- two numpy versions in one store ------------------------------------------------------
const numpyHome = path.join(WORK, "slimenv-numpy-home");
for (const [i, req] of NUMPY_VERSIONS.entries()) {
  sh(
    SLIMENV[0] as string,
    [
      ...SLIMENV.slice(1),
      "-q",
      "install",
      req,
      "--prefix",
      path.join(WORK, `np-${i}`),
      "--python",
      PY,
    ],
    slimenvEnv(numpyHome),
  );
}
const statusRes = spawnSync(
  SLIMENV[0] as string,
  [...SLIMENV.slice(1), "--json", "store", "status"],
  {
    env: slimenvEnv(numpyHome),
    encoding: "utf8",
  },
);
const status = JSON.parse(statusRes.stdout) as {
  logicalBytes: number;
  uniqueBytes: number;
  savedAcrossVersions: number;
};

// --- report --------------------------------------------------------------------------------
const uvVersion =
  UV === undefined
    ? "not available"
    : spawnSync(UV, ["--version"], { encoding: "utf8" }).stdout.trim();
const pyVersion = spawnSync(PY, ["--version"], { encoding: "utf8" }).stdout.trim();
const table = (list: Row[]) => [
  "| tool | case | time s | apparent MB | du -s MB | note |",
  "| --- | --- | ---: | ---: | ---: | --- |",
  ...list.map(
    (r) =>
      `| ${r.tool} | ${r.what} | ${sec(r.ms)} | ${mb(r.apparent)} | ${mb(r.disk)} | ${r.note ?? ""} |`,
  ),
];
const markdown = [
  `${pyVersion} on ${os.platform()} ${os.arch()}, ${os.cpus().length} cores, Node ${process.version}, ${uvVersion}, ${new Date().toISOString().slice(0, 10)}; real PyPI, one run each.`,
  "",
  `**One env with ${SET.join(" + ")}** (time includes resolving; "cold" = empty store / cache, downloads included):`,
  "",
  ...table(rows),
  "",
  `**10 projects that each need numpy** (numpy + one of ${PROJECT_EXTRAS.join(", ")}), measured over the 10 env folders together (\`du -s\` counts a hard-linked file once; slimenv and uv reuse the warm store / cache of the runs above):`,
  "",
  ...table(projectRows),
  "",
  `**Two numpy versions in one store** (${NUMPY_VERSIONS.join(", ")}): unpacked ${mb(status.logicalBytes)} MB, stored ${mb(status.uniqueBytes)} MB; ${mb(status.savedAcrossVersions)} MB shared across the versions.`,
].join("\n");
writeSection("install", markdown);
process.stdout.write(`${markdown}\n`);
if (process.env.BENCH_KEEP !== "1" && process.env.BENCH_DIR === undefined) {
  rmSync(WORK, { recursive: true, force: true });
}
