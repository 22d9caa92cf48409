/**
 * Which Node runs slimenv: bin/node-check.js's rules, bin/slimenv.js refusing an old Node with
 * one line (a fake process.versions, and the system's own old Node when there is one), and a
 * packed tarball that runs its bundle from any folder without node_modules.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { nodeIsSupported, nodeProblem } from "../../bin/node-check.js";
import { itWith } from "../helpers/prereq.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const BIN = path.join(ROOT, "bin/slimenv.js");
const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  // npm enables Node's compile cache in the temp folder (this file's own TMPDIR).
  rmSync(path.join(tmpdir(), "node-compile-cache"), { recursive: true, force: true });
});

function temp(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "slimenv-node-"));
  temps.push(dir);
  return dir;
}

describe("nodeIsSupported", () => {
  it.each([
    ["20.20.2", false],
    ["22.5.0", false],
    ["22.12.0", false],
    ["22.13.0", true],
    ["v22.13.0", true],
    ["22.22.1", true],
    ["23.3.0", false],
    ["23.4.0", true],
    ["24.0.0", true],
    ["26.1.0", true],
    ["garbage", false],
  ])("%s → %s", (version, ok) => {
    expect(nodeIsSupported(version)).toBe(ok);
  });
});

describe("nodeProblem", () => {
  const base = { typescript: "strip", fromSource: false, root: "/x/slimenv" } as const;

  it("names the version needed and the one running, on one line", () => {
    const line = nodeProblem({ ...base, node: "20.20.2" });
    expect(line).toMatch(/^slimenv needs Node\.js 22\.13 or newer .*this is Node\.js 20\.20\.2\./);
    expect(line).not.toContain("\n");
  });

  it("accepts a supported Node running the bundle, even without type stripping", () => {
    expect(nodeProblem({ ...base, node: "22.13.0", typescript: false })).toBeUndefined();
    expect(nodeProblem({ ...base, node: "24.21.0" })).toBeUndefined();
  });

  it("running the sources needs type stripping, and says how to do without", () => {
    const line = nodeProblem({
      node: "22.13.0",
      typescript: false,
      fromSource: true,
      root: "/x/slimenv",
    });
    expect(line).toContain("22.18 or newer");
    expect(line).toContain("this is Node.js 22.13.0");
    expect(line).toContain("`npm run build` in /x/slimenv");
    expect(line).not.toContain("\n");
    expect(nodeProblem({ ...base, node: "22.18.0", fromSource: true })).toBeUndefined();
  });
});

describe("silenceSqliteWarning", () => {
  it("drops node:sqlite's ExperimentalWarning and no other warning", () => {
    const code = `import { silenceSqliteWarning } from ${JSON.stringify(pathToFileURL(path.join(ROOT, "bin/node-check.js")).href)};
silenceSqliteWarning();
process.emitWarning("SQLite is an experimental feature and might change at any time", "ExperimentalWarning");
process.emitWarning("something else", "ExperimentalWarning");`;
    const res = spawnSync(process.execPath, ["--input-type=module", "-e", code], {
      encoding: "utf8",
    });
    expect(res.status).toBe(0);
    expect(res.stderr).not.toContain("SQLite");
    expect(res.stderr).toContain("ExperimentalWarning: something else");
  });
});

/** A preload that makes this Node claim another version, before bin/slimenv.js runs. */
function fakeVersion(version: string): string {
  const code = `Object.defineProperty(process.versions, "node", { value: ${JSON.stringify(version)} });`;
  return `data:text/javascript,${encodeURIComponent(code)}`;
}

describe("bin/slimenv.js on an old Node", () => {
  it("prints one line and exits 1 (a fake process.versions)", () => {
    const res = spawnSync(process.execPath, ["--import", fakeVersion("20.1.0"), BIN, "--version"], {
      encoding: "utf8",
      cwd: tmpdir(),
    });
    expect(res.stdout).toBe("");
    expect(res.stderr).toBe(
      "slimenv needs Node.js 22.13 or newer (23.4 or newer on the 23 line); this is Node.js 20.1.0. Install a newer Node.js (https://nodejs.org) and run slimenv again.\n",
    );
    expect(res.status).toBe(1);
  });

  const oldNode = systemNodes().find((n) => !nodeIsSupported(n.version));
  const oldNodeNeed = {
    what: "a Node.js older than 22.13 on PATH",
    ok: oldNode !== undefined,
    missing: "no Node.js older than 22.13 found on PATH: install Debian's nodejs (or any Node 20)",
  };
  itWith(oldNodeNeed)(`prints one line and exits 1 (a real Node ${oldNode?.version})`, () => {
    const res = spawnSync(oldNode?.path ?? "", [BIN, "python", "list"], {
      encoding: "utf8",
      cwd: tmpdir(),
    });
    expect(res.stdout).toBe("");
    expect(res.stderr).toBe(
      `slimenv needs Node.js 22.13 or newer (23.4 or newer on the 23 line); this is Node.js ${oldNode?.version}. Install a newer Node.js (https://nodejs.org) and run slimenv again.\n`,
    );
    expect(res.status).toBe(1);
  });
});

