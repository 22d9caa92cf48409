/**
 * The build options install and sync share: `--build-flags`, `-C/--config-settings`,
 * `--no-build-isolation`, `--use-system-libs`, `--build-timeout` (docs/build.md).
 */
import { type Command, Option } from "commander";
import { SlimenvError } from "../base/index.ts";
import { BUILD_FLAG_PROFILES, type BuildFlagProfile, parseConfigSettings } from "../build/index.ts";
import type { ApplyBuildSettings } from "../env/apply.ts";

export interface BuildOptionValues {
  buildFlags?: string;
  configSettings?: string[];
  buildIsolation?: boolean;
  useSystemLibs?: boolean;
  buildTimeout?: string;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function addBuildOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        "--build-flags <profile>",
        "how sdists are compiled: size (-Os -g0, gc-sections, stripped), default, debug",
      ).choices([...BUILD_FLAG_PROFILES]),
    )
    .option(
      "-C, --config-settings <key=value>",
      "a PEP 517 config setting for every build (repeatable)",
      collect,
    )
    .option("--no-build-isolation", "build with the interpreter's own packages, no build env")
    .option(
      "--use-system-libs",
      "link the machine's shared libraries (e.g. OpenBLAS via pkg-config) where the package supports it",
    )
    .option("--build-timeout <seconds>", "kill a build hook after this long (default 1800)");
}

/** The build options: flags first, then the settings (SLIMENV_* variables, config files). */
export function buildFromOptions(
  given: BuildOptionValues,
  values: Record<string, unknown> = {},
): Omit<ApplyBuildSettings, "settings"> {
  const fromSettings = (key: string) => values[key];
  const timeout = fromSettings("build-timeout");
  const list = fromSettings("config-settings");
  const profile = fromSettings("build-flags");
  const opts: BuildOptionValues = {
    ...given,
    ...(given.buildFlags === undefined && typeof profile === "string"
      ? { buildFlags: profile }
      : {}),
    ...(given.configSettings === undefined && Array.isArray(list)
      ? { configSettings: list as string[] }
      : {}),
    ...(given.buildTimeout === undefined && typeof timeout === "number"
      ? { buildTimeout: String(timeout) }
      : {}),
  };
  let timeoutMs: number | undefined;
  if (opts.buildTimeout !== undefined) {
    const s = Number(opts.buildTimeout);
    if (!Number.isFinite(s) || s <= 0) {
      throw new SlimenvError(
        "INVALID_OPTION",
        `--build-timeout ${JSON.stringify(opts.buildTimeout)}`,
        {
          hint: "a number of seconds, e.g. --build-timeout 3600",
        },
      );
    }
    timeoutMs = s * 1000;
  }
  return {
    ...(opts.buildFlags === undefined ? {} : { flags: opts.buildFlags as BuildFlagProfile }),
    ...(opts.configSettings === undefined
      ? {}
      : { configSettings: parseConfigSettings(opts.configSettings) }),
    ...(opts.buildIsolation === false ? { isolation: false } : {}),
    ...(opts.useSystemLibs === true ? { useSystemLibs: true } : {}),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
}
