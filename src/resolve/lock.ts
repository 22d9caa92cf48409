/**
 * `lock`: inputs in, a PEP 751 lock for one Target out. Resolves against the indexes, then
 * writes every chosen package with the target's files of its version. The text is
 * deterministic: the same inputs and index answers give the same bytes.
 */
import { isSlimenvError, type Reporter, SlimenvError, silentReporter } from "../base/index.ts";
import type { HttpClient } from "../index/http.ts";
import { IndexSet } from "../index/indexes.ts";
import { CredentialStore } from "../index/source-url.ts";
import type { Target } from "../python/target.ts";
import type { Pylock } from "../standards/pylock-types.ts";
import { PYLOCK_VERSION } from "../standards/pylock-types.ts";
import { writePylock } from "../standards/pylock-write.ts";
import { Version } from "../standards/version.ts";
import { unavailableReasons } from "./incompatibility.ts";
import { IndexProvider, type SdistMetadataBuilder } from "./index-provider.ts";
import type { LockInputs } from "./lock-inputs.ts";
import { packageEntry } from "./lock-packages.ts";
import type { LockSettings } from "./lock-settings.ts";
import {
  environmentMarker,
  inputsFingerprint,
  type LockTargetInfo,
  lockRequiresPython,
  targetTable,
} from "./lock-target.ts";
import { resolve } from "./resolve.ts";
import { SolveFailure } from "./solver.ts";
import type { Resolution } from "./types.ts";

export interface LockOptions {
  target: Target;
  /** How the target was chosen (a spec, or an interpreter). */
  targetInfo: LockTargetInfo;
  settings: LockSettings;
  client: HttpClient;
  /** The folder the lock will be written to: local files are recorded relative to it. */
  lockDir: string;
  /** An existing lock: its versions are kept where still allowed (minimal change). */
  previous?: Pylock;
  /** true: ignore the previous lock's versions; a set: ignore them for these names. */
  upgrade?: boolean | Set<string>;
  reporter?: Reporter;
  /** Metadata requests in flight at once (default 16). */
  concurrency?: number;
  /** Builds the metadata of sdists whose PKG-INFO is not reliable (else BUILD_REQUIRED). */
  sdistMetadata?: SdistMetadataBuilder;
}

export interface LockResult {
  pylock: Pylock;
  text: string;
  resolution: Resolution;
  /** sha256 of the normalized inputs (also in `[tool.slimenv]`). */
  fingerprint: string;
}

/** The versions of an existing lock, by name. */
export function lockPreferences(lock: Pylock | undefined): Map<string, Version> {
  const out = new Map<string, Version>();
  for (const pkg of lock?.packages ?? []) {
    if (pkg.version === undefined) continue;
    try {
      out.set(pkg.name, new Version(pkg.version));
    } catch {
      // A version slimenv cannot read is no preference.
    }
  }
  return out;
}

/**
 * A failed resolution whose explanation involves versions left out: BUILD_REQUIRED when some were
 * left out for want of a build (the first named, the explanation kept as detail); a hint
 * naming the versions whose metadata could not be read.
 */
function explainLeftOut(err: unknown, provider: IndexProvider): unknown {
  if (!isSlimenvError(err, "NO_SOLUTION") || !(err.cause instanceof SolveFailure)) return err;
  const leftOut = provider.leftOut(unavailableReasons(err.cause.incompatibility));
  const [first, ...more] = leftOut.buildRequired;
  if (first !== undefined) {
    const others = more.length === 0 ? "" : ` (and ${more.length} more version(s) like it)`;
    return new SlimenvError("BUILD_REQUIRED", `${first.message}${others}`, {
      ...(err.detail === undefined ? {} : { detail: err.detail }),
      ...(first.hint === undefined ? {} : { hint: first.hint }),
      cause: err,
    });
  }
  const unreadable = leftOut.unreadable;
  if (unreadable.length === 0) return err;
  const shown = unreadable.slice(0, 3).join("; ");
  const rest = unreadable.length > 3 ? ` (and ${unreadable.length - 3} more)` : "";
  return new SlimenvError("NO_SOLUTION", err.message, {
    ...(err.detail === undefined ? {} : { detail: err.detail }),
    hint: `versions with unreadable metadata were left out: ${shown}${rest}`,
    cause: err,
  });
}

export async function lock(inputs: LockInputs, options: LockOptions): Promise<LockResult> {
  const reporter = options.reporter ?? silentReporter;
  const { target, settings } = options;
  const python = new Version(target.markerEnvironment.python_full_version);
  if (
    inputs.requiresPython !== undefined &&
    !inputs.requiresPython.contains(python, { prereleases: true })
  ) {
    throw new SlimenvError(
      "INVALID_TARGET",
      `the project requires Python ${inputs.requiresPython.toString()}, and the target is Python ${python.toString()}`,
      { hint: "choose another target with --python or --python-version" },
    );
  }
  const index = new IndexSet({
    client: options.client,
    indexUrls: settings.indexUrls,
    findLinks: settings.findLinks,
    strategy: settings.strategy,
    reporter,
  });
  const provider = new IndexProvider({
    index,
    target,
    client: options.client,
    format: { onlyBinary: settings.onlyBinary, noBinary: settings.noBinary },
    requiredHashes: inputs.hashes,
    reporter,
    ...(options.sdistMetadata === undefined ? {} : { sdistMetadata: options.sdistMetadata }),
  });
  const started = performance.now();
  const resolution = await resolve(inputs.requirements, {
    provider,
    environment: target.markerEnvironment,
    pythonVersion: python,
    prereleases: settings.prerelease,
    strategy: settings.resolution,
    preferences: lockPreferences(options.previous),
    upgrade: options.upgrade ?? false,
    constraints: inputs.constraints,
    reporter,
    concurrency: options.concurrency ?? 16,
  }).catch((err: unknown) => {
    throw explainLeftOut(err, provider);
  });
  reporter.log(
    "info",
    `Resolved ${resolution.packages.length} packages in ${((performance.now() - started) / 1000).toFixed(2)}s`,
  );
  const credentials = new CredentialStore();
  for (const url of settings.indexUrls) credentials.add(url);
  const ctx = {
    provider,
    client: options.client,
    indexUrls: index.indexUrls,
    lockDir: options.lockDir,
    withCredentials: (url: string) => credentials.apply(url),
  };
  const packages = await Promise.all(resolution.packages.map((p) => packageEntry(p, ctx)));
  const fingerprint = inputsFingerprint(inputs, settings, options.lockDir);
  const pylock: Pylock = {
    lockVersion: PYLOCK_VERSION,
    environments: [environmentMarker(target, options.targetInfo)],
    requiresPython: lockRequiresPython(target, options.targetInfo),
    createdBy: "slimenv",
    packages,
    tool: {
      slimenv: {
        "inputs-sha256": fingerprint,
        target: targetTable(target, options.targetInfo),
      },
    },
  };
  // The extras and groups asked for are resolved in: every package applies, so the lock
  // does not declare PEP 751 `extras` / `dependency-groups` for installers to choose from.
  const tool = pylock.tool?.slimenv as Record<string, unknown>;
  if (inputs.extras.length > 0) tool.extras = inputs.extras;
  if (inputs.groups.length > 0) tool.groups = inputs.groups;
  return { pylock, text: writePylock(pylock), resolution, fingerprint };
}
