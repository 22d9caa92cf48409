import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fastPathAnswer, fastPathStart, manifestFacts } from "../../src/cli/fast-path.ts";
import { fastPathRecord } from "../../src/cli/fast-path-record.ts";
import { tempDir } from "../helpers/tmp.ts";

let root: string;
let env: NodeJS.ProcessEnv;
let cwd: string;
let dir: string;

function manifest(extra: Record<string, unknown> = {}): void {
  mkdirSync(path.join(dir, ".slimenv"), { recursive: true });
  writeFileSync(
    path.join(dir, ".slimenv", "manifest.json"),
    JSON.stringify({ version: 1, packages: [{ name: "a" }, { name: "b" }], ...extra }),
  );
}

const argv = () => ["install", "-r", "req.txt", "--prefix", "env", "--link-mode", "hardlink"];

/** Record a run, then ask again: answered or not. */
function again(args = argv()): boolean {
  return fastPathAnswer(fastPathStart(args, env, cwd), env);
}

beforeEach(() => {
  root = tempDir("slimenv-fast-");
  cwd = path.join(root, "project");
  dir = path.join(cwd, "env");
  mkdirSync(cwd, { recursive: true });
  env = { SLIMENV_HOME: path.join(root, "home"), HOME: root, PATH: "/usr/bin" };
  writeFileSync(path.join(cwd, "req.txt"), "requests\nrich\n");
  manifest();
  vi.spyOn(process.stdout, "write").mockImplementation(() => true);
});
afterEach(() => vi.restoreAllMocks());

