import { describe, expect, it } from "vitest";
import type { ErrorCode, SlimenvError } from "../../src/base/index.ts";
import {
  compatibleTags,
  cpythonAbis,
  cpythonTags,
  createTagRanker,
  genericTags,
  interpreterName,
  linuxPlatforms,
  macBinaryFormats,
  macPlatforms,
  manylinuxPlatforms,
  musllinuxPlatforms,
  normalizeLinuxArch,
  parseTag,
  platformsForSpec,
  platformTagFromSpec,
  purePythonTags,
  pythonInterpreterRange,
  sysTags,
  Tag,
  type TagTarget,
  windowsPlatforms,
} from "../../src/standards/tags.ts";
import { thrown } from "../helpers/errors.ts";

function expectCode(fn: () => unknown, code: ErrorCode): SlimenvError {
  const err = thrown(fn);
  expect(err.code).toBe(code);
  expect(err.message).not.toContain("\n");
  return err;
}

const strs = (tags: Tag[]) => tags.map(String);

describe("Tag", () => {
  it("lower-cases its parts and prints them joined by '-'", () => {
    const tag = new Tag("CP311", "Abi3", "WIN_AMD64");
    expect([tag.interpreter, tag.abi, tag.platform]).toEqual(["cp311", "abi3", "win_amd64"]);
    expect(String(tag)).toBe("cp311-abi3-win_amd64");
  });

  it("compares by value", () => {
    expect(new Tag("py3", "none", "any").equals(new Tag("PY3", "NONE", "ANY"))).toBe(true);
    expect(new Tag("py3", "none", "any").equals(new Tag("py2", "none", "any"))).toBe(false);
    expect(new Tag("py3", "none", "any").equals(new Tag("py3", "abi3", "any"))).toBe(false);
    expect(new Tag("py3", "none", "any").equals(new Tag("py3", "none", "win32"))).toBe(false);
  });

  it.each([
    ["", "none", "any"],
    ["py3", "", "any"],
    ["py3", "none", ""],
    ["py-3", "none", "any"],
    ["py3", "no-ne", "any"],
    ["py3", "none", "a-ny"],
  ])("rejects %j %j %j", (i, a, p) => {
    expectCode(() => new Tag(i, a, p), "INVALID_TAG");
  });

  it("rejects non-strings", () => {
    expectCode(() => new Tag(3 as unknown as string, "none", "any"), "INVALID_TAG");
  });
});

describe("parseTag", () => {
  it("parses one tag", () => {
    expect(strs(parseTag("py3-none-any"))).toEqual(["py3-none-any"]);
  });

  it("expands compressed tag sets in interpreter × abi × platform order", () => {
    expect(strs(parseTag("py2.py3-none-any"))).toEqual(["py2-none-any", "py3-none-any"]);
    expect(strs(parseTag("cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"))).toEqual([
      "cp311-cp311-manylinux_2_17_x86_64",
      "cp311-cp311-manylinux2014_x86_64",
    ]);
    expect(parseTag("a.b-c.d-e.f")).toHaveLength(8);
  });

  it("lower-cases and drops duplicates", () => {
    expect(strs(parseTag("PY3.py3-NONE-Any"))).toEqual(["py3-none-any"]);
  });

  it.each([
    ["py3-none", "3 components|2 components"],
    ["py3-none-any-x", "4 components"],
    ["", "empty component"],
    ["py3--any", "empty component at column 5"],
    ["py3-none-", "empty component at column 10"],
    ["py3..py2-none-any", "empty component at column 5"],
    ["3py-none-any", 'invalid interpreter "3py" at column 1'],
    ["py3.3x-none-any", 'invalid interpreter "3x" at column 5'],
  ])("rejects %j", (text, message) => {
    const err = expectCode(() => parseTag(text), "INVALID_TAG");
    expect(err.message).toMatch(
      new RegExp(message.replace(/[.*+?^${}()[\]\\]/g, "\\$&").replace("\\|", "|")),
    );
  });

  it("points at the bad column", () => {
    const err = expectCode(() => parseTag("py3--any"), "INVALID_TAG");
    expect(err.detail).toBe("py3--any\n    ^");
    expect(err.hint).toContain("<interpreter>-<abi>-<platform>");
  });

  it("checks PEP 425 order on request", () => {
    expect(parseTag("py3.py2-none-any")).toHaveLength(2);
    const err = expectCode(
      () => parseTag("py3.py2-none-any", { validateOrder: true }),
      "INVALID_TAG",
    );
    expect(err.hint).toContain("py2.py3");
    expect(parseTag("py2.py3-none-any", { validateOrder: true })).toHaveLength(2);
  });

  it("enforces a limit on expansion", () => {
    expect(parseTag("a.b-c.d-e", { limit: 4 })).toHaveLength(4);
    expectCode(() => parseTag("a.b-c.d-e.f", { limit: 4 }), "INVALID_TAG");
    expectCode(() => parseTag("a-b-c", { limit: -1 }), "INVALID_OPTION");
    expectCode(() => parseTag("a-b-c", { limit: 1.5 }), "INVALID_OPTION");
  });

  it("rejects non-strings", () => {
    expectCode(() => parseTag(undefined as unknown as string), "INVALID_TAG");
  });
});

