/**
 * Over-the-air updates, side by side with OSTree, against the real PyPI (CPython 3.11).
 *
 * For each update of the table (the versions issue 12 names), both trees are built by
 * slimenv as prefix envs from real wheels; then, in the same run:
 * - a full `tar.xz` of the new tree (what copying prefix folders costs today);
 * - OSTree (Debian's `ostree`): both trees committed to an archive repo, a static delta
 *   generated (`ostree static-delta generate --inline --min-fallback-size=0 …`), applied on a
 *   device repo holding the old commit (`static-delta apply-offline`) and checked out;
 * - slimenv: `bundle` of the old tree, a delta bundle `--from` it, applied by the device agent
 *   (`python3.11 -I -S slimenv-agent.py apply`) on a device root holding the old version.
 * Bytes are file sizes; apply times are wall time medians of ROUNDS runs, each on a fresh
 * copy of the device state. Then three apps sharing numpy on one device store (disk per app
 * and shared, `du` counting a hard-linked file once).
 *
 * Needs the network (PyPI) and ostree; not part of `npm test`. Run: npm run bench:ota
 * (bench/ota-apply.sh times the applies again, interleaved, from what a BENCH_KEEP run left.)
 * Variables: SLIMENV_E2E_PYTHON311 (default pyenv's newest 3.11), BENCH_DIR (work folder,
 * default a temp dir, removed unless BENCH_KEEP=1), BENCH_ROUNDS (default 3).
 */
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildWheel } from "../test/helpers/wheels.ts";
import { commandRunner, median, ROOT, writeSection } from "./report.ts";
import { python311 } from "./slim-sets.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? "3");
const STACK_OTHERS = ["scipy==1.15.3", "opencv-python-headless==4.11.0.86", "pillow==11.2.1"];

interface Update {
  label: string;
  from: string[];
  to: string[];
}

const APP_V1 = "def main():\n    return 'v1'\n";
const APP_V2 = "def main():\n    return 'v2'\n";

const UPDATES: Update[] = [
  { label: "numpy 2.2.5 → 2.2.6 alone", from: ["numpy==2.2.5"], to: ["numpy==2.2.6"] },
  {
    label: "data stack, pandas 2.2.3 → 2.3.3",
    from: ["numpy==2.2.6", "pandas==2.2.3", ...STACK_OTHERS],
    to: ["numpy==2.2.6", "pandas==2.3.3", ...STACK_OTHERS],
  },
  {
    label: "numpy 2.2 → 2.3, scipy and pandas move too",
    from: ["numpy==2.2.6", "pandas==2.2.3", ...STACK_OTHERS],
    to: ["numpy==2.3.5", "scipy==1.16.3", "pandas==2.3.3", ...STACK_OTHERS.slice(1)],
  },
  {
    label: "one app .py file changed",
    from: ["numpy==2.2.6", "pandas==2.3.3", ...STACK_OTHERS, "benchapp==1.0"],
    to: ["numpy==2.2.6", "pandas==2.3.3", ...STACK_OTHERS, "benchapp==1.1"],
  },
];

interface Row {
  label: string;
  tarXz: number;
  ostreeBytes: number;
  slimenvBytes: number;
  ostreeApplyMs: number;
  slimenvApplyMs: number;
}

const log = (m: string) => process.stderr.write(`[bench:ota] ${m}\n`);

