/**
 * Read-only images of the data stack (issue 12): numpy 2.2.6, scipy 1.15.3, pandas 2.3.3,
 * opencv-python-headless 4.11.0.86, pillow 11.2.1 for CPython 3.11, installed `--slim edge
 * --keep-used-by "python use_all.py"` (use_all.py = bench/slim-sets.ts' SLIM_PROGRAM, which
 * uses all five), then:
 * - bytes: the plain tree (`du -B1` and the files' own bytes), `slimenv image` as squashfs
 *   zstd-19 / 128K, squashfs xz / 128K, erofs lz4hc (4K clusters and 64K clusters), and a full
 *   plain bundle (`slimenv bundle`, xz payload) for reference;
 * - cold import: `python3.11 -I -S -c "import site; site.addsitedir(SITE); import numpy,
 *   scipy.linalg, pandas, PIL.Image, cv2"` (the script's imports in its order: the pruned env is
 *   proved for that script only) from the plain tree and from each image loop-mounted
 *   read-only, the page cache dropped before every run (`sync; echo 3 >
 *   /proc/sys/vm/drop_caches`), variants interleaved round by round; wall time and CPU time
 *   (user + system, `/usr/bin/time`), medians of ROUNDS; warm (cache kept) medians too.
 *
 * Needs root (mount, drop_caches), squashfs-tools, erofs-utils and, unless the env exists
 * already under BENCH_DIR, the network (PyPI). Not part of `npm test`. Run: npm run bench:image
 * Variables: SLIMENV_E2E_PYTHON311 (default pyenv's newest 3.11), BENCH_DIR (work folder,
 * default a temp dir, removed unless BENCH_KEEP=1), BENCH_ROUNDS (default 7), BENCH_REUSE=1
 * (keep the bundle and images an earlier run left in BENCH_DIR: their build times show as —).
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
import { commandRunner, median, ROOT, writeSection } from "./report.ts";
import { python311, SLIM_PROGRAM } from "./slim-sets.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? "7");
const STACK = [
  "numpy==2.2.6",
  "scipy==1.15.3",
  "pandas==2.3.3",
  "opencv-python-headless==4.11.0.86",
  "pillow==11.2.1",
];
/** The import line of the issue, in its order. */
const ISSUE_IMPORTS = "import numpy, scipy, pandas, cv2, PIL";
/** The script's own imports, in its order. */
const SCRIPT_IMPORTS = "import numpy, scipy.linalg, pandas, PIL.Image, cv2";
/** The script --keep-used-by proved, run whole (checked once per variant). */
const script = (work: string) =>
  `import runpy; runpy.run_path(${JSON.stringify(path.join(work, "use_all.py"))})`;

interface ImageRow {
  label: string;
  args: string[];
  format: "squashfs" | "erofs";
  file: string;
  size: number;
  buildMs: number;
}

interface Variant {
  label: string;
  root: string;
  cold: { wall: number[]; cpu: number[] };
  warm: number[];
}

const log = (m: string) => process.stderr.write(`[bench:image] ${m}\n`);