describe("interpreterName", () => {
  it.each([
    ["cpython", "cp"],
    ["CPython", "cp"],
    ["pypy", "pp"],
    ["ironpython", "ip"],
    ["jython", "jy"],
    ["python", "py"],
    ["graalpy", "graalpy"],
  ])("%s → %s", (name, short) => {
    expect(interpreterName(name)).toBe(short);
  });

  it.each(["", "c python", "3pypy", "py-py"])("rejects %j", (name) => {
    expectCode(() => interpreterName(name), "INVALID_TARGET");
  });
});

describe("cpythonAbis", () => {
  it.each([
    [[3, 12], {}, ["cp312"]],
    [[3, 7], {}, ["cp37m"]],
    [[3, 7], { pymalloc: false }, ["cp37"]],
    [[3, 7], { debug: true }, ["cp37dm"]],
    [[3, 8], { debug: true }, ["cp38d", "cp38"]],
    [[3, 13], { freeThreaded: true }, ["cp313t"]],
    [[3, 12], { freeThreaded: true }, ["cp312"]],
    [[3, 14], { freeThreaded: true, debug: true }, ["cp314td", "cp314t"]],
    [[2, 7], { ucs4: true }, ["cp27mu"]],
    [[3, 3], { ucs4: true }, ["cp33m"]],
  ] as const)("%j %j → %j", (version, flags, abis) => {
    expect(cpythonAbis(version as [number, number], flags)).toEqual(abis);
  });

  it.each([[[3]], [[3, -1]], [[3, 1.5]], ["3.12"]])("rejects version %j", (version) => {
    expectCode(() => cpythonAbis(version as unknown as [number, number]), "INVALID_TARGET");
  });
});

