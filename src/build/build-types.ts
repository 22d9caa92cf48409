/** What a build is asked (the sdist, the options) and what it gives back. */
import type { Reporter } from "../base/index.ts";
import type { HttpClient } from "../index/http.ts";
import type { Target } from "../python/target.ts";
import type { LockSettings } from "../resolve/lock-settings.ts";
import type { Store } from "../store/store.ts";
import type { StoredWheel } from "../store/types.ts";
import type { BuildFlagProfile, ConfigSettings } from "./flags.ts";
import type { Toolchain } from "./toolchain.ts";

/** Where the sdist comes from: a URL or a file, with the lock's sha256. */
export interface SdistSource {
  name: string;
  version: string;
  filename: string;
  sha256: string;
  url?: string;
  path?: string;
  size?: number;
}

export interface BuildOptions {
  store: Store;
  client: HttpClient;
  /** The interpreter that builds (the target's). */
  python: string;
  target: Target;
  /** Index settings, for locking build requirements. */
  settings: LockSettings;
  withCredentials: (url: string) => string;
  reporter: Reporter;
  flags?: BuildFlagProfile;
  configSettings?: ConfigSettings;
  useSystemLibs?: boolean;
  /** false: `--no-build-isolation`, the backend comes from `pythonPath` / the interpreter. */
  isolation?: boolean;
  /** With isolation off: site folders of the target env put on the build's path. */
  envSitePaths?: string[];
  /** Per hook (default 1800 s). */
  timeoutMs?: number;
  /** Where failed builds' logs are kept (default `$SLIMENV_HOME/build-logs`). */
  logDir?: string;
  /** Where build envs live (default beside the store: `<store>/../build-envs`). */
  envRoot?: string;
  env?: NodeJS.ProcessEnv;
}

export interface BuiltWheel {
  wheel: StoredWheel;
  /** True when the store already held it (nothing was built). */
  cached: boolean;
  /** Seconds the build took (0 when cached). */
  seconds: number;
  /** The build inputs' id (the derived object's transform). */
  transform: string;
  /** Config settings slimenv added for this package by name (see flags.ts). */
  packageSettings: ConfigSettings;
  /** The compilers and system libraries the build used (part of its key). */
  toolchain: Toolchain;
}

export const DEFAULT_BUILD_TIMEOUT_MS = 1800 * 1000;