function main(): void {
  const PY = python311();
  if (PY === undefined) throw new Error("no CPython 3.11 (set SLIMENV_E2E_PYTHON311)");
  if (process.getuid?.() !== 0) throw new Error("bench:image needs root (mount, drop_caches)");
  for (const tool of ["mksquashfs", "mkfs.erofs", "du", "mount", "/usr/bin/time"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) {
      throw new Error(`${tool} not found: apt-get install squashfs-tools erofs-utils time`);
    }
  }
  const WORK = process.env.BENCH_DIR ?? mkdtempSync(path.join(os.tmpdir(), "slimenv-bench-image-"));
  mkdirSync(WORK, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLIMENV_HOME: path.join(WORK, "home"),
    NO_COLOR: "1",
    SOURCE_DATE_EPOCH: "1700000000",
    // Every variant alike: nothing written beside the sources (the images are read-only).
    PYTHONDONTWRITEBYTECODE: "1",
  };
  const run = commandRunner(env, WORK);
  const slimenv = (args: string[]) =>
    run("nice", [process.execPath, path.join(ROOT, "bin", "slimenv.js"), ...args]);

  writeFileSync(path.join(WORK, "use_all.py"), SLIM_PROGRAM);
  const envDir = path.join(WORK, "env-data-edge");
  if (!existsSync(envDir)) {
    log("installing the data stack, --slim edge --keep-used-by");
    const keep = ["--slim", "edge", "--keep-used-by", "python use_all.py"];
    slimenv(["install", ...STACK, "--prefix", envDir, "--python", PY, ...keep]);
  }
  const tree = realpathSync(path.join(envDir, ".slimenv", "current"));
  const site = (root: string) => path.join(root, "lib", "python3.11", "site-packages");
  const du = Number(run("du", ["-s", "-B1", tree]).stdout.split("\t")[0]);

  if (!existsSync(path.join(WORK, "fleet.key")))
    slimenv(["keygen", "-o", path.join(WORK, "fleet")]);
  const bundle = path.join(WORK, "data.bundle");
  const reuse = process.env.BENCH_REUSE === "1";
  log("full bundle");
  const bundleMs =
    reuse && existsSync(bundle)
      ? Number.NaN
      : slimenv([
          "bundle",
          envDir,
          "-o",
          bundle,
          "--app",
          "data",
          "--version",
          "1",
          "--key",
          path.join(WORK, "fleet.key"),
        ]).ms;

  const specs: Omit<ImageRow, "file" | "size" | "buildMs">[] = [
    { label: "squashfs zstd-19, 128K blocks", format: "squashfs", args: [] },
    { label: "squashfs xz, 128K blocks", format: "squashfs", args: ["--compression", "xz"] },
    { label: "erofs lz4hc-12, 4K clusters", format: "erofs", args: [] },
    { label: "erofs lz4hc-12, 64K clusters", format: "erofs", args: ["--block-size", "64K"] },
  ];
  const images: ImageRow[] = [];
  const treeBytes = Number(
    run("find", [tree, "-type", "f", "-printf", "%s\\n"])
      .stdout.trim()
      .split("\n")
      .reduce((n, x) => n + Number(x), 0),
  );
  specs.forEach((s, i) => {
    log(s.label);
    const file = path.join(WORK, `image-${i}.${s.format}`);
    let buildMs = Number.NaN;
    if (!(reuse && existsSync(file))) {
      buildMs = slimenv([
        "--json",
        "image",
        envDir,
        "-o",
        file,
        "--format",
        s.format,
        ...s.args,
      ]).ms;
    }
    images.push({ ...s, file, size: statSync(file).size, buildMs });
  });

  const mounts: string[] = [];
  const variants: Variant[] = [
    { label: "plain tree", root: tree, cold: { wall: [], cpu: [] }, warm: [] },
  ];
  try {
    images.forEach((img, i) => {
      const mnt = path.join(WORK, `mnt-${i}`);
      mkdirSync(mnt, { recursive: true });
      run("mount", ["-t", img.format, "-o", "loop,ro", img.file, mnt]);
      mounts.push(mnt);
      variants.push({ label: img.label, root: mnt, cold: { wall: [], cpu: [] }, warm: [] });
    });
    const importOnce = (root: string, imports: string) =>
      spawnSync(
        "/usr/bin/time",
        [
          "-f",
          "TIME %e %U %S",
          PY,
          "-I",
          "-S",
          "-c",
          `import site; site.addsitedir(${JSON.stringify(site(root))}); ${imports}`,
        ],
        { encoding: "utf8", env },
      );
    const outcome = (imports: string) => {
      const res = importOnce(tree, imports);
      if (res.status === 0) return "imports";
      const why =
        res.stderr
          .split("\n")
          .filter((l) => /Error/.test(l))
          .pop() ?? "?";
      return `fails (\`${why.trim()}\`)`;
    };
    const issueOutcome = `\`${ISSUE_IMPORTS}\` ${outcome(ISSUE_IMPORTS)}; \`${SCRIPT_IMPORTS}\` (the script's imports alone) ${outcome(SCRIPT_IMPORTS)}; the script itself ${outcome(script(WORK)) === "imports" ? "runs" : "fails"} from the plain tree and from every image`;
    for (const v of variants) {
      const res = importOnce(v.root, script(WORK));
      if (res.status !== 0) throw new Error(`use_all.py from ${v.label}: ${res.stderr}`);
    }
    for (let r = 0; r < ROUNDS; r++) {
      log(`round ${r + 1}/${ROUNDS}`);
      const order = r % 2 === 0 ? variants : [...variants].reverse();
      for (const v of order) {
        run("sh", ["-c", "sync; echo 3 > /proc/sys/vm/drop_caches"]);
        const res = importOnce(v.root, SCRIPT_IMPORTS);
        const m = /TIME (\S+) (\S+) (\S+)\s*$/.exec(res.stderr);
        if (res.status !== 0 || m === null)
          throw new Error(`import from ${v.label}: ${res.stderr}`);
        v.cold.wall.push(Number(m[1]) * 1000);
        v.cold.cpu.push((Number(m[2]) + Number(m[3])) * 1000);
        const warm = importOnce(v.root, SCRIPT_IMPORTS);
        const w = /TIME (\S+)/.exec(warm.stderr);
        v.warm.push(Number(w?.[1]) * 1000);
      }
    }
    writeSection(
      "image",
      render({
        py: PY,
        du,
        treeBytes,
        bundle: statSync(bundle).size,
        bundleMs,
        images,
        variants,
        issueOutcome,
      }),
    );
  } finally {
    for (const mnt of mounts) spawnSync("umount", [mnt]);
  }
  if (process.env.BENCH_KEEP !== "1" && process.env.BENCH_DIR === undefined) {
    rmSync(WORK, { recursive: true, force: true });
  }
}

