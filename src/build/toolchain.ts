/**
 * What a build depends on outside the sdist and its build env: the compilers it runs and,
 * under `--use-system-libs`, the versions of the system libraries it links. Both go into the
 * build's key (build-folder.ts): a wheel built by gcc 12 against OpenBLAS 0.3.21 is not taken
 * from the store for a build that would run gcc 13 or link OpenBLAS 0.3.26.
 *
 * A compiler is named by the first line of `$CC --version` (default `cc`) and `$CXX --version`
 * (default `c++`), as the backends find them; a missing one is `none` (a pure-Python build
 * does not need it, and a build that does fails on its own). A system library is named by
 * `pkg-config --modversion` of the modules the package links (numpy and scipy: openblas), as
 * meson finds them; `none` when pkg-config or the module is missing.
 */
import { spawnSync } from "node:child_process";

/** Per package: the pkg-config modules `--use-system-libs` makes it link. */
export const SYSTEM_LIB_MODULES: Record<string, string[]> = {
  numpy: ["openblas"],
  scipy: ["openblas"],
};

export interface Toolchain {
  /** Compiler command → first line of its `--version`. */
  compilers: Record<string, string>;
  /** pkg-config module → version. */
  systemLibs: Record<string, string>;
}

const seen = new Map<string, string>();

/** First line of a command's output, remembered per command line and PATH; `none` if it fails. */
function firstLine(words: string[], env: NodeJS.ProcessEnv): string {
  const key = JSON.stringify([
    words,
    env.PATH ?? "",
    env.PKG_CONFIG_PATH ?? "",
    env.PKG_CONFIG_LIBDIR ?? "",
  ]);
  const had = seen.get(key);
  if (had !== undefined) return had;
  const [cmd, ...args] = words;
  let line = "none";
  if (cmd !== undefined) {
    const res = spawnSync(cmd, args, { env, encoding: "utf8", timeout: 20_000 });
    if (res.status === 0) line = (res.stdout.split("\n")[0] ?? "").trim() || "none";
  }
  seen.set(key, line);
  return line;
}

/** `$CC`, split as a shell would split a plain command line (`ccache gcc` is two words). */
function commandWords(value: string | undefined, fallback: string): string[] {
  const words = (value ?? "").trim().split(/\s+/).filter(Boolean);
  return words.length === 0 ? [fallback] : words;
}

/** The toolchain of a build of `name` (see the module comment). */
export function toolchainOf(
  name: string,
  useSystemLibs: boolean,
  env: NodeJS.ProcessEnv,
): Toolchain {
  const compilers: Record<string, string> = {};
  for (const [variable, fallback] of [
    ["CC", "cc"],
    ["CXX", "c++"],
  ] as const) {
    const words = commandWords(env[variable], fallback);
    compilers[words.join(" ")] = firstLine([...words, "--version"], env);
  }
  const systemLibs: Record<string, string> = {};
  if (useSystemLibs) {
    for (const mod of SYSTEM_LIB_MODULES[name] ?? []) {
      systemLibs[mod] = firstLine(["pkg-config", "--modversion", mod], env);
    }
  }
  return { compilers, systemLibs };
}
