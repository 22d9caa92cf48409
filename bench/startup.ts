/**
 * Start-up time of `slimenv --version`: bundled (dist/slimenv.js) vs from source (Node's type
 * stripping), beside `pip --version` and `uv --version` where present, measured in one run,
 * interleaved, and reported as medians and ratios. Run: npm run build && npm run bench:startup
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { median, ROOT, type Timing, timeOnce, writeSection } from "./report.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const bin = path.join(ROOT, "bin", "slimenv.js");
if (!existsSync(path.join(ROOT, "dist", "slimenv.js"))) {
  throw new Error("dist/slimenv.js is missing: run `npm run build` first");
}

interface Case {
  label: string;
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

const cases: Case[] = [
  { label: "slimenv --version (bundled)", cmd: process.execPath, args: [bin, "--version"] },
  {
    label: "slimenv --version (from source)",
    cmd: process.execPath,
    args: [bin, "--version"],
    env: { ...process.env, SLIMENV_FROM_SOURCE: "1" },
  },
  { label: "node -e 0 (floor)", cmd: process.execPath, args: ["-e", "0"] },
];
for (const [label, cmd, args] of [
  ["pip --version", "python3", ["-m", "pip", "--version"]],
  ["uv --version", "uv", ["--version"]],
] as const) {
  if (spawnSync(cmd, [...args]).status === 0) cases.push({ label, cmd, args: [...args] });
}

const timings: Timing[] = cases.map((c) => ({ label: c.label, samples: [] }));
for (const c of cases) timeOnce(c.cmd, c.args, c.env); // warm the file cache
for (let i = 0; i < RUNS; i++) {
  cases.forEach((c, j) => {
    timings[j]?.samples.push(timeOnce(c.cmd, c.args, c.env));
  });
}

const base = median(timings[0]?.samples ?? []);
const rows = timings.map((t) => {
  const m = median(t.samples);
  return `| ${t.label} | ${m.toFixed(1)} | ${Math.min(...t.samples).toFixed(1)} | ${(m / base).toFixed(2)}× |`;
});
const table = [
  `Node ${process.version}, ${os.cpus().length} cores, ${RUNS} interleaved runs each, ${new Date().toISOString().slice(0, 10)}.`,
  "",
  "| command | median ms | min ms | vs bundled |",
  "| --- | ---: | ---: | ---: |",
  ...rows,
].join("\n");
writeSection("startup", table);
console.log(table);
