import { mkdir } from "node:fs/promises";
/**
 * The global store: content-addressed, read-only objects (one per distinct file content and
 * executable bit), the wheels made of them, and the envs that use them, indexed in SQLite.
 * Many processes may use one store at once. See docs/store.md.
 */
import { type Reporter, silentReporter } from "../base/index.ts";
import type { HttpClient } from "../index/http.ts";
import { lookupBuiltWheel, recordBuiltWheel } from "./built.ts";
import { flushPending, readWheel, type StoreCore, touchWheels } from "./core.ts";
import {
  type DerivedObject,
  type DerivedOutput,
  derive,
  lookupDerived,
  storeDerived,
} from "./derived.ts";
import { registerEnv, unregisterEnv } from "./envs.ts";
import { cleanTemp, makeLayout, objectFile, storePaths, storeRoot, tempName } from "./paths.ts";
import { type PruneOptions, prune } from "./prune.ts";
import { openIndex } from "./schema.ts";
import { storeStatus } from "./status.ts";
import { wheelTree } from "./trees.ts";
import {
  DEFAULT_WHEEL_LIMITS,
  type PruneReport,
  type StoredWheel,
  type StoreStatus,
  type VerifyReport,
  type WheelLimits,
} from "./types.ts";
import { defaultUnpackThreads } from "./unpack-pool.ts";
import { verifyStore } from "./verify.ts";
import { type ImportOptions, importWheel, type WheelSource } from "./wheel-import.ts";

/** Orphan objects (not in the index) younger than this are left alone: an import may own them. */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;

export interface StoreOpenOptions {
  /** The store directory; default `$SLIMENV_HOME/store/v1` (else the XDG cache dir). */
  root?: string;
  /** Where SLIMENV_HOME / XDG_CACHE_HOME / HOME are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  reporter?: Reporter;
  /** Zip-bomb limits (defaults: DEFAULT_WHEEL_LIMITS). */
  limits?: Partial<WheelLimits>;
  /** fsync each new object before linking it (default false: kill-safe, not power-loss-safe). */
  fsync?: boolean;
  /**
   * Worker threads that unpack wheels (default: the available cores; 0 unpacks on the
   * calling thread).
   */
  unpackThreads?: number;
  /** Orphan grace period in ms (default ORPHAN_GRACE_MS). */
  orphanGraceMs?: number;
  /** Clock for last-use times (tests). */
  now?: () => number;
}

export class Store {
  readonly root: string;
  readonly #core: StoreCore;
  readonly #orphanGraceMs: number;

  private constructor(core: StoreCore, orphanGraceMs: number) {
    this.root = core.paths.root;
    this.#core = core;
    this.#orphanGraceMs = orphanGraceMs;
  }

  /** Open (creating if needed) a store; removes temp files that dead processes left. */
  static open(options: StoreOpenOptions = {}): Store {
    const paths = storePaths(storeRoot(options.root, options.env ?? process.env));
    makeLayout(paths);
    const db = openIndex(paths.db);
    cleanTemp(paths);
    const core: StoreCore = {
      paths,
      db,
      reporter: options.reporter ?? silentReporter,
      limits: { ...DEFAULT_WHEEL_LIMITS, ...options.limits },
      fsync: options.fsync ?? false,
      unpackThreads: options.unpackThreads ?? defaultUnpackThreads(),
      pending: { used: new Set(), urls: new Map() },
      now: options.now ?? Date.now,
    };
    return new Store(core, options.orphanGraceMs ?? ORPHAN_GRACE_MS);
  }

