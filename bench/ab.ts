/**
 * A/B of two slimenv bundles (or more), interleaved: the same case run by each in turn (the
 * order alternating per round), with CPU (user + sys), wall time and peak RSS from GNU time.
 * On a shared machine the CPU column is the one to compare; wall time includes the network.
 *
 * Cases (SET is a set of bench/speed.ts: web, data, tiny):
 *   lock-SET      lock into a new file (warm caches)
 *   install-SET   install -r into a new folder (warm store)
 *   again-SET     install -r again into a folder installed by the first bundle (no-op)
 *   sync-SET      sync a folder installed from the first bundle's lock to that lock (no-op)
 *   version       --version
 * One SLIMENV_HOME for all (warmed by a first, unmeasured run of each bundle per case), real
 * PyPI unless BENCH_INDEX_URL.
 *
 * Run: node bench/ab.ts ROUNDS CASE[,CASE…] LABEL=BUNDLE [LABEL=BUNDLE…]
 *   e.g. node bench/ab.ts 8 lock-web,install-web main=/tmp/main/dist/slimenv.js new=dist/slimenv.js
 * A bundle may be preceded by NAME=VALUE words for its environment, all in one argument:
 *   nocap="SLIMENV_YOUNG_GENERATION_MB=0 dist/slimenv.js"
 * Variables: BENCH_PYTHON, BENCH_DIR (work folder, kept), BENCH_INDEX_URL.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { benchPython, median } from "./report.ts";
import { SETS } from "./speed-sets.ts";

const [roundsArg, casesArg, ...variantArgs] = process.argv.slice(2);
if (roundsArg === undefined || casesArg === undefined || variantArgs.length === 0) {
  throw new Error("usage: node bench/ab.ts ROUNDS CASE[,CASE…] LABEL=BUNDLE [LABEL=BUNDLE…]");
}
const ROUNDS = Number(roundsArg);
const PY = benchPython();
const INDEX = process.env.BENCH_INDEX_URL ?? "https://pypi.org/simple/";
const WORK = process.env.BENCH_DIR ?? mkdtempSync(path.join(os.tmpdir(), "slimenv-ab-"));
mkdirSync(WORK, { recursive: true });

interface Variant {
  label: string;
  bundle: string;
  env: Record<string, string>;
}

const variants: Variant[] = variantArgs.map((arg) => {
  const eq = arg.indexOf("=");
  if (eq <= 0) throw new Error(`not LABEL=BUNDLE: ${arg}`);
  const words = arg
    .slice(eq + 1)
    .split(" ")
    .filter(Boolean);
  const env: Record<string, string> = {};
  while (words.length > 1 && /^[A-Z0-9_]+=/.test(words[0] as string)) {
    const word = words.shift() as string;
    const at = word.indexOf("=");
    env[word.slice(0, at)] = word.slice(at + 1);
  }
  return { label: arg.slice(0, eq), bundle: path.resolve(words.join(" ")), env };
});

const baseEnv: NodeJS.ProcessEnv = {};
for (const [k, v] of Object.entries(process.env)) {
  if (!/^SLIMENV_/.test(k)) baseEnv[k] = v;
}
Object.assign(baseEnv, {
  NO_COLOR: "1",
  SLIMENV_NO_CONFIG: "1",
  SLIMENV_INDEX_URL: INDEX,
  SLIMENV_HOME: path.join(WORK, "home"),
});

interface Sample {
  cpu: number;
  wall: number;
  rssMiB: number;
}

function run(v: Variant, args: string[]): Sample {
  const timeFile = path.join(WORK, ".time");
  const started = performance.now();
  const res = spawnSync(
    "/usr/bin/time",
    ["-f", "%e %U %S %M", "-o", timeFile, process.execPath, v.bundle, ...args],
    { env: { ...baseEnv, ...v.env }, encoding: "utf8", maxBuffer: 1 << 26 },
  );
  const wall = (performance.now() - started) / 1000;
  if (res.status !== 0) throw new Error(`${v.label}: ${args.join(" ")} failed:\n${res.stderr}`);
  // GNU time's CPU figures have a resolution of 10 ms: compare wall time for the no-op cases.
  const line = readFileSync(timeFile, "utf8").trim().split("\n").pop() ?? "";
  const [, user, sys, rss] = line.split(" ").map(Number) as [number, number, number, number];
  return { cpu: user + sys, wall, rssMiB: rss / 1024 };
}

function caseArgs(name: string, v: Variant): { args: string[]; before?: () => void } {
  if (name === "version") return { args: ["--version"] };
  const [kind, set] = name.split("-") as [string, string];
  const reqs = SETS[set];
  if (reqs === undefined) throw new Error(`unknown set ${set}`);
  const dir = path.join(WORK, set);
  const reqFile = path.join(dir, "requirements.txt");
  mkdirSync(dir, { recursive: true });
  writeFileSync(reqFile, `${reqs.join("\n")}\n`);
  const install = (into: string) => [
    "-q",
    "install",
    "-r",
    reqFile,
    "--prefix",
    into,
    "--python",
    PY,
    "--link-mode",
    "hardlink",
  ];
  switch (kind) {
    case "lock": {
      const out = path.join(dir, `pylock.${v.label}.toml`);
      return {
        args: ["-q", "lock", "-r", reqFile, "-o", out, "--python", PY],
        before: () => rmSync(out, { force: true }),
      };
    }
    case "install": {
      const into = path.join(dir, `new-${v.label}`);
      return { args: install(into), before: () => rmSync(into, { recursive: true, force: true }) };
    }
    case "again":
      return { args: install(path.join(dir, `again-${v.label}`)) };
    case "sync":
      return {
        args: ["-q", "sync", path.join(dir, `synced-${v.label}`), path.join(dir, "pylock.toml")],
      };
    default:
      throw new Error(`unknown case ${name}`);
  }
}

/**
 * What a case needs before its rounds: warm caches (one unmeasured run of each bundle), and
 * for the no-op cases an env each bundle made itself (installed, or installed from a lock).
 */
