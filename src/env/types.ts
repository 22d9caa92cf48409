/**
 * The env module's plain data: layouts, link modes, the plan an install follows and the
 * manifest every environment carries.
 */
import type { Reporter } from "../base/index.ts";
import type { InterpreterProbe } from "../python/probe-types.ts";
import type { Target } from "../python/target.ts";
import type { DerivedObject, DerivedOutput } from "../store/derived.ts";
import type { StoredWheel } from "../store/types.ts";

/** One file to create in the environment. */
export type PlannedFile =
  | {
      dest: string;
      kind: "object";
      hash: string;
      objectExec: boolean;
      exec: boolean;
      size: number;
      /** The file's path in the wheel (slim transforms match rules on it). */
      from?: string;
    }
  | { dest: string; kind: "bytes"; bytes: Uint8Array; exec: boolean };

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
  /**
   * A fresh work folder inside the store (same filesystem; a crash leaves it to be removed at
   * the next start). A store without it: the caller uses the system temp folder.
   */
  workDir?(label: string): Promise<string>;
  /** Remember that the env at `envPath` uses these wheels. */
  registerEnv(envPath: string, wheels: StoredWheel[], manifestPath: string): void;
  /** Derived-object cache (slim transforms); a store without it computes every time. */
  lookupDerived?(hash: string, exec: boolean, transform: string): DerivedObject | undefined;
  storeDerived?(
    hash: string,
    exec: boolean,
    transform: string,
    output: DerivedOutput,
    outExec?: boolean,
  ): Promise<DerivedObject>;
}

/** One wheel's planned files, as a slim transform sees them. */
export interface SlimPackageInput {
  wheel: StoredWheel;
  /** The site dir (relative to the root) the wheel's importable files go to. */
  siteDir: string;
  files: PlannedFile[];
}

export interface SlimContext {
  store: EnvStore;
  target: Target;
  layout: LayoutKind;
  scheme: SchemePaths;
  reporter: Reporter;
}

/** What the manifest records about the slimming of an environment. */
export interface SlimRecord {
  /** Fingerprint of the policy: an env with the same wheels and id needs no rebuild. */
  id: string;
  /** The policy, as plain data. */
  policy: unknown;
  /** Per-package figures and decisions (plain data). */
  summary?: unknown;
}

export interface SlimResult {
  /** Per package, in input order: the files it installs now (kept, replaced, added). */
  files: PlannedFile[][];
  /** Files of the environment owned by no package (hooks, archives). */
  envFiles: PlannedFile[];
  record: SlimRecord;
}

/**
 * A transform applied at materialization (implemented in src/slim): per file keep, drop or
 * replace by a derived object; generated files added. Never edits the store's objects.
 */
export interface SlimTransform {
  readonly id: string;
  apply(packages: SlimPackageInput[], context: SlimContext): Promise<SlimResult>;
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
  /** Slimming applied while the tree is built (link mode pth is refused with it). */
  slim?: SlimTransform;
  /**
   * Canonical names of distributions whose files are writable copies (0644/0755) whatever
   * the link mode: files a user may edit in place without touching the store.
   */
  copyPackages?: string[];
  /** Distributions slimenv built from source for this env, and how. */
  built?: BuiltRecord[];
}

/** How a distribution of the env was built from its sdist (the env manifest keeps it). */
export interface BuiltRecord {
  name: string;
  version: string;
  /** sha256 of the sdist. */
  sdist: string;
  /** sha256 of the built wheel in the store. */
  wheel: string;
  /** `--build-flags`: size, default or debug. */
  flags: string;
  configSettings?: Record<string, string | string[]>;
  useSystemLibs?: boolean;
  /**
   * Config settings slimenv added for this package by name: the size profile's per-package
   * options and `--use-system-libs`' (before the user's `configSettings`, which win).
   */
  packageSettings?: Record<string, string | string[]>;
  /**
   * The compilers (`--version` first lines) and system libraries (pkg-config versions) the
   * build used: part of its key, so a changed compiler builds again.
   */
  toolchain?: { compilers: Record<string, string>; systemLibs: Record<string, string> };
  /** False when the store already held the wheel (nothing was compiled for this env). */
  compiled: boolean;
  /** The build's inputs id (the store's derived-object transform). */
  transform: string;
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
    /** A spec target: the spec it was built from (python version, platform tag, implementation). */
    spec?: { pythonVersion: string; platform: string; implementation?: string };
    /** Platform tags the target accepts, most preferred first. */
    platforms?: string[];
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
  /** The slim policy applied, when one was. */
  slim?: SlimRecord;
  /** Distributions placed as writable copies ({@link EnvPlan.copyPackages}), when any. */
  copyPackages?: string[];
  /** Distributions built from source, with their build flags, when any. */
  built?: BuiltRecord[];
}