  /**
   * Import a wheel: verified completely before any object or row becomes visible; refused
   * with HOSTILE_WHEEL (or HASH_MISMATCH against `sha256`). Importing it again is a no-op.
   */
  importWheel(source: WheelSource, options: ImportOptions): Promise<StoredWheel> {
    return importWheel(this.#core, source, options);
  }

  /** The stored wheel with this sha256 (marks it used). */
  findWheel(sha256: string): StoredWheel | undefined {
    const wheel = readWheel(this.#core, sha256.toLowerCase());
    if (wheel !== undefined) touchWheels(this.#core, [wheel.sha256]);
    return wheel;
  }

  /**
   * Remember where a stored wheel can be downloaded again (for repair), if not known yet
   * (written with the other bookkeeping, in one transaction: see flushPending).
   */
  rememberUrl(sha256: string, url: string): void {
    const sha = sha256.toLowerCase();
    if (!this.#core.pending.urls.has(sha)) this.#core.pending.urls.set(sha, url);
  }

  /**
   * A fresh work folder under the store's tmp/ (`<pid>-<host>-<random>-<label>`): on the
   * store's filesystem, and removed by the next Store.open once this process is gone, however
   * it ended. The caller removes it when done.
   */
  async workDir(label: string): Promise<string> {
    const dir = tempName(this.#core.paths, `-${label.replace(/[^a-z0-9]/gi, "")}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  objectPath(hash: string, exec: boolean): string {
    return objectFile(this.#core.paths, hash, exec);
  }

  /**
   * The output of `transform` (an id naming the transform and everything its output depends
   * on) on the object (hash, exec): cached, else produced from the object's path and stored
   * as a derived object. See derived.ts.
   */
  derive(
    hash: string,
    exec: boolean,
    transform: string,
    produce: (inputPath: string) => Promise<DerivedOutput>,
    outExec?: boolean,
  ): Promise<DerivedObject & { cached: boolean }> {
    return derive(this.#core, hash, exec, transform, produce, outExec);
  }

  /** The cached output of `transform` on (hash, exec), if any (no production). */
  lookupDerived(hash: string, exec: boolean, transform: string): DerivedObject | undefined {
    return lookupDerived(this.#core, hash, exec, transform);
  }

  /** Record `output` as the result of `transform` on (hash, exec) (batch producers). */
  storeDerived(
    hash: string,
    exec: boolean,
    transform: string,
    output: DerivedOutput,
    outExec?: boolean,
  ): Promise<DerivedObject> {
    return storeDerived(this.#core, hash, exec, transform, output, outExec);
  }

  /**
   * The wheel built from the sdist `sdistSha256` with the inputs `transform` names (see
   * built.ts), if the store still holds it (marks it used).
   */
  lookupBuiltWheel(sdistSha256: string, transform: string): StoredWheel | undefined {
    return lookupBuiltWheel(this.#core, sdistSha256, transform);
  }

  /** Record the stored wheel `wheelSha256` as the build of `sdistSha256` with `transform`. */
  recordBuiltWheel(sdistSha256: string, transform: string, wheelSha256: string): void {
    recordBuiltWheel(this.#core, sdistSha256, transform, wheelSha256);
  }

  /** trees/<sha256>/: the wheel's files as hard links, made on demand (link mode pth). */
  wheelTree(wheel: StoredWheel): Promise<string> {
    return wheelTree(this.#core, wheel);
  }

  /** Record that the env at `envPath` (manifest at `manifestPath`) uses `wheels`. */
  registerEnv(envPath: string, wheels: StoredWheel[], manifestPath: string): void {
    flushPending(this.#core);
    registerEnv(this.#core, envPath, wheels, manifestPath);
  }

  unregisterEnv(envPath: string): void {
    flushPending(this.#core);
    unregisterEnv(this.#core, envPath);
  }

  status(): StoreStatus {
    flushPending(this.#core);
    return storeStatus(this.#core);
  }

  verify(options: { repair?: boolean; client?: HttpClient } = {}): Promise<VerifyReport> {
    flushPending(this.#core);
    return verifyStore(this.#core, options, this.#orphanGraceMs);
  }

  prune(options: PruneOptions = {}): PruneReport {
    flushPending(this.#core);
    return prune(this.#core, options, this.#orphanGraceMs);
  }

  close(): void {
    if (!this.#core.db.isOpen) return;
    try {
      flushPending(this.#core);
    } finally {
      this.#core.db.close();
    }
  }
}