function main(): void {
  const PY = python311();
  if (PY === undefined) throw new Error("no CPython 3.11 (set SLIMENV_E2E_PYTHON311)");
  for (const tool of ["ostree", "tar", "xz", "du"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) {
      throw new Error(`${tool} not found: apt-get install ostree xz-utils`);
    }
  }
  const WORK = process.env.BENCH_DIR ?? mkdtempSync(path.join(os.tmpdir(), "slimenv-bench-ota-"));
  mkdirSync(WORK, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLIMENV_HOME: path.join(WORK, "home"),
    NO_COLOR: "1",
    SOURCE_DATE_EPOCH: "1700000000",
  };
  const run = commandRunner(env, WORK);
  const slimenv = (args: string[]) =>
    run(process.execPath, [path.join(ROOT, "bin", "slimenv.js"), ...args]);
  const size = (p: string) => statSync(p).size;
  const du = (p: string) => Number(run("du", ["-s", "-B1", p]).stdout.split("\t")[0]);

  // The app wheels of the fourth update: a few modules, one of which changes.
  const links = path.join(WORK, "links");
  mkdirSync(links, { recursive: true });
  for (const [version, body] of [
    ["1.0", APP_V1],
    ["1.1", APP_V2],
  ] as const) {
    const files: Record<string, string> = { "benchapp/__init__.py": body };
    for (let i = 0; i < 20; i++) files[`benchapp/mod${i}.py`] = `X = ${i}\n`.repeat(200);
    const w = buildWheel({ name: "benchapp", version, files });
    writeFileSync(path.join(links, w.filename), w.bytes);
  }

  if (!existsSync(path.join(WORK, "fleet.key")))
    slimenv(["keygen", "-o", path.join(WORK, "fleet")]);
  const key = path.join(WORK, "fleet.key");
  const pub = path.join(WORK, "fleet.pub");
  const agent = path.join(WORK, "slimenv-agent.py");
  slimenv(["agent", "-o", agent]);

  const envFor = (name: string, reqs: string[]) => {
    const dir = path.join(WORK, "envs", name);
    if (!existsSync(dir)) {
      slimenv(["install", ...reqs, "-f", links, "--prefix", dir, "--python", PY]);
    }
    return dir;
  };
  /** The tree a device gets: the env's current generation. */
  const treeOf = (dir: string) => realpathSync(path.join(dir, ".slimenv", "current"));
  // The agent as on a device: the bundle's interpreter (python3.11) found on PATH as the real
  // binary (the interpreter's own folder first), not through pyenv's shim, a shell script.
  const runOnDevice = commandRunner(
    { ...env, PATH: `${path.dirname(PY)}:${env.PATH ?? ""}` },
    WORK,
  );
  const agentRun = (root: string, args: string[]) =>
    runOnDevice(PY, ["-I", "-S", agent, "--root", root, "--key", pub, ...args]);

  const rows: Row[] = [];
  UPDATES.forEach((u, i) => {
    log(u.label);
    const a = envFor(`u${i}-a`, u.from);
    const b = envFor(`u${i}-b`, u.to);
    const dir = path.join(WORK, `u${i}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });

    const tarXz = path.join(dir, "new.tar.xz");
    run("tar", ["-C", treeOf(b), "-cJf", tarXz, "."], dir);

    // OSTree: server repo with both commits and a static delta; device repo with the old one.
    const srv = path.join(dir, "ostree-srv");
    run("ostree", ["init", `--repo=${srv}`, "--mode=archive"]);
    for (const [ref, tree] of [
      // ref names that are not hex: `rev-parse a` fails when a checksum starts with "a"
      ["from", treeOf(a)],
      ["to", treeOf(b)],
    ] as const) {
      run("ostree", [`--repo=${srv}`, "commit", `--branch=${ref}`, `--tree=dir=${tree}`]);
    }
    const rev = (ref: string) => run("ostree", [`--repo=${srv}`, "rev-parse", ref]).stdout.trim();
    const delta = path.join(dir, "ostree.delta");
    run("ostree", [
      `--repo=${srv}`,
      "static-delta",
      "generate",
      `--from=${rev("from")}`,
      `--to=${rev("to")}`,
      "--inline",
      "--min-fallback-size=0",
      `--filename=${delta}`,
    ]);
    const devBase = path.join(dir, "ostree-dev-base");
    run("ostree", ["init", `--repo=${devBase}`, "--mode=bare-user-only"]);
    run("ostree", [`--repo=${devBase}`, "pull-local", srv, "from"]);

    // slimenv: full bundle of the old tree, delta to the new one, applied by the agent.
    const oldBundle = path.join(dir, "a.bundle");
    const newDelta = path.join(dir, "b-from-a.bundle");
    const common = ["--app", "bench", "--key", key];
    slimenv(["bundle", a, "-o", oldBundle, ...common, "--version", "a", "--sequence", "1"]);
    slimenv([
      "bundle",
      b,
      "-o",
      newDelta,
      ...common,
      "--version",
      "b",
      "--sequence",
      "2",
      "--from",
      oldBundle,
    ]);
    const devRootBase = path.join(dir, "slimenv-dev-base");
    agentRun(devRootBase, ["apply", oldBundle]);
    // Interleaved rounds: both device copies made and synced first, then both applies, in
    // turn first (an ext4 mkdir costs 10 µs or 150 µs depending on what the journal is doing:
    // the two tools must see the same state).
    const ostreeTimes: number[] = [];
    const slimenvTimes: number[] = [];
    const toB = rev("to");
    for (let r = 0; r < ROUNDS; r++) {
      const dev = path.join(dir, `ostree-dev-${r}`);
      const devRoot = path.join(dir, `slimenv-dev-${r}`);
      run("cp", ["-a", devBase, dev]);
      run("cp", ["-a", devRootBase, devRoot]);
      run("sync", []);
      const ostree = () => {
        const t1 = run("ostree", [`--repo=${dev}`, "static-delta", "apply-offline", delta]).ms;
        const t2 = run("ostree", [`--repo=${dev}`, "checkout", toB, path.join(dev, "co")]).ms;
        ostreeTimes.push(t1 + t2);
      };
      const agent = () => slimenvTimes.push(agentRun(devRoot, ["apply", newDelta]).ms);
      if (r % 2 === 0) {
        ostree();
        agent();
      } else {
        agent();
        ostree();
      }
      rmSync(dev, { recursive: true, force: true });
      rmSync(devRoot, { recursive: true, force: true });
    }
    rows.push({
      label: u.label,
      tarXz: size(tarXz),
      ostreeBytes: size(delta),
      slimenvBytes: size(newDelta),
      ostreeApplyMs: median(ostreeTimes),
      slimenvApplyMs: median(slimenvTimes),
    });
    log(`  tar.xz ${mb(size(tarXz))}, ostree ${mb(size(delta))}, slimenv ${mb(size(newDelta))}`);
  });

  // Three apps sharing numpy on one device store.
  log("three apps on one device store");
  const apps = [
    ["vision", ["numpy==2.2.6", "opencv-python-headless==4.11.0.86"]],
    ["tables", ["numpy==2.2.6", "pandas==2.3.3"]],
    ["solver", ["numpy==2.2.6", "scipy==1.15.3"]],
  ] as const;
  const shared = path.join(WORK, "device-shared");
  rmSync(shared, { recursive: true, force: true });
  const appRows: { app: string; alone: number; added: number }[] = [];
  let before = 0;
  for (const [name, reqs] of apps) {
    const e = envFor(`app-${name}`, [...reqs]);
    const bundle = path.join(WORK, `${name}.bundle`);
    slimenv(["bundle", e, "-o", bundle, "--app", name, "--key", key, "--version", "1"]);
    const alone = path.join(WORK, `device-${name}`);
    rmSync(alone, { recursive: true, force: true });
    agentRun(alone, ["apply", bundle]);
    agentRun(shared, ["apply", bundle]);
    const total = du(shared);
    appRows.push({ app: name, alone: du(alone), added: total - before });
    before = total;
  }

  writeSection("ota", render(rows, appRows, PY));
  if (process.env.BENCH_KEEP !== "1" && process.env.BENCH_DIR === undefined) {
    rmSync(WORK, { recursive: true, force: true });
  }
}

function mb(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : `${(n / 1e3).toFixed(1)} KB`;
}

function render(
  rows: Row[],
  apps: { app: string; alone: number; added: number }[],
  py: string,
): string {
  const out: string[] = [
    "## OTA updates: slimenv bundles beside OSTree static deltas",
    "",
    `\`npm run bench:ota\` on ${new Date().toISOString().slice(0, 10)}, CPython ${path.basename(path.dirname(path.dirname(py)))}, real wheels from PyPI, both trees built by slimenv (prefix envs, default policy). Sizes are file bytes; apply times are medians of ${ROUNDS} runs on a fresh copy of the device state (OSTree: \`static-delta apply-offline\` + \`checkout\`; slimenv: the agent's \`apply\` under \`python3.11 -I -S\`, which verifies the signature and every hash, patches, builds the generation with hard links and switches).`,
    "",
    "| update | full tar.xz | OSTree static delta | slimenv delta | slimenv ÷ OSTree | OSTree apply | slimenv apply |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    out.push(
      `| ${r.label} | ${mb(r.tarXz)} | ${mb(r.ostreeBytes)} | ${mb(r.slimenvBytes)} | ${(r.slimenvBytes / r.ostreeBytes).toFixed(2)}× | ${(r.ostreeApplyMs / 1000).toFixed(2)} s | ${(r.slimenvApplyMs / 1000).toFixed(2)} s |`,
    );
  }
  out.push(
    "",
    "Three apps sharing numpy on one device store (`du -B1`, a hard-linked file counted once):",
    "",
    "| app | alone on a device | added to the shared store |",
    "| --- | ---: | ---: |",
  );
  let alone = 0;
  let shared = 0;
  for (const a of apps) {
    alone += a.alone;
    shared += a.added;
    out.push(`| ${a.app} | ${mb(a.alone)} | ${mb(a.added)} |`);
  }
  out.push(`| all three | ${mb(alone)} | ${mb(shared)} |`);
  return out.join("\n");
}

main();
