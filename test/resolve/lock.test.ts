/**
 * `lock` against the in-process index: what goes in the lock for a spec target
 * (manylinux_2_28_aarch64) and the files it picks, byte-identical re-locks, binary options,
 * yanked releases, sdists, direct URLs, credentials.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Target } from "../../src/python/target.ts";
import { targetFromSpec } from "../../src/python/target-spec.ts";
import { type LockOptions, lock } from "../../src/resolve/lock.ts";
import { type LockInputs, readLockInputs } from "../../src/resolve/lock-inputs.ts";
import type { LockSettings } from "../../src/resolve/lock-settings.ts";
import type { LockTargetInfo } from "../../src/resolve/lock-target.ts";
import { readPylock } from "../../src/standards/pylock-read.ts";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import { buildWheel } from "../helpers/wheels.ts";
import { rejection } from "../index/index-fixtures.ts";
import { entry, testClient, UPLOAD_TIME, type World, world } from "./lock-fixtures.ts";

const SPEC = { pythonVersion: "3.11", platform: "manylinux_2_28_aarch64" };
const target: Target = targetFromSpec(SPEC);
const info: LockTargetInfo = { kind: "spec", spec: SPEC };

let w: World;
let server: IndexServer;
let authServer: IndexServer;
let dir: string;
const client = testClient();

beforeAll(async () => {
  w = world();
  server = await startIndexServer({ projects: w.projects });
  authServer = await startIndexServer({
    projects: w.projects,
    auth: { user: "alice", password: "s3cr3t-token" },
  });
  dir = mkdtempSync(path.join(os.tmpdir(), "slimenv-lock-"));
});
afterAll(async () => {
  await client.close();
  await server.close();
  await authServer.close();
  rmSync(dir, { recursive: true, force: true });
});

function settings(more: Partial<LockSettings> = {}): LockSettings {
  return {
    indexUrls: [server.url],
    findLinks: [],
    strategy: "first-index",
    onlyBinary: [],
    noBinary: [],
    prerelease: "if-necessary-or-explicit",
    resolution: "highest",
    ...more,
  };
}

function names(...requirements: string[]): LockInputs {
  return readLockInputs({ requirements, cwd: dir });
}

function run(inputs: LockInputs, more: Partial<LockOptions> = {}) {
  return lock(inputs, {
    target,
    targetInfo: info,
    settings: settings(),
    client,
    lockDir: dir,
    ...more,
  });
}

describe("lock for a spec target", () => {
  it("locks the target's wheels, the sdists, and describes the target", async () => {
    const { pylock, text } = await run(names("app"));
    expect(pylock.packages.map((p) => `${p.name} ${p.version}`)).toEqual([
      "app 1.0",
      "lib 1.1",
      "plat 1.0",
    ]);
    expect(pylock.environments).toEqual([
      'python_version == "3.11" and implementation_name == "cpython" and sys_platform == "linux" and platform_machine == "aarch64"',
    ]);
    expect(pylock.requiresPython).toBe("==3.11.*");
    expect(pylock.createdBy).toBe("slimenv");
    expect(pylock.lockVersion).toBe("1.0");
    const plat = pylock.packages.find((p) => p.name === "plat");
    expect(plat?.wheels?.map((x) => x.name)).toEqual([
      "plat-1.0-cp311-cp311-manylinux_2_28_aarch64.whl",
    ]);
    const wheel = w.wheels.get("plat-1.0-cp311-cp311-manylinux_2_28_aarch64.whl");
    expect(plat?.wheels?.[0]).toEqual({
      name: "plat-1.0-cp311-cp311-manylinux_2_28_aarch64.whl",
      uploadTime: UPLOAD_TIME,
      url: `${server.filesUrl}plat-1.0-cp311-cp311-manylinux_2_28_aarch64.whl`,
      size: wheel?.bytes.length,
      hashes: { sha256: wheel?.sha256 },
    });
    expect(plat?.sdist?.name).toBe("plat-1.0.tar.gz");
    expect(plat?.index).toBe(server.url);
    const app = pylock.packages.find((p) => p.name === "app");
    expect(app?.dependencies).toEqual([{ name: "lib" }, { name: "plat" }]);
    const tool = pylock.tool?.slimenv as Record<string, unknown>;
    expect(tool["inputs-sha256"]).toMatch(/^[0-9a-f]{64}$/);
    expect(tool.target).toEqual({
      source: "spec",
      implementation: "cp",
      "python-version": "3.11",
      platform: "manylinux_2_28_aarch64",
      abi: "cp311",
      libc: "glibc 2.28",
    });
    // What is written reads back as the same lock.
    expect(readPylock(text)).toEqual(pylock);
    expect(text).toContain("upload-time = 2024-03-04T05:06:07.000000Z");
  });

  it("pins the full Python version when the spec names it", async () => {
    const spec = { pythonVersion: "3.11.7", platform: "manylinux_2_28_aarch64" };
    const { pylock } = await run(names("lib"), {
      target: targetFromSpec(spec),
      targetInfo: { kind: "spec", spec },
    });
    expect(pylock.requiresPython).toBe("==3.11.7");
    expect(pylock.environments?.[0]).toMatch(/^python_full_version == "3\.11\.7" and /);
  });

  it("re-locking with nothing changed gives byte-identical text", async () => {
    const first = await run(names("app", "extra-user"));
    const second = await run(names("extra-user", "app"), { previous: first.pylock });
    const third = await run(names("app", "extra-user"));
    expect(second.text).toBe(first.text);
    expect(third.text).toBe(first.text);
    expect(second.fingerprint).toBe(first.fingerprint);
  });

  it("the fingerprint changes with the inputs and options", async () => {
    const base = await run(names("app"));
    const other = await run(names("app", "lib<2"));
    const strategy = await run(names("app"), { settings: settings({ resolution: "lowest" }) });
    expect(other.fingerprint).not.toBe(base.fingerprint);
    expect(strategy.fingerprint).not.toBe(base.fingerprint);
    expect(strategy.pylock.packages.find((p) => p.name === "lib")?.version).toBe("1.0");
  });

  it("an extra pulls in its dependencies", async () => {
    const { pylock } = await run(names("extra-user"));
    expect(pylock.packages.map((p) => p.name)).toEqual(["extra-user", "lib", "plat"]);
    expect(pylock.packages.find((p) => p.name === "lib")?.dependencies).toEqual([{ name: "plat" }]);
  });
});

describe("binary options", () => {
  it("only-binary :all: leaves sdists out of the lock", async () => {
    const { pylock } = await run(names("app"), { settings: settings({ onlyBinary: [":all:"] }) });
    for (const p of pylock.packages) expect(p.sdist).toBeUndefined();
  });

  it("only-binary makes an sdist-only package fail with the tags message", async () => {
    const err = await rejection(
      run(names("sdist22"), { settings: settings({ onlyBinary: ["sdist22"] }) }),
    );
    expect(err.code).toBe("NO_SOLUTION");
    expect(err.detail).toContain(
      "no wheel for cp311-manylinux_2_28_aarch64, only an sdist, and --only-binary applies to sdist22",
    );
  });

  it("a package with wheels for other platforms only says which exist", async () => {
    const err = await rejection(run(names("maconly")));
    expect(err.code).toBe("NO_SOLUTION");
    expect(err.detail).toContain(
      "no wheel for cp311-manylinux_2_28_aarch64; wheels exist for: cp311-cp311-macosx_11_0_arm64, cp312-cp312-macosx_11_0_arm64",
    );
  });

  it("no-binary keeps only the sdist (dependencies still read from a wheel)", async () => {
    const { pylock } = await run(names("app"), { settings: settings({ noBinary: ["plat"] }) });
    const plat = pylock.packages.find((p) => p.name === "plat");
    expect(plat?.wheels).toBeUndefined();
    expect(plat?.sdist?.name).toBe("plat-1.0.tar.gz");
  });

  it("no-binary on a package without an sdist fails", async () => {
    const err = await rejection(run(names("app"), { settings: settings({ noBinary: [":all:"] }) }));
    expect(err.code).toBe("NO_SOLUTION");
    expect(err.detail).toContain("no sdist, and --no-binary applies to app");
  });
});

describe("yanked, requires-python, sdists", () => {
  it("a yanked version is skipped unless pinned with ==", async () => {
    const free = await run(names("lib"));
    expect(free.pylock.packages[0]?.version).toBe("1.1");
    const pinned = await run(names("lib==2.0"));
    expect(pinned.pylock.packages[0]?.version).toBe("2.0");
    expect(pinned.pylock.packages[0]?.wheels?.[0]?.name).toBe("lib-2.0-py3-none-any.whl");
  });

  it("requires-python of the index rules a version out", async () => {
    const err = await rejection(run(names("newpy")));
    expect(err.code).toBe("NO_SOLUTION");
    expect(err.detail).toContain("requires Python >=3.12");
  });

  it("an sdist with static Metadata-Version 2.2 is locked as an sdist", async () => {
    const { pylock } = await run(names("sdist22"));
    const p = pylock.packages.find((x) => x.name === "sdist22");
    expect(p?.sdist?.name).toBe("sdist22-1.0.tar.gz");
    expect(p?.wheels).toBeUndefined();
    expect(pylock.packages.find((x) => x.name === "lib")?.version).toBe("1.0");
  });

  it("an sdist with older metadata says building comes later", async () => {
    const err = await rejection(run(names("sdistonly")));
    expect(err.code).toBe("BUILD_REQUIRED");
    expect(err.message).toContain("sdistonly 1.0");
    expect(err.message).toContain("Metadata-Version 2.1");
    expect(err.hint).toContain("building sdists comes in a later slimenv");
  });

  it("a project requires-python that excludes the target is an error", async () => {
    const inputs = names("lib");
    const file = path.join(dir, "pyproject.toml");
    writeFileSync(file, '[project]\nname = "me"\nversion = "1"\nrequires-python = ">=3.12"\n');
    const withPy = readLockInputs({ requirementFiles: ["pyproject.toml"], cwd: dir });
    expect(withPy.requiresPython?.toString()).toBe(">=3.12");
    const err = await rejection(run({ ...inputs, requiresPython: withPy.requiresPython }));
    expect(err.code).toBe("INVALID_TARGET");
    expect(err.message).toBe("the project requires Python >=3.12, and the target is Python 3.11.0");
  });
});

describe("unreadable metadata", () => {
  it("a version with an unreadable Requires-Dist cannot be used, and the explanation says so", async () => {
    const err = await rejection(run(names("legacy")));
    expect(err.code).toBe("NO_SOLUTION");
    expect(err.detail).toBe(
      `Because every version of legacy is unavailable (its metadata cannot be read: unreadable Requires-Dist "lib>=1.0,<1.1',") and you require legacy, no solution exists.`,
    );
    expect(err.hint).toBe(
      `versions with unreadable metadata were left out: legacy 0.1: unreadable Requires-Dist "lib>=1.0,<1.1',"`,
    );
  });

  it("a version only a build could tell is left out, and named when the resolution fails", async () => {
    const err = await rejection(run(names("mixed")));
    expect(err.code).toBe("BUILD_REQUIRED");
    expect(err.message).toMatch(
      /^the dependencies of mixed 1\.0 are known only by building its sdist mixed-1\.0\.tar\.gz/,
    );
    expect(err.detail).toContain("mixed==2.0 depends on lib>=5");
    expect(err.detail).toContain(
      "mixed==1.0 is unavailable (only a build of its sdist would tell its dependencies: its PKG-INFO is Metadata-Version 2.1, older than 2.2)",
    );
    expect(err.hint).toContain("building sdists comes in a later slimenv");
  });
});

describe("direct URLs", () => {
  it("locks a wheel URL as an archive with its hash and size", async () => {
    const url = `${server.filesUrl}lib-1.0-py3-none-any.whl`;
    const { pylock } = await run(names(`lib @ ${url}`));
    const lib = pylock.packages.find((p) => p.name === "lib");
    const wheel = w.wheels.get("lib-1.0-py3-none-any.whl");
    expect(lib?.version).toBe("1.0");
    expect(lib?.archive).toEqual({
      url,
      size: wheel?.bytes.length,
      hashes: { sha256: wheel?.sha256 },
    });
    expect(lib?.index).toBeUndefined();
  });

  it("locks a local wheel as a path relative to the lock", async () => {
    const wheel = w.wheels.get("lib-1.1-py3-none-any.whl");
    if (wheel === undefined) throw new Error("fixture");
    const local = path.join(dir, "local", wheel.filename);
    rmSync(path.dirname(local), { recursive: true, force: true });
    await import("node:fs/promises").then((fs) =>
      fs.mkdir(path.dirname(local), { recursive: true }),
    );
    writeFileSync(local, wheel.bytes);
    const { pylock } = await run(names(`lib @ ${pathToFileURL(local).href}`));
    expect(pylock.packages[0]?.archive).toEqual({
      path: `local/${wheel.filename}`,
      size: wheel.bytes.length,
      hashes: { sha256: wheel.sha256 },
    });
  });

  it("a wrong #sha256 fragment is a hash mismatch", async () => {
    const url = `${server.filesUrl}lib-1.0-py3-none-any.whl#sha256=${"0".repeat(64)}`;
    const err = await rejection(run(names(`lib @ ${url}`)));
    expect(err.code).toBe("HASH_MISMATCH");
  });

  it("a wheel URL for another platform does not fit", async () => {
    const url = `${server.filesUrl}plat-1.0-cp312-cp312-macosx_11_0_arm64.whl`;
    const err = await rejection(run(names(`plat @ ${url}`)));
    expect(err.code).toBe("NO_SOLUTION");
    expect(err.message).toContain("does not fit the target cp311-manylinux_2_28_aarch64");
  });
});

describe("several indexes", () => {
  it("first-index takes a name from the first index that has it; unsafe-best-match merges", async () => {
    const own = await startIndexServer({
      projects: { lib: [entry(buildWheel({ name: "lib", version: "0.5" }))] },
    });
    try {
      const indexUrls = [own.url, server.url];
      const first = await run(names("lib"), { settings: settings({ indexUrls }) });
      expect(first.pylock.packages[0]).toMatchObject({ version: "0.5", index: own.url });
      const merged = await run(names("lib"), {
        settings: settings({ indexUrls, strategy: "unsafe-best-match" }),
      });
      expect(merged.pylock.packages[0]).toMatchObject({ version: "1.1", index: server.url });
      expect(merged.fingerprint).not.toBe(first.fingerprint);
    } finally {
      await own.close();
    }
  });
});

describe("credentials", () => {
  it("never reach the lock", async () => {
    const { text } = await run(names("app"), {
      settings: settings({ indexUrls: [authServer.urlWithAuth] }),
    });
    expect(authServer.urlWithAuth).toContain("s3cr3t-token");
    expect(text).not.toContain("s3cr3t-token");
    expect(text).not.toContain("alice");
    expect(text).toContain(`index = '${authServer.url}'`);
  });

  it("nor error messages", async () => {
    const err = await rejection(
      run(names("maconly"), { settings: settings({ indexUrls: [authServer.urlWithAuth] }) }),
    );
    const all = [err.message, err.detail ?? "", err.hint ?? ""].join("\n");
    expect(all).not.toContain("s3cr3t-token");
  });
});
