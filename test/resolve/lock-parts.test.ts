/**
 * The pieces of locking on their own: file selection and its messages, reading inputs
 * (URL and path lines, editables), settings precedence with requirements-file options,
 * export to requirements.txt, and lock comparison.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ErrorCode } from "../../src/base/index.ts";
import type { DistributionFile } from "../../src/index/project.ts";
import { classifyFilename } from "../../src/index/project.ts";
import { targetFromSpec } from "../../src/python/target-spec.ts";
import { exportRequirements } from "../../src/resolve/export.ts";
import { FileSelector, versionKey } from "../../src/resolve/file-selection.ts";
import { compareLocks } from "../../src/resolve/lock-check.ts";
import { type RequirementsFileOptions, readLockInputs } from "../../src/resolve/lock-inputs.ts";
import { lockSettings } from "../../src/resolve/lock-settings.ts";
import { environmentMarker } from "../../src/resolve/lock-target.ts";
import { resolveSettings } from "../../src/settings/load.ts";
import type { Pylock } from "../../src/standards/pylock-types.ts";
import { Version } from "../../src/standards/version.ts";
import { thrown } from "../helpers/errors.ts";

function expectSlimenvError(fn: () => unknown, code: ErrorCode, message?: RegExp): void {
  const err = thrown(fn);
  expect(err.code).toBe(code);
  if (message !== undefined) expect(err.message).toMatch(message);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "slimenv-lockparts-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(filename: string, more: Partial<DistributionFile> = {}): DistributionFile {
  const kind = classifyFilename(filename);
  if (kind === undefined) throw new Error(filename);
  return {
    filename,
    url: `https://files.example/${filename}`,
    hashes: { sha256: "ab".repeat(32) },
    index: "https://index.example/simple/",
    ...kind,
    ...more,
  } as DistributionFile;
}

const aarch64 = targetFromSpec({ pythonVersion: "3.11", platform: "manylinux_2_28_aarch64" });

describe("file selection", () => {
  it("ranks compatible wheels best first and keeps one sdist", () => {
    const sel = new FileSelector(aarch64);
    const [vf] = sel.select("x", [
      file("x-1.0-py3-none-any.whl"),
      file("x-1.0-cp311-cp311-manylinux_2_17_aarch64.whl"),
      file("x-1.0-cp311-abi3-manylinux_2_28_aarch64.whl"),
      file("x-1.0-cp311-cp311-manylinux_2_28_aarch64.whl"),
      file("x-1.0-cp311-cp311-manylinux_2_31_aarch64.whl"),
      file("x-1.0.zip"),
      file("x-1.0.tar.gz"),
    ]);
    expect(vf?.wheels.map((f) => f.filename)).toEqual([
      "x-1.0-cp311-cp311-manylinux_2_28_aarch64.whl",
      "x-1.0-cp311-cp311-manylinux_2_17_aarch64.whl",
      "x-1.0-cp311-abi3-manylinux_2_28_aarch64.whl",
      "x-1.0-py3-none-any.whl",
    ]);
    expect(vf?.sdist?.filename).toBe("x-1.0.tar.gz");
    expect(vf?.unavailableReason).toBeUndefined();
  });

  it("groups equal versions, leaves yanked files out unless all are yanked", () => {
    expect(versionKey(new Version("1.0"))).toBe(versionKey(new Version("1.0.0")));
    expect(versionKey(new Version("1.0a1"))).not.toBe(versionKey(new Version("1.0")));
    const sel = new FileSelector(aarch64);
    const groups = sel.select("x", [
      file("x-1.0-py3-none-any.whl", { yanked: "bad" }),
      file("x-1.0.0.tar.gz"),
      file("x-2.0-py3-none-any.whl", { yanked: true }),
    ]);
    expect(groups).toHaveLength(2);
    const one = groups.find((g) => g.version.toString().startsWith("1.0"));
    expect(one?.yanked).toBe(false);
    expect(one?.wheels).toEqual([]);
    expect(one?.sdist?.filename).toBe("x-1.0.0.tar.gz");
    const two = groups.find((g) => g.version.toString() === "2.0");
    expect(two?.yanked).toBe(true);
    expect(two?.wheels).toHaveLength(1);
  });

  it("says which wheels exist, deduplicated and cut short", () => {
    const sel = new FileSelector(aarch64, { onlyBinary: [":all:"] });
    const [vf] = sel.select("x", [
      file("x-1.0-cp312-cp312-macosx_11_0_arm64.whl"),
      file("x-1.0-1-cp312-cp312-macosx_11_0_arm64.whl"),
      file("x-1.0-cp312-cp312-win_amd64.whl"),
      file("x-1.0-cp313-cp313-win_amd64.whl"),
      file("x-1.0-cp311-cp311-musllinux_1_2_aarch64.whl"),
      file("x-1.0-cp310-cp310-manylinux_2_28_aarch64.whl"),
      file("x-1.0.tar.gz"),
    ]);
    expect(vf?.unavailableReason).toBe(
      "no wheel for cp311-manylinux_2_28_aarch64; wheels exist for: cp310-cp310-manylinux_2_28_aarch64, cp311-cp311-musllinux_1_2_aarch64, cp312-cp312-macosx_11_0_arm64, cp312-cp312-win_amd64, … (1 more) (the sdist is excluded by --only-binary)",
    );
  });

  it("format control by name: no-binary beats only-binary for the same name", () => {
    const sel = new FileSelector(aarch64, { onlyBinary: ["x"], noBinary: ["X"] });
    const [vf] = sel.select("x", [file("x-1.0-py3-none-any.whl"), file("x-1.0.tar.gz")]);
    expect(vf?.wheels).toEqual([]);
    expect(vf?.sdist?.filename).toBe("x-1.0.tar.gz");
  });
});

describe("reading inputs", () => {
  it("turns URL and path lines into direct requirements", () => {
    mkdirSync(path.join(dir, "w"), { recursive: true });
    writeFileSync(
      path.join(dir, "r.txt"),
      [
        "https://files.example/pkg/Some_Thing-1.0-py3-none-any.whl",
        "./w/other-2.0-py3-none-any.whl ; python_version >= '3'",
        `plain>=1 --hash=sha256:${"CD".repeat(32)}`,
        `plain --hash=sha256:${"ef".repeat(32)}`,
      ].join("\n"),
    );
    const inputs = readLockInputs({ requirementFiles: ["r.txt"], cwd: dir });
    expect(inputs.requirements.map(String)).toEqual([
      "some-thing @ https://files.example/pkg/Some_Thing-1.0-py3-none-any.whl",
      `other @ ${pathToFileURL(path.join(dir, "w/other-2.0-py3-none-any.whl")).href} ; python_version >= "3"`,
      "plain>=1",
      "plain",
    ]);
    expect(inputs.hashes.get("plain")).toEqual([
      `sha256:${"cd".repeat(32)}`,
      `sha256:${"ef".repeat(32)}`,
    ]);
  });

  it("editables, source trees and VCS URLs need a build", () => {
    for (const line of ["-e ./src", "./project-dir", "git+https://example.com/x.git#egg=x"]) {
      writeFileSync(path.join(dir, "b.txt"), `${line}\n`);
      expectSlimenvError(
        () => readLockInputs({ requirementFiles: ["b.txt"], cwd: dir }),
        "BUILD_REQUIRED",
      );
    }
  });

  it("--extra needs a pyproject.toml, and a bad requirement string is pointed at", () => {
    expectSlimenvError(
      () => readLockInputs({ requirements: ["x"], extras: ["a"], cwd: dir }),
      "INVALID_OPTION",
      /--extra and --group select parts of a pyproject\.toml/,
    );
    expectSlimenvError(
      () => readLockInputs({ requirements: ["x >= = 1"], cwd: dir }),
      "INVALID_REQUIREMENT",
    );
  });

  it("dynamic dependencies in pyproject.toml need a build", () => {
    writeFileSync(
      path.join(dir, "pyproject.toml"),
      '[project]\nname = "d"\nversion = "1"\ndynamic = ["dependencies"]\n',
    );
    expectSlimenvError(
      () => readLockInputs({ requirementFiles: ["pyproject.toml"], cwd: dir }),
      "BUILD_REQUIRED",
    );
  });
});

describe("settings with requirements-file options", () => {
  const file: RequirementsFileOptions & { indexUrl: string } = {
    indexUrl: "https://file.example/simple/",
    extraIndexUrls: ["https://extra.example/simple/"],
    findLinks: ["wheels"],
    noIndex: false,
    onlyBinary: [":all:"],
    noBinary: [],
    pre: true,
  };

  it("file options beat config files and defaults", () => {
    writeFileSync(
      path.join(dir, "slimenv.toml"),
      'index-url = "https://config.example/simple/"\nresolution = "lowest"\n',
    );
    const settings = resolveSettings({ env: {}, cwd: dir });
    const merged = lockSettings(settings, file, dir);
    expect(merged).toEqual({
      indexUrls: ["https://file.example/simple/", "https://extra.example/simple/"],
      findLinks: [path.join(dir, "wheels")],
      strategy: "first-index",
      onlyBinary: [":all:"],
      noBinary: [],
      prerelease: "allow",
      resolution: "lowest",
    });
  });

  it("flags and SLIMENV_* beat file options", () => {
    const settings = resolveSettings({
      flags: { "index-url": "https://flag.example/simple/", "only-binary": ["Foo_Bar"] },
      env: { SLIMENV_PRERELEASE: "disallow", SLIMENV_NO_CONFIG: "1" },
      cwd: dir,
    });
    const merged = lockSettings(settings, file, dir);
    expect(merged.indexUrls).toEqual([
      "https://flag.example/simple/",
      "https://extra.example/simple/",
    ]);
    expect(merged.onlyBinary).toEqual(["foo-bar"]);
    expect(merged.prerelease).toBe("disallow");
  });

  it("--no-index in a file drops every index unless a flag names one", () => {
    const settings = resolveSettings({ env: { SLIMENV_NO_CONFIG: "1" }, cwd: dir });
    expect(lockSettings(settings, { ...file, noIndex: true }, dir).indexUrls).toEqual([]);
    const { indexUrl: _unused, ...rest } = file;
    const none: RequirementsFileOptions = { ...rest, extraIndexUrls: [] };
    expect(lockSettings(settings, none, dir).indexUrls).toEqual(["https://pypi.org/simple/"]);
  });
});

const lockBase: Pylock = {
  lockVersion: "1.0",
  createdBy: "slimenv",
  packages: [
    {
      name: "b",
      version: "2.0",
      index: "https://pypi.org/simple/",
      wheels: [
        {
          name: "b-2.0-py3-none-any.whl",
          url: "https://f/b-2.0-py3-none-any.whl",
          hashes: { sha256: "22" },
        },
      ],
      sdist: { name: "b-2.0.tar.gz", url: "https://f/b-2.0.tar.gz", hashes: { sha256: "11" } },
    },
    {
      name: "a",
      version: "1.0",
      marker: 'sys_platform == "linux"',
      wheels: [
        {
          name: "a-1.0-py3-none-any.whl",
          path: "wheels/a-1.0-py3-none-any.whl",
          hashes: { sha256: "aa" },
        },
      ],
    },
    {
      name: "c",
      version: "3.0",
      archive: { url: "https://f/c-3.0-py3-none-any.whl", hashes: { sha256: "cc", md5: "00" } },
    },
  ],
};

describe("export", () => {
  it("writes every package with sorted hashes, direct archives as URLs", () => {
    const text = exportRequirements(lockBase, { lockDir: "/locks" });
    expect(text).toBe(
      [
        "# Generated by slimenv from pylock.toml; do not edit.",
        "# Install exactly this set with:",
        "#   pip install --no-deps --require-hashes -r <this file>",
        'a==1.0 ; sys_platform == "linux" \\',
        "    --hash=sha256:aa",
        "b==2.0 \\",
        "    --hash=sha256:11 \\",
        "    --hash=sha256:22",
        "c @ https://f/c-3.0-py3-none-any.whl \\",
        "    --hash=sha256:cc",
        "",
      ].join("\n"),
    );
    const withSources = exportRequirements(
      {
        ...lockBase,
        packages: [
          ...lockBase.packages,
          { ...lockBase.packages[1], name: "d", index: "https://private.example/simple/" } as never,
        ],
      },
      { lockDir: "/locks", emitIndexUrls: true },
    );
    expect(withSources).toContain(
      "--index-url https://pypi.org/simple/\n--extra-index-url https://private.example/simple/\n",
    );
    expect(withSources).toContain("--find-links /locks/wheels\n");
  });

  it("refuses what pip cannot pin by hash", () => {
    expectSlimenvError(
      () =>
        exportRequirements(
          {
            ...lockBase,
            packages: [{ name: "v", vcs: { type: "git", commitId: "abc", url: "https://g" } }],
          },
          { lockDir: "/" },
        ),
      "INVALID_PYLOCK",
      /cannot export v: a VCS package/,
    );
    expectSlimenvError(
      () =>
        exportRequirements(
          {
            ...lockBase,
            packages: [
              {
                name: "m",
                version: "1",
                wheels: [
                  { name: "m-1-py3-none-any.whl", url: "https://f/m", hashes: { md5: "00" } },
                ],
              },
            ],
          },
          { lockDir: "/" },
        ),
      "INVALID_PYLOCK",
      /no sha256, sha384 or sha512 hash/,
    );
  });
});

describe("lock comparison", () => {
  it("without a fingerprint, and with only the text differing", () => {
    const text = "x\n";
    const res = compareLocks(lockBase, text, lockBase, "y\n");
    expect(res.upToDate).toBe(false);
    expect(res.reasons).toEqual([
      "the lock has no [tool.slimenv] fingerprint: it was not written by slimenv lock",
    ]);
    const tool = { slimenv: { "inputs-sha256": "1", target: { "python-version": "3.11" } } };
    const same = { ...lockBase, tool };
    expect(compareLocks(same, "a\nb\n", same, "a\nc\n").reasons).toEqual([
      'the lock file differs from what slimenv writes now (line 2: "b" would now be "c")',
    ]);
    expect(compareLocks(same, "a\n", same, "a\n")).toEqual({ upToDate: true, reasons: [] });
  });

  it("packages added and removed, hashes changed", () => {
    const tool = { slimenv: { "inputs-sha256": "1" } };
    const before = { ...lockBase, tool };
    const b = lockBase.packages[0];
    const after = {
      ...lockBase,
      tool,
      packages: [
        { ...b, sdist: { ...b?.sdist, hashes: { sha256: "99" } } },
        { name: "z", version: "0.1" },
      ],
    } as Pylock;
    expect(compareLocks(before, "1", after, "2").reasons).toEqual([
      "package removed: a 1.0",
      "files of b 2.0 changed: b-2.0.tar.gz (hashes differ)",
      "package removed: c 3.0",
      "package added: z 0.1",
    ]);
  });
});

describe("environment marker", () => {
  it("describes macOS and Windows targets with their platform_machine", () => {
    const mac = { pythonVersion: "3.12.4", platform: "macosx_14_0_arm64" };
    expect(environmentMarker(targetFromSpec(mac), { kind: "spec", spec: mac })).toBe(
      'python_full_version == "3.12.4" and implementation_name == "cpython" and sys_platform == "darwin" and platform_machine == "arm64"',
    );
    const win = { pythonVersion: "3.13", platform: "win_amd64" };
    expect(environmentMarker(targetFromSpec(win), { kind: "spec", spec: win })).toBe(
      'python_version == "3.13" and implementation_name == "cpython" and sys_platform == "win32" and platform_machine == "AMD64"',
    );
  });
});