function prepare(name: string): void {
  const [kind, set] = name.split("-") as [string, string];
  if (kind === "sync") {
    const dir = path.join(WORK, set);
    const lock = path.join(dir, "pylock.toml");
    const reqFile = path.join(dir, "requirements.txt");
    mkdirSync(dir, { recursive: true });
    writeFileSync(reqFile, `${(SETS[set] ?? []).join("\n")}\n`);
    run(variants[0] as Variant, ["-q", "lock", "-r", reqFile, "-o", lock, "--python", PY]);
    for (const v of variants) {
      const into = path.join(dir, `synced-${v.label}`);
      rmSync(into, { recursive: true, force: true });
      run(v, ["-q", "install", lock, "--prefix", into, "--python", PY, "--link-mode", "hardlink"]);
    }
  }
  for (const v of variants) {
    const { args, before } = caseArgs(name, v);
    before?.();
    run(v, args);
  }
}

const lines: string[] = [];
for (const name of casesArg.split(",")) {
  prepare(name);
  const samples = new Map<string, Sample[]>(variants.map((v) => [v.label, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const { args, before } = caseArgs(name, v);
      before?.();
      samples.get(v.label)?.push(run(v, args));
    }
  }
  const base = samples.get((variants[0] as Variant).label) ?? [];
  const cpu0 = median(base.map((s) => s.cpu));
  const rss0 = median(base.map((s) => s.rssMiB));
  for (const v of variants) {
    const s = samples.get(v.label) ?? [];
    const cpu = median(s.map((x) => x.cpu));
    const rss = median(s.map((x) => x.rssMiB));
    const vs =
      v === variants[0]
        ? ""
        : `  (CPU ${(cpu / cpu0).toFixed(2)}×, RSS ${(rss / rss0).toFixed(2)}× of ${variants[0]?.label})`;
    lines.push(
      `${name.padEnd(12)} ${v.label.padEnd(8)} n=${s.length} CPU ${cpu.toFixed(3)} s  wall ${median(s.map((x) => x.wall)).toFixed(3)} s  max RSS ${rss.toFixed(0)} MiB${vs}`,
    );
  }
  process.stderr.write(`${lines.slice(-variants.length).join("\n")}\n`);
}
process.stdout.write(
  `${lines.join("\n")}\n(${ROUNDS} rounds, interleaved; medians; work dir ${WORK})\n`,
);