function secs(ms: number): string {
  return Number.isNaN(ms) ? "— (reused)" : `${(ms / 1000).toFixed(0)} s`;
}

function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

function render(r: {
  py: string;
  du: number;
  treeBytes: number;
  bundle: number;
  bundleMs: number;
  images: ImageRow[];
  variants: Variant[];
  issueOutcome: string;
}): string {
  const plain = r.variants[0] as Variant;
  const base = { wall: median(plain.cold.wall), cpu: median(plain.cold.cpu) };
  const out: string[] = [
    "## Read-only images of the data stack (`npm run bench:image`)",
    "",
    `\`npm run bench:image\` on ${new Date().toISOString().slice(0, 10)}, CPython ${path.basename(path.dirname(path.dirname(r.py)))}: numpy 2.2.6, scipy 1.15.3, pandas 2.3.3, opencv-python-headless 4.11.0.86, pillow 11.2.1 installed \`--slim edge --keep-used-by "python use_all.py"\` (use_all.py: bench/slim-sets.ts' program, which uses all five). Images by \`slimenv image\` (squashfs-tools 4.5.1, erofs-utils 1.5, under \`nice\` on 2 shared cores); ratios are to the files' bytes.`,
    "",
    "| what | bytes | × tree | build time |",
    "| --- | ---: | ---: | ---: |",
    `| plain tree, files' bytes | ${mb(r.treeBytes)} | 1.00× | — |`,
    `| plain tree, \`du -B1\` | ${mb(r.du)} | ${(r.du / r.treeBytes).toFixed(2)}× | — |`,
  ];
  for (const img of r.images) {
    out.push(
      `| ${img.label} | ${mb(img.size)} | ${(img.size / r.treeBytes).toFixed(2)}× | ${secs(img.buildMs)} |`,
    );
  }
  out.push(
    `| full plain bundle (xz payload, for reference) | ${mb(r.bundle)} | ${(r.bundle / r.treeBytes).toFixed(2)}× | ${secs(r.bundleMs)} |`,
    "",
    `Cold import of \`${SCRIPT_IMPORTS}\` (the script's imports, in its order) by \`python3.11 -I -S -c "import site; site.addsitedir(SITE); …"\` (\`-S\`: only the env's site dir, not the interpreter's own site-packages), page cache dropped before each run (\`sync; echo 3 > /proc/sys/vm/drop_caches\`), variants interleaved, medians of ${ROUNDS} rounds; CPU = user + system of the process (\`/usr/bin/time\`; squashfs and erofs decompress in the reading process). The machine was shared with other jobs (load average ${(os.loadavg()[0] ?? 0).toFixed(1)} at the end of the run, on ${os.cpus().length} cores): compare within a column.`,
    "",
    "| tree | cold wall | cold CPU | wall × plain | CPU × plain | warm wall |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const v of r.variants) {
    const wall = median(v.cold.wall);
    const cpu = median(v.cold.cpu);
    out.push(
      `| ${v.label} | ${(wall / 1000).toFixed(2)} s | ${(cpu / 1000).toFixed(2)} s | ${(wall / base.wall).toFixed(2)}× | ${(cpu / base.cpu).toFixed(2)}× | ${(median(v.warm) / 1000).toFixed(2)} s |`,
    );
  }
  out.push(
    "",
    `Import lines from the pruned tree: ${r.issueOutcome}. \`--keep-used-by\` keeps what the script opened plus the ELF dependency closure of the native files it keeps (docs/slim.md): opencv's bundled \`libquadmath\` is never opened while the script runs (scipy.linalg, imported first, has already loaded scipy.libs' library of that soname), and the closure keeps it, so other import orders work too.`,
  );
  return out.join("\n");
}

main();
