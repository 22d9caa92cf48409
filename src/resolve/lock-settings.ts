/**
 * The settings one lock runs with. Requirements files can carry options of their own
 * (`--index-url`, `--extra-index-url`, `--find-links`, `--no-index`, `--only-binary`,
 * `--no-binary`, `--pre`); they sit between the environment and the config files:
 *
 *   1. command-line flags
 *   2. SLIMENV_* environment variables
 *   3. options inside the requirements files being locked
 *   4. slimenv.toml, [tool.slimenv], the user's config file
 *   5. built-in defaults
 *
 * As elsewhere, a value is taken whole from the highest source that has it.
 */
import path from "node:path";
import type { IndexStrategy } from "../index/indexes.ts";
import { DEFAULT_INDEX_URL } from "../index/indexes.ts";
import type { ResolvedSettings } from "../settings/load.ts";
import type { SettingKey } from "../settings/schema.ts";
import { canonicalizeName } from "../standards/names.ts";
import type { RequirementsFileOptions } from "./lock-inputs.ts";
import type { PrereleaseMode, ResolutionStrategy } from "./types.ts";

export interface LockSettings {
  /** Index URLs, primary first, as given (they may carry credentials: never write them). */
  indexUrls: string[];
  /** Find-links sources: absolute paths or URLs. */
  findLinks: string[];
  strategy: IndexStrategy;
  /** Canonical names or ":all:", sorted. */
  onlyBinary: string[];
  noBinary: string[];
  prerelease: PrereleaseMode;
  resolution: ResolutionStrategy;
}

function fromUser(settings: ResolvedSettings, key: SettingKey): boolean {
  const kind = settings.sources[key]?.kind;
  return kind === "flag" || kind === "env";
}

function names(list: readonly string[]): string[] {
  return [...new Set(list.map((n) => (n === ":all:" ? n : canonicalizeName(n))))].sort();
}

function absolute(source: string, cwd: string): string {
  return /^(https?|file):/i.test(source) ? source : path.resolve(cwd, source);
}

/** Merge settings (flags, env, config files) with the requirements files' own options. */
export function lockSettings(
  settings: ResolvedSettings,
  file: RequirementsFileOptions,
  cwd: string,
): LockSettings {
  const v = settings.values;
  const pick = <T>(key: SettingKey, fromFile: T | undefined, fromSettings: T | undefined) =>
    fromUser(settings, key) ? fromSettings : (fromFile ?? fromSettings);
  const nonEmpty = <T>(list: T[]) => (list.length > 0 ? list : undefined);

  let primary: string | undefined;
  let extras: string[];
  if (fromUser(settings, "index-url")) primary = v["index-url"];
  else if (file.noIndex) primary = undefined;
  else primary = file.indexUrl ?? v["index-url"] ?? DEFAULT_INDEX_URL;
  if (file.noIndex && !fromUser(settings, "index-url") && !fromUser(settings, "extra-index-url")) {
    extras = [];
  } else {
    extras = pick("extra-index-url", nonEmpty(file.extraIndexUrls), v["extra-index-url"]) ?? [];
  }
  const indexUrls = [...(primary === undefined ? [] : [primary]), ...extras].filter(
    (u, i, all) => all.indexOf(u) === i,
  );
  const findLinks = (pick("find-links", nonEmpty(file.findLinks), v["find-links"]) ?? []).map((s) =>
    absolute(s, cwd),
  );
  const pre: PrereleaseMode | undefined = file.pre ? "allow" : undefined;
  return {
    indexUrls,
    findLinks,
    strategy: v["index-strategy"] === "unsafe-best-match" ? "unsafe-best-match" : "first-index",
    onlyBinary: names(pick("only-binary", nonEmpty(file.onlyBinary), v["only-binary"]) ?? []),
    noBinary: names(pick("no-binary", nonEmpty(file.noBinary), v["no-binary"]) ?? []),
    prerelease: (pick("prerelease", pre, v.prerelease as PrereleaseMode | undefined) ??
      "if-necessary-or-explicit") as PrereleaseMode,
    resolution: (v.resolution ?? "highest") as ResolutionStrategy,
  };
}
