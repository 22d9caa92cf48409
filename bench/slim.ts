/**
 * Slimming, side by side, against the real PyPI, for each package set of slim-sets.ts (the
 * data stack; the CPU build of torch when the machine has its wheel) on CPython 3.11 as
 * (a) a plain `python -m venv` + `pip install`, (b) a slimenv prefix env `--slim none`,
 * (c) `--slim edge`, (d) `--slim max`, and (e) `--slim edge --keep-used-by` the set's small
 * program, with the touched-bytes floor. On-disk size (`du -s -B1`, a hard-linked file
 * counted once) and apparent size, install time, whether the program prints the same as in
 * (a), and a per-package breakdown of (a) against (c) from `slimenv size --json`. Writes the
 * sections "slim" and "slim-torch" of docs/benchmarks.md.
 *
 * Needs the network; not part of `npm test`. Run: npm run bench:slim [-- data|torch]
 * Variables: SLIMENV_E2E_PYTHON311 (default pyenv's newest 3.11), SLIMENV_E2E_TORCH_WHEELS
 * (default /opt/wheels), BENCH_DIR (work folder, default a temp dir; removed at the end
 * unless BENCH_KEEP=1).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT, writeSection } from "./report.ts";
import {
  hasTorchWheel,
  python311,
  SLIM_PROGRAM,
  SLIM_SET,
  TORCH_PROGRAM,
  TORCH_SET,
  TORCH_WHEELS,
} from "./slim-sets.ts";

interface BenchSet {
  key: string;
  /** The docs/benchmarks.md section. */
  section: string;
  heading: string;
  packages: readonly string[];
  program: string;
  /** What the program does, for the text. */
  programText: string;
  /** Where pip and slimenv also look for wheels. */
  findLinks: string[];
}

const SETS: BenchSet[] = [
  {
    key: "data",
    section: "slim",
    heading: "## slim",
    packages: SLIM_SET,
    program: SLIM_PROGRAM,
    programText:
      "array maths with numpy, a scipy.linalg.solve, a pandas groupby, an image resize with pillow and with cv2; test/e2e/slim-pypi.test.ts runs the same",
    findLinks: [],
  },
  {
    key: "torch",
    section: "slim-torch",
    heading: "## slim: torch (CPU build)",
    packages: TORCH_SET,
    program: TORCH_PROGRAM,
    programText:
      "a linear layer's forward and backward, a torch.linalg.solve, a conv2d; test/e2e/slim-torch.test.ts runs the same",
    findLinks: [TORCH_WHEELS],
  },
];

interface EnvRow {
  label: string;
  ms: number;
  apparent: number;
  disk: number;
  sameOutput: boolean | undefined;
  note: string;
}

interface SizeJson {
  total: { onDisk: number; apparent: number; files: number };
  distributions: { name: string; version: string; total: { onDisk: number; files: number } }[];
}

function main(): void {
  const PY = python311();
  if (PY === undefined) throw new Error("no CPython 3.11 (set SLIMENV_E2E_PYTHON311)");
  const ROOT_WORK =
    process.env.BENCH_DIR ?? mkdtempSync(path.join(os.tmpdir(), "slimenv-bench-slim-"));
  const wanted = process.argv.slice(2);
  for (const set of SETS) {
    if (wanted.length > 0 && !wanted.includes(set.key)) continue;
    if (set.key === "torch" && !hasTorchWheel()) {
      process.stderr.write(`[bench:slim] no torch 2.13.0 CPU wheel in ${TORCH_WHEELS}: skipped\n`);
      continue;
    }
    benchSet(set, PY, path.join(ROOT_WORK, set.key));
  }
  if (process.env.BENCH_KEEP !== "1" && process.env.BENCH_DIR === undefined) {
    rmSync(ROOT_WORK, { recursive: true, force: true });
  }
}

