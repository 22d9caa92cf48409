/**
 * Crash safety of install and sync: `slimenv install` (lock A) and `slimenv sync` (lock B)
 * CLI runs killed with SIGKILL at seeded random moments. After every kill the store verifies
 * clean and the env is exactly state A or state B — every distribution at one state's
 * versions, every module importable — never a mix, never broken. Some rounds prune the store
 * first, so the kill can land inside a download and import too.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Store } from "../../src/store/store.ts";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import { describeWith } from "../helpers/prereq.ts";
import { Rng } from "../helpers/random.ts";
import { type BuiltWheel, buildWheel } from "../helpers/wheels.ts";
import {
  BIN,
  bigWheel,
  cliEnv,
  lockText,
  run,
  slimenv,
  TEST_PYTHON,
  tempDir,
  testPython,
  VERSIONS_SCRIPT,
} from "./fixtures.ts";

const PY = testPython();
const SEED = 20240611;
const KILLS = 30;
const BIG_FILES = 800;

// Both states hold the same names: install adds to an env, so installing lock A over state B
// gives exactly A only when A names everything B holds.
const STATE_A = { alpha: "1.0", beta: "1.0", big: "1.0", gamma: "1.0" };
const STATE_B = { alpha: "1.0", beta: "2.0", big: "2.0", gamma: "1.0" };

/** Checks every module of the env imports, and that `big`'s code is of its metadata's version. */
const CHECK = `
import importlib, importlib.metadata as md
import alpha, beta, big
assert big.__version__ == md.version("big"), (big.__version__, md.version("big"))
assert beta.__version__ == md.version("beta")
for i in (1, ${BIG_FILES - 1}):
    m = importlib.import_module(f"big.m{i}")
    assert m.X == i
if md.version("beta") == "2.0":
    import gamma
print("ok")
`;