describe("cpythonTags / genericTags / compatibleTags", () => {
  it("orders abi, abi3, none, then older abi3", () => {
    expect(strs(cpythonTags([3, 4], ["cp34m"], ["linux_x86_64"]))).toEqual([
      "cp34-cp34m-linux_x86_64",
      "cp34-abi3-linux_x86_64",
      "cp34-none-linux_x86_64",
      "cp33-abi3-linux_x86_64",
      "cp32-abi3-linux_x86_64",
    ]);
  });

  it("uses abi3t for free-threaded builds", () => {
    expect(strs(cpythonTags([3, 3], ["cp33t"], ["win_amd64"]))).toEqual([
      "cp33-cp33t-win_amd64",
      "cp33-abi3t-win_amd64",
      "cp33-none-win_amd64",
      "cp32-abi3t-win_amd64",
    ]);
  });

  it("reads free-threading from the first cp abi or abi3t, past abi3/none (packaging 26.4)", () => {
    expect(strs(cpythonTags([3, 3], ["abi3", "cp33t"], ["win_amd64"]))).toEqual([
      "cp33-cp33t-win_amd64",
      "cp33-abi3t-win_amd64",
      "cp33-none-win_amd64",
      "cp32-abi3t-win_amd64",
    ]);
    expect(strs(cpythonTags([3, 3], ["abi3t"], ["any"]))).toEqual([
      "cp33-abi3t-any",
      "cp33-none-any",
      "cp32-abi3t-any",
    ]);
    expect(strs(cpythonTags([3], ["abi3t"], ["any"]))).toEqual(["cp3-none-any"]);
    expect(strs(cpythonTags([3, 3], ["none", "cp33"], ["any"]))).toEqual([
      "cp33-cp33-any",
      "cp33-abi3-any",
      "cp33-none-any",
      "cp32-abi3-any",
    ]);
  });

  it("has no stable ABI before 3.2 or for a major-only version", () => {
    expect(strs(cpythonTags([3, 1], ["cp31"], ["any"]))).toEqual([
      "cp31-cp31-any",
      "cp31-none-any",
    ]);
    expect(strs(cpythonTags([3], [], ["any"]))).toEqual(["cp3-none-any"]);
  });

  it("adds none to generic tags when missing", () => {
    expect(strs(genericTags("pp310", ["pypy310_pp73"], ["win_amd64"]))).toEqual([
      "pp310-pypy310_pp73-win_amd64",
      "pp310-none-win_amd64",
    ]);
  });

  it("lists py versions newest first, then the interpreter's none-any", () => {
    expect(pythonInterpreterRange([3, 2])).toEqual(["py32", "py3", "py31", "py30"]);
    expect(strs(compatibleTags([3, 1], "cp31", ["win32"]))).toEqual([
      "py31-none-win32",
      "py3-none-win32",
      "py30-none-win32",
      "cp31-none-any",
      "py31-none-any",
      "py3-none-any",
      "py30-none-any",
    ]);
    expect(strs(purePythonTags([3]))).toEqual(["py3-none-any"]);
  });

  it.each([
    () => cpythonTags([], ["cp312"], ["any"]),
    () => cpythonTags([3, -12], ["cp312"], ["any"]),
    () => cpythonTags([3, 12], [""], ["any"]),
    () => cpythonTags([3, 12], ["cp312"], [""]),
    () => cpythonTags([3, 12], "cp312" as unknown as string[], ["any"]),
    () => genericTags("", [], ["any"]),
    () => compatibleTags([3.5], undefined, ["any"]),
    () => compatibleTags([3, 12], undefined, "any" as unknown as string[]),
  ])("rejects bad input %#", (fn) => {
    expectCode(fn, "INVALID_TARGET");
  });
});

describe("sysTags", () => {
  const target: TagTarget = {
    implementation: "cp",
    pythonVersion: [3, 12],
    abis: ["cp312"],
    platforms: ["win_amd64"],
  };

  it("gives CPython's list", () => {
    const tags = strs(sysTags(target));
    expect(tags.slice(0, 4)).toEqual([
      "cp312-cp312-win_amd64",
      "cp312-abi3-win_amd64",
      "cp312-none-win_amd64",
      "cp311-abi3-win_amd64",
    ]);
    expect(tags).toContain("cp312-none-any");
    expect(tags.indexOf("cp312-none-any")).toBeLessThan(tags.indexOf("py312-none-any"));
    expect(tags.at(-1)).toBe("py30-none-any");
  });

  it("gives PyPy pp3-none-any and generic tags", () => {
    const tags = strs(
      sysTags({
        implementation: "pp",
        pythonVersion: [3, 10],
        abis: ["pypy310_pp73"],
        platforms: ["linux_x86_64"],
      }),
    );
    expect(tags.slice(0, 2)).toEqual([
      "pp310-pypy310_pp73-linux_x86_64",
      "pp310-none-linux_x86_64",
    ]);
    expect(tags).toContain("pp3-none-any");
    expect(tags.some((t) => t.includes("abi3"))).toBe(false);
  });

  it("gives other implementations no <impl>-none-any", () => {
    const tags = strs(
      sysTags({ implementation: "graalpy", pythonVersion: [3, 11], abis: [], platforms: ["any"] }),
    );
    expect(tags[0]).toBe("graalpy311-none-any");
    expect(tags.filter((t) => t.startsWith("graalpy"))).toHaveLength(1);
  });

  it.each([
    { ...target, implementation: "" },
    { ...target, implementation: "CP" },
    { ...target, implementation: "c-p" },
    { ...target, pythonVersion: [3, -1] },
    { ...target, pythonVersion: [] },
    { ...target, abis: [""] },
    { ...target, platforms: ["linux x86-64", ""] },
  ] as TagTarget[])("rejects %j", (bad) => {
    expectCode(() => sysTags(bad), "INVALID_TARGET");
  });

  it("rejects a missing target", () => {
    expectCode(() => sysTags(null as unknown as TagTarget), "INVALID_TARGET");
  });
});

