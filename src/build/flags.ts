/**
 * Build flags: `size`, `default` and `debug` profiles, each turned into what every backend
 * reads — compiler and linker variables for setuptools (and anything that runs a compiler
 * from the environment: meson and CMake read CFLAGS/LDFLAGS too), config settings for
 * meson-python and scikit-build-core, RUSTFLAGS and a cargo profile for maturin. And
 * `--use-system-libs`: per-backend settings that link the machine's shared libraries (BLAS
 * and LAPACK through pkg-config) instead of bundled ones. See docs/build.md.
 */
import { SlimenvError } from "../base/index.ts";

export const BUILD_FLAG_PROFILES = ["default", "size", "debug"] as const;
export type BuildFlagProfile = (typeof BUILD_FLAG_PROFILES)[number];

export type ConfigSettings = Record<string, string | string[]>;

export function checkBuildFlags(value: string): BuildFlagProfile {
  if ((BUILD_FLAG_PROFILES as readonly string[]).includes(value)) return value as BuildFlagProfile;
  throw new SlimenvError(
    "INVALID_OPTION",
    `unknown --build-flags ${JSON.stringify(value)} (${BUILD_FLAG_PROFILES.join(", ")})`,
    {
      hint: `use one of ${BUILD_FLAG_PROFILES.join(", ")}`,
    },
  );
}

/**
 * The compiler flags of the size profile. Not `-flto`: measured on numpy it saved at most 1.5%
 * of the extensions (and grew them with numpy's default dispatch), while the fat LTO objects
 * that keep a shipped static library (`libnpymath.a`) usable by any compiler added more than
 * that (docs/build.md).
 */
export const SIZE_CFLAGS = "-g0 -Os -ffunction-sections -fdata-sections";
/** The linker flags of the size profile: drop unused sections, strip the output. */
export const SIZE_LDFLAGS = "-Wl,--gc-sections -Wl,-s";

/** Which backend family a `build-backend` string belongs to (for its flags). */
export type BackendFamily =
  | "setuptools"
  | "meson-python"
  | "scikit-build-core"
  | "maturin"
  | "other";

export function backendFamily(backend: string): BackendFamily {
  const mod = backend.split(":")[0]?.trim() ?? "";
  if (mod.startsWith("setuptools")) return "setuptools";
  if (mod === "mesonpy" || mod.startsWith("mesonpy.")) return "meson-python";
  if (mod.startsWith("scikit_build_core")) return "scikit-build-core";
  if (mod === "maturin" || mod.startsWith("maturin.")) return "maturin";
  return "other";
}

function appendFlags(base: string | undefined, flags: string): string {
  return base === undefined || base.trim() === "" ? flags : `${base} ${flags}`;
}

/** Add `value` to a config setting that may repeat (pip's `-C key=a -C key=b`). */
export function addSetting(settings: ConfigSettings, key: string, value: string): void {
  const had = settings[key];
  if (had === undefined) settings[key] = value;
  else settings[key] = Array.isArray(had) ? [...had, value] : [had, value];
}

/** `-C key=value` strings into config settings (repeats become lists, as pip does). */
export function parseConfigSettings(items: readonly string[]): ConfigSettings {
  const out: ConfigSettings = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) {
      throw new SlimenvError(
        "INVALID_OPTION",
        `--config-settings ${JSON.stringify(item)} is not KEY=VALUE`,
        {
          hint: "write KEY=VALUE, e.g. -C setup-args=-Dblas=openblas",
        },
      );
    }
    addSetting(out, item.slice(0, eq), item.slice(eq + 1));
  }
  return out;
}

/**
 * Per package: the config settings that make it link the system's shared libraries (found by
 * pkg-config) rather than vendored or bundled ones. Packages not listed build as they would.
 */
export const SYSTEM_LIB_SETTINGS: Record<string, [string, string][]> = {
  numpy: [
    ["setup-args", "-Dblas=openblas"],
    ["setup-args", "-Dlapack=openblas"],
    ["setup-args", "-Dallow-noblas=false"],
  ],
  scipy: [
    ["setup-args", "-Dblas=openblas"],
    ["setup-args", "-Dlapack=openblas"],
  ],
};

