/** Build flags per backend, config settings, and `[build-system]` with pip's defaults. */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildTransform, readBuildSystem } from "../../src/build/build-folder.ts";
import {
  backendFamily,
  checkBuildFlags,
  flagPlan,
  parseConfigSettings,
  SIZE_CFLAGS,
} from "../../src/build/flags.ts";
import { parseGitRequirement } from "../../src/build/vcs.ts";
import { targetFromSpec } from "../../src/python/target-spec.ts";
import { tempDir } from "../helpers/tmp.ts";

describe("build flags", () => {
  it("knows the backend families", () => {
    expect(backendFamily("setuptools.build_meta:__legacy__")).toBe("setuptools");
    expect(backendFamily("mesonpy")).toBe("meson-python");
    expect(backendFamily("scikit_build_core.build")).toBe("scikit-build-core");
    expect(backendFamily("maturin")).toBe("maturin");
    expect(backendFamily("hatchling.build")).toBe("other");
  });

  it("size: compiler and linker variables for everyone, config settings per backend", () => {
    const st = flagPlan(
      "x",
      "setuptools.build_meta",
      "size",
      false,
      {},
      { CFLAGS: "-march=x86-64" },
    );
    expect(st.env.CFLAGS).toBe(`-march=x86-64 ${SIZE_CFLAGS}`);
    expect(st.env.LDFLAGS).toContain("-Wl,--gc-sections");
    expect(st.env.LDFLAGS).toContain("-Wl,-s");
    expect(st.configSettings).toEqual({});
    const meson = flagPlan("x", "mesonpy", "size", false, {}, {});
    expect(meson.configSettings["setup-args"]).toEqual(["-Dbuildtype=minsize", "-Db_ndebug=true"]);
    expect(meson.packageSettings).toEqual({});
    const skb = flagPlan("x", "scikit_build_core.build", "size", false, {}, {});
    expect(skb.configSettings["cmake.build-type"]).toBe("MinSizeRel");
    expect(skb.env.CMAKE_BUILD_TYPE).toBe("MinSizeRel");
    const mat = flagPlan("x", "maturin", "size", false, {}, {});
    expect(mat.env.RUSTFLAGS).toContain("strip=symbols");
    expect(flagPlan("x", "mesonpy", "default", false, {}, {})).toEqual({
      env: {},
      configSettings: {},
      packageSettings: {},
    });
    expect(flagPlan("x", "mesonpy", "debug", false, {}, {}).configSettings["setup-args"]).toBe(
      "-Dbuildtype=debug",
    );
  });

  it("system libraries per package, user settings last", () => {
    const numpy = flagPlan(
      "numpy",
      "mesonpy",
      "size",
      true,
      { "setup-args": "-Dcpu-baseline=none" },
      {},
    );
    expect(numpy.configSettings["setup-args"]).toEqual([
      "-Dbuildtype=minsize",
      "-Db_ndebug=true",
      "-Dcpu-dispatch=none",
      "-Dblas=openblas",
      "-Dlapack=openblas",
      "-Dallow-noblas=false",
      "-Dcpu-baseline=none",
    ]);
    // What slimenv added for numpy by name, without the generic flags or the user's.
    expect(numpy.packageSettings).toEqual({
      "setup-args": [
        "-Dcpu-dispatch=none",
        "-Dblas=openblas",
        "-Dlapack=openblas",
        "-Dallow-noblas=false",
      ],
    });
    expect(flagPlan("other", "mesonpy", "default", true, {}, {}).configSettings).toEqual({});
  });

  it("size: numpy's per-package option only under the size profile, and the user's -C wins", () => {
    const def = flagPlan("numpy", "mesonpy", "default", false, {}, {});
    expect(def.packageSettings).toEqual({});
    expect(def.configSettings).toEqual({});
    const debug = flagPlan("numpy", "mesonpy", "debug", true, {}, {});
    expect(debug.configSettings["setup-args"]).not.toContain("-Dcpu-dispatch=none");
    const back = flagPlan(
      "numpy",
      "mesonpy",
      "size",
      false,
      { "setup-args": "-Dcpu-dispatch=max" },
      {},
    );
    const args = back.configSettings["setup-args"] as string[];
    // meson keeps the last -D of an option: the user's comes after the profile's.
    expect(args.indexOf("-Dcpu-dispatch=max")).toBeGreaterThan(args.indexOf("-Dcpu-dispatch=none"));
    expect(args.at(-1)).toBe("-Dcpu-dispatch=max");
  });

  it("parses -C like pip, and refuses bad values", () => {
    expect(parseConfigSettings(["a=1", "b=x=y", "a=2"])).toEqual({ a: ["1", "2"], b: "x=y" });
    expect(() => parseConfigSettings(["novalue"])).toThrow(/KEY=VALUE/);
    expect(() => checkBuildFlags("tiny")).toThrow(/size, default|default, size/);
  });
});

