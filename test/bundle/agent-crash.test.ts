/**
 * Power cuts: the agent is killed (SIGKILL) at every step of an apply and of an update
 * (SLIMENV_AGENT_TEST_CRASH_AT=N kills it at its Nth step), and after seeded random delays.
 * Each time `current` resolves to the complete old or new generation; then `gc` cleans up,
 * `verify` finds the store clean, and running the command again finishes the job.
 */
import { type ChildProcess, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatPublicKey, generateSigningKey } from "../../src/bundle/keys.ts";
import { Rng } from "../helpers/random.ts";
import {
  type AppSpec,
  binDir,
  checkCurrent,
  deltaBundle,
  fullBundle,
  publishToRepo,
  type RepoServer,
  runAgent,
  serveRepo,
} from "./agent-helpers.ts";

const key = generateSigningKey();
let dir: string;
let bin: string;
let pub: string;
let template: string;
let server: RepoServer;
let kills = 0;

const v1: AppSpec = { sequence: 100 };
const v2: AppSpec = {
  sequence: 200,
  files: {
    "lib/myapp/two.py": "X = 2\n",
    "lib/myapp/data.txt": `${"shared data\n".repeat(50)}more\n`,
    "bin/tool2": ["#!/bin/sh\necho 2\n", 493],
  },
};

/** SLIMENV_AGENT_THREADS for the agent runs: unset (the agent decides by the load), "0" or "1". */
let threads: string | undefined;

function agent(root: string, args: string[], env?: Record<string, string>, killAfterMs?: number) {
  const all = { ...(threads === undefined ? {} : { SLIMENV_AGENT_THREADS: threads }), ...env };
  return runAgent(["--root", root, "--key", pub, ...args], {
    pathDir: bin,
    env: all,
    ...(killAfterMs === undefined ? {} : { killAfterMs }),
  });
}

function freshDevice(name: string): string {
  const root = path.join(dir, name);
  rmSync(root, { recursive: true, force: true });
  const r = spawnSync("cp", ["-a", template, root]);
  expect(r.status).toBe(0);
  return root;
}

const applyArgs = () => ["apply", path.join(dir, "v2.bundle")];
const updateArgs = () => ["update", "--repo", server.url, "--app", "myapp", "--channel", "stable"];

/** After a kill: old or new, complete; then gc + verify clean; then the command finishes. */
async function afterKill(root: string, args: string[]) {
  const seq = checkCurrent(root, "myapp");
  expect([100, 200]).toContain(seq);
  const gc = await agent(root, ["gc"]);
  expect(gc.status, gc.stderr).toBe(0);
  expect(readdirSync(path.join(root, "tmp")).filter((n) => n !== "downloads")).toEqual([]);
  expect(readdirSync(path.join(root, "apps/myapp/gens")).filter((n) => !/^\d+$/.test(n))).toEqual(
    [],
  );
  const v = await agent(root, ["verify", "--json"]);
  expect(JSON.parse(v.stdout).problems).toEqual([]);
  const again = await agent(root, args);
  if (again.status !== 0) expect(again.stderr).toMatch(/replay: myapp sequence 200/);
  expect(checkCurrent(root, "myapp")).toBe(200);
}

async function countSteps(args: string[]): Promise<number> {
  const root = freshDevice("trace");
  const trace = path.join(dir, "trace.txt");
  rmSync(trace, { force: true });
  const r = await agent(root, args, { SLIMENV_AGENT_TEST_TRACE: trace });
  expect(r.status, r.stderr).toBe(0);
  const lines = readFileSync(trace, "utf8").trim().split("\n");
  console.log(`${args[0]}: ${lines.length} steps: ${lines.map((l) => l.split(" ")[1]).join(" ")}`);
  return lines.length;
}

/** Kills the agent at each step of `args()` on a fresh device, then checks it; the step count. */
async function killAtEveryStep(name: string, args: () => string[]): Promise<number> {
  const steps = await countSteps(args());
  for (let n = 1; n <= steps; n++) {
    const root = freshDevice(`${name}-${n}`);
    const r = await agent(root, args(), { SLIMENV_AGENT_TEST_CRASH_AT: String(n) });
    expect(r.signal, `step ${n}: ${r.stderr}`).toBe("SIGKILL");
    kills++;
    await afterKill(root, args());
    rmSync(root, { recursive: true, force: true });
  }
  return steps;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "slimenv-crash-"));
  bin = binDir(dir);
  pub = path.join(dir, "fleet.pub");
  writeFileSync(pub, formatPublicKey(key.publicKey));
  writeFileSync(path.join(dir, "v1.bundle"), fullBundle(key, v1));
  writeFileSync(path.join(dir, "v2.bundle"), fullBundle(key, v2));
  template = path.join(dir, "template");
  const r = await runAgent(
    ["--root", template, "--key", pub, "apply", path.join(dir, "v1.bundle")],
    {
      pathDir: bin,
    },
  );
  expect(r.status, r.stderr).toBe(0);
  const repo = path.join(dir, "repo");
  publishToRepo(repo, key, "stable", "myapp", {
    sequence: 200,
    version: "1.200",
    full: fullBundle(key, v2),
    deltas: [{ from: 100, bytes: deltaBundle(key, v1, v2) }],
  });
  server = await serveRepo(repo);
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  expect(kills).toBeGreaterThanOrEqual(50);
});