describe("linuxPlatforms", () => {
  it("lists linux, manylinux with legacy aliases, then nothing else for glibc", () => {
    const tags = linuxPlatforms("x86_64", { glibc: [2, 17] });
    expect(tags.slice(0, 4)).toEqual([
      "linux_x86_64",
      "manylinux_2_17_x86_64",
      "manylinux2014_x86_64",
      "manylinux_2_16_x86_64",
    ]);
    expect(tags).toContain("manylinux2010_x86_64");
    expect(tags.indexOf("manylinux2010_x86_64")).toBe(tags.indexOf("manylinux_2_12_x86_64") + 1);
    expect(tags.slice(-2)).toEqual(["manylinux_2_5_x86_64", "manylinux1_x86_64"]);
    expect(tags).toHaveLength(1 + 13 + 3);
  });

  it("stops at 2_17 off x86", () => {
    expect(linuxPlatforms("aarch64", { glibc: [2, 18] })).toEqual([
      "linux_aarch64",
      "manylinux_2_18_aarch64",
      "manylinux_2_17_aarch64",
      "manylinux2014_aarch64",
    ]);
    expect(linuxPlatforms("aarch64", { glibc: [2, 16] })).toEqual(["linux_aarch64"]);
  });

  it("lists musllinux from the given minor down", () => {
    expect(linuxPlatforms("armv7l", { musl: [1, 2] })).toEqual([
      "linux_armv7l",
      "musllinux_1_2_armv7l",
      "musllinux_1_1_armv7l",
      "musllinux_1_0_armv7l",
    ]);
  });

  it("converts 32-bit interpreters on 64-bit kernels", () => {
    expect(linuxPlatforms("x86_64", { glibc: [2, 5] }, { is32bit: true })).toEqual([
      "linux_i686",
      "manylinux_2_5_i686",
      "manylinux1_i686",
    ]);
    expect(linuxPlatforms("aarch64", { musl: [1, 0] }, { is32bit: true })).toEqual([
      "linux_armv8l",
      "linux_armv7l",
      "musllinux_1_0_armv8l",
      "musllinux_1_0_armv7l",
    ]);
  });

  it("gives no manylinux to soft-float arm or unknown arches", () => {
    expect(linuxPlatforms("armv7l", { glibc: [2, 31] }, { armhf: false })).toEqual([
      "linux_armv7l",
    ]);
    expect(linuxPlatforms("mips", { glibc: [2, 31] })).toEqual(["linux_mips"]);
    expect(linuxPlatforms("riscv64", { glibc: [2, 17] })).toContain("manylinux2014_riscv64");
  });

  it("walks across glibc majors", () => {
    const tags = linuxPlatforms("x86_64", { glibc: [3, 1] });
    expect(tags.slice(1, 4)).toEqual([
      "manylinux_3_1_x86_64",
      "manylinux_3_0_x86_64",
      "manylinux_2_50_x86_64",
    ]);
  });

  it("normalizes arch spellings", () => {
    expect(normalizeLinuxArch("X86-64")).toBe("x86_64");
    expect(linuxPlatforms("ppc64le")).toEqual(["linux_ppc64le"]);
  });

  it.each([
    () => linuxPlatforms("", { glibc: [2, 17] }),
    () => linuxPlatforms("x86/64"),
    () => linuxPlatforms("x86_64", { glibc: [1, 9] }),
    () => linuxPlatforms("x86_64", { glibc: [2] as unknown as [number, number] }),
    () => linuxPlatforms("x86_64", { glibc: "2.17" as unknown as [number, number] }),
    () => linuxPlatforms("x86_64", { glibc: [2, -1] }),
    () => linuxPlatforms("x86_64", { musl: [0, 9] }),
    () => linuxPlatforms("x86_64", { musl: [1, 2.5] }),
    () => linuxPlatforms("x86_64", null as unknown as object),
    () => manylinuxPlatforms(["x86_64", "bad arch!"], [2, 17]),
    () => musllinuxPlatforms([""], [1, 2]),
  ])("rejects bad input %#", (fn) => {
    expectCode(fn, "INVALID_TARGET");
  });
});

