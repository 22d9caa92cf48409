/**
 * install --slim: the proof path. A module that reads its own source breaks under pyc-only;
 * the import check of the candidate tree catches it; the package is rebuilt unslimmed (and
 * the result says so) — or, with strict, the install fails and the env stays as it was.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, expect, it } from "vitest";
import { isSlimenvError } from "../../src/base/index.ts";
import type { InstallRequest } from "../../src/env/install.ts";
import { resolveSettings } from "../../src/settings/load.ts";
import { installSlim } from "../../src/slim/install-slim.ts";
import { slimPolicy } from "../../src/slim/policy.ts";
import { describeWith, pyenv } from "../helpers/prereq.ts";
import { tempDir } from "../helpers/tmp.ts";
import { cliEnv, slimenv, snapshot } from "../install/fixtures.ts";
import {
  crossWheels,
  demoWheel,
  filesUnder,
  fragileWheel,
  mixedWheel,
  otherWheel,
  selfreadWheel,
} from "./policy-fixtures.ts";

const PYTHON310 = pyenv("3.10");
const PY310 = PYTHON310.exe;

describeWith(PYTHON310)("install --slim", () => {
  let root: string;
  let wheelFiles: string[];
  let fragileFiles: string[];
  let crossFiles: string[];
  let n = 0;

  beforeAll(() => {
    root = tempDir("slimenv-slim-install-");
    const dir = path.join(root, "wheels");
    mkdirSync(dir);
    const write = (w: { filename: string; bytes: Uint8Array }) => {
      const file = path.join(dir, w.filename);
      writeFileSync(file, w.bytes);
      return file;
    };
    wheelFiles = [demoWheel({ legacy: false }), otherWheel(), selfreadWheel()].map(write);
    fragileFiles = [demoWheel({ legacy: false }), fragileWheel(), mixedWheel()].map(write);
    crossFiles = [demoWheel({ legacy: false }), ...crossWheels()].map(write);
  });

  function request(envDir: string, wheels = wheelFiles): InstallRequest {
    return {
      cwd: root,
      env: { ...process.env, PATH: `${path.dirname(PY310 as string)}:/usr/bin:/bin` },
      settings: resolveSettings({ flags: {}, env: {}, noConfig: true }),
      selection: { kind: "interpreter", request: PY310 as string },
      layout: { kind: "prefix", dir: envDir },
      inputs: { requirementFiles: [], requirements: [], wheels },
      noDeps: true,
      userAgent: "slimenv-tests",
      storeRoot: path.join(root, "store"),
      httpCacheDir: null,
    };
  }

  /** The message of the SLIM_CHECK_FAILED an `edge --strict` install of `wheels` fails with. */
  async function strictFailure(wheels: string[]): Promise<string> {
    let err: unknown;
    try {
      await installSlim(request(path.join(root, `env${n++}`), wheels), {
        policy: slimPolicy({ preset: "edge" }),
        strict: true,
      });
    } catch (e) {
      err = e;
    }
    expect(isSlimenvError(err) && err.code).toBe("SLIM_CHECK_FAILED");
    return (err as Error).message;
  }

  it("rebuilds a package that fails the check unslimmed, and says so", async () => {
    const dir = path.join(root, `env${n++}`);
    const result = await installSlim(request(dir), { policy: slimPolicy({ preset: "edge" }) });
    expect(result.checked).toBe(true);
    expect(result.unslimmed.map((u) => u.name)).toEqual(["selfread"]);
    expect(result.unslimmed[0]?.reason).toMatch(
      /selfread: .*(OSError|could not get source|FileNotFound)/,
    );
    expect(result.policy.skip).toEqual(["selfread"]);
    expect(result.manifest.generation).toBe(1);
    expect(result.manifest.slim?.policy).toMatchObject({ skip: ["selfread"] });
    const site = path.join(dir, "lib", "python3.10", "site-packages");
    const files = filesUnder(site);
    expect(files).toContain("selfread/__init__.py"); // unslimmed: source as in the wheel
    expect(files).toContain("demo/core.pyc"); // the others stay slimmed
    expect(files).not.toContain("demo/core.py");
    expect(files).not.toContain("other/tests/test_other.py");
  });

  it("a spec target of this machine's platform is checked with its installed interpreter", async () => {
    const dir = path.join(root, `env${n++}`);
    const result = await installSlim(
      {
        ...request(dir),
        selection: {
          kind: "spec",
          spec: { pythonVersion: "3.10", platform: "manylinux_2_17_x86_64" },
        },
      },
      { policy: slimPolicy({ preset: "edge" }) },
    );
    expect(result.manifest.target.source).toBe("spec");
    expect(result.checked).toBe(true);
    expect(result.unslimmed.map((u) => u.name)).toEqual(["selfread"]);
    expect(filesUnder(path.join(dir, "lib", "python3.10", "site-packages"))).toContain(
      "demo/core.pyc",
    );
  });

  it("a failure the package has unslimmed too is not slimming's: the package stays slimmed", async () => {
    const dir = path.join(root, `env${n++}`);
    const result = await installSlim(request(dir, fragileFiles), {
      policy: slimPolicy({ preset: "edge" }),
    });
    expect(result.checked).toBe(true);
    // fragile.gpu fails either way; mixed.reader only when slimmed.
    expect(result.preexisting.map((p) => [p.name, p.modules])).toEqual([
      ["fragile", ["fragile.gpu"]],
    ]);
    expect(result.unslimmed.map((u) => [u.name, u.modules])).toEqual([
      ["mixed", ["mixed.broken", "mixed.reader"]],
    ]);
    expect(result.policy.skip).toEqual(["mixed"]);
    const files = filesUnder(path.join(dir, "lib", "python3.10", "site-packages"));
    expect(files).toContain("fragile/__init__.pyc");
    expect(files).not.toContain("fragile/__init__.py");
    expect(files).toContain("mixed/reader.py");
    // --strict accepts the pre-existing failure and refuses the real one.
    const message = await strictFailure(fragileFiles);
    expect(message).toMatch(/for mixed \(/);
    expect(message).not.toMatch(/fragile/);
  });

  it("a package another package's slimming breaks: every package unslimmed, and the env works", async () => {
    const dir = path.join(root, `env${n++}`);
    const result = await installSlim(request(dir, crossFiles), {
      policy: slimPolicy({ preset: "edge" }),
    });
    // readslib fails slimmed (libsrc has no source under pyc-only), imports with everything
    // unslimmed, and still fails with only readslib unslimmed.
    expect(result.unslimmed.map((u) => u.name).sort()).toEqual(["demo", "libsrc", "readslib"]);
    expect(result.unslimmed.find((u) => u.name === "libsrc")?.reason).toMatch(
      /another package's slimming breaks it/,
    );
    const res = spawnSync(
      path.join(dir, "bin", "python"),
      ["-c", "import readslib; print(readslib.VALUE)"],
      {
        encoding: "utf8",
        env: request(dir).env,
      },
    );
    expect(res.stderr).toBe("");
    expect(res.stdout.trim()).toBe("42");
    expect(await strictFailure(crossFiles)).toMatch(/readslib/);
  });

  it("--strict fails instead, leaving the environment as it was", async () => {
    const dir = path.join(root, `env${n++}`);
    await installSlim(request(dir), { policy: slimPolicy({ preset: "none" }) });
    const before = snapshot(dir);
    let err: unknown;
    try {
      await installSlim(request(dir), { policy: slimPolicy({ preset: "edge" }), strict: true });
    } catch (e) {
      err = e;
    }
    expect(isSlimenvError(err) && err.code).toBe("SLIM_CHECK_FAILED");
    expect((err as Error).message).toMatch(/selfread/);
    // Only the metadata folder's own mtime moves (the candidate was made and removed there).
    const content = (lines: string[]) => lines.filter((l) => !l.startsWith(".slimenv d "));
    expect(content(snapshot(dir))).toEqual(content(before));
    expect(existsSync(path.join(dir, ".slimenv", "gen-2"))).toBe(false);
  });

  it("a pluggable check: nothing failing means nothing rebuilt", async () => {
    const dir = path.join(root, `env${n++}`);
    let calls = 0;
    const result = await installSlim(request(dir), {
      policy: slimPolicy({ preset: "edge", bytecode: "source" }),
      check: async ({ manifest }) => {
        calls++;
        expect(manifest.slim?.id).toMatch(/^slim1-/);
        return [];
      },
    });
    expect(calls).toBe(1);
    expect(result.unslimmed).toEqual([]);
    // Installing the same again with the same policy changes nothing (no rebuild, no check).
    const again = await installSlim(request(dir), {
      policy: slimPolicy({ preset: "edge", bytecode: "source" }),
      check: async () => {
        calls++;
        return [];
      },
    });
    expect(again.rebuilt).toBe(false);
    expect(calls).toBe(1);
  });

  it("the CLI: --slim PRESET says what it rebuilt; --strict exits 1; slim flags need --slim", async () => {
    const env = cliEnv(path.join(root, "home"), {
      PATH: `${path.dirname(PY310 as string)}:/usr/bin:/bin`,
    });
    const args = ["install", "--python", PY310 as string, "--no-deps", ...wheelFiles];
    const ok = await slimenv(root, env, ...args, "--prefix", "cli-env", "--slim", "edge");
    expect(ok.stderr).toMatch(/warning: selfread: import check failed after slimming/);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(
      /slim: edge \(bytecode smallest; strip debug; .*unslimmed selfread\), import check passed/,
    );
    expect(ok.stdout).toMatch(/selfread: rebuilt unslimmed, the import check failed when slimmed/);
    expect(ok.stdout).not.toMatch(/cached/);
    // The same set and policy in another env: the check's outcome comes from the cache.
    const again = await slimenv(root, env, ...args, "--prefix", "cli-env5", "--slim", "edge");
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/import check passed \(cached: checked before\)/);
    expect(again.stdout).toMatch(/selfread: rebuilt unslimmed/);
    expect(filesUnder(path.join(root, "cli-env5", "lib", "python3.10", "site-packages"))).toContain(
      "selfread/__init__.py",
    );
    const rechecked = await slimenv(
      root,
      env,
      ...args,
      "--prefix",
      "cli-env6",
      "--slim",
      "edge",
      "--recheck",
      "--json",
    );
    const slim = JSON.parse(rechecked.stdout).slim;
    expect(slim.checkCached).toBe(false);
    expect(slim.checkMs).toBeGreaterThan(0);
    expect(slim.unslimmed.map((u: { name: string }) => u.name)).toEqual(["selfread"]);
    const strict = await slimenv(
      root,
      env,
      ...args,
      "--prefix",
      "cli-env2",
      "--slim",
      "edge",
      "--strict",
    );
    expect(strict.status).toBe(1);
    expect(strict.stderr).toMatch(/SLIM_CHECK_FAILED|import check fails for selfread/);
    const bad = await slimenv(root, env, ...args, "--prefix", "cli-env3", "--bytecode", "pyc");
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--bytecode needs --slim PRESET/);
    const json = await slimenv(
      root,
      env,
      ...args,
      "--prefix",
      "cli-env4",
      "--slim",
      "none",
      "--json",
    );
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout).slim.policy.preset).toBe("none");
  });
});