/** Every `node` on PATH other than this one, with its version. */
function systemNodes(): { path: string; version: string }[] {
  const found: { path: string; version: string }[] = [];
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const exe = path.join(dir, "node");
    if (!dir || !existsSync(exe) || exe === process.execPath) continue;
    const res = spawnSync(exe, ["-p", "process.versions.node"], { encoding: "utf8" });
    if (res.status === 0) found.push({ path: exe, version: res.stdout.trim() });
  }
  return found;
}

describe("npm pack", () => {
  it("makes a tarball whose bundle runs from any folder, without node_modules", () => {
    // Pack a copy, so the prepack build does not rewrite this checkout's dist/ under other tests.
    const work = temp();
    const copy = path.join(work, "slimenv");
    for (const entry of ["package.json", "README.md", "bin", "src", "scripts"]) {
      cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
    }
    symlinkSync(path.join(ROOT, "node_modules"), path.join(copy, "node_modules"));
    const out = path.join(work, "out");
    mkdirSync(out);
    execFileSync("npm", ["pack", "--pack-destination", out], {
      cwd: copy,
      encoding: "utf8",
      stdio: "pipe",
      env: {
        ...process.env,
        PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`,
      },
    });
    const [tarball] = readdirSync(out);
    expect(tarball).toMatch(/^slimenv-\d+\.\d+\.\d+\.tgz$/);
    const unpacked = path.join(work, "unpacked");
    mkdirSync(unpacked);
    execFileSync("tar", ["xzf", path.join(out, tarball ?? ""), "-C", unpacked]);
    // As an installed copy: under a node_modules folder, fresh mtimes on every file.
    const installed = path.join(work, "prefix/lib/node_modules/slimenv");
    cpSync(path.join(unpacked, "package"), installed, { recursive: true });
    expect(existsSync(path.join(installed, "dist/slimenv.js"))).toBe(true);
    expect(existsSync(path.join(installed, "node_modules"))).toBe(false);

    const env = { ...process.env, SLIMENV_FROM_SOURCE: "" };
    const res = spawnSync(process.execPath, [path.join(installed, "bin/slimenv.js"), "--version"], {
      encoding: "utf8",
      cwd: tmpdir(),
      env,
    });
    expect(res.stderr).toBe("");
    expect(res.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(res.status).toBe(0);

    // The bundle runs by itself too, and checks the Node before node:sqlite is loaded.
    const bundle = path.join(installed, "dist/slimenv.js");
    const direct = spawnSync(process.execPath, [bundle, "--version"], {
      encoding: "utf8",
      cwd: tmpdir(),
      env,
    });
    expect(direct.stderr).toBe("");
    expect(direct.stdout).toBe(res.stdout);
    expect(direct.status).toBe(0);
    const old = spawnSync(
      process.execPath,
      ["--import", fakeVersion("22.12.0"), bundle, "--version"],
      {
        encoding: "utf8",
        cwd: tmpdir(),
        env,
      },
    );
    expect(old.stdout).toBe("");
    expect(old.stderr).toMatch(
      /^slimenv needs Node\.js 22\.13 or newer .*this is Node\.js 22\.12\.0\. [^\n]*\n$/,
    );
    expect(old.status).toBe(1);

    // The store's unpacking worker thread is in the bundle, loads, and answers a job (here a
    // wheel that is not there: its failure comes back as data).
    const worker = path.join(installed, "dist/chunks/unpack-worker.js");
    const job = {
      wheel: path.join(work, "missing.whl"),
      what: "missing.whl",
      dir: work,
      objects: work,
      fsync: false,
      umask: 0o22,
      ...Object.fromEntries(
        ["names", "dataStarts", "compressedSizes", "sizes", "methods", "flags", "crcs"]
          .concat(["algorithms", "declared", "exec"])
          .map((k) => [k, []]),
      ),
    };
    const script = `import { Worker } from "node:worker_threads";
const w = new Worker(${JSON.stringify(worker)});
w.on("message", (m) => { console.log(JSON.stringify(m)); void w.terminate(); });
w.postMessage({ id: 7, job: ${JSON.stringify(job)} });`;
    const probe = path.join(work, "probe.mjs");
    writeFileSync(probe, script);
    const answer = spawnSync(process.execPath, [probe], {
      encoding: "utf8",
      cwd: tmpdir(),
      env,
    });
    expect(answer.stderr).toBe("");
    expect(JSON.parse(answer.stdout)).toMatchObject({
      id: 7,
      result: { failure: { code: "ENOENT" } },
    });
  });
});
