/**
 * A user installs slimenv once and runs it from any folder (run by `npm run test:e2e`, not by
 * `npm test`: `npm install -g` fetches the runtime dependencies from the npm registry).
 * `npm pack` (its prepack script builds dist/), `npm install -g TARBALL --prefix DIR`, then
 * `DIR/bin/slimenv` from another folder: with this Node it runs; with a Node older than
 * 22.13 found on PATH it prints the one line naming the version needed, and exits 1.
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
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { nodeIsSupported } from "../../bin/node-check.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const work = mkdtempSync(path.join(os.tmpdir(), "slimenv-e2e-global-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** PATH with this Node's folder first: npm, its scripts and the installed bin use it. */
const PATH_NODE_FIRST = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`;

function oldNode(): { exe: string; version: string } | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const exe = path.join(dir, "node");
    if (!dir || !existsSync(exe)) continue;
    const res = spawnSync(exe, ["-p", "process.versions.node"], { encoding: "utf8" });
    const version = res.stdout?.trim();
    if (res.status === 0 && version && !nodeIsSupported(version)) return { exe, version };
  }
  return undefined;
}

describe("npm install -g from a packed tarball", () => {
  const prefix = path.join(work, "prefix");
  const bin = path.join(prefix, "bin", "slimenv");

  it("installs, and `slimenv --version` runs from another folder", () => {
    const copy = path.join(work, "slimenv");
    for (const entry of [
      "package.json",
      "package-lock.json",
      "README.md",
      "bin",
      "src",
      "scripts",
    ]) {
      cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
    }
    symlinkSync(path.join(ROOT, "node_modules"), path.join(copy, "node_modules"));
    const out = path.join(work, "out");
    mkdirSync(out);
    const env = { ...process.env, PATH: PATH_NODE_FIRST };
    execFileSync("npm", ["pack", "--pack-destination", out], { cwd: copy, env, stdio: "pipe" });
    const [tarball] = readdirSync(out);
    execFileSync(
      "npm",
      [
        "install",
        "-g",
        path.join(out, tarball ?? ""),
        "--prefix",
        prefix,
        "--no-audit",
        "--no-fund",
      ],
      { cwd: work, env, stdio: "pipe", timeout: 300_000 },
    );
    const res = spawnSync(bin, ["--version"], { cwd: os.tmpdir(), env, encoding: "utf8" });
    expect(res.stderr).toBe("");
    expect(res.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(res.status).toBe(0);
    const probe = spawnSync(
      bin,
      [
        "python",
        "probe",
        "--python-version",
        "3.12",
        "--platform",
        "manylinux_2_28_x86_64",
        "--tags",
      ],
      {
        cwd: os.tmpdir(),
        env,
        encoding: "utf8",
      },
    );
    expect(probe.status).toBe(0);
    expect(probe.stdout.split("\n")).toContain("cp312-cp312-manylinux_2_28_x86_64");
  });

  const old = oldNode();
  it.skipIf(old === undefined)(
    `with Node ${old?.version}: one line naming the Node needed, exit 1`,
    () => {
      const env = {
        ...process.env,
        PATH: `${path.dirname(old?.exe ?? "")}${path.delimiter}${process.env.PATH}`,
      };
      const res = spawnSync(bin, ["--version"], { cwd: os.tmpdir(), env, encoding: "utf8" });
      expect(res.stdout).toBe("");
      expect(res.stderr).toBe(
        `slimenv needs Node.js 22.13 or newer (23.4 or newer on the 23 line); this is Node.js ${old?.version}. Install a newer Node.js (https://nodejs.org) and run slimenv again.\n`,
      );
      expect(res.status).toBe(1);
    },
  );
});
