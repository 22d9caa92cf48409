/**
 * Fixtures for the bundle tests: real slimenv envs built by install() from generated wheels
 * served by the in-process index, a signing key, and the device agent run by a real CPython.
 *
 *   demo 1.0   demo/__init__.py, demo/core.py, demo/data.py (~40 KB), and an auditwheel-style
 *              bundled library demo.libs/libdemo-56d6093b.so (~300 KB of deterministic bytes)
 *   demo 2.0   core.py changed, the library renamed to libdemo-9c0ffee1.so with a few bytes
 *              changed; data.py the same
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { agentSource } from "../../src/bundle/agent-source.ts";
import { formatPublicKey, type SigningKey, signingKeyFromSeed } from "../../src/bundle/keys.ts";
import { type InstallResult, install } from "../../src/env/install.ts";
import type { IndexEntry, IndexProjects } from "../helpers/index-server.ts";
import { type BuiltWheel, buildWheel } from "../helpers/wheels.ts";
import { testPython, testSettings } from "../install/fixtures.ts";

export const PY = testPython();

/** Deterministic pseudo-random bytes (an LCG). */
export function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    // Some structure (like code): runs of a few values, then noise.
    out[i] = i % 64 < 40 ? (i >> 6) & 0xff : (s >> 16) & 0xff;
  }
  return out;
}

function library(version: number): Uint8Array {
  const lib = bytes(300_000, 99);
  if (version === 2) for (let i = 1000; i < lib.length; i += 50_000) lib[i] = 255 - (lib[i] ?? 0);
  return lib;
}

function dataModule(): string {
  const lines = [];
  for (let i = 0; i < 1500; i++) lines.push(`VALUE_${i} = ${(i * 7919) % 10007}`);
  return `${lines.join("\n")}\n`;
}

export function demoWheel(version: "1.0" | "2.0"): IndexEntry {
  const w = demoBuilt(version);
  return { file: { filename: w.filename, bytes: w.bytes, metadata: w.metadata } };
}

/** The demo wheel itself (for locks naming it). */
export function demoBuilt(version: "1.0" | "2.0"): BuiltWheel {
  const v = version === "1.0" ? 1 : 2;
  const hash = v === 1 ? "56d6093b" : "9c0ffee1";
  const core = [
    "import os",
    "",
    "def answer():",
    `    return ${v === 1 ? 41 : 42}`,
    "",
    "def library_path():",
    `    return os.path.join(os.path.dirname(__file__), "..", "demo.libs", "libdemo-${hash}.so")`,
    "",
  ].join("\n");
  return buildWheel({
    name: "demo",
    version,
    files: {
      "demo/__init__.py": `__version__ = "${version}"\n`,
      "demo/core.py": core,
      "demo/data.py": dataModule(),
      [`demo.libs/libdemo-${hash}.so`]: library(v),
    },
  });
}

export function demoProjects(): IndexProjects {
  return { demo: [demoWheel("1.0"), demoWheel("2.0")] };
}

/** The fixed test key (a seed of 32 bytes 7). */
export function testKey(): SigningKey {
  return signingKeyFromSeed(new Uint8Array(32).fill(7));
}

/** Write the key pair files into `dir`: `fleet.key`, `fleet.pub`. */
export function writeTestKey(dir: string): { key: string; pub: string } {
  const key = testKey();
  const keyPath = path.join(dir, "fleet.key");
  const pubPath = path.join(dir, "fleet.pub");
  writeFileSync(keyPath, key.privateKey.export({ format: "pem", type: "pkcs8" }), {
    mode: 0o600,
  });
  writeFileSync(pubPath, formatPublicKey(key.publicKey));
  return { key: keyPath, pub: pubPath };
}

/** install() `requirement` into a prefix env at `dir` from the index at `indexUrl`. */
export async function buildEnv(
  cwd: string,
  dir: string,
  requirement: string,
  indexUrl: string,
  storeRoot: string,
): Promise<InstallResult> {
  mkdirSync(cwd, { recursive: true });
  return install({
    cwd,
    env: process.env,
    settings: testSettings(indexUrl),
    selection: { kind: "interpreter", request: PY as string },
    layout: { kind: "prefix", dir },
    inputs: { requirementFiles: [], requirements: [requirement], wheels: [] },
    userAgent: "slimenv-tests",
    storeRoot,
    httpCacheDir: null,
  });
}

export interface AgentRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run the device agent (this checkout's) with the test CPython in isolated mode. */
export function runAgent(dir: string, args: readonly string[]): AgentRun {
  const agent = path.join(dir, "slimenv-agent.py");
  writeFileSync(agent, agentSource());
  const res = spawnSync(PY as string, ["-I", agent, ...args], {
    encoding: "utf8",
    timeout: 120_000,
    env: { PATH: `${path.dirname(PY as string)}:/usr/bin:/bin`, HOME: dir },
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** runAgent without blocking: for an agent talking to a server in this process. */
export function runAgentAsync(dir: string, args: readonly string[]): Promise<AgentRun> {
  const agent = path.join(dir, "slimenv-agent.py");
  writeFileSync(agent, agentSource());
  return new Promise((resolve) => {
    execFile(
      PY as string,
      ["-I", agent, ...args],
      {
        encoding: "utf8",
        timeout: 120_000,
        env: { PATH: `${path.dirname(PY as string)}:/usr/bin:/bin`, HOME: dir },
      },
      (error, stdout, stderr) => {
        const status = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ status, stdout, stderr });
      },
    );
  });
}

/** PATH for running the app's launchers: the test CPython first. */
export function pyPath(): string {
  return `${path.dirname(PY as string)}:/usr/bin:/bin`;
}