/**
 * Per package: what `--build-flags size` adds beyond the flags every package gets — options of
 * the package's own build that trade speed for size as `-Os` does. numpy compiles each SIMD
 * kernel once for its baseline CPU and again for every newer x86 generation it can dispatch to
 * at run time (AVX2, AVX-512); `cpu-dispatch=none` keeps the baseline copy only. The env
 * manifest (`packageSettings`) and `slimenv size` show these; a user's `-C` for the same
 * option comes later and wins (`-C setup-args=-Dcpu-dispatch=max` restores numpy's default).
 */
export const SIZE_PACKAGE_SETTINGS: Record<string, [string, string][]> = {
  numpy: [["setup-args", "-Dcpu-dispatch=none"]],
};

export interface FlagPlan {
  env: Record<string, string>;
  configSettings: ConfigSettings;
  /** What slimenv added for this package by name (size profile, system libraries). */
  packageSettings: ConfigSettings;
}

/**
 * The environment and config settings a build of `backend` gets for `profile` (and system
 * libraries), on top of the user's `configSettings` (which come last, so they win where a
 * backend takes the last value).
 */
export function flagPlan(
  name: string,
  backend: string,
  profile: BuildFlagProfile,
  useSystemLibs: boolean,
  configSettings: ConfigSettings,
  baseEnv: NodeJS.ProcessEnv,
): FlagPlan {
  const family = backendFamily(backend);
  const env: Record<string, string> = {};
  const settings: ConfigSettings = {};
  if (profile === "size") {
    env.CFLAGS = appendFlags(baseEnv.CFLAGS, SIZE_CFLAGS);
    env.CXXFLAGS = appendFlags(baseEnv.CXXFLAGS, SIZE_CFLAGS);
    env.LDFLAGS = appendFlags(baseEnv.LDFLAGS, SIZE_LDFLAGS);
    env.RUSTFLAGS = appendFlags(baseEnv.RUSTFLAGS, "-C strip=symbols -C opt-level=s");
    env.CMAKE_BUILD_TYPE = "MinSizeRel";
    if (family === "meson-python") {
      addSetting(settings, "setup-args", "-Dbuildtype=minsize");
      // `if-release` keeps asserts under `minsize` (meson drops them for release and plain
      // only), which a release wheel does not have: asserts off, as in the wheel.
      addSetting(settings, "setup-args", "-Db_ndebug=true");
      // meson-python ignores `install-args=--strip` (with a warning): the -Wl,-s in LDFLAGS,
      // which meson reads, strips its output.
    } else if (family === "scikit-build-core") {
      settings["cmake.build-type"] = "MinSizeRel";
      settings["install.strip"] = "true";
    } else if (family === "maturin") {
      addSetting(settings, "build-args", "--strip");
    }
  } else if (profile === "debug") {
    env.CFLAGS = appendFlags(baseEnv.CFLAGS, "-g -O0");
    env.CXXFLAGS = appendFlags(baseEnv.CXXFLAGS, "-g -O0");
    env.RUSTFLAGS = appendFlags(baseEnv.RUSTFLAGS, "-C debuginfo=2");
    env.CMAKE_BUILD_TYPE = "Debug";
    if (family === "meson-python") addSetting(settings, "setup-args", "-Dbuildtype=debug");
    else if (family === "scikit-build-core") settings["cmake.build-type"] = "Debug";
    else if (family === "maturin") addSetting(settings, "build-args", "--profile=dev");
  }
  const packageSettings: ConfigSettings = {};
  const perPackage = [
    ...(profile === "size" ? (SIZE_PACKAGE_SETTINGS[name] ?? []) : []),
    ...(useSystemLibs ? (SYSTEM_LIB_SETTINGS[name] ?? []) : []),
  ];
  for (const [k, v] of perPackage) {
    addSetting(settings, k, v);
    addSetting(packageSettings, k, v);
  }
  for (const [k, v] of Object.entries(configSettings)) {
    for (const one of Array.isArray(v) ? v : [v]) addSetting(settings, k, one);
  }
  return { env, configSettings: settings, packageSettings };
}
