/**
 * Every setting slimenv reads from flags, SLIMENV_* variables and config files, described
 * once: its type, its environment variable and its config key. Commands merge sources
 * through `resolveSettings` (load.ts) and never read the environment themselves.
 */

export type SettingType = "string" | "list" | "boolean" | "integer" | "enum";

export interface SettingSpec {
  /** Key in slimenv.toml and [tool.slimenv] (kebab-case). */
  key: string;
  type: SettingType;
  /** SLIMENV_* variable; lists in it are separated by whitespace. */
  env: string;
  /** Allowed values of an enum. */
  values?: readonly string[];
  description: string;
}

export const SETTINGS = [
  {
    key: "index-url",
    type: "string",
    env: "SLIMENV_INDEX_URL",
    description: "the primary package index (PEP 503/691 simple API)",
  },
  {
    key: "extra-index-url",
    type: "list",
    env: "SLIMENV_EXTRA_INDEX_URL",
    description: "more indexes, consulted after the primary one",
  },
  {
    key: "find-links",
    type: "list",
    env: "SLIMENV_FIND_LINKS",
    description: "folders of wheels or flat HTML pages of links",
  },
  {
    key: "index-strategy",
    type: "enum",
    env: "SLIMENV_INDEX_STRATEGY",
    values: ["first-index", "unsafe-best-match"],
    description: "first-index takes each name from the first index that has it",
  },
  {
    key: "offline",
    type: "boolean",
    env: "SLIMENV_OFFLINE",
    description: "use only the HTTP cache, never the network",
  },
  {
    key: "python",
    type: "string",
    env: "SLIMENV_PYTHON",
    description: "the interpreter request (3.11, cpython@3.12, a path)",
  },
  {
    key: "python-version",
    type: "string",
    env: "SLIMENV_PYTHON_VERSION",
    description: "target Python version of a spec target",
  },
  {
    key: "platform",
    type: "string",
    env: "SLIMENV_PLATFORM",
    description: "target platform tag of a spec target",
  },
  {
    key: "prerelease",
    type: "enum",
    env: "SLIMENV_PRERELEASE",
    values: ["if-necessary-or-explicit", "allow", "disallow"],
    description: "when pre-releases may be chosen",
  },
  {
    key: "resolution",
    type: "enum",
    env: "SLIMENV_RESOLUTION",
    values: ["highest", "lowest", "lowest-direct"],
    description: "which versions the resolver prefers",
  },
  {
    key: "only-binary",
    type: "list",
    env: "SLIMENV_ONLY_BINARY",
    description: "packages (or :all:) that must come as wheels",
  },
  {
    key: "no-binary",
    type: "list",
    env: "SLIMENV_NO_BINARY",
    description: "packages (or :all:) that must come as sdists",
  },
  {
    key: "build-flags",
    type: "enum",
    env: "SLIMENV_BUILD_FLAGS",
    values: ["default", "size", "debug"],
    description: "how sdists are compiled (docs/build.md)",
  },
  {
    key: "config-settings",
    type: "list",
    env: "SLIMENV_CONFIG_SETTINGS",
    description: "PEP 517 config settings KEY=VALUE for every build",
  },
  {
    key: "build-timeout",
    type: "integer",
    env: "SLIMENV_BUILD_TIMEOUT",
    description: "seconds before a build hook is killed",
  },
  {
    key: "concurrency",
    type: "integer",
    env: "SLIMENV_CONCURRENCY",
    description: "HTTP requests in flight at most",
  },
  {
    key: "retries",
    type: "integer",
    env: "SLIMENV_RETRIES",
    description: "retries of a failed HTTP request",
  },
  {
    key: "timeout",
    type: "integer",
    env: "SLIMENV_TIMEOUT",
    description: "seconds before one HTTP attempt times out",
  },
  {
    key: "ca-file",
    type: "list",
    env: "SLIMENV_CA_FILE",
    description: "extra PEM files of certificate authorities to trust",
  },
  {
    key: "slim-keep",
    type: "list",
    env: "SLIMENV_SLIM_KEEP",
    description: "globs of site-relative paths slimming always keeps (numpy/testing/**)",
  },
  {
    key: "slim-drop",
    type: "list",
    env: "SLIMENV_SLIM_DROP",
    description: "globs of site-relative paths slimming drops besides its rules",
  },
  {
    key: "slim-skip",
    type: "list",
    env: "SLIMENV_SLIM_SKIP",
    description: "packages slimming leaves exactly as their wheels have them",
  },
] as const satisfies readonly SettingSpec[];

export type SettingKey = (typeof SETTINGS)[number]["key"];

type ValueOf<T extends SettingType> = T extends "list"
  ? string[]
  : T extends "boolean"
    ? boolean
    : T extends "integer"
      ? number
      : string;

/** The merged settings: each key present only when some source gave it. */
export type Settings = {
  [S in (typeof SETTINGS)[number] as S["key"]]?: ValueOf<S["type"]>;
};

/** Where a setting's value came from, for `--verbose` and error messages. */
export type SettingSource =
  | { kind: "flag"; name: string }
  | { kind: "env"; name: string }
  | { kind: "file"; path: string; key: string };

export function settingSpec(key: string): SettingSpec | undefined {
  return SETTINGS.find((s) => s.key === key);
}