describe("the no-op fast path", () => {
  it("answers a repeated install with the no-op line, and nothing before a run was recorded", () => {
    expect(again()).toBe(false);
    fastPathRecord(fastPathStart(argv(), env, cwd), env);
    expect(again()).toBe(true);
    expect(process.stdout.write).toHaveBeenCalledWith(
      "env already holds these 2 packages; nothing changed\n",
    );
  });

  it("prints nothing under -q (the no-op line is a summary), and never answers --reinstall", () => {
    const quiet = ["-q", ...argv()];
    fastPathRecord(fastPathStart(quiet, env, cwd), env);
    expect(again(quiet)).toBe(true);
    expect(process.stdout.write).not.toHaveBeenCalled();
    expect(fastPathStart([...argv(), "--reinstall"], env, cwd)).toBeUndefined();
  });

  it("notices a changed requirements file, argument, variable, config file or manifest", () => {
    const record = () => fastPathRecord(fastPathStart(argv(), env, cwd), env);
    record();
    writeFileSync(path.join(cwd, "req.txt"), "requests\nrich<99\n");
    expect(again()).toBe(false);
    record();
    expect(again([...argv(), "--isolated"])).toBe(false);
    env.SLIMENV_INDEX_URL = "https://example.org/simple/";
    expect(again()).toBe(false);
    record();
    writeFileSync(path.join(cwd, "slimenv.toml"), 'index-url = "https://x.org/simple/"\n');
    expect(again()).toBe(false);
    record();
    manifest({ generation: 2 });
    expect(again()).toBe(false);
    record();
    expect(again()).toBe(true);
  });

  it("notices an interpreter changed in place", () => {
    const python = path.join(root, "python3");
    writeFileSync(python, "#!/bin/sh\n");
    manifest({ interpreter: python });
    fastPathRecord(fastPathStart(argv(), env, cwd), env);
    expect(again()).toBe(true);
    writeFileSync(python, "#!/bin/sh\n# upgraded\n");
    expect(again()).toBe(false);
  });

  it("is never taken for --json, --slim, a nested requirements file or SLIMENV_NO_FAST_PATH", () => {
    expect(fastPathStart([...argv(), "--json"], env, cwd)).toBeUndefined();
    expect(fastPathStart(["--json", ...argv()], env, cwd)).toBeUndefined();
    expect(fastPathStart([...argv(), "--slim", "edge"], env, cwd)).toBeUndefined();
    expect(fastPathStart(["lock", "-r", "req.txt"], env, cwd)).toBeUndefined();
    writeFileSync(path.join(cwd, "req.txt"), "-r other.txt\n");
    expect(fastPathStart(argv(), env, cwd)).toBeUndefined();
    writeFileSync(path.join(cwd, "req.txt"), "requests\n");
    expect(fastPathStart(argv(), { ...env, SLIMENV_NO_FAST_PATH: "1" }, cwd)).toBeUndefined();
  });

  it("answers a repeated sync while the lock is the same", () => {
    writeFileSync(path.join(cwd, "pylock.toml"), 'lock-version = "1.0"\n');
    const args = ["sync", "env", "pylock.toml"];
    fastPathRecord(fastPathStart(args, env, cwd), env);
    expect(again(args)).toBe(true);
    expect(process.stdout.write).toHaveBeenCalledWith(
      "env already matches pylock.toml; nothing changed\n",
    );
    writeFileSync(path.join(cwd, "pylock.toml"), 'lock-version = "1.0"\n# changed\n');
    expect(again(args)).toBe(false);
  });

  it("answers the first sync after an install from the same lock, from the manifest", () => {
    const lock = 'lock-version = "1.0"\n';
    writeFileSync(path.join(cwd, "pylock.toml"), lock);
    const python = path.join(root, "python3");
    writeFileSync(python, "#!/bin/sh\n");
    const past = new Date(Date.now() - 60_000);
    utimesSync(python, past, past);
    const until = Date.now() + 20;
    while (Date.now() < until) {
      // the env is built after the interpreter last changed (its ctime)
    }
    const sha = createHash("sha256").update(lock).digest("hex");
    manifest({ interpreter: python, lock: { sha256: sha } });
    const args = ["sync", "env", "pylock.toml"];
    expect(again(args)).toBe(true);
    writeFileSync(path.join(cwd, "pylock.toml"), `${lock}# changed\n`);
    expect(again(args)).toBe(false);
    writeFileSync(path.join(cwd, "pylock.toml"), lock);
    expect(again(args)).toBe(true);
    const later = new Date(Date.now() + 60_000);
    utimesSync(python, later, later); // the interpreter changed after the env was built
    expect(again(args)).toBe(false);
  });

  it("takes the manifest's lock and interpreter from the last run's record while the manifest is that run's", () => {
    const sha = "c".repeat(64);
    manifest({ interpreter: "/usr/bin/python3", lock: { sha256: sha } });
    expect(() => manifestFacts(path.join(root, "nowhere"), env)).toThrow();
    expect(manifestFacts(dir, env)).toEqual({
      interpreter: "/usr/bin/python3",
      lockSha256: sha,
      from: "manifest",
    });
    fastPathRecord(fastPathStart(argv(), env, cwd), env);
    expect(manifestFacts(dir, env)).toEqual({
      interpreter: "/usr/bin/python3",
      lockSha256: sha,
      from: "record",
    });
    // A rebuild (by anyone) writes a new manifest: the record no longer speaks for it.
    const other = "d".repeat(64);
    const until = Date.now() + 20;
    while (Date.now() < until) {
      // a new mtime for the new manifest
    }
    manifest({ lock: { sha256: other } });
    expect(manifestFacts(dir, env)).toEqual({
      interpreter: undefined,
      lockSha256: other,
      from: "manifest",
    });
  });
});

describe("the fast path's start-up", () => {
  it("loads no node:crypto: the bundle's entry imports it before anything else", () => {
    // node:crypto costs a few ms of every run to load; the answer hashes nothing, and the
    // record (which writes through a random temp name) lives in fast-path-record.ts
    const file = path.resolve(import.meta.dirname, "../../src/cli/fast-path.ts");
    const r = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `await import(${JSON.stringify(file)}); console.log(JSON.stringify(process.moduleLoadList))`,
      ],
      { encoding: "utf8" },
    );
    expect(r.status, r.stderr).toBe(0);
    const loaded = JSON.parse(r.stdout) as string[];
    expect(loaded.some((m) => m.includes("node:path") || m.endsWith(" path"))).toBe(true);
    expect(loaded.filter((m) => m.includes("crypto"))).toEqual([]);
  });
});
