/**
 * Targets built from a spec alone: spot-checked against packaging's own functions given the
 * same facts (glibc/musl patched in, mac_platforms with explicit arguments), markers as a
 * real CPython on that platform reports them, and every bad spec a clear INVALID_TARGET.
 */
import { describe, expect, it } from "vitest";
import { isSlimenvError } from "../../src/base/index.ts";
import type { TargetSpec } from "../../src/python/target-spec.ts";
import { parsePythonVersionSpec, targetFromSpec } from "../../src/python/target-spec.ts";
import { defaultPackagingPython, runPythonJson } from "../helpers/packaging.ts";

const SCRIPT = `
import json, sys
from packaging import tags, _manylinux, _musllinux
out = []
for c in json.load(sys.stdin):
    kind = c["kind"]
    archs = c.get("archs", [])
    if kind == "manylinux":
        glibc = tuple(c["glibc"])
        _manylinux._get_glibc_version = lambda glibc=glibc: glibc
        _manylinux._have_compatible_abi = lambda executable, archs: True
        plats = ["linux_" + a for a in archs] + list(_manylinux.platform_tags(archs))
    elif kind == "musllinux":
        musl = _musllinux._MuslVersion(*c["musl"])
        _musllinux._get_musl_version = lambda executable, musl=musl: musl
        plats = ["linux_" + a for a in archs] + list(_musllinux.platform_tags(archs))
    elif kind == "mac":
        plats = list(tags.mac_platforms(tuple(c["version"]), c["arch"]))
    else:
        plats = list(c["platforms"])
    py = tuple(c["python"])
    # list(): a list up to packaging 26.3, a generator (used up by cpython_tags) from 26.4
    abis = list(c.get("abis") or tags._cpython_abis(py))
    got = list(tags.cpython_tags(py, abis, plats))
    got += list(tags.compatible_tags(py, "cp%d%d" % py, plats))
    out.append({"abis": list(abis), "platforms": plats, "tags": [str(t) for t in got]})
print(json.dumps(out))
`;

interface Case {
  spec: TargetSpec;
  packaging: Record<string, unknown>;
  markers: Record<string, string>;
  os: string;
  arch: string;
  libc?: { kind: string; version: [number, number] };
}

const linux = (machine: string) => ({
  os_name: "posix",
  sys_platform: "linux",
  platform_system: "Linux",
  platform_machine: machine,
});