describeWith(TEST_PYTHON)("kill -9 during install and sync", () => {
  let server: IndexServer;
  let root: string;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  let storeRoot: string;

  beforeAll(async () => {
    const simple = (name: string, version: string) =>
      buildWheel({
        name,
        version,
        files: { [`${name}/__init__.py`]: `__version__ = "${version}"\n` },
      });
    const wheels: Record<string, BuiltWheel> = {
      alpha: simple("alpha", "1.0"),
      beta1: simple("beta", "1.0"),
      beta2: simple("beta", "2.0"),
      gamma: simple("gamma", "1.0"),
      big1: bigWheel("1.0", BIG_FILES),
      big2: bigWheel("2.0", BIG_FILES),
    };
    const entry = (w: BuiltWheel) => ({ file: { filename: w.filename, bytes: w.bytes } });
    const all = Object.values(wheels);
    server = await startIndexServer({
      projects: Object.fromEntries(
        all.map((w) => [
          w.filename.split("-")[0] as string,
          all.filter((x) => x.filename.startsWith(`${w.filename.split("-")[0]}-`)).map(entry),
        ]),
      ),
    });
    root = tempDir("kill");
    env = cliEnv(path.join(root, "home"));
    dir = path.join(root, "env");
    storeRoot = path.join(root, "home", "store", "v1");
    const w = wheels as Record<string, BuiltWheel>;
    writeFileSync(
      path.join(root, "pylock.a.toml"),
      lockText([w.alpha, w.beta1, w.big1, w.gamma] as BuiltWheel[], server.filesUrl),
    );
    writeFileSync(
      path.join(root, "pylock.b.toml"),
      lockText([w.alpha, w.beta2, w.big2, w.gamma] as BuiltWheel[], server.filesUrl),
    );
  });
  afterAll(async () => {
    await server.close();
  });

  const args = (op: "install" | "sync") =>
    op === "install"
      ? ["install", "pylock.a.toml", "--prefix", "env", "--python", PY as string]
      : ["sync", "env", "pylock.b.toml"];

  /** Run the CLI; SIGKILL it after `killAfterMs` (undefined: let it finish). */
  function runOnce(
    op: "install" | "sync",
    killAfterMs: number | undefined,
  ): Promise<{ killed: boolean; code: number | null; ms: number; stderr: string }> {
    const started = performance.now();
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args(op)], {
        cwd: root,
        env,
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      let killed = false;
      const timer =
        killAfterMs === undefined
          ? undefined
          : setTimeout(() => {
              killed = child.kill("SIGKILL");
            }, killAfterMs);
      child.on("close", (code, signal) => {
        if (timer !== undefined) clearTimeout(timer);
        resolve({
          killed: killed && signal === "SIGKILL",
          code,
          ms: performance.now() - started,
          stderr,
        });
      });
    });
  }

  function envState(): Record<string, string> {
    const py = path.join(dir, "bin", "python");
    const pathVar = `${path.dirname(PY as string)}:/usr/bin:/bin`;
    // One interpreter run: the versions importlib.metadata sees, then the import check.
    const res = run(py, ["-c", `${VERSIONS_SCRIPT}\n${CHECK}`, dir], { PATH: pathVar });
    expect(res.stderr).toBe("");
    const [versions = "", ok] = res.stdout.split("\n");
    expect(ok).toBe("ok");
    return JSON.parse(versions) as Record<string, string>;
  }

  async function verifyStore(): Promise<void> {
    const store = Store.open({ root: storeRoot });
    try {
      const report = await store.verify();
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
    } finally {
      store.close();
    }
  }

  it(`leaves the env at state A or B and the store clean, ${KILLS} times`, {
    timeout: 600_000,
  }, async () => {
    const rng = new Rng(SEED);
    const first = await runOnce("install", undefined);
    expect(first.stderr).not.toContain("error");
    expect(first.code).toBe(0);
    expect(envState()).toEqual(STATE_A);
    const sync = await runOnce("sync", undefined);
    expect(sync.code).toBe(0);
    expect(envState()).toEqual(STATE_B);
    // The window: how long a whole run takes with a warm store (mostly the env rebuild).
    const warmA = await runOnce("install", undefined);
    const warmB = await runOnce("sync", undefined);
    expect([warmA.code, warmB.code]).toEqual([0, 0]);
    const window = (warmA.ms + warmB.ms) / 2;

    let kills = 0;
    let finished = 0;
    const seen = { A: 0, B: 0 };
    let atA = false;
    let flips = 0;
    let stuck = 0;
    for (let round = 0; kills < KILLS && round < KILLS * 3; round++) {
      // Always towards the other state: a kill before the switch keeps this one, after it flips.
      const op = atA ? "sync" : "install";
      if (round % 5 === 0) {
        // Drop the wheels the env does not use: the next run downloads and imports them.
        const store = Store.open({ root: storeRoot });
        try {
          store.prune();
        } finally {
          store.close();
        }
      }
      // Past most of the start-up (~40% of a run) up to a little after a whole run.
      const delay = Math.floor(window * (0.4 + rng.next() * 0.65));
      // After three rounds in the same state, one run to completion flips it.
      const res = await runOnce(op, stuck >= 3 ? undefined : delay);
      if (res.killed) kills++;
      else {
        finished++;
        expect(res.code, res.stderr).toBe(0);
      }
      await verifyStore();
      const state = envState();
      const nowA = JSON.stringify(state) === JSON.stringify(STATE_A);
      if (nowA) seen.A++;
      else {
        expect(state).toEqual(STATE_B);
        seen.B++;
      }
      if (res.killed && nowA !== atA) flips++;
      stuck = nowA === atA ? stuck + 1 : 0;
      atA = nowA;
    }
    expect(kills).toBeGreaterThanOrEqual(KILLS);
    // Both end states were observed after kills, and the CLI's own verify agrees.
    expect(seen.A).toBeGreaterThan(0);
    expect(seen.B).toBeGreaterThan(0);
    const verify = await slimenv(root, env, "--json", "store", "verify");
    expect(verify.status).toBe(0);
    // A run after all that finishes and gives exactly the state asked for.
    const last = await runOnce("sync", undefined);
    expect(last.code).toBe(0);
    expect(envState()).toEqual(STATE_B);
    console.log(
      `kill test: ${kills} kills (${flips} after the switch), ${finished} runs finished before the kill, window ${Math.round(window)} ms, ended at A ${seen.A}×, at B ${seen.B}×`,
    );
  });
});