describe("macPlatforms", () => {
  it("lists 10.x minors with their binary formats", () => {
    expect(macPlatforms([10, 5], "x86_64")).toEqual([
      "macosx_10_5_x86_64",
      "macosx_10_5_intel",
      "macosx_10_5_fat64",
      "macosx_10_5_fat3",
      "macosx_10_5_universal2",
      "macosx_10_5_universal",
      "macosx_10_4_x86_64",
      "macosx_10_4_intel",
      "macosx_10_4_fat64",
      "macosx_10_4_fat3",
      "macosx_10_4_universal2",
      "macosx_10_4_universal",
    ]);
  });

  it("lists 11+ majors, then universal2 builds of 10.16…10.4 on arm64", () => {
    const tags = macPlatforms([13, 4], "arm64");
    expect(tags.slice(0, 6)).toEqual([
      "macosx_13_0_arm64",
      "macosx_13_0_universal2",
      "macosx_12_0_arm64",
      "macosx_12_0_universal2",
      "macosx_11_0_arm64",
      "macosx_11_0_universal2",
    ]);
    expect(tags.slice(6)).toEqual(
      Array.from({ length: 13 }, (_, i) => `macosx_10_${16 - i}_universal2`),
    );
  });

  it("knows which formats existed", () => {
    expect(macBinaryFormats([10, 3], "x86_64")).toEqual([]);
    expect(macBinaryFormats([10, 6], "ppc64")).toEqual([]);
    expect(macBinaryFormats([10, 6], "ppc")).toEqual(["ppc", "fat3", "fat", "universal"]);
    expect(macBinaryFormats([11, 0], "arm64")).toEqual(["arm64", "universal2"]);
    expect(macPlatforms([9, 0], "x86_64")).toEqual([]);
  });

  it.each([
    () => macPlatforms([14] as unknown as [number, number], "arm64"),
    () => macPlatforms([14, -1], "arm64"),
    () => macPlatforms([14, 0], ""),
    () => macPlatforms([14, 0], "ARM 64"),
  ])("rejects bad input %#", (fn) => {
    expectCode(fn, "INVALID_TARGET");
  });
});

describe("windowsPlatforms", () => {
  it.each([
    ["amd64", "win_amd64"],
    ["AMD64", "win_amd64"],
    ["x86_64", "win_amd64"],
    ["x86", "win32"],
    ["win32", "win32"],
    ["ARM64", "win_arm64"],
    ["aarch64", "win_arm64"],
  ])("%s → %s", (arch, tag) => {
    expect(windowsPlatforms(arch)).toEqual([tag]);
  });

  it.each(["", "ia64", "arm", "mips"])("rejects %j", (arch) => {
    expectCode(() => windowsPlatforms(arch), "INVALID_TARGET");
  });
});