const CASES: Case[] = [
  {
    spec: { pythonVersion: "3.11", platform: "manylinux_2_28_aarch64" },
    packaging: { kind: "manylinux", glibc: [2, 28], archs: ["aarch64"], python: [3, 11] },
    markers: { ...linux("aarch64"), python_full_version: "3.11.0", python_version: "3.11" },
    os: "linux",
    arch: "aarch64",
    libc: { kind: "glibc", version: [2, 28] },
  },
  {
    spec: { pythonVersion: "3.12.3", platform: "musllinux_1_2_armv7l" },
    packaging: { kind: "musllinux", musl: [1, 2], archs: ["armv7l"], python: [3, 12] },
    markers: { ...linux("armv7l"), python_full_version: "3.12.3", python_version: "3.12" },
    os: "linux",
    arch: "armv7l",
    libc: { kind: "musl", version: [1, 2] },
  },
  {
    spec: { pythonVersion: "3.13", platform: "macosx_14_0_arm64", implementation: "cp" },
    packaging: { kind: "mac", version: [14, 0], arch: "arm64", python: [3, 13] },
    markers: {
      os_name: "posix",
      sys_platform: "darwin",
      platform_system: "Darwin",
      platform_machine: "arm64",
      python_full_version: "3.13.0",
      python_version: "3.13",
    },
    os: "macos",
    arch: "arm64",
  },
  {
    spec: { pythonVersion: "3.10.11", platform: "win_amd64", implementation: "cpython" },
    packaging: { kind: "other", platforms: ["win_amd64"], python: [3, 10] },
    markers: {
      os_name: "nt",
      sys_platform: "win32",
      platform_system: "Windows",
      platform_machine: "AMD64",
      python_full_version: "3.10.11",
      python_version: "3.10",
    },
    os: "windows",
    arch: "amd64",
  },
  {
    spec: { pythonVersion: "3.8", platform: "win32" },
    packaging: { kind: "other", platforms: ["win32"], python: [3, 8] },
    markers: {
      os_name: "nt",
      sys_platform: "win32",
      platform_system: "Windows",
      platform_machine: "x86",
      python_full_version: "3.8.0",
      python_version: "3.8",
    },
    os: "windows",
    arch: "x86",
  },
  {
    spec: { pythonVersion: "3.12", platform: "win_arm64" },
    packaging: { kind: "other", platforms: ["win_arm64"], python: [3, 12] },
    markers: {
      os_name: "nt",
      sys_platform: "win32",
      platform_system: "Windows",
      platform_machine: "ARM64",
      python_full_version: "3.12.0",
      python_version: "3.12",
    },
    os: "windows",
    arch: "arm64",
  },
  {
    spec: { pythonVersion: "3.7", platform: "manylinux2014_x86_64" },
    packaging: { kind: "manylinux", glibc: [2, 17], archs: ["x86_64"], python: [3, 7] },
    markers: { ...linux("x86_64"), python_full_version: "3.7.0", python_version: "3.7" },
    os: "linux",
    arch: "x86_64",
    libc: { kind: "glibc", version: [2, 17] },
  },
  {
    spec: { pythonVersion: "3.9.1", platform: "macosx_10_15_x86_64" },
    packaging: { kind: "mac", version: [10, 15], arch: "x86_64", python: [3, 9] },
    markers: {
      os_name: "posix",
      sys_platform: "darwin",
      platform_system: "Darwin",
      platform_machine: "x86_64",
      python_full_version: "3.9.1",
      python_version: "3.9",
    },
    os: "macos",
    arch: "x86_64",
  },
  {
    spec: { pythonVersion: "3.6", platform: "linux_x86_64" },
    packaging: { kind: "other", platforms: ["linux_x86_64"], python: [3, 6] },
    markers: { ...linux("x86_64"), python_full_version: "3.6.0", python_version: "3.6" },
    os: "linux",
    arch: "x86_64",
  },
  {
    spec: { pythonVersion: "3.8", platform: "musllinux_1_1_x86_64" },
    packaging: { kind: "musllinux", musl: [1, 1], archs: ["x86_64"], python: [3, 8] },
    markers: { ...linux("x86_64"), python_full_version: "3.8.0", python_version: "3.8" },
    os: "linux",
    arch: "x86_64",
    libc: { kind: "musl", version: [1, 1] },
  },
  {
    spec: { pythonVersion: "3.13t", platform: "manylinux_2_17_x86_64" },
    packaging: {
      kind: "manylinux",
      glibc: [2, 17],
      archs: ["x86_64"],
      python: [3, 13],
      abis: ["cp313t"],
    },
    markers: { ...linux("x86_64"), python_full_version: "3.13.0", python_version: "3.13" },
    os: "linux",
    arch: "x86_64",
    libc: { kind: "glibc", version: [2, 17] },
  },
];

interface PackagingOut {
  abis: string[];
  platforms: string[];
  tags: string[];
}

describe("spec targets vs packaging", () => {
  const expected = runPythonJson<PackagingOut[]>(
    defaultPackagingPython(),
    SCRIPT,
    CASES.map((c) => c.packaging),
  );

  CASES.forEach((c, i) => {
    it(`${c.spec.pythonVersion} ${c.spec.platform}`, () => {
      const want = expected[i];
      if (want === undefined) throw new Error("packaging gave no result");
      const target = targetFromSpec(c.spec);
      expect(target.abis).toEqual(want.abis);
      expect(target.platforms).toEqual(want.platforms);
      expect(target.tags).toEqual(want.tags);
      expect(target.tags.length).toBeGreaterThan(10);
      expect(target.os).toBe(c.os);
      expect(target.arch).toBe(c.arch);
      expect(target.libc).toEqual(c.libc);
      const full = c.markers.python_full_version;
      expect(target.markerEnvironment).toEqual({
        implementation_name: "cpython",
        implementation_version: full,
        platform_python_implementation: "CPython",
        platform_release: "",
        platform_version: "",
        ...c.markers,
      });
      expect(target.implementation).toBe("cp");
      expect(target.implementationName).toBe("cpython");
      expect(target.source).toBe("spec");
      expect(JSON.parse(JSON.stringify(target))).toEqual(target);
    });
  });
});

