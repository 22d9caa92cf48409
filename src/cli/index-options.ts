/**
 * The index and resolver options `lock`, `install` and `sync` share (--offline, index URLs,
 * find-links, index strategy, binary policies, resolution, pre-releases), and turning them
 * into merged settings (flags > SLIMENV_* > config files).
 */
import { type Command, Option } from "commander";
import { type ResolvedSettings, resolveSettings } from "../settings/load.ts";
import type { SettingKey } from "../settings/schema.ts";
import { cliIo } from "./context.ts";

export interface IndexOptionValues {
  offline?: boolean;
  indexUrl?: string;
  extraIndexUrl?: string[];
  findLinks?: string[];
  indexStrategy?: string;
  onlyBinary?: string[];
  /** `--no-binary` (commander names a `--no-…` option after what it negates). */
  binary?: string[] | boolean;
  resolution?: string;
  prerelease?: string;
}

export const collect = (value: string, previous: string[] = []) => [...previous, value];
const collectCommaList = (value: string, previous: unknown) => [
  ...(Array.isArray(previous) ? (previous as string[]) : []),
  ...value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
];
const orUndefined = <T>(list: T[] | undefined) =>
  list !== undefined && list.length > 0 ? list : undefined;

/** --offline and the index options; with `resolver`, also --resolution and --prerelease. */
export function addIndexOptions(command: Command, resolver: boolean): Command {
  command
    .option("--offline", "use only the store and the HTTP cache, never the network")
    .option("-i, --index-url <url>", "the primary package index (default https://pypi.org/simple/)")
    .option(
      "--extra-index-url <url>",
      "another index, consulted after the primary (repeatable)",
      collect,
    )
    .option(
      "-f, --find-links <source>",
      "a folder of wheels or a flat HTML page of links (repeatable)",
      collect,
    )
    .addOption(
      new Option(
        "--index-strategy <strategy>",
        "first-index takes each name from the first index that has it",
      ).choices(["first-index", "unsafe-best-match"]),
    );
  if (!resolver) return command;
  return command
    .option(
      "--only-binary <names>",
      "packages (comma-separated, or :all:) that must come as wheels (repeatable)",
      collectCommaList,
    )
    .option(
      "--no-binary <names>",
      "packages (comma-separated, or :all:) whose wheels are not used (repeatable)",
      collectCommaList,
    )
    .addOption(
      new Option("--resolution <strategy>", "which versions to prefer").choices([
        "highest",
        "lowest",
        "lowest-direct",
      ]),
    )
    .addOption(
      new Option("--prerelease <mode>", "when pre-releases may be chosen").choices([
        "if-necessary-or-explicit",
        "allow",
        "disallow",
      ]),
    );
}

/** Flags, SLIMENV_* variables and config files, merged. */
export function settingsFromOptions(opts: IndexOptionValues, cwd: string): ResolvedSettings {
  const flags: Partial<Record<SettingKey, unknown>> = {
    "index-url": opts.indexUrl,
    "extra-index-url": orUndefined(opts.extraIndexUrl),
    "find-links": orUndefined(opts.findLinks),
    "index-strategy": opts.indexStrategy,
    offline: opts.offline,
    prerelease: opts.prerelease,
    resolution: opts.resolution,
    "only-binary": orUndefined(opts.onlyBinary),
    "no-binary": Array.isArray(opts.binary) ? orUndefined(opts.binary) : undefined,
  };
  return resolveSettings({ flags, env: cliIo().env, cwd });
}
