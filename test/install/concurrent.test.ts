/**
 * Several `slimenv install` processes at once, sharing one store: every env comes out
 * complete and working, and the store verifies clean afterwards.
 */
import { rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Store } from "../../src/store/store.ts";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import { describeWith } from "../helpers/prereq.ts";
import {
  bigWheel,
  cliEnv,
  run,
  slimenv,
  TEST_PYTHON,
  tempDir,
  testPython,
  VERSIONS_SCRIPT,
  world,
} from "./fixtures.ts";

const PY = testPython();
const PROCESSES = 5;

describeWith(TEST_PYTHON)("concurrent installs into one store", () => {
  let server: IndexServer;
  let root: string;

  beforeAll(async () => {
    const { projects } = world();
    const big = bigWheel("1.0", 300);
    projects.big = [{ file: { filename: big.filename, bytes: big.bytes, metadata: big.metadata } }];
    server = await startIndexServer({ projects });
    root = tempDir("concurrent");
  });
  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it(`${PROCESSES} processes install overlapping sets at the same time`, async () => {
    const home = path.join(root, "home");
    const env = cliEnv(home);
    // Overlapping sets: every process needs `big` and `lib`; some need more.
    const sets = [
      ["app", "big"],
      ["big", "lib==1.1"],
      ["app", "big", "beta"],
      ["big", "lib", "alpha"],
      ["big", "tool", "lib==1.0"],
    ].slice(0, PROCESSES);
    const results = await Promise.all(
      sets.map((names, i) =>
        slimenv(
          root,
          env,
          "install",
          ...names,
          "--prefix",
          path.join(root, `env${i}`),
          "--python",
          PY ?? "",
          "--index-url",
          server.url,
        ),
      ),
    );
    for (const [i, r] of results.entries()) {
      expect(r.stderr, `process ${i}`).not.toContain("error");
      expect(r.status, `process ${i}: ${r.stderr}`).toBe(0);
    }
    for (const [i, names] of sets.entries()) {
      const dir = path.join(root, `env${i}`);
      const out = run(path.join(dir, "bin", "python"), ["-c", VERSIONS_SCRIPT, dir], {
        PATH: `${path.dirname(PY ?? "")}:/usr/bin:/bin`,
      });
      expect(out.status, out.stderr).toBe(0);
      const versions = JSON.parse(out.stdout) as Record<string, string>;
      for (const spec of names) {
        const [name = "", pin] = spec.split("==");
        expect(versions[name], `env${i} ${name}`).toBeDefined();
        if (pin !== undefined) expect(versions[name]).toBe(pin);
      }
      const imp = run(path.join(dir, "bin", "python"), ["-c", "import big.m299, big.m1"], {
        PATH: `${path.dirname(PY ?? "")}:/usr/bin:/bin`,
      });
      expect(imp.status, imp.stderr).toBe(0);
    }
    const store = Store.open({ env: { SLIMENV_HOME: home } });
    try {
      const report = await store.verify();
      expect(report.problems).toEqual([]);
      const status = store.status();
      expect(status.envs).toBe(PROCESSES);
    } finally {
      store.close();
    }
  });
});