describe("spec parsing", () => {
  it("reads versions", () => {
    expect(parsePythonVersionSpec("3.11")).toEqual({
      version: [3, 11, 0],
      hasMicro: false,
      freeThreaded: false,
    });
    expect(parsePythonVersionSpec(" 3.11.7 ")).toEqual({
      version: [3, 11, 7],
      hasMicro: true,
      freeThreaded: false,
    });
    expect(parsePythonVersionSpec("3.13t").freeThreaded).toBe(true);
    expect(targetFromSpec({ pythonVersion: "3.13t", platform: "win_amd64" }).abis).toEqual([
      "cp313t",
    ]);
    expect(targetFromSpec({ pythonVersion: "3.7", platform: "win_amd64" }).abis).toEqual(["cp37m"]);
    expect(
      targetFromSpec({ pythonVersion: "3.14", platform: "win_amd64" }).pycMagic,
    ).toBeUndefined();
  });

  const BAD: [Partial<TargetSpec>, RegExp][] = [
    [{ pythonVersion: "3", platform: "win_amd64" }, /invalid Python version "3"/],
    [{ pythonVersion: "2.7", platform: "win_amd64" }, /unsupported Python version "2\.7"/],
    [{ pythonVersion: "3.5", platform: "win_amd64" }, /CPython 3\.6 or newer/],
    [{ pythonVersion: "three", platform: "win_amd64" }, /invalid Python version/],
    [{ pythonVersion: "3.12t", platform: "win_amd64" }, /free-threaded builds exist from 3\.13/],
    [{ pythonVersion: "3.11.7.1", platform: "win_amd64" }, /invalid Python version/],
    [{ pythonVersion: "", platform: "win_amd64" }, /invalid Python version/],
    [{ pythonVersion: "3.11", platform: "" }, /invalid platform "": it is empty/],
    [{ pythonVersion: "3.11", platform: "manylinux_2_28_arm64" }, /no "arm64" architecture/],
    [{ pythonVersion: "3.11", platform: "macosx_14_0_aarch64" }, /macOS architecture/],
    [{ pythonVersion: "3.11", platform: "win_x64" }, /unknown Windows platform/],
    [{ pythonVersion: "3.11", platform: "freebsd_13_amd64" }, /not a platform tag/],
    [{ pythonVersion: "3.11", platform: "manylinux_1_0_x86_64" }, /glibc 2\.x/],
    [
      { pythonVersion: "3.11", platform: "win_amd64", implementation: "pp" },
      /unsupported implementation "pp"/,
    ],
  ];
  for (const [spec, message] of BAD) {
    it(`rejects ${JSON.stringify(spec)}`, () => {
      let err: unknown;
      try {
        targetFromSpec(spec as TargetSpec);
      } catch (e) {
        err = e;
      }
      expect(isSlimenvError(err, "INVALID_TARGET")).toBe(true);
      expect((err as Error).message).toMatch(message);
      expect((err as { hint?: string }).hint).toBeTruthy();
    });
  }

  it("names the accepted platform forms in the hint", () => {
    try {
      targetFromSpec({ pythonVersion: "3.11", platform: "linux" });
      expect.unreachable();
    } catch (e) {
      expect(isSlimenvError(e, "INVALID_TARGET")).toBe(true);
      expect((e as { hint?: string }).hint).toMatch(/manylinux_2_28_aarch64.*win_amd64/);
    }
  });
});
