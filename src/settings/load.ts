/**
 * Merging settings from their sources. Precedence, highest first:
 *
 *   1. command-line flags
 *   2. SLIMENV_* environment variables
 *   3. slimenv.toml in the project folder
 *   4. [tool.slimenv] in the project's pyproject.toml
 *   5. the user's config: $XDG_CONFIG_HOME/slimenv/slimenv.toml (~/.config/…)
 *   6. built-in defaults (applied by the commands, not here)
 *
 * The project folder is the nearest folder, from `cwd` up, holding slimenv.toml or
 * pyproject.toml. SLIMENV_NO_CONFIG=1 (or `noConfig`) skips every file. A value is taken
 * whole from the highest source that has it: lists are not concatenated across sources.
 */
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { SlimenvError } from "../base/index.ts";
import type { SettingKey, SettingSource, SettingSpec, Settings } from "./schema.ts";
import { SETTINGS, settingSpec } from "./schema.ts";

export interface SettingsInput {
  /** Values from flags, by setting key; undefined entries are ignored. */
  flags?: Partial<Record<SettingKey, unknown>>;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Skip every config file. */
  noConfig?: boolean;
}

export interface ResolvedSettings {
  values: Settings;
  sources: Partial<Record<SettingKey, SettingSource>>;
  /** Config files read, highest precedence first. */
  files: string[];
  /** The project folder found, if any. */
  projectDir: string | undefined;
}

const TRUE = new Set(["1", "true", "yes", "on"]);
const FALSE = new Set(["0", "false", "no", "off", ""]);

function describe(source: SettingSource): string {
  if (source.kind === "flag") return `option --${source.name}`;
  if (source.kind === "env") return `environment variable ${source.name}`;
  return `${source.path}: ${source.key}`;
}

function invalid(source: SettingSource, spec: SettingSpec, why: string): SlimenvError {
  const allowed = spec.values ? ` (one of: ${spec.values.join(", ")})` : "";
  return new SlimenvError("INVALID_CONFIG", `${describe(source)}: ${why}${allowed}`, {
    hint: `${spec.key}: ${spec.description}`,
  });
}

/** Turn a raw value (string from env, or TOML value, or flag value) into the setting's type. */
function coerce(spec: SettingSpec, raw: unknown, source: SettingSource): unknown {
  const fromText = typeof raw === "string" && source.kind === "env";
  switch (spec.type) {
    case "boolean": {
      if (typeof raw === "boolean") return raw;
      if (fromText && TRUE.has(raw.trim().toLowerCase())) return true;
      if (fromText && FALSE.has(raw.trim().toLowerCase())) return false;
      throw invalid(source, spec, `expected true or false, got ${JSON.stringify(raw)}`);
    }
    case "integer": {
      const n = typeof raw === "string" && fromText ? Number(raw.trim()) : raw;
      if (typeof n === "number" && Number.isInteger(n) && n >= 0) return n;
      if (typeof n === "bigint" && n >= 0n && n <= BigInt(Number.MAX_SAFE_INTEGER)) {
        return Number(n);
      }
      throw invalid(source, spec, `expected a whole number >= 0, got ${JSON.stringify(raw)}`);
    }
    case "list": {
      if (typeof raw === "string") return fromText ? raw.split(/\s+/).filter(Boolean) : [raw];
      if (Array.isArray(raw) && raw.every((x) => typeof x === "string")) return [...raw];
      throw invalid(source, spec, "expected a string or a list of strings");
    }
    case "enum":
    case "string": {
      if (typeof raw !== "string" || raw.trim() === "") {
        throw invalid(source, spec, `expected a non-empty string, got ${JSON.stringify(raw)}`);
      }
      if (spec.values && !spec.values.includes(raw)) {
        throw invalid(source, spec, `unknown value ${JSON.stringify(raw)}`);
      }
      return raw;
    }
  }
}