describe("platformTagFromSpec", () => {
  it.each([
    [
      "manylinux_2_28_aarch64",
      { os: "linux", arch: "aarch64", libc: { kind: "glibc", version: [2, 28] } },
    ],
    [
      "manylinux2014_x86_64",
      { os: "linux", arch: "x86_64", libc: { kind: "glibc", version: [2, 17] } },
    ],
    [
      "manylinux2010_i686",
      { os: "linux", arch: "i686", libc: { kind: "glibc", version: [2, 12] } },
    ],
    [
      "manylinux1_x86_64",
      { os: "linux", arch: "x86_64", libc: { kind: "glibc", version: [2, 5] } },
    ],
    [
      "musllinux_1_2_armv7l",
      { os: "linux", arch: "armv7l", libc: { kind: "musl", version: [1, 2] } },
    ],
    ["linux_x86_64", { os: "linux", arch: "x86_64" }],
    ["linux_armv6l", { os: "linux", arch: "armv6l" }],
    ["macosx_14_0_arm64", { os: "macos", arch: "arm64", macVersion: [14, 0] }],
    ["macosx_10_15_x86_64", { os: "macos", arch: "x86_64", macVersion: [10, 15] }],
    ["win_amd64", { os: "windows", arch: "amd64" }],
    ["win32", { os: "windows", arch: "x86" }],
    ["win_arm64", { os: "windows", arch: "arm64" }],
    [" Win-AMD64 ", { os: "windows", arch: "amd64" }],
    [
      "manylinux_2_28_x86-64",
      { os: "linux", arch: "x86_64", libc: { kind: "glibc", version: [2, 28] } },
    ],
  ])("%s", (spec, expected) => {
    expect(platformTagFromSpec(spec)).toEqual(expected);
  });

  it.each([
    "",
    "   ",
    "any",
    "manylinux",
    "manylinux_2_28",
    "manylinux_2_x_x86_64",
    "manylinux_1_9_x86_64",
    "manylinux_2_28_mips",
    "manylinux2010_aarch64",
    "manylinux1_armv7l",
    "manylinux2016_x86_64",
    "musllinux_0_9_x86_64",
    "musllinux_1_2",
    "musllinux_1_2_x86__64",
    "linux_",
    "linux_x86_64!",
    "macosx_10_15_arm64",
    "macosx_9_0_x86_64",
    "macosx_14_arm64",
    "macosx_14_0_universal2",
    "win_ia64",
    "win",
    "freebsd_13_amd64",
    "manylinux_99999999999999999999_1_x86_64",
  ])("rejects %j with the accepted forms", (spec) => {
    const err = expectCode(() => platformTagFromSpec(spec), "INVALID_TARGET");
    expect(err.hint).toContain("manylinux_<glibc major>_<minor>_<arch>");
    expect(err.hint).toContain("win_amd64");
  });

  it("rejects non-strings", () => {
    expectCode(() => platformTagFromSpec(42 as unknown as string), "INVALID_TARGET");
  });
});

describe("platformsForSpec", () => {
  it("expands each kind of spec", () => {
    expect(platformsForSpec("manylinux2014_aarch64")).toEqual(
      linuxPlatforms("aarch64", { glibc: [2, 17] }),
    );
    expect(platformsForSpec("musllinux_1_1_x86_64")).toEqual([
      "linux_x86_64",
      "musllinux_1_1_x86_64",
      "musllinux_1_0_x86_64",
    ]);
    expect(platformsForSpec("linux_x86_64")).toEqual(["linux_x86_64"]);
    expect(platformsForSpec("macosx_11_0_arm64")[0]).toBe("macosx_11_0_arm64");
    expect(platformsForSpec("win32")).toEqual(["win32"]);
    expect(platformsForSpec({ os: "windows", arch: "arm64" })).toEqual(["win_arm64"]);
  });

  it("rejects an incomplete spec object", () => {
    expectCode(() => platformsForSpec({ os: "macos", arch: "arm64" }), "INVALID_TARGET");
    expectCode(() => platformsForSpec({ os: "beos" as "linux", arch: "x86_64" }), "INVALID_TARGET");
  });
});

describe("createTagRanker", () => {
  it("ranks by the best supported tag, undefined when none fits", () => {
    const rank = createTagRanker(
      sysTags({
        implementation: "cp",
        pythonVersion: [3, 12],
        abis: ["cp312"],
        platforms: linuxPlatforms("x86_64", { glibc: [2, 28] }),
      }),
    );
    const native = rank(parseTag("cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"));
    const abi3 = rank(parseTag("cp38-abi3-manylinux_2_17_x86_64"));
    const pure = rank(["py3-none-any"]);
    expect(native).toBeDefined();
    expect(abi3).toBeDefined();
    expect(pure).toBeDefined();
    expect(native as number).toBeLessThan(abi3 as number);
    expect(abi3 as number).toBeLessThan(pure as number);
    expect(rank(parseTag("cp312-cp312-win_amd64"))).toBeUndefined();
    expect(rank(parseTag("cp313-cp313-manylinux_2_17_x86_64"))).toBeUndefined();
    expect(rank([])).toBeUndefined();
  });
});
