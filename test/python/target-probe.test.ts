/**
 * targetFromProbe on probes of machines this one is not (musl, 32-bit ARM, i686, macOS,
 * Windows, PyPy, debug builds): a real probe with the facts replaced. Expected values come
 * from spec targets for the same device, and from packaging's own functions where they take
 * the facts as arguments.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSlimenvError } from "../../src/base/index.ts";
import {
  isArmHardFloat,
  isI386,
  manylinuxAbiCompatible,
  parseGlibcVersion,
  parseMuslVersion,
} from "../../src/python/libc.ts";
import { probeInterpreter } from "../../src/python/probe.ts";
import type { InterpreterProbe, ProbeElf } from "../../src/python/probe-types.ts";
import { genericAbisFromProbe, targetFromProbe } from "../../src/python/target.ts";
import { targetFromSpec } from "../../src/python/target-spec.ts";
import { linuxPlatforms } from "../../src/standards/tags.ts";
import { defaultPackagingPython, runPythonJson } from "../helpers/packaging.ts";
import { pyenvPythons } from "./pythons.ts";

const ARM_HF: ProbeElf = {
  elfClass: 1,
  elfData: 1,
  machine: 40,
  flags: 0x05000400,
  interpreter: "/lib/ld-linux-armhf.so.3",
};
const ARM_SF: ProbeElf = { ...ARM_HF, flags: 0x05000200, interpreter: "/lib/ld-linux.so.3" };
const I386: ProbeElf = {
  elfClass: 1,
  elfData: 1,
  machine: 3,
  flags: 0,
  interpreter: "/lib/ld-linux.so.2",
};
const MUSL_BANNER = "musl libc (armhf)\nVersion 1.2.4\nDynamic Program Loader\nUsage: ...\n";

let base: InterpreterProbe;
let tmp: string;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "slimenv-target-probe-"));
  const py = pyenvPythons().find((p) => p.minor === 11) ?? pyenvPythons().at(-1);
  if (!py) throw new Error("no CPython under pyenv");
  base = await probeInterpreter(py.exe, { env: { ...process.env, SLIMENV_HOME: tmp } });
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function variant(
  patch: Partial<InterpreterProbe>,
  config: Partial<InterpreterProbe["configVars"]> = {},
): InterpreterProbe {
  const copy = structuredClone(base);
  return { ...copy, ...patch, configVars: { ...copy.configVars, ...config } };
}

function withVersion(probe: InterpreterProbe, version: [number, number, number]): InterpreterProbe {
  return { ...probe, version };
}

describe("libc facts", () => {
  it("parses glibc and musl versions", () => {
    expect(parseGlibcVersion("2.36")).toEqual([2, 36]);
    expect(parseGlibcVersion("2.17-foo")).toEqual([2, 17]);
    expect(parseGlibcVersion("garbage")).toBeUndefined();
    expect(parseGlibcVersion(null)).toBeUndefined();
    expect(parseMuslVersion(MUSL_BANNER)).toEqual([1, 2]);
    expect(parseMuslVersion("  \nmusl libc (x86_64)\n  Version 1.1.24\n")).toEqual([1, 1]);
    expect(parseMuslVersion("glibc\nVersion 1.2")).toBeUndefined();
    expect(parseMuslVersion("musl libc")).toBeUndefined();
    expect(parseMuslVersion("musl libc\nversion 1.2")).toBeUndefined();
    expect(parseMuslVersion(null)).toBeUndefined();
  });

  it("reads the ELF facts manylinux needs", () => {
    expect(isArmHardFloat(ARM_HF)).toBe(true);
    expect(isArmHardFloat(ARM_SF)).toBe(false);
    expect(isArmHardFloat({ ...ARM_HF, flags: 0x04000400 })).toBe(false);
    expect(isArmHardFloat(null)).toBe(false);
    expect(isI386(I386)).toBe(true);
    expect(isI386({ ...I386, elfClass: 2 })).toBe(false);
    expect(manylinuxAbiCompatible(["x86_64"], null)).toBe(true);
    expect(manylinuxAbiCompatible(["armv7l"], ARM_SF)).toBe(false);
    expect(manylinuxAbiCompatible(["armv8l", "armv7l"], ARM_HF)).toBe(true);
    expect(manylinuxAbiCompatible(["i686"], I386)).toBe(true);
    expect(manylinuxAbiCompatible(["i686"], ARM_HF)).toBe(false);
    expect(manylinuxAbiCompatible(["mips"], null)).toBe(false);
  });
});

describe("targetFromProbe on other machines", () => {
  it("musl on 32-bit ARM equals the musllinux spec target", () => {
    const probe = variant({
      sysconfigPlatform: "linux-armv7l",
      machine: "armv7l",
      maxsizeOver32Bits: false,
      glibcVersion: null,
      elf: { ...ARM_HF, interpreter: "/lib/ld-musl-armhf.so.1" },
      muslLoaderOutput: MUSL_BANNER,
    });
    const target = targetFromProbe(probe);
    const spec = targetFromSpec({ pythonVersion: "3.11", platform: "musllinux_1_2_armv7l" });
    expect(target.tags).toEqual(spec.tags);
    expect(target.libc).toEqual({ kind: "musl", version: [1, 2] });
    expect(target.arch).toBe("armv7l");
  });

  it("glibc ARM: hard-float gets manylinux, soft-float does not", () => {
    const hf = targetFromProbe(
      variant({
        sysconfigPlatform: "linux-armv7l",
        maxsizeOver32Bits: false,
        glibcVersion: "2.31",
        elf: ARM_HF,
      }),
    );
    expect(hf.tags).toEqual(
      targetFromSpec({ pythonVersion: "3.11", platform: "manylinux_2_31_armv7l" }).tags,
    );
    const sf = targetFromProbe(
      variant({
        sysconfigPlatform: "linux-armv7l",
        maxsizeOver32Bits: false,
        glibcVersion: "2.31",
        elf: ARM_SF,
      }),
    );
    expect(sf.platforms).toEqual(["linux_armv7l"]);
    expect(sf.libc).toEqual({ kind: "glibc", version: [2, 31] });
  });

  it("a 32-bit interpreter on a 64-bit kernel", () => {
    const i686 = targetFromProbe(
      variant({
        sysconfigPlatform: "linux-x86_64",
        maxsizeOver32Bits: false,
        glibcVersion: "2.28",
        elf: I386,
      }),
    );
    expect(i686.arch).toBe("i686");
    expect(i686.platforms).toEqual(
      targetFromSpec({ pythonVersion: "3.11", platform: "manylinux_2_28_i686" }).platforms,
    );
    const armv8l = targetFromProbe(
      variant({
        sysconfigPlatform: "linux-aarch64",
        maxsizeOver32Bits: false,
        glibcVersion: "2.28",
        elf: ARM_HF,
      }),
    );
    expect(armv8l.arch).toBe("armv8l");
    expect(armv8l.platforms).toEqual(
      linuxPlatforms("aarch64", { glibc: [2, 28] }, { is32bit: true }),
    );
    expect(armv8l.platforms.slice(0, 2)).toEqual(["linux_armv8l", "linux_armv7l"]);
  });

  it("Windows", () => {
    const target = targetFromProbe(
      variant({
        platformSystem: "Windows",
        sysconfigPlatform: "win-amd64",
        glibcVersion: null,
        elf: null,
      }),
    );
    expect(target.os).toBe("windows");
    expect(target.arch).toBe("amd64");
    expect(target.tags).toEqual(
      targetFromSpec({ pythonVersion: "3.11", platform: "win_amd64" }).tags,
    );
    expect(
      targetFromProbe(variant({ platformSystem: "Windows", sysconfigPlatform: "win32" })).arch,
    ).toBe("x86");
  });

  it("an unsupported OS is a clear error", () => {
    try {
      targetFromProbe(
        variant({ platformSystem: "FreeBSD", sysconfigPlatform: "freebsd-14.0-amd64" }),
      );
      expect.unreachable();
    } catch (e) {
      expect(isSlimenvError(e, "INVALID_TARGET")).toBe(true);
      expect((e as Error).message).toMatch(/"FreeBSD", which slimenv does not support/);
    }
  });

  it("debug builds and old pymalloc builds", () => {
    expect(targetFromProbe(variant({}, { Py_DEBUG: 1 })).abis).toEqual(["cp311d", "cp311"]);
    expect(targetFromProbe(variant({ hasTotalRefcount: true }, { Py_DEBUG: null })).abis).toEqual([
      "cp311d",
      "cp311",
    ]);
    expect(targetFromProbe(variant({ hasTotalRefcount: true }, { Py_DEBUG: 0 })).abis).toEqual([
      "cp311",
    ]);
    const old = (cfg: Partial<InterpreterProbe["configVars"]>) =>
      targetFromProbe(withVersion(variant({}, cfg), [3, 7, 9])).abis;
    expect(old({ WITH_PYMALLOC: 1 })).toEqual(["cp37m"]);
    expect(old({ WITH_PYMALLOC: null })).toEqual(["cp37m"]);
    expect(old({ WITH_PYMALLOC: 0 })).toEqual(["cp37"]);
    expect(old({ WITH_PYMALLOC: 0, Py_DEBUG: 1 })).toEqual(["cp37d"]);
    const ft = targetFromProbe(withVersion(variant({}, { Py_GIL_DISABLED: 1 }), [3, 13, 1]));
    expect(ft.abis).toEqual(["cp313t"]);
    expect(ft.tags).toContain("cp313-abi3t-linux_x86_64");
    expect(
      targetFromProbe(withVersion(variant({}, { Py_GIL_DISABLED: 1 }), [3, 12, 1])).abis,
    ).toEqual(["cp312"]);
  });
});

describe("against packaging's functions", () => {
  const SCRIPT = `
import json, sys
from packaging import tags
out = {"mac": [], "generic": []}
cases = json.load(sys.stdin)
for c in cases["mac"]:
    out["mac"].append(list(tags.mac_platforms(tuple(c["version"]), c["arch"])))
for suffix in cases["generic"]:
    tags._get_config_var = lambda name, warn=False, suffix=suffix: suffix if name == "EXT_SUFFIX" else None
    # list(): a list up to packaging 26.3, a generator from 26.4
    out["generic"].append(list(tags._generic_abi()))
out["version"] = list(sys.version_info[:2])
print(json.dumps(out))
`;
  const MAC = [
    { release: "14.2.1", version: [14, 2], arch: "arm64" },
    { release: "10.15.7", version: [10, 15], arch: "x86_64" },
    { release: "11", version: [11, 0], arch: "x86_64" },
  ];
  const GENERIC = [
    ".pypy310-pp73-x86_64-linux-gnu.so",
    ".pypy39-pp73-darwin.so",
    ".cp311-win_amd64.pyd",
    ".cpython-312-x86_64-linux-gnu.so",
    ".graalpy231-310-native-x86_64-linux.so",
    ".pyston-23-x86_64-linux-gnu.so",
    ".pyd",
    "..so",
  ];
  let expected: { mac: string[][]; generic: string[][]; version: [number, number] };
  beforeAll(() => {
    expected = runPythonJson(defaultPackagingPython(), SCRIPT, { mac: MAC, generic: GENERIC });
  });

  it("macOS platforms from a probe's mac_ver", () => {
    MAC.forEach((c, i) => {
      const target = targetFromProbe(
        variant({
          platformSystem: "Darwin",
          sysconfigPlatform: `macosx-11.0-${c.arch}`,
          mac: { release: c.release, machine: c.arch },
          glibcVersion: null,
          elf: null,
        }),
      );
      expect(target.os).toBe("macos");
      expect(target.platforms).toEqual(expected.mac[i]);
    });
  });

  it("ABI tags of other implementations from EXT_SUFFIX", () => {
    GENERIC.forEach((suffix, i) => {
      const probe = withVersion(
        variant({ hasTotalRefcount: false, extensionSuffixes: [] }, { EXT_SUFFIX: suffix }),
        [expected.version[0], expected.version[1], 0],
      );
      expect(genericAbisFromProbe(probe), suffix).toEqual(expected.generic[i]);
    });
  });

  it("a PyPy probe gets PyPy's tags", () => {
    const probe = variant(
      {
        implementation: { name: "pypy", version: "7.3.17", cacheTag: "pypy310" },
        version: [3, 10, 14],
      },
      { EXT_SUFFIX: ".pypy310-pp73-x86_64-linux-gnu.so" },
    );
    const target = targetFromProbe(probe);
    expect(target.implementation).toBe("pp");
    expect(target.abis).toEqual(["pypy310_pp73"]);
    expect(target.tags[0]).toBe("pp310-pypy310_pp73-linux_x86_64");
    expect(target.tags).toContain("pp3-none-any");
    expect(() => genericAbisFromProbe(variant({}, { EXT_SUFFIX: null }))).toThrow(
      /no usable EXT_SUFFIX/,
    );
  });
});