/** The nearest folder from `cwd` up that holds slimenv.toml or pyproject.toml. */
export function findProjectDir(cwd: string): string | undefined {
  let dir = path.resolve(cwd);
  for (;;) {
    if (
      existsSync(path.join(dir, "slimenv.toml")) ||
      existsSync(path.join(dir, "pyproject.toml"))
    ) {
      return dir;
    }
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

export function userConfigFile(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME ?? os.homedir(), ".config");
  return path.join(base, "slimenv", "slimenv.toml");
}

function readToml(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new SlimenvError("IO_ERROR", `cannot read ${file}`, { cause });
  }
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message.split("\n")[0] : String(cause);
    throw new SlimenvError("INVALID_CONFIG", `${file} is not valid TOML: ${msg}`, { cause });
  }
}

/** The settings table of one config file, checked for unknown keys. */
function tableOf(file: string, table: unknown, prefix: string): Record<string, unknown> {
  if (table === undefined) return {};
  if (typeof table !== "object" || table === null || Array.isArray(table)) {
    throw new SlimenvError(
      "INVALID_CONFIG",
      `${file}: ${prefix.replace(/\.$/, "") || "the file"} must be a table`,
    );
  }
  for (const key of Object.keys(table)) {
    if (!settingSpec(key)) {
      throw new SlimenvError("INVALID_CONFIG", `${file}: unknown setting ${prefix}${key}`, {
        hint: `known settings: ${SETTINGS.map((s) => s.key).join(", ")}`,
      });
    }
  }
  return table as Record<string, unknown>;
}

interface Layer {
  values: Record<string, unknown>;
  source: (key: string) => SettingSource;
}

export function resolveSettings(input: SettingsInput = {}): ResolvedSettings {
  const env = input.env ?? process.env;
  const cwd = input.cwd ?? process.cwd();
  const noConfig = input.noConfig === true || TRUE.has((env.SLIMENV_NO_CONFIG ?? "").toLowerCase());
  const layers: Layer[] = [];
  const files: string[] = [];

  const flags: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input.flags ?? {})) if (v !== undefined) flags[k] = v;
  layers.push({ values: flags, source: (key) => ({ kind: "flag", name: key }) });

  const fromEnv: Record<string, unknown> = {};
  for (const spec of SETTINGS) {
    const v = env[spec.env];
    if (v !== undefined && (v !== "" || spec.type === "boolean")) fromEnv[spec.key] = v;
  }
  layers.push({
    values: fromEnv,
    source: (key) => ({ kind: "env", name: settingSpec(key)?.env ?? key }),
  });

  const projectDir = noConfig ? undefined : findProjectDir(cwd);
  if (projectDir) {
    const own = path.join(projectDir, "slimenv.toml");
    if (existsSync(own)) {
      files.push(own);
      const values = tableOf(own, readToml(own), "");
      layers.push({ values, source: (key) => ({ kind: "file", path: own, key }) });
    }
    const pyproject = path.join(projectDir, "pyproject.toml");
    if (existsSync(pyproject)) {
      const tool = (readToml(pyproject).tool ?? {}) as Record<string, unknown>;
      if (tool.slimenv !== undefined) {
        files.push(pyproject);
        const values = tableOf(pyproject, tool.slimenv, "tool.slimenv.");
        layers.push({
          values,
          source: (key) => ({ kind: "file", path: pyproject, key: `tool.slimenv.${key}` }),
        });
      }
    }
  }
  const user = userConfigFile(env);
  if (!noConfig && existsSync(user)) {
    files.push(user);
    const values = tableOf(user, readToml(user), "");
    layers.push({ values, source: (key) => ({ kind: "file", path: user, key }) });
  }

  const values: Record<string, unknown> = {};
  const sources: Partial<Record<SettingKey, SettingSource>> = {};
  for (const spec of SETTINGS) {
    for (const layer of layers) {
      if (!(spec.key in layer.values)) continue;
      const source = layer.source(spec.key);
      values[spec.key] = coerce(spec, layer.values[spec.key], source);
      sources[spec.key] = source;
      break;
    }
  }
  return { values: values as Settings, sources, files, projectDir };
}
