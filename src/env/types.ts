/**
 * The env module's plain data: layouts, link modes, the plan an install follows and the
 * manifest every environment carries.
 */
import type { InterpreterProbe } from "../python/probe-types.ts";
import type { Target } from "../python/target.ts";
import type { StoredWheel } from "../store/types.ts";

/** Where and how an environment is laid out. */
export type Layout =
  | { kind: "prefix"; dir: string }
  | { kind: "target"; dir: string }
  | { kind: "venv"; dir: string };

export type LayoutKind = Layout["kind"];

/** How files get from the store into an environment. */
export type LinkMode = "auto" | "clone" | "hardlink" | "copy" | "symlink" | "pth";

/** What a materialization actually did for files (auto resolved, fallbacks applied). */
export type EffectiveLinkMode = "clone" | "hardlink" | "copy" | "symlink";

export const LINK_MODES: readonly LinkMode[] = [
  "auto",
  "clone",
  "hardlink",
  "copy",
  "symlink",
  "pth",
];

/**
 * The part of the store an environment needs. `Store` from src/store satisfies it; tests
 * may pass a small fake.
 */
export interface EnvStore {
  /** Path of an object file: its bytes hash to `hash`; `exec` picks the executable twin. */
  objectPath(hash: string, exec: boolean): string;
  /** A directory holding the wheel's files unpacked (for link mode `pth`). */
  wheelTree(wheel: StoredWheel): Promise<string>;
  /** Remember that the env at `envPath` uses these wheels. */
  registerEnv(envPath: string, wheels: StoredWheel[], manifestPath: string): void;
}

/** Everything {@link materialize} needs to build an environment. */
export interface EnvPlan {
  layout: Layout;
  target: Target;
  /** The interpreter the env runs on. Required for venv; gives the scheme paths when present. */
  probe?: InterpreterProbe;
  wheels: StoredWheel[];
  /** Canonical names of the directly requested distributions (they get REQUESTED). */
  requested: string[];
  linkMode: LinkMode;
  /** The command launchers run (default `python3.X` of the target). */
  interpreterCommand?: string;
  /** Hide the system site-packages (prefix layout). */
  isolated?: boolean;
  lock?: { path?: string; sha256: string };
}

/** Paths of an install scheme, relative to the environment's root ("" is the root itself). */
export interface SchemePaths {
  purelib: string;
  platlib: string;
  scripts: string;
  /** Headers of a distribution go to `<headers>/<project name>`. */
  headers: string;
  data: string;
}

/** One file in the environment, as the manifest lists it. */
export interface ManifestFile {
  /** Relative to the environment's root, `/`-separated. */
  path: string;
  /** Hex sha256 of the bytes. */
  hash: string;
  exec: boolean;
  size: number;
}

export interface ManifestPackage {
  /** Canonical name. */
  name: string;
  version: string;
  /** sha256 of the wheel in the store. */
  wheel: string;
  filename: string;
  requested: boolean;
  /** Link mode `pth`: the store tree the package's `.pth` points at. */
  tree?: string;
  files: ManifestFile[];
}

/** The record each environment carries in `DIR/.slimenv/manifest.json`. */
export interface EnvManifest {
  version: 1;
  layout: LayoutKind;
  /** Generation number (prefix, venv); 0 for the target layout. */
  generation: number;
  target: {
    implementation: string;
    pythonVersion: [number, number, number];
    os: string;
    arch: string;
    tags: string[];
    source: "probe" | "spec";
  };
  /** The interpreter a probe found, when one was used. */
  interpreter?: string;
  linkMode: LinkMode;
  /** What files were actually linked with (auto resolved, fallbacks applied). */
  effectiveLinkMode: EffectiveLinkMode;
  interpreterCommand: string;
  isolated: boolean;
  /** The scheme, relative to the root. */
  scheme: SchemePaths;
  packages: ManifestPackage[];
  /** Files that belong to the environment, not to a distribution (launchers, pyvenv.cfg…). */
  envFiles: ManifestFile[];
  createdAt: string;
  lock?: { path?: string; sha256: string };
}