describe("git requirements", () => {
  it("parses name @ git+URL[@REV][#subdirectory=DIR]", () => {
    expect(
      parseGitRequirement("pkg @ git+https://github.com/o/r.git@v1.2#subdirectory=py"),
    ).toEqual({
      name: "pkg",
      url: "https://github.com/o/r.git",
      rev: "v1.2",
      subdirectory: "py",
    });
    expect(parseGitRequirement("pkg @ git+ssh://git@github.com/o/r")).toEqual({
      name: "pkg",
      url: "ssh://git@github.com/o/r",
    });
    expect(parseGitRequirement("pkg>=1")).toBeUndefined();
  });
});

describe("[build-system]", () => {
  const dir = (files: Record<string, string>) => {
    const d = tempDir("slimenv-bs-");
    for (const [k, v] of Object.entries(files)) writeFileSync(path.join(d, k), v);
    return d;
  };
  const legacy = {
    requires: ["setuptools>=40.8.0"],
    backend: "setuptools.build_meta:__legacy__",
  };

  it("no pyproject.toml, or no table: setuptools' legacy backend, as pip does", () => {
    expect(readBuildSystem(dir({ "setup.py": "" }), "x")).toEqual(legacy);
    expect(readBuildSystem(dir({ "pyproject.toml": "[tool.x]\na = 1\n" }), "x")).toEqual(legacy);
  });

  it("requires without a backend: the legacy backend with those requires", () => {
    const bs = readBuildSystem(
      dir({ "pyproject.toml": '[build-system]\nrequires = ["setuptools>=61", "wheel"]\n' }),
      "x",
    );
    expect(bs).toEqual({ requires: ["setuptools>=61", "wheel"], backend: legacy.backend });
  });

  it("backend and backend-path as written; a broken file is BUILD_FAILED", () => {
    const bs = readBuildSystem(
      dir({
        "pyproject.toml":
          '[build-system]\nrequires = []\nbuild-backend = "b"\nbackend-path = ["_b"]\n',
      }),
      "x",
    );
    expect(bs).toEqual({ requires: [], backend: "b", backendPath: ["_b"] });
    expect(() => readBuildSystem(dir({ "pyproject.toml": "[build-system\n" }), "x 1.0")).toThrow(
      /building x 1\.0 failed/,
    );
  });

  it("every input changes the build's key", () => {
    const target = targetFromSpec({ pythonVersion: "3.12", platform: "manylinux_2_28_x86_64" });
    const base = {
      target,
      flags: "size" as const,
      configSettings: {},
      env: {},
      buildEnv: "e1",
      isolation: true,
      backend: "b",
    };
    const k = buildTransform(base);
    expect(k).toMatch(/^build-wheel:[0-9a-f]{64}$/);
    expect(buildTransform({ ...base })).toBe(k);
    expect(buildTransform({ ...base, flags: "default" })).not.toBe(k);
    expect(buildTransform({ ...base, configSettings: { a: "1" } })).not.toBe(k);
    expect(buildTransform({ ...base, buildEnv: "e2" })).not.toBe(k);
    expect(buildTransform({ ...base, isolation: false })).not.toBe(k);
    const other = targetFromSpec({ pythonVersion: "3.11", platform: "manylinux_2_28_x86_64" });
    expect(buildTransform({ ...base, target: other })).not.toBe(k);
  });
});
