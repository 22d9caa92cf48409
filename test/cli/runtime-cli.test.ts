/**
 * `slimenv runtime` end to end: bin/slimenv.js run from the sources by this Node. What the
 * defaults are (sourceless .pyc, strip debug), and that only the options given override them.
 */
import { rmSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { itWith } from "../helpers/prereq.ts";
import { cliEnv, slimenv } from "../install/fixtures.ts";
import { ALL_DROPS, RUNTIME_PYTHON, tempDir } from "../runtime/fixtures.ts";

const PY = RUNTIME_PYTHON.exe;

describe("slimenv runtime", () => {
  const root = tempDir("cli");
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const env = cliEnv(path.join(root, "home"));

  it("--help names the defaults", async () => {
    const res = await slimenv(root, env, "runtime", "--help");
    expect(res.status).toBe(0);
    expect(res.stdout.replace(/\s+/g, " ")).toContain("(default pyc-only; status-quo ships it");
    expect(res.stdout.replace(/\s+/g, " ")).toContain("(default debug, none for --table)");
    expect(res.stdout.replace(/\s+/g, " ")).toContain("(default devel; --drop none keeps all)");
  });

  itWith(RUNTIME_PYTHON)(
    "strips debug info by default; --stdlib overrides only the layout",
    async () => {
      const out = path.join(root, "py");
      const res = await slimenv(
        root,
        env,
        "runtime",
        "--python",
        PY as string,
        "--out",
        out,
        "--stdlib",
        "py",
        "--drop",
        ALL_DROPS.join(","),
        "--json",
      );
      expect(res.stderr).toBe("");
      expect(res.status).toBe(0);
      const result = JSON.parse(res.stdout) as {
        mode: string;
        strip: string;
        native: { stripped: string[] };
      };
      expect(result.mode).toBe("py");
      expect(result.strip).toBe("debug");
      expect(result.native.stripped.length).toBeGreaterThan(30);
    },
  );

  it("bad --strip is a usage error before anything is built", async () => {
    const out = path.join(root, "never");
    const res = await slimenv(root, env, "runtime", "--out", out, "--strip", "all");
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('[INVALID_OPTION] unknown strip mode "all"');
  });
});