describe("kill -9 at any moment", () => {
  it("leaves current old or new at every step of apply", async () => {
    expect(await killAtEveryStep("apply", applyArgs)).toBeGreaterThan(15);
  }, 600_000);

  // with helpers (the new tree copied from the current one by a helper process while the
  // bundle is verified, the payload read beside the patching) and without: the same steps,
  // other orders
  it.each(["1", "0"])(
    "leaves current old or new at every step of update (delta with patches), threads %s",
    async (t) => {
      threads = t;
      try {
        await killAtEveryStep("update", updateArgs);
      } finally {
        threads = undefined;
      }
    },
    600_000,
  );

  // the new tree is built by a forked helper process: killed with the agent at each moment it
  // lives (while it copies the current tree or waits for the plan; after it was handed the plan),
  // it must let go of the store (it holds the lock it inherited) and leave nothing a recovery
  // does not remove
  it.each(["apply:signed", "apply:staged"])(
    "a helper left by an agent killed at %s lets go of the store",
    async (at) => {
      threads = "1";
      try {
        const trace = path.join(dir, "trace-helper.txt");
        rmSync(trace, { force: true });
        await agent(freshDevice("trace3"), applyArgs(), { SLIMENV_AGENT_TEST_TRACE: trace });
        const names = readFileSync(trace, "utf8").trim().split("\n");
        const n = names.findIndex((l) => l.endsWith(` ${at}`)) + 1;
        expect(n, names.join(" ")).toBeGreaterThan(0);
        const root = freshDevice(`helper-${at.replace(":", "-")}`);
        // the agent pauses 30 s at that step and is killed there; its helper lives on
        const paused = path.join(dir, "trace-paused.txt");
        rmSync(paused, { force: true });
        let proc: ChildProcess | undefined;
        const run = runAgent(["--root", root, "--key", pub, ...applyArgs()], {
          pathDir: bin,
          env: {
            SLIMENV_AGENT_THREADS: "1",
            SLIMENV_AGENT_TEST_PAUSE: `${n}:30`,
            SLIMENV_AGENT_TEST_TRACE: paused,
          },
          onSpawn: (c) => {
            proc = c;
          },
        });
        const t0 = Date.now();
        while (!(existsSync(paused) && readFileSync(paused, "utf8").includes(` ${at}\n`))) {
          expect(Date.now() - t0, "the agent never reached the step").toBeLessThan(30_000);
          await new Promise((r) => setTimeout(r, 20));
        }
        proc?.kill("SIGKILL");
        const r = await run;
        expect(r.signal).toBe("SIGKILL");
        kills++;
        // `status` takes the lock shared without waiting: busy while a helper holds it
        const t1 = Date.now();
        for (;;) {
          const st = await agent(root, ["status", "--json"]);
          expect(st.status, st.stderr).toBe(0);
          if (!JSON.parse(st.stdout).busy) break;
          expect(Date.now() - t1, "a helper still holds the store").toBeLessThan(5_000);
          await new Promise((r) => setTimeout(r, 50));
        }
        await afterKill(root, applyArgs());
        rmSync(root, { recursive: true, force: true });
      } finally {
        threads = undefined;
      }
    },
    120_000,
  );

  it("survives a kill during the recovery of a kill", async () => {
    // the first run dies right after switching to the new generation, before its health check
    // passed; the recovering run (gc) is killed at each of its own steps
    const trace = path.join(dir, "trace-apply.txt");
    rmSync(trace, { force: true });
    await agent(freshDevice("trace2"), applyArgs(), { SLIMENV_AGENT_TEST_TRACE: trace });
    const names = readFileSync(trace, "utf8").trim().split("\n");
    const at = names.findIndex((l) => l.endsWith(" switch:done")) + 1;
    const probe = freshDevice("probe");
    await agent(probe, applyArgs(), { SLIMENV_AGENT_TEST_CRASH_AT: String(at) });
    expect(checkCurrent(probe, "myapp")).toBe(200);
    const gcTrace = path.join(dir, "trace-gc.txt");
    rmSync(gcTrace, { force: true });
    await agent(probe, ["gc"], { SLIMENV_AGENT_TEST_TRACE: gcTrace });
    const gcSteps = readFileSync(gcTrace, "utf8").trim().split("\n").length;
    expect(gcSteps).toBeGreaterThanOrEqual(3);
    for (let n = 1; n <= gcSteps; n++) {
      const root = freshDevice(`double-${n}`);
      await agent(root, applyArgs(), { SLIMENV_AGENT_TEST_CRASH_AT: String(at) });
      const r = await agent(root, ["gc"], { SLIMENV_AGENT_TEST_CRASH_AT: String(n) });
      expect(r.signal, `gc step ${n}: ${r.stderr}`).toBe("SIGKILL");
      kills += 2;
      await afterKill(root, applyArgs());
      rmSync(root, { recursive: true, force: true });
    }
  }, 600_000);

  it("leaves current old or new after kills at seeded random moments", async () => {
    const root0 = freshDevice("timing");
    const t0 = Date.now();
    const r0 = await agent(root0, updateArgs());
    expect(r0.status, r0.stderr).toBe(0);
    const span = Date.now() - t0;
    const rng = new Rng(20261206);
    for (let i = 0; i < 16; i++) {
      const root = freshDevice(`random-${i}`);
      const args = i % 2 === 0 ? updateArgs() : applyArgs();
      const r = await agent(root, args, undefined, 5 + rng.int(span));
      if (r.signal === "SIGKILL") kills++;
      await afterKill(root, args);
      rmSync(root, { recursive: true, force: true });
    }
    expect(existsSync(root0)).toBe(true);
  }, 600_000);
});
