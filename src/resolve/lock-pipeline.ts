/**
 * The one lock pipeline that `lock`, `install` and `sync` share: the previous lock, the
 * target (and what the lock records of it), the HTTP client, the inputs and the merged
 * settings, then the resolution. Each command adds only its own ends: `lock` picks default
 * inputs and writes or checks the file, `install` turns the lock into a plan, `sync` reads a
 * lock it is given.
 */
import { readFileSync } from "node:fs";
import { isSlimenvError, type Reporter, SlimenvError } from "../base/index.ts";
import type { HttpClient } from "../index/http.ts";
import { clientFromSettings } from "../index/http-from-settings.ts";
import { CredentialStore } from "../index/source-url.ts";
import type { FoundInterpreter } from "../python/discover.ts";
import { resolveTarget, type TargetSelection } from "../python/resolve-target.ts";
import type { Target } from "../python/target.ts";
import type { ResolvedSettings } from "../settings/load.ts";
import { readPylock } from "../standards/pylock-read.ts";
import type { Pylock } from "../standards/pylock-types.ts";
import type { SdistMetadataBuilder } from "./index-provider.ts";
import { type LockResult, lock } from "./lock.ts";
import { type LockInputs, type ReadLockInputsOptions, readLockInputs } from "./lock-inputs.ts";
import { type LockSettings, lockSettings } from "./lock-settings.ts";
import type { LockTargetInfo } from "./lock-target.ts";

/** The text of `file`, undefined when it does not exist; IO_ERROR when it cannot be read. */
export function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new SlimenvError("IO_ERROR", `cannot read ${file}`, { cause: err });
  }
}

/** Read a pylock.toml that must exist; IO_ERROR when it cannot be read. */
export function readLockFile(file: string, shown: string): { lock: Pylock; text: string } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new SlimenvError("IO_ERROR", `cannot read ${shown}: ${(cause as Error).message}`, {
      cause,
      hint: "create it with slimenv lock",
    });
  }
  return { lock: readPylock(text, { file: shown }), text };
}

/**
 * The lock already at `file` (named `shown` in messages), to prefer its versions: nothing
 * when there is none; one that does not parse is ignored with a warning, or thrown when
 * `strict` (a check must not compare with a lock it cannot read).
 */
export function readPreviousLock(
  file: string,
  shown: string,
  reporter: Reporter,
  strict = false,
): { text?: string; previous?: Pylock } {
  const text = readIfExists(file);
  if (text === undefined) return {};
  try {
    return { text, previous: readPylock(text, { file: shown }) };
  } catch (err) {
    if (strict || !isSlimenvError(err)) throw err;
    reporter.log("warn", `ignoring the existing ${shown}: ${err.message}`);
    return { text };
  }
}

export interface LockContextRequest {
  cwd: string;
  env: NodeJS.ProcessEnv;
  settings: ResolvedSettings;
  selection: TargetSelection;
  userAgent: string;
  reporter: Reporter;
  /** HTTP cache folder (default cacheDir("http")); null: no cache. */
  httpCacheDir?: string | null | undefined;
}

/** The target and the HTTP client a lock is made with; the caller closes the client. */
export interface LockContext {
  target: Target;
  /** The interpreter probed for the target (interpreter selections only). */
  interpreter?: FoundInterpreter;
  /** What the lock records of how the target was chosen. */
  targetInfo: LockTargetInfo;
  client: HttpClient;
}

/** Find the target (probing an interpreter when one is selected) and open the HTTP client. */
export async function openLockContext(request: LockContextRequest): Promise<LockContext> {
  const { reporter } = request;
  const { target, interpreter } = await resolveTarget(request.selection, {
    env: request.env,
    reporter,
    cwd: request.cwd,
  });
  const targetInfo: LockTargetInfo =
    request.selection.kind === "spec"
      ? { kind: "spec", spec: request.selection.spec }
      : { kind: "interpreter" };
  const client = clientFromSettings(request.settings, {
    env: request.env,
    userAgent: request.userAgent,
    reporter,
    httpCacheDir: request.httpCacheDir,
  });
  return { target, ...(interpreter === undefined ? {} : { interpreter }), targetInfo, client };
}

/** The inputs read (warnings reported) and their options merged into the settings. */
export interface PreparedInputs {
  inputs: LockInputs;
  settings: LockSettings;
  /** Resolver concurrency from the settings, when set. */
  concurrency?: number;
}

/** Read the inputs (warnings reported) and merge their file options into the settings. */
export function prepareLockInputs(
  chosen: ReadLockInputsOptions,
  options: { cwd: string; settings: ResolvedSettings; reporter: Reporter },
): PreparedInputs {
  const inputs = readLockInputs({ ...chosen, cwd: options.cwd });
  for (const w of inputs.warnings) options.reporter.log("warn", w);
  const settings = lockSettings(options.settings, inputs.fileOptions, options.cwd);
  const { concurrency } = options.settings.values;
  return { inputs, settings, ...(concurrency === undefined ? {} : { concurrency }) };
}

export interface LockPreparedOptions {
  context: LockContext;
  /** The lock file's folder: relative paths in the lock are relative to it. */
  lockDir: string;
  previous?: Pylock | undefined;
  upgrade?: boolean | Set<string>;
  reporter: Reporter;
  /** Builds the metadata of sdists whose PKG-INFO is not reliable (src/build supplies it). */
  sdistMetadata?: SdistMetadataBuilder;
}

/** Resolve prepared inputs for the context's target into a lock. */
export function lockPrepared(
  prepared: PreparedInputs,
  options: LockPreparedOptions,
): Promise<LockResult> {
  const { context } = options;
  return lock(prepared.inputs, {
    target: context.target,
    targetInfo: context.targetInfo,
    settings: prepared.settings,
    client: context.client,
    lockDir: options.lockDir,
    ...(options.previous === undefined ? {} : { previous: options.previous }),
    ...(options.upgrade === undefined ? {} : { upgrade: options.upgrade }),
    reporter: options.reporter,
    ...(prepared.concurrency === undefined ? {} : { concurrency: prepared.concurrency }),
    ...(options.sdistMetadata === undefined ? {} : { sdistMetadata: options.sdistMetadata }),
  });
}

/** The index settings (without any requirements file's options): for locking build requirements. */
export function indexSettingsOf(settings: ResolvedSettings, cwd: string): LockSettings {
  return lockSettings(
    settings,
    { extraIndexUrls: [], findLinks: [], noIndex: false, onlyBinary: [], noBinary: [], pre: false },
    cwd,
  );
}

/** Credentials of the configured indexes, to put back into the lock's (clean) URLs. */
export function credentialsOf(settings: ResolvedSettings, cwd: string): CredentialStore {
  const credentials = new CredentialStore();
  const merged = lockSettings(
    settings,
    { extraIndexUrls: [], findLinks: [], noIndex: false, onlyBinary: [], noBinary: [], pre: false },
    cwd,
  );
  for (const url of merged.indexUrls) credentials.add(url);
  return credentials;
}