function benchSet(set: BenchSet, PY: string, WORK: string): void {
  mkdirSync(WORK, { recursive: true });
  const findLinks = set.findLinks.flatMap((f) => ["-f", f]);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLIMENV_HOME: path.join(WORK, "home"),
    PIP_CACHE_DIR: path.join(WORK, "pip-cache"),
    PIP_DISABLE_PIP_VERSION_CHECK: "1",
    PIP_NO_INPUT: "1",
    NO_COLOR: "1",
  };
  const log = (m: string) => process.stderr.write(`[bench:slim] ${m}\n`);
  const run = (cmd: string, args: string[]) => {
    const start = performance.now();
    const res = spawnSync(cmd, args, { env, cwd: WORK, encoding: "utf8", maxBuffer: 1 << 28 });
    return { ...res, ms: performance.now() - start };
  };
  const slimenv = (args: string[]) =>
    run(process.execPath, [path.join(ROOT, "bin", "slimenv.js"), ...args]);
  const du = (p: string, apparent: boolean) =>
    Number(
      (
        spawnSync("du", ["-s", "-B1", ...(apparent ? ["--apparent-size"] : []), p], {
          encoding: "utf8",
        }).stdout.split("\t")[0] ?? "0"
      ).trim(),
    );
  const prog = path.join(WORK, "prog.py");
  writeFileSync(prog, set.program);
  const programOutput = (python: string) => {
    const res = run(python, [prog]);
    return res.status === 0 ? res.stdout : undefined;
  };
  const pyVersion = run(PY, [
    "-c",
    "import platform; print(platform.python_version())",
  ]).stdout.trim();
  log(`python ${PY} (${pyVersion}), work dir ${WORK}`);

  const rows: EnvRow[] = [];
  const notDone: string[] = [];

  // (a) plain pip venv
  const venv = path.join(WORK, "pip-venv");
  const mk = run(PY, ["-m", "venv", venv]);
  const pip = run(path.join(venv, "bin", "python"), [
    "-m",
    "pip",
    "install",
    "-q",
    ...findLinks,
    ...set.packages,
  ]);
  if (mk.status !== 0 || pip.status !== 0) throw new Error(`pip failed: ${pip.stderr}`);
  const reference = programOutput(path.join(venv, "bin", "python"));
  if (reference === undefined) throw new Error("the program fails in the pip venv");
  rows.push({
    label: "(a) python -m venv + pip install",
    ms: mk.ms + pip.ms,
    apparent: du(venv, true),
    disk: du(venv, false),
    sameOutput: true,
    note: "cold pip cache; includes pip + setuptools",
  });
  log(`(a) pip venv: ${((mk.ms + pip.ms) / 1000).toFixed(1)} s`);

  const cases: { key: string; label: string; args: string[]; note: string }[] = [
    { key: "none", label: "(b) slimenv --slim none", args: ["--slim", "none"], note: "cold store" },
    { key: "edge", label: "(c) slimenv --slim edge", args: ["--slim", "edge"], note: "warm store" },
    { key: "max", label: "(d) slimenv --slim max", args: ["--slim", "max"], note: "warm store" },
    {
      key: "used",
      label: "(e) slimenv --slim edge --keep-used-by PROGRAM",
      args: ["--slim", "edge", "--keep-used-by", `python ${prog}`],
      note: "warm store",
    },
    {
      key: "edge-again",
      label: "(f) slimenv --slim edge, again into a new env",
      args: ["--slim", "edge"],
      note: "the derived objects of (c) reused",
    },
  ];
  let floor: number | undefined;
  const checkFailures = new Set<string>();
  for (const c of cases) {
    const dir = path.join(WORK, c.key);
    const res = slimenv([
      "install",
      ...set.packages,
      ...findLinks,
      "--prefix",
      dir,
      "--python",
      PY,
      "--json",
      ...c.args,
    ]);
    if (res.status !== 0) {
      const why = (res.stdout || res.stderr).trim().split("\n").slice(0, 3).join(" ");
      notDone.push(`${c.label}: install failed: ${why}`);
      log(`${c.label}: failed: ${why}`);
      continue;
    }
    const json = JSON.parse(res.stdout) as {
      slim?: {
        unslimmed?: { name: string; reason: string }[];
        preexisting?: { name: string; reason: string }[];
        checkMs?: number;
        checkCached?: boolean;
        usage?: { kept: boolean; reason?: string; floorBytes: number; usedFiles: number };
      };
    };
    const notes = [c.note];
    const checkMs = json.slim?.checkMs;
    if (json.slim?.checkCached === true) {
      notes.push("import check outcome from the check cache (same set, policy, interpreter)");
    } else if (checkMs !== undefined && checkMs > 0) {
      notes.push(`import check ${(checkMs / 1000).toFixed(1)} s of it`);
    }
    const unslimmed = json.slim?.unslimmed ?? [];
    if (unslimmed.length > 0) {
      notes.push(
        `import check failed, rebuilt unslimmed: ${unslimmed.map((u) => u.name).join(", ")}`,
      );
      for (const u of unslimmed) {
        // Does the failing module import in (a)? If not, the check, not slimming, is at fault.
        const mod = (u.reason.split(":")[0] ?? "").replace(/ \(zipped\)$/, "").trim();
        const inA = run(path.join(venv, "bin", "python"), ["-c", `import ${mod}`]).status === 0;
        checkFailures.add(
          `${c.label}: ${u.name}: ${u.reason} — ${inA ? "imports in (a): a slimming failure the fallback caught" : "fails the same way in (a): not caused by slimming"}`,
        );
      }
    }
    const preexisting = json.slim?.preexisting ?? [];
    if (preexisting.length > 0) {
      notes.push(
        `kept slimmed, failing unslimmed too: ${preexisting.map((u) => u.reason.split(":")[0]).join(", ")}`,
      );
    }
    const usage = json.slim?.usage;
    if (usage !== undefined) {
      floor = usage.floorBytes;
      notes.push(
        usage.kept
          ? `pruned to the ${usage.usedFiles} files the program touched (${usage.floorBytes} B)`
          : `not pruned: ${usage.reason ?? "?"}`,
      );
    }
    const out = programOutput(path.join(dir, "bin", "python"));
    rows.push({
      label: c.label,
      ms: res.ms,
      apparent: du(dir, true),
      disk: du(dir, false),
      sameOutput: out === reference,
      note: notes.join("; "),
    });
    log(`${c.label}: ${(res.ms / 1000).toFixed(1)} s, same output: ${out === reference}`);
  }

  // Per package: (a) against (c).
  const sizeOf = (dir: string): SizeJson | undefined => {
    const res = slimenv(["size", dir, "--json"]);
    return res.status === 0 ? (JSON.parse(res.stdout) as SizeJson) : undefined;
  };
  const sa = sizeOf(venv);
  const edgeDir = path.join(WORK, "edge");
  const sc = existsSync(edgeDir) ? sizeOf(edgeDir) : undefined;
  if (sa === undefined || sc === undefined)
    notDone.push("per-package breakdown: slimenv size failed");

  const mb = (b: number) => (b / 1024 ** 2).toFixed(1);
  const base = rows[0] as EnvRow;
  const lines = [
    set.heading,
    "",
    `${set.packages.join(", ")}${set.findLinks.length > 0 ? ` (wheel from ${set.findLinks.join(", ")})` : ""} and what they need, on CPython ${pyVersion} (${os.platform()}/${os.arch()}, ${os.cpus().length} cores), real PyPI, one run each, ${new Date().toISOString().slice(0, 10)}.`,
    "How to reproduce: `npm run bench:slim` (rewrites this section). Sizes: `du -s -B1` (on disk,",
    "a hard-linked file counted once) and `du -s --apparent-size -B1` of each env folder alone;",
    'slimenv envs hard-link the store, so the store is not counted. "same output": the program',
    `(${set.programText}) prints exactly what it prints in (a).`,
    "",
    "| env | install s | du -s MB | apparent MB | vs (a) on disk | same output | note |",
    "| --- | ---: | ---: | ---: | ---: | --- | --- |",
    ...rows.map(
      (r) =>
        `| ${r.label} | ${(r.ms / 1000).toFixed(1)} | ${mb(r.disk)} | ${mb(r.apparent)} | ${((100 * r.disk) / base.disk).toFixed(1)}% | ${r.sameOutput === undefined ? "—" : r.sameOutput ? "yes" : "**no**"} | ${r.note} |`,
    ),
    ...(floor === undefined
      ? []
      : [
          `| touched-bytes floor (files the program touched) | | | ${mb(floor)} | ${((100 * floor) / base.apparent).toFixed(1)}% (of (a) apparent) | | the bytes of the site files the traced program touched |`,
        ]),
    "",
  ];
  if (sa !== undefined && sc !== undefined) {
    const names = [...new Set([...sa.distributions, ...sc.distributions].map((d) => d.name))];
    const pick = (s: SizeJson, n: string) => s.distributions.find((d) => d.name === n);
    lines.push(
      "Per package, (a) against (c) (`slimenv size --json`, on disk):",
      "",
      "| distribution | version | (a) pip MB | (a) files | (c) edge MB | (c) files | saved |",
      "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
      ...names
        .map((n) => ({ n, a: pick(sa, n), c: pick(sc, n) }))
        .sort((x, y) => (y.a?.total.onDisk ?? 0) - (x.a?.total.onDisk ?? 0))
        .map(({ n, a, c }) => {
          const ad = a?.total.onDisk ?? 0;
          const cd = c?.total.onDisk ?? 0;
          return `| ${n} | ${(a ?? c)?.version ?? ""} | ${a ? mb(ad) : "—"} | ${a?.total.files ?? "—"} | ${c ? mb(cd) : "—"} | ${c?.total.files ?? "—"} | ${a && c && ad > 0 ? `${((100 * (ad - cd)) / ad).toFixed(1)}%` : ""} |`;
        }),
      `| **total** | | ${mb(sa.total.onDisk)} | ${sa.total.files} | ${mb(sc.total.onDisk)} | ${sc.total.files} | ${((100 * (sa.total.onDisk - sc.total.onDisk)) / sa.total.onDisk).toFixed(1)}% |`,
      "",
    );
  }
  if (checkFailures.size > 0) {
    lines.push(
      "The import check's first failure per package rebuilt unslimmed (`install --slim` falls back to the wheel's files):",
      "",
      ...[...checkFailures].map((f) => `- ${f}`),
      "",
    );
  }
  if (notDone.length > 0) lines.push("Not measured:", "", ...notDone.map((n) => `- ${n}`), "");
  writeSection(set.section, lines.join("\n"));
  process.stdout.write(`${lines.join("\n")}\n`);
}

if (import.meta.main) main();
