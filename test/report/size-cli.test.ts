/**
 * `slimenv size` end to end: in-process (runCli) for the size command itself; the env it
 * measures is installed by bin/slimenv.js as a real process (the built bundle when fresh,
 * else the sources).
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { sizeReport } from "../../src/report/size.ts";
import { cliInProcess } from "../helpers/cli.ts";
import { itWith } from "../helpers/prereq.ts";
import { buildWheel } from "../helpers/wheels.ts";
import { cliEnv, TEST_PYTHON } from "../install/fixtures.ts";
import { du, tempDir, writeTree } from "./fixtures.ts";

const BIN = path.resolve(import.meta.dirname, "../../bin/slimenv.js");

function slimenv(...args: string[]) {
  return cliInProcess(args, { env: { ...process.env, NO_COLOR: "1", SLIMENV_NO_CONFIG: "1" } });
}

function slimenvWith(
  extra: NodeJS.ProcessEnv,
  ...args: string[]
): Promise<{ status: number; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    NO_COLOR: "1",
    SLIMENV_NO_CONFIG: "1",
    ...extra,
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env, encoding: "utf8", timeout: 60_000 },
      (error, stdout, stderr) => {
        const status = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ status, stdout, stderr });
      },
    );
  });
}

describe("slimenv size", () => {
  let root: string;
  beforeAll(() => {
    root = path.join(tempDir("cli"), "site-packages");
    writeTree(root, {
      "pkg/__init__.py": "X = 1\n".repeat(100),
      "pkg/__pycache__/__init__.cpython-311.pyc": "p".repeat(700),
      "pkg/tests/test_x.py": "def test(): pass\n",
      "pkg-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n",
      "pkg-1.0.dist-info/RECORD":
        "pkg/__init__.py,,\npkg/__pycache__/__init__.cpython-311.pyc,,\npkg/tests/test_x.py,,\npkg-1.0.dist-info/METADATA,,\npkg-1.0.dist-info/RECORD,,\n",
      "loose.txt": "nobody's\n",
    });
  });

  it("--json prints the SizeReport", async () => {
    const res = await slimenv("size", root, "--json");
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    const report = JSON.parse(res.stdout);
    expect(report).toEqual(sizeReport(root));
    expect(report).toMatchObject({ version: 1, layout: "site-packages", path: root });
    expect({ apparent: report.total.apparent, onDisk: report.total.onDisk }).toEqual(du(root));
    expect(report.distributions[0]).toMatchObject({ name: "pkg", version: "1.0" });
  });

  it("prints tables of distributions, kinds and savings", async () => {
    const res = await slimenv("size", root);
    expect(res.status).toBe(0);
    const lines = res.stdout.split("\n");
    expect(lines[0]).toMatch(
      /site-packages \(site-packages\): [\d.]+ KiB on disk, [\d.]+ KiB apparent, 6 files$/,
    );
    expect(res.stdout).toMatch(/^distribution +version +on disk +apparent +files +biggest kinds$/m);
    expect(res.stdout).toMatch(/^pkg +1\.0 +[\d.]+ KiB +[\d.]+ KiB +5 +\S/m);
    expect(res.stdout).toMatch(/^\(unowned\) +[\d.]+ KiB +[\d.]+ KiB +1 +/m);
    expect(res.stdout).toMatch(/^bytecode +[\d.]+ KiB/m);
    expect(res.stdout).toMatch(/^drop-tests +[\d.]+ KiB +[\d.]+% +remove test suites/m);
  });

  it("--html writes one page (and still prints the table)", async () => {
    const file = path.join(path.dirname(root), "size.html");
    const res = await slimenv("size", root, "--html", file);
    expect(res.status).toBe(0);
    expect(res.stderr).toContain(`wrote ${file}`);
    expect(readFileSync(file, "utf8")).toMatch(/<html/i);
    const bad = await slimenv("size", root, "--html", "/nonexistent/dir/x.html");
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("[IO_ERROR] cannot write /nonexistent/dir/x.html");
  });

  it("a missing path is IO_ERROR (exit 1), also as JSON", async () => {
    const res = await slimenv("size", "/nonexistent/slimenv-size");
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/^error: \[IO_ERROR\] cannot measure \/nonexistent\/slimenv-size/);
    const json = await slimenv("size", "/nonexistent/slimenv-size", "--json");
    expect(JSON.parse(json.stdout).error.code).toBe("IO_ERROR");
  });

  it("without a path it is a usage error (exit 2)", async () => {
    const res = await slimenv("size");
    expect(res.status).toBe(2);
    expect(res.stderr).toContain("missing required argument 'path'");
  });

  itWith(TEST_PYTHON)(
    "measures a slimenv prefix env (hardlinked from the store) as du does",
    async () => {
      const base = tempDir("env");
      // Two distributions whose empty __init__.py files are one store object, hardlinked twice.
      const wheels = [
        buildWheel({
          name: "one",
          version: "1.0",
          files: { "one/__init__.py": "", "one/core.py": "X = 1\n".repeat(500) },
          entryPoints: "[console_scripts]\none-tool = one.core:main\n",
        }),
        buildWheel({ name: "two", version: "2.0", files: { "two/__init__.py": "" } }),
      ];
      const paths = wheels.map((w) => {
        const p = path.join(base, w.filename);
        writeFileSync(p, w.bytes);
        return p;
      });
      const env = cliEnv(path.join(base, "home"));
      const prefix = path.join(base, "prefix");
      const install = await slimenvWith(
        env,
        "install",
        ...paths,
        "--prefix",
        prefix,
        "--link-mode",
        "hardlink",
        "--python",
        TEST_PYTHON.exe as string,
        "--offline",
      );
      expect(install.stderr).not.toContain("error");
      expect(install.status).toBe(0);
      const res = await slimenvWith(env, "size", prefix, "--json");
      expect(res.status).toBe(0);
      const report = JSON.parse(res.stdout);
      expect(report.layout).toBe("env");
      expect({ apparent: report.total.apparent, onDisk: report.total.onDisk }).toEqual(du(prefix));
      const names = report.distributions.map((d: { name: string }) => d.name).sort();
      expect(names).toEqual(["one", "two"]);
      const one = report.distributions.find((d: { name: string }) => d.name === "one");
      // one/__init__.py, one/core.py, the console script (../../../bin/one-tool) and the
      // dist-info files are one's; two's empty __init__.py is the same inode as one's.
      expect(one.byKind.source.files).toBe(2);
      expect(one.byKind.data.files).toBe(1);
      const two = report.distributions.find((d: { name: string }) => d.name === "two");
      expect(two.byKind.source.files).toBe(0);
    },
  );
});
