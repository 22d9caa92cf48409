/**
 * The runner devices get around the agent's code (agentRunner): it compiles the code once and
 * keeps it in __pycache__/ beside itself (per interpreter), uses that afterwards, compiles
 * again when it is unreadable, writes nothing under -B, and still refuses CPython 3.7.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { agentSource } from "../../src/bundle/agent-source.ts";
import { describeWith, pyenv } from "../helpers/prereq.ts";
import { tempDir } from "../helpers/tmp.ts";

function run(python: string, file: string, extra: string[] = []) {
  const r = spawnSync(python, ["-I", ...extra, file, "--version"], { encoding: "utf8" });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("agent runner", () => {
  for (const v of ["3.8", "3.13"] as const) {
    const need = pyenv(v);
    describeWith(need)(`CPython ${v}`, () => {
      it("compiles once, then runs from its __pycache__ file, and recompiles a bad one", () => {
        const py = need.exe as string;
        const dir = tempDir("slimenv-runner-");
        const file = path.join(dir, "slimenv-agent.py");
        writeFileSync(file, agentSource());
        const first = run(py, file);
        expect(first.out).toBe("slimenv-agent 2\n");
        expect(first.status).toBe(0);
        const cache = readdirSync(path.join(dir, "__pycache__"));
        expect(cache).toHaveLength(1);
        expect(cache[0]).toMatch(/^slimenv-agent\.cpython-3\d+\.[0-9a-f]{32}\.code$/);
        // a cache that is not marshal data: compiled again, and the file written again
        writeFileSync(path.join(dir, "__pycache__", cache[0] as string), "not code");
        const again = run(py, file);
        expect(again.out).toBe("slimenv-agent 2\n");
        expect(readdirSync(path.join(dir, "__pycache__"))).toEqual(cache);
        const from = spawnSync(py, [
          "-I",
          "-c",
          `import marshal; marshal.loads(open(${JSON.stringify(path.join(dir, "__pycache__", cache[0] as string))}, "rb").read())`,
        ]);
        expect(from.status, from.stderr.toString()).toBe(0);
        // usage errors and refusals come out of the cached code as from the source
        const bad = spawnSync(py, ["-I", file, "frobnicate"], { encoding: "utf8" });
        expect(bad.status).toBe(2);
      });

      it("writes nothing under -B", () => {
        const py = need.exe as string;
        const dir = tempDir("slimenv-runner-b-");
        const file = path.join(dir, "slimenv-agent.py");
        writeFileSync(file, agentSource());
        expect(run(py, file, ["-B"]).status).toBe(0);
        expect(readdirSync(dir)).toEqual(["slimenv-agent.py"]);
      });
    });
  }

  const py37 = pyenv("3.7");
  describeWith(py37)("CPython 3.7", () => {
    it("still refuses CPython 3.7 with a message", () => {
      const dir = tempDir("slimenv-runner-37-");
      const file = path.join(dir, "slimenv-agent.py");
      writeFileSync(file, agentSource());
      const r = run(py37.exe as string, file);
      expect(r.status).toBe(1);
      expect(r.out).toMatch(/needs CPython 3\.8 or newer \(this is 3\.7\)/);
    });
  });
});
