import { writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { ThreadPool } from "../../src/base/thread-pool.ts";
import { tempDir } from "../helpers/tmp.ts";

/** A worker script: doubles `n` after `ms`, reports its thread id; exits on `die`. */
function script(): URL {
  const file = path.join(tempDir("pool-"), "worker.mjs");
  writeFileSync(
    file,
    `import { parentPort, threadId } from "node:worker_threads";
parentPort.on("message", ({ id, job }) => {
  if (job.die) process.exit(3);
  setTimeout(() => parentPort.postMessage({ id, result: { n: job.n * 2, thread: threadId } }), job.ms);
});
`,
  );
  return pathToFileURL(file);
}

type Job = { n: number; ms: number; die?: boolean };
type Result = { n: number; thread: number };

describe("ThreadPool", () => {
  it("runs jobs on at most `size` threads, each answer to its own job", async () => {
    const pool = new ThreadPool<Job, Result>(script(), 2);
    try {
      const jobs = [30, 1, 20, 1, 10, 1].map((ms, n) => pool.run({ n, ms }));
      const results = await Promise.all(jobs);
      expect(results.map((r) => r.n)).toEqual([0, 2, 4, 6, 8, 10]);
      expect(new Set(results.map((r) => r.thread)).size).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it("rejects the job of a worker that dies, and goes on with a new worker", async () => {
    const pool = new ThreadPool<Job, Result>(script(), 1);
    try {
      const dead = pool.run({ n: 1, ms: 0, die: true });
      const next = pool.run({ n: 2, ms: 0 });
      await expect(dead).rejects.toThrow(/exited with code 3/);
      expect((await next).n).toBe(4);
    } finally {
      await pool.close();
    }
  });

  it("rejects every job when the script cannot be loaded", async () => {
    const missing = pathToFileURL(path.join(tempDir("pool-"), "missing.mjs"));
    const pool = new ThreadPool<Job, Result>(missing, 2);
    try {
      await expect(pool.run({ n: 1, ms: 0 })).rejects.toThrow();
      await expect(pool.run({ n: 2, ms: 0 })).rejects.toThrow();
    } finally {
      await pool.close();
    }
  });

  it("an idle pool does not keep a process alive", async () => {
    const { spawnSync } = await import("node:child_process");
    const url = script();
    const code = `import { ThreadPool } from ${JSON.stringify(pathToFileURL(path.resolve("src/base/thread-pool.ts")).href)};
const pool = new ThreadPool(new URL(${JSON.stringify(url.href)}), 2);
console.log((await pool.run({ n: 21, ms: 5 })).n);`;
    const file = path.join(tempDir("pool-"), "main.mjs");
    writeFileSync(file, code);
    const res = spawnSync(process.execPath, [file], { encoding: "utf8", timeout: 20_000 });
    expect(res.stdout.trim()).toBe("42");
    expect(res.status).toBe(0);
  });
});
