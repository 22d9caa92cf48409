/**
 * install --slim --keep-used-by: the command runs traced in the policy-only candidate; what
 * it never touched is dropped; the pruned env is kept only when the command gives the same
 * exit code and stdout; `sync` keeps the recorded policy.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { isSlimenvError } from "../../src/base/index.ts";
import type { InstallRequest } from "../../src/env/install.ts";
import { sync } from "../../src/env/sync.ts";
import { resolveSettings } from "../../src/settings/load.ts";
import { installSlim } from "../../src/slim/install-slim.ts";
import { slimPolicy, withUsage } from "../../src/slim/policy.ts";
import { policyFromRecord, syncSlimTransform } from "../../src/slim/policy-record.ts";
import { usageKeep } from "../../src/slim/usage/keep.ts";
import { outputDifference } from "../../src/slim/usage/pruning.ts";
import { runCommandIn, usedRulePaths } from "../../src/slim/usage/tracer.ts";
import { cextWheel, interpreter } from "../env/env-fixtures.ts";
import { describeWith, pyenv } from "../helpers/prereq.ts";
import { tempDir } from "../helpers/tmp.ts";
import { buildWheel } from "../helpers/wheels.ts";
import { cliEnv, slimenv } from "../install/fixtures.ts";
import { filesUnder } from "./policy-fixtures.ts";

const PYTHON = pyenv("3.11", "3.12");
const PY = PYTHON.exe;

function usepkgWheel() {
  return buildWheel({
    name: "usepkg",
    version: "1.0",
    files: {
      "usepkg/__init__.py": "",
      "usepkg/used.py": [
        "import os",
        "def run():",
        "    with open(os.path.join(os.path.dirname(__file__), 'data', 'table.txt')) as f:",
        "        return f.read().strip()",
        "",
      ].join("\n"),
      "usepkg/unused.py": `X = ${JSON.stringify("x".repeat(2000))}\n`,
      "usepkg/data/table.txt": "hello-data\n",
      "usepkg/data/other.txt": "never read\n",
      "usepkg/dyn/__init__.py": "",
      "usepkg/dyn/plugin.py": "NAME = 'plugin-by-name'\n",
      "usepkg/dyn/other_plugin.py": "NAME = 'not loaded'\n",
      "usepkg/child.py": "VALUE = 'from-the-child'\n",
      "usepkg/unused_sub/__init__.py": "",
      "usepkg/unused_sub/mod.py": "Y = 2\n",
      // Only asked about (os.path.exists), never opened: torch does this with a helper binary.
      "usepkg/bin/helper": "#!/bin/sh\necho helper\n",
      "usepkg/probe.py": [
        "import os",
        "HELPER = os.path.join(os.path.dirname(__file__), 'bin', 'helper')",
        "def have_helper():",
        "    return os.path.exists(HELPER)",
        "",
      ].join("\n"),
      "usepkg/lister.py": [
        "import os",
        "print(sorted(os.listdir(os.path.dirname(__file__))))",
        "",
      ].join("\n"),
    },
  });
}

const SMOKE = [
  "import importlib, subprocess, sys",
  "import usepkg.used, cext",
  "print(usepkg.used.run())",
  "print(importlib.import_module('usepkg.dyn.' + 'plug' + 'in').NAME)",
  "child = subprocess.run([sys.executable, '-c', 'import usepkg.child; print(usepkg.child.VALUE)'],",
  "    capture_output=True, text=True, check=True)",
  "print(child.stdout.strip())",
  "print(cext.add(2, 3))",
  "import usepkg.probe",
  "print(usepkg.probe.have_helper())",
  "# The tracer's os.stat stands in for the original: picklable, listed as supporting fds.",
  "import os, pickle",
  "pickle.dumps(os.stat)",
  "print(os.stat in os.supports_follow_symlinks and os.stat in os.supports_dir_fd)",
  "",
].join("\n");

describe("usage pruning: pure parts", () => {
  it("maps caches and sourceless .pyc to their sources", () => {
    expect(usedRulePaths("a/b/__pycache__/m.cpython-311.pyc")).toEqual([
      "a/b/__pycache__/m.cpython-311.pyc",
      "a/b/m.py",
    ]);
    expect(usedRulePaths("__pycache__/top.cpython-311.pyc")).toContain("top.py");
    expect(usedRulePaths("a/m.pyc")).toEqual(["a/m.pyc", "a/m.py"]);
    expect(usedRulePaths("a/data.txt")).toEqual(["a/data.txt"]);
  });

  it("keeps used files, their packages' __init__, dist-info, .pth and slim-keep", () => {
    const keep = usageKeep(["p/q/m.py"], ["p/keep/**"]);
    expect(keep.keeps("p/q/m.py")).toBe(true);
    expect(keep.keeps("p/q/__init__.py")).toBe(true);
    expect(keep.keeps("p/__init__.py")).toBe(true);
    expect(keep.keeps("p-1.0.dist-info/METADATA")).toBe(true);
    expect(keep.keeps("p.pth")).toBe(true);
    expect(keep.keeps("p/keep/x.dat")).toBe(true);
    expect(keep.keeps("p/q/other.py")).toBe(false);
    expect(keep.keeps("p/sub/__init__.py")).toBe(false);
  });

  it("says how the output differs", () => {
    const ok = { code: 0, stdout: "a\nb\n", stderr: "" };
    expect(outputDifference(ok, { ...ok })).toBeUndefined();
    expect(outputDifference(ok, { ...ok, stdout: "a\nc\n" })).toMatch(/line 2: "c" instead of "b"/);
    expect(outputDifference(ok, { code: 1, stdout: "", stderr: "Boom\nImportError: x" })).toMatch(
      /exits 1 in the pruned env, 0 before: .*ImportError: x/,
    );
  });

  it("reads a recorded policy back, and refuses a bad record", () => {
    const policy = withUsage(slimPolicy({ preset: "edge" }), ["b.py", "a.py"], "python x.py");
    expect(policy.used).toEqual(["a.py", "b.py"]);
    const back = policyFromRecord({ id: "x", policy: { ...policy, resolvedBytecode: "source" } });
    expect(back).toEqual(policy);
    for (const bad of [null, { ...policy, strip: "all" }, { ...policy, used: [1] }]) {
      let err: unknown;
      try {
        policyFromRecord({ id: "x", policy: bad });
      } catch (e) {
        err = e;
      }
      expect(isSlimenvError(err) && err.code).toBe("INVALID_ENV");
    }
  });
});

describeWith(PYTHON)("install --slim --keep-used-by", () => {
  let root: string;
  let wheelFiles: string[];
  let n = 0;

  beforeAll(async () => {
    root = tempDir("slimenv-usage-");
    const dir = path.join(root, "wheels");
    mkdirSync(dir);
    const interp = await interpreter(PY as string);
    wheelFiles = [usepkgWheel(), cextWheel(interp)].map((w) => {
      const file = path.join(dir, w.filename);
      writeFileSync(file, w.bytes);
      return file;
    });
    writeFileSync(path.join(root, "smoke.py"), SMOKE);
  });

  function request(envDir: string, lockOut?: string): InstallRequest {
    return {
      cwd: root,
      env: { ...process.env, PATH: `${path.dirname(PY as string)}:/usr/bin:/bin` },
      settings: resolveSettings({ flags: {}, env: {}, noConfig: true }),
      selection: { kind: "interpreter", request: PY as string },
      layout: { kind: "prefix", dir: envDir },
      inputs: { requirementFiles: [], requirements: [], wheels: wheelFiles },
      noDeps: lockOut === undefined,
      ...(lockOut === undefined ? {} : { lockOut }),
      userAgent: "slimenv-tests",
      storeRoot: path.join(root, "store"),
      httpCacheDir: null,
    };
  }

  function siteFiles(dir: string): string[] {
    const [site] = filesUnder(dir)
      .filter((f) => f.includes("site-packages/usepkg/__init__.py"))
      .map((f) => f.slice(0, f.indexOf("site-packages/") + "site-packages/".length));
    return filesUnder(path.join(dir, site ?? "missing"));
  }

  it("drops what the command never touched and keeps the rest, with the same output", async () => {
    const dir = path.join(root, `env${n++}`);
    const result = await installSlim(request(dir), {
      policy: slimPolicy({ preset: "edge" }),
      keepUsedBy: "python smoke.py",
    });
    const usage = result.usage;
    expect(usage?.kept).toBe(true);
    expect(usage?.reason).toBeUndefined();
    expect(usage?.processes).toBeGreaterThanOrEqual(2);
    const files = siteFiles(dir);
    // used, data read at run time, loaded by name, imported in a child, the C extension.
    for (const f of [
      "usepkg/__init__.py",
      "usepkg/used.py",
      "usepkg/data/table.txt",
      "usepkg/dyn/__init__.py",
      "usepkg/dyn/plugin.py",
      "usepkg/child.py",
      "cext/__init__.py",
      "usepkg/probe.py",
      "usepkg/bin/helper",
    ]) {
      expect(files).toContain(f);
    }
    expect(files.some((f) => /^cext\/_speed.*\.so$/.test(f))).toBe(true);
    for (const f of [
      "usepkg/unused.py",
      "usepkg/data/other.txt",
      "usepkg/dyn/other_plugin.py",
      "usepkg/unused_sub/__init__.py",
      "usepkg/unused_sub/mod.py",
      "usepkg/lister.py",
    ]) {
      expect(files).not.toContain(f);
    }
    expect(files).toContain("usepkg-1.0.dist-info/METADATA");
    const recordText = filesUnder(dir)
      .filter((f) => f.endsWith("usepkg-1.0.dist-info/RECORD"))
      .map((f) => readFileSync(path.join(dir, f), "utf8"))
      .join("");
    expect(recordText).toContain("usepkg/used.py");
    expect(recordText).not.toContain("usepkg/unused.py");
    // Floor and sizes.
    expect(usage?.floorBytes).toBeGreaterThan(0);
    expect(usage?.floorBytes).toBeLessThan(usage?.prunedBytes ?? 0);
    expect(usage?.prunedBytes).toBeLessThan(usage?.policyBytes ?? 0);
    expect(usage?.unslimmedBytes).toBeGreaterThan(0);
    expect(result.policy.used).toContain("usepkg/used.py");
    expect(result.manifest.slim?.id).toMatch(/^slim1-/);
    // The command in the final env.
    const again = await runCommandIn(dir, result.manifest, "python smoke.py", {
      env: request(dir).env,
      cwd: root,
    });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe("hello-data\nplugin-by-name\nfrom-the-child\n5\nTrue\nTrue\n");
  }, 60_000);

  it("falls back to the policy-only env when the output changes after pruning", async () => {
    const dir = path.join(root, `env${n++}`);
    const result = await installSlim(request(dir), {
      policy: slimPolicy({ preset: "edge" }),
      keepUsedBy: "python -c 'import usepkg.lister'",
    });
    expect(result.usage?.kept).toBe(false);
    expect(result.usage?.reason).toMatch(/output differs in the pruned env at line 1/);
    expect(result.policy.used).toBeUndefined();
    expect(siteFiles(dir)).toContain("usepkg/unused.py");
  }, 60_000);

  it("does not prune when the command fails unpruned", async () => {
    const dir = path.join(root, `env${n++}`);
    const result = await installSlim(request(dir), {
      policy: slimPolicy({ preset: "edge" }),
      keepUsedBy: "python -c 'import usepkg.used; raise SystemExit(3)'",
    });
    expect(result.usage?.kept).toBe(false);
    expect(result.usage?.reason).toMatch(/fails in the unpruned env \(exit 3/);
    expect(siteFiles(dir)).toContain("usepkg/unused.py");
  }, 60_000);

  it("prunes after the check's comparison with the unslimmed tree (the longest review)", async () => {
    const dir = path.join(root, `env${n++}`);
    // cext fails slimmed and unslimmed alike: pre-existing, so it is slimmed again, then pruned.
    const fails = [["cext"], ["cext"]];
    const result = await installSlim(request(dir), {
      policy: slimPolicy({ preset: "edge" }),
      keepUsedBy: "python smoke.py",
      check: async () => (fails.shift() ?? []).map((name) => ({ name, reason: "x: boom" })),
    });
    expect(fails).toEqual([]);
    expect(result.unslimmed).toEqual([]);
    expect(result.preexisting.map((u) => u.name)).toEqual(["cext"]);
    expect(result.usage?.kept).toBe(true);
    expect(result.policy.skip).toEqual([]);
    expect(siteFiles(dir)).not.toContain("usepkg/unused.py");
  }, 60_000);

  it("the CLI: --keep-used-by prints the floor beside the result, and needs --slim", async () => {
    const env = cliEnv(path.join(root, "home"), {
      PATH: `${path.dirname(PY as string)}:/usr/bin:/bin`,
    });
    const args = ["install", "--python", PY as string, "--no-deps", ...wheelFiles];
    const ok = await slimenv(
      root,
      env,
      ...args,
      "--prefix",
      "cli-env",
      "--slim",
      "edge",
      "--keep-used-by",
      "python smoke.py",
    );
    expect(ok.stderr).not.toMatch(/warning/);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/keep-used-by: pruned to the \d+ files "python smoke.py" touched/);
    expect(ok.stdout).toMatch(/floor [\d.]+ KiB touched; env [\d.]+ KiB \(policy only/);
    const bad = await slimenv(root, env, ...args, "--prefix", "cli-env2", "--keep-used-by", "x");
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--keep-used-by needs --slim PRESET/);
  }, 60_000);

  it("sync keeps the slim policy (and its pruning) of the environment", async () => {
    const dir = path.join(root, `env${n++}`);
    const lockOut = path.join(root, `pylock-${n}.toml`);
    const installed = await installSlim(request(dir, lockOut), {
      policy: slimPolicy({ preset: "edge" }),
      keepUsedBy: "python smoke.py",
    });
    expect(installed.usage?.kept).toBe(true);
    expect(existsSync(lockOut)).toBe(true);
    const base = {
      dir,
      lockFile: lockOut,
      cwd: root,
      env: request(dir).env,
      settings: resolveSettings({ flags: {}, env: {}, noConfig: true }),
      userAgent: "slimenv-tests",
      storeRoot: path.join(root, "store"),
      httpCacheDir: null,
    };
    const kept = await sync({ ...base, slimFor: syncSlimTransform({ env: base.env }) });
    expect(kept.rebuilt).toBe(false);
    expect(kept.manifest.slim?.id).toBe(installed.manifest.slim?.id);
    expect(siteFiles(dir)).not.toContain("usepkg/unused.py");
    // Without the hook (as before the fix) the env is rebuilt unslimmed.
    const plain = await sync(base);
    expect(plain.rebuilt).toBe(true);
    expect(plain.manifest.slim).toBeUndefined();
    expect(siteFiles(dir)).toContain("usepkg/unused.py");
  }, 90_000);
});
