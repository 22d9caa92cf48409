/**
 * Differential tests of the tag functions against pypa/packaging (newest). packaging's
 * platform functions read the running system, so the Python side replaces the few internals
 * that do (glibc/musl version, ELF checks, sysconfig platform, sys.version_info) with the
 * case's values, and then calls packaging's own code.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  compatibleTags,
  cpythonTags,
  genericTags,
  parseTag,
  sysTags,
  type Tag,
} from "../../src/standards/tags.ts";
import { cpythonAbis } from "../../src/standards/tags-cpython.ts";
import { linuxPlatforms } from "../../src/standards/tags-linux.ts";
import { macPlatforms } from "../../src/standards/tags-macos.ts";
import { windowsPlatforms } from "../../src/standards/tags-windows.ts";
import {
  defaultPackagingPython,
  type PackagingPython,
  runPythonJson,
} from "../helpers/packaging.ts";
import { Rng } from "../helpers/random.ts";
import { oracleBefore264, threadingDiffersFrom263 } from "./packaging-26-4.ts";

const ORACLE = `
import json, sys, types
from packaging import tags, _manylinux, _musllinux

real_sys = tags.sys
real_sysconfig = tags.sysconfig
real_platform = tags.platform

def linux(case):
    glibc, musl = case.get("glibc"), case.get("musl")
    _manylinux._get_glibc_version = lambda: _manylinux._GLibCVersion(*glibc) if glibc else _manylinux._GLibCVersion(-1, -1)
    _manylinux._is_linux_armhf = lambda exe: case["armhf"]
    _manylinux._is_linux_i686 = lambda exe: True
    _manylinux._get_manylinux_module = lambda: None
    _musllinux._get_musl_version = lambda exe: _musllinux._MuslVersion(*musl) if musl else None
    tags.sysconfig = types.SimpleNamespace(get_platform=lambda: "linux-" + case["arch"], get_config_var=real_sysconfig.get_config_var)
    try:
        return list(tags._linux_platforms(is_32bit=case["is32bit"]))
    finally:
        tags.sysconfig = real_sysconfig

def windows(case):
    tags.sysconfig = types.SimpleNamespace(get_platform=lambda: case["platform"], get_config_var=real_sysconfig.get_config_var)
    tags.platform = types.SimpleNamespace(system=lambda: "Windows")
    try:
        return list(tags.platform_tags())
    finally:
        tags.sysconfig = real_sysconfig
        tags.platform = real_platform

def cpython_abis(case):
    config = case["config"]
    real = tags._get_config_var
    tags._get_config_var = lambda name, warn=False: config.get(name)
    try:
        # list(): a list up to packaging 26.3, a generator from 26.4
        return list(tags._cpython_abis(tuple(case["version"])))
    finally:
        tags._get_config_var = real

def sys_tags(case):
    saved = {k: getattr(tags, k) for k in ("interpreter_name", "interpreter_version", "_cpython_abis", "_generic_abi", "platform_tags", "sys")}
    version = tuple(case["version"])
    tags.interpreter_name = lambda: case["name"]
    tags.interpreter_version = lambda warn=False: "".join(map(str, version))
    tags._cpython_abis = lambda v, warn=False: list(case["abis"])
    tags._generic_abi = lambda: list(case["abis"])
    tags.platform_tags = lambda: iter(case["platforms"])
    tags.sys = types.SimpleNamespace(version_info=version + (0, "final", 0))
    try:
        return [str(t) for t in tags.sys_tags()]
    finally:
        for k, v in saved.items():
            setattr(tags, k, v)

def parse(case):
    try:
        return sorted(str(t) for t in tags.parse_tag(case["tag"], validate_order=case["order"]))
    except ValueError as e:
        return None

def run(case):
    k = case["kind"]
    if k == "cpython":
        return [str(t) for t in tags.cpython_tags(case["version"], case["abis"], case["platforms"])]
    if k == "compatible":
        return [str(t) for t in tags.compatible_tags(case["version"], case["interpreter"], case["platforms"])]
    if k == "generic":
        return [str(t) for t in tags.generic_tags(case["interpreter"], case["abis"], case["platforms"])]
    if k == "mac":
        return list(tags.mac_platforms(tuple(case["version"]), case["arch"]))
    if k == "linux":
        return linux(case)
    if k == "windows":
        return windows(case)
    if k == "abis":
        return cpython_abis(case)
    if k == "sys":
        return sys_tags(case)
    if k == "parse":
        return parse(case)
    raise ValueError(k)

cases = json.load(sys.stdin)
json.dump([run(c) for c in cases], sys.stdout)
`;

const rng = new Rng(0x5eed);
const strs = (tags: Tag[]) => tags.map(String);

interface Case {
  kind: string;
  [key: string]: unknown;
}
interface Pair {
  case: Case;
  ours: () => unknown;
}

const pairs: Pair[] = [];
const add = (c: Case, ours: () => unknown) => pairs.push({ case: c, ours });

// macOS: every version from 9.x to 26.x on every arch packaging knows.
const MAC_ARCHES = ["arm64", "x86_64", "i386", "ppc", "ppc64", "intel", "universal2"];
const MAC_VERSIONS: [number, number][] = [
  [9, 0],
  [9, 5],
];
for (let m = 0; m <= 17; m++) MAC_VERSIONS.push([10, m]);
for (let M = 11; M <= 16; M++) for (const m of [0, 1, 3, 7]) MAC_VERSIONS.push([M, m]);
for (const m of [0, 1, 4]) MAC_VERSIONS.push([26, m]);
MAC_VERSIONS.push([27, 0], [30, 2]);
for (const version of MAC_VERSIONS) {
  for (const arch of MAC_ARCHES) {
    add({ kind: "mac", version, arch }, () => macPlatforms(version, arch));
  }
}

// Linux: arches × glibc × musl × 32-bit × armhf.
const LINUX_ARCHES = [
  "x86_64",
  "i686",
  "aarch64",
  "armv7l",
  "armv8l",
  "armv6l",
  "ppc64",
  "ppc64le",
  "s390x",
  "riscv64",
  "loongarch64",
  "mips",
  "sparc64",
];
const GLIBCS: ([number, number] | null)[] = [
  null,
  [2, 3],
  [2, 4],
  [2, 5],
  [2, 12],
  [2, 16],
  [2, 17],
];
for (let m = 18; m <= 41; m += 3) GLIBCS.push([2, m]);
GLIBCS.push([2, 50], [3, 0], [3, 4]);
const MUSLS: ([number, number] | null)[] = [null, [1, 0], [1, 1], [1, 2], [1, 5], [2, 3]];
for (const arch of LINUX_ARCHES) {
  for (const glibc of GLIBCS) {
    for (const is32bit of [false, true]) {
      const musl = rng.pick(MUSLS);
      const armhf = rng.chance(0.8);
      add({ kind: "linux", arch, glibc, musl, is32bit, armhf }, () =>
        linuxPlatforms(
          arch,
          { ...(glibc ? { glibc } : {}), ...(musl ? { musl } : {}) },
          { is32bit, armhf },
        ),
      );
    }
  }
  for (const musl of MUSLS) {
    add({ kind: "linux", arch, glibc: null, musl, is32bit: false, armhf: true }, () =>
      linuxPlatforms(arch, musl ? { musl } : {}),
    );
  }
}

// Windows.
const WINDOWS: [string, string][] = [
  ["win-amd64", "amd64"],
  ["win32", "x86"],
  ["win-arm64", "arm64"],
  ["win-amd64", "AMD64"],
  ["win-arm64", "ARM64"],
  ["win32", "win32"],
];
for (const [platform, arch] of WINDOWS) {
  add({ kind: "windows", platform }, () => windowsPlatforms(arch));
}

// CPython ABIs from build flags.
const PY_VERSIONS: [number, number][] = [
  [2, 6],
  [2, 7],
];
for (let m = 0; m <= 15; m++) PY_VERSIONS.push([3, m]);
for (const version of PY_VERSIONS) {
  for (let bits = 0; bits < 16; bits++) {
    const debug = (bits & 1) !== 0;
    const pymalloc = (bits & 2) !== 0;
    const freeThreaded = (bits & 4) !== 0;
    const ucs4 = (bits & 8) !== 0;
    const config = {
      Py_DEBUG: debug ? 1 : 0,
      WITH_PYMALLOC: pymalloc ? 1 : 0,
      Py_GIL_DISABLED: freeThreaded ? 1 : 0,
      Py_UNICODE_SIZE: ucs4 ? 4 : 2,
    };
    add({ kind: "abis", version, config }, () =>
      cpythonAbis(version, { debug, pymalloc, freeThreaded, ucs4 }),
    );
  }
}

// cpython_tags / compatible_tags / generic_tags with explicit arguments.
const PLATFORM_POOL = [
  "linux_x86_64",
  "manylinux_2_28_x86_64",
  "manylinux2014_x86_64",
  "musllinux_1_2_aarch64",
  "macosx_14_0_arm64",
  "macosx_10_9_universal2",
  "win_amd64",
  "win32",
  "any",
];
const randomPlatforms = () => {
  const n = 1 + rng.int(4);
  return Array.from({ length: n }, () => rng.pick(PLATFORM_POOL));
};
for (let i = 0; i < 300; i++) {
  const version: number[] = rng.chance(0.1) ? [rng.pick([2, 3])] : rng.pick(PY_VERSIONS);
  const full: [number, number] = [version[0] ?? 3, version[1] ?? 0];
  const platforms = randomPlatforms();
  const base =
    version.length === 2
      ? cpythonAbis(full, {
          debug: rng.chance(0.2),
          freeThreaded: rng.chance(0.3),
          pymalloc: rng.chance(0.8),
        })
      : [];
  const abis = [...base];
  if (rng.chance(0.3)) abis.push(rng.pick(["abi3", "none", "abi3t", "abi3", "cp39"]));
  if (rng.chance(0.1)) abis.splice(0, abis.length);
  add({ kind: "cpython", version, abis, platforms }, () =>
    strs(cpythonTags(version, abis, platforms)),
  );
  const interpreter = rng.pick([null, `cp${version.join("")}`, "pp3", "graalpy311"]);
  add({ kind: "compatible", version, interpreter, platforms }, () =>
    strs(compatibleTags(version, interpreter ?? undefined, platforms)),
  );
  const genericAbis = rng.pick([
    [],
    ["pypy310_pp73"],
    ["graalpy_311_native", "none"],
    ["none", "x"],
  ]);
  add({ kind: "generic", interpreter: "pp310", abis: genericAbis, platforms }, () =>
    strs(genericTags("pp310", genericAbis, platforms)),
  );
}

// sys_tags for whole targets.
const TARGETS: { name: string; version: [number, number]; abis: string[] }[] = [
  { name: "cp", version: [3, 6], abis: ["cp36m"] },
  { name: "cp", version: [3, 7], abis: ["cp37dm"] },
  { name: "cp", version: [3, 8], abis: ["cp38"] },
  { name: "cp", version: [3, 9], abis: ["cp39d", "cp39"] },
  { name: "cp", version: [3, 10], abis: ["cp310"] },
  { name: "cp", version: [3, 11], abis: ["cp311"] },
  { name: "cp", version: [3, 12], abis: ["cp312"] },
  { name: "cp", version: [3, 13], abis: ["cp313"] },
  { name: "cp", version: [3, 13], abis: ["cp313t"] },
  { name: "cp", version: [3, 14], abis: ["cp314t"] },
  { name: "cp", version: [3, 14], abis: ["cp314td", "cp314t"] },
  { name: "cp", version: [3, 15], abis: ["cp315"] },
  { name: "pp", version: [3, 10], abis: ["pypy310_pp73"] },
  { name: "pp", version: [3, 11], abis: ["pypy311_pp73"] },
  { name: "graalpy", version: [3, 11], abis: ["graalpy_311_native"] },
];
const PLATFORM_SETS = [
  linuxPlatforms("x86_64", { glibc: [2, 35] }),
  linuxPlatforms("aarch64", { musl: [1, 2] }),
  macPlatforms([14, 0], "arm64"),
  macPlatforms([10, 15], "x86_64"),
  windowsPlatforms("amd64"),
];
for (const t of TARGETS) {
  for (const platforms of PLATFORM_SETS) {
    add({ kind: "sys", name: t.name, version: t.version, abis: t.abis, platforms }, () =>
      strs(sysTags({ implementation: t.name, pythonVersion: t.version, abis: t.abis, platforms })),
    );
  }
}

// parse_tag on good and broken tag strings.
const TAG_PARTS = ["py3", "py2", "cp311", "CP39", "pp310", "3py", "py_3", "", "abi3", "none"];
const TAG_SAMPLES = [
  "py3-none-any",
  "py2.py3-none-any",
  "py3.py2-none-any",
  "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
  "CP311-ABI3-WIN_AMD64",
  "py3-none",
  "py3-none-any-extra",
  "py3--any",
  "py3-none-",
  ".py3-none-any",
  "py3..py2-none-any",
  "3py-none-any",
  "py3-none-any.any",
  "py-3-none-any",
  "",
  "-",
  "--",
  "ab·c-none-any",
  "x℘-none-any",
  "ünï-none-any",
  "名-none-any",
  "py 3-none-any",
  "py3-no ne-any",
  "_-_-_",
];
const parseCases = [...TAG_SAMPLES];
for (let i = 0; i < 300; i++) {
  const comp = () => Array.from({ length: 1 + rng.int(3) }, () => rng.pick(TAG_PARTS)).join(".");
  const n = rng.pick([2, 3, 3, 3, 3, 4]);
  parseCases.push(Array.from({ length: n }, comp).join("-"));
}
for (const tag of parseCases) {
  for (const order of [false, true]) {
    add({ kind: "parse", tag, order }, () => {
      try {
        return strs(parseTag(tag, { validateOrder: order })).sort();
      } catch {
        return null;
      }
    });
  }
}

describe("tags vs pypa/packaging", () => {
  let pp: PackagingPython;
  let expected: unknown[];
  beforeAll(() => {
    pp = defaultPackagingPython();
    expected = runPythonJson<unknown[]>(
      pp,
      ORACLE,
      pairs.map((p) => p.case),
    );
  });

  it(`runs ${pairs.length} cases`, () => {
    expect(expected).toHaveLength(pairs.length);
    expect(pairs.length).toBeGreaterThan(1500);
  });

  for (const kind of [
    "mac",
    "linux",
    "windows",
    "abis",
    "cpython",
    "compatible",
    "generic",
    "sys",
    "parse",
  ]) {
    it(`${kind}: same ordered lists`, () => {
      let compared = 0;
      const mismatches: string[] = [];
      pairs.forEach((p, i) => {
        if (p.case.kind !== kind) return;
        // Against 26.3: free-threading read from the first cp abi or abi3t, as by 26.4.
        const c = p.case as { kind: string; abis?: string[] };
        const before264 = oracleBefore264(pp.packagingVersion);
        if (before264 && c.kind === "cpython" && threadingDiffersFrom263(c.abis ?? [])) return;
        compared++;
        let ours: unknown;
        try {
          ours = p.ours();
        } catch (err) {
          ours = `threw ${String(err)}`;
        }
        if (JSON.stringify(ours) !== JSON.stringify(expected[i])) {
          mismatches.push(
            `${JSON.stringify(p.case)}\n  ours:      ${JSON.stringify(ours)}\n  packaging: ${JSON.stringify(expected[i])}`,
          );
        }
      });
      expect(compared).toBeGreaterThan(0);
      expect(mismatches.slice(0, 5).join("\n")).toBe("");
    });
  }

  it("sys_tags sanity: cp311 on manylinux starts and ends where packaging does", () => {
    const tags = strs(
      sysTags({
        implementation: "cp",
        pythonVersion: [3, 11],
        abis: ["cp311"],
        platforms: linuxPlatforms("x86_64", { glibc: [2, 17] }),
      }),
    );
    expect(tags[0]).toBe("cp311-cp311-linux_x86_64");
    expect(tags[1]).toBe("cp311-cp311-manylinux_2_17_x86_64");
    expect(tags[2]).toBe("cp311-cp311-manylinux2014_x86_64");
    expect(tags.at(-1)).toBe("py30-none-any");
    expect(tags).toContain("cp311-none-any");
    expect(tags).toContain("cp32-abi3-manylinux1_x86_64");
  });
});
