/**
 * `install`: inputs in (a lock used as is, or requirements locked for the environment's
 * target first, or local wheels), an environment out. Everything that can be checked is
 * checked before the store or the environment is touched: the directory, the target, the
 * inputs, the lock's target, a wheel for every package. Then every wheel is fetched into the
 * store and the environment is materialized (a new generation switched in atomically).
 */
import path from "node:path";
import { type Reporter, SlimenvError, silentReporter, writeFileAtomicSync } from "../base/index.ts";
import type { TargetSelection } from "../python/resolve-target.ts";
import type { Target } from "../python/target.ts";
import { credentialsOf, openLockContext, readLockFile } from "../resolve/lock-pipeline.ts";
import { selectionFromLock } from "../resolve/lock-target.ts";
import type { ResolvedSettings } from "../settings/load.ts";
import { canonicalizeName } from "../standards/names.ts";
import { applyPlan } from "./apply.ts";
import type { EnvChanges } from "./changes.ts";
import { checkDestination } from "./destination.ts";
import type { InstallInputs } from "./install-inputs.ts";
import { planInstall } from "./install-plan.ts";
import { existingEnv, refuseForeign } from "./manifest.ts";
import type { MaterializeOptions } from "./materialize.ts";
import {
  type EnvManifest,
  type Layout,
  LINK_MODES,
  type LinkMode,
  type SlimTransform,
} from "./types.ts";

export interface InstallRequest {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Merged settings (flags, SLIMENV_*, config files): indexes, offline, HTTP options. */
  settings: ResolvedSettings;
  /** The target: a probed interpreter (required for venv) or a spec (prefix, target). */
  selection: TargetSelection;
  /**
   * The selection is only the default (no target option or setting given): a lock installed
   * keeps the target it records, and an existing environment keeps the one it was built for.
   */
  lockTargetWins?: boolean;
  layout: Layout;
  inputs: InstallInputs;
  /** Install only what was named: no dependencies (local wheels are not locked at all). */
  noDeps?: boolean;
  /** Write the lock made from requirements here (after the install succeeded). */
  lockOut?: string;
  linkMode?: LinkMode;
  isolated?: boolean;
  /** Distributions placed as writable copies in any link mode (`--copy-package`). */
  copyPackages?: string[];
  interpreterCommand?: string;
  userAgent: string;
  reporter?: Reporter;
  /** The store directory (default `$SLIMENV_HOME/store/v1`). */
  storeRoot?: string;
  /** HTTP cache folder (default cacheDir("http")); null: no cache. */
  httpCacheDir?: string | null;
  /**
   * Rebuild the env even when it already holds exactly this: every file is placed from the
   * store again (after `store verify --repair`, an env file edited in place is replaced).
   */
  reinstall?: boolean;
  /** Slimming applied at materialization (src/slim builds it). */
  slim?: SlimTransform;
  /** Reviews each candidate tree before it is switched in (src/slim: the import check). */
  review?: MaterializeOptions["review"];
}

export interface InstallResult {
  dir: string;
  layout: Layout["kind"];
  target: Target;
  manifest: EnvManifest;
  changes: EnvChanges;
  /** False when the environment already held exactly this (nothing was rebuilt). */
  rebuilt: boolean;
  /** The lock file written (`lockOut`). */
  lockWritten?: string;
}

/**
 * The target kept when none is chosen: the one a lock being installed records, else the one an
 * existing environment was built for (its spec, or its interpreter).
 */
function keptSelection(
  request: InstallRequest,
  before: EnvManifest | undefined,
): TargetSelection | undefined {
  if (request.inputs.lockFile !== undefined) {
    const file = path.resolve(request.cwd, request.inputs.lockFile);
    return selectionFromLock(readLockFile(file, request.inputs.lockFile).lock);
  }
  if (before === undefined) return undefined;
  if (before.target.spec !== undefined) return { kind: "spec", spec: before.target.spec };
  if (before.target.source === "probe" && before.interpreter !== undefined) {
    return { kind: "interpreter", request: before.interpreter };
  }
  return undefined;
}

/** Install into a prefix, target or venv directory. See the module comment. */
export async function install(request: InstallRequest): Promise<InstallResult> {
  const reporter = request.reporter ?? silentReporter;
  const dir = path.resolve(request.cwd, request.layout.dir);
  const layout = { kind: request.layout.kind, dir } as Layout;
  const linkMode = request.linkMode ?? "auto";
  if (!LINK_MODES.includes(linkMode)) {
    throw new SlimenvError("INVALID_OPTION", `unknown link mode ${JSON.stringify(linkMode)}`, {
      hint: `use one of ${LINK_MODES.join(", ")}`,
    });
  }
  checkDestination(dir, request.layout.dir);
  const before = existingEnv(layout.dir, layout.kind);
  if (before !== undefined) refuseForeign(layout.dir, before, "install");
  const kept = request.lockTargetWins === true ? keptSelection(request, before) : undefined;
  // A venv needs a real interpreter: a lock's spec target is checked against it instead.
  const selection =
    kept === undefined || (layout.kind === "venv" && kept.kind === "spec")
      ? request.selection
      : kept;
  if (layout.kind === "venv" && selection.kind === "spec") {
    throw new SlimenvError(
      "INVALID_OPTION",
      "a venv links a real interpreter: it cannot be made for --python-version/--platform",
      {
        hint: "pass --python (or nothing, for the default interpreter), or use --prefix / --target",
      },
    );
  }
  const context = await openLockContext({ ...request, selection, reporter });
  const { target, interpreter, client } = context;
  try {
    const planned = await planInstall({ ...request, before }, context, reporter);
    const names = new Set(planned.choices.map((c) => canonicalizeName(c.name)));
    const stranger = (request.copyPackages ?? []).find((n) => !names.has(canonicalizeName(n)));
    if (stranger !== undefined) {
      throw new SlimenvError(
        "INVALID_OPTION",
        `--copy-package ${stranger}: no such distribution in what is being installed`,
        { hint: `name one of ${[...names].sort().join(", ")}` },
      );
    }
    const credentials = credentialsOf(request.settings, request.cwd);
    let lockWritten: string | undefined;
    const applied = await applyPlan({
      layout,
      target,
      ...(interpreter === undefined ? {} : { probe: interpreter.probe }),
      choices: planned.choices,
      requested: planned.requested,
      linkMode,
      isolated: request.isolated ?? false,
      ...(request.copyPackages === undefined ? {} : { copyPackages: request.copyPackages }),
      ...(request.interpreterCommand === undefined
        ? {}
        : { interpreterCommand: request.interpreterCommand }),
      ...(planned.lock === undefined ? {} : { lock: planned.lock }),
      before,
      client,
      withCredentials: (url) => credentials.apply(url),
      env: request.env,
      reporter,
      ...(request.storeRoot === undefined ? {} : { storeRoot: request.storeRoot }),
      ...(request.slim === undefined ? {} : { slim: request.slim }),
      ...(request.review === undefined ? {} : { review: request.review }),
      ...(request.reinstall === true ? { reinstall: true } : {}),
      afterSwitch: () => {
        if (request.lockOut !== undefined && planned.lockText !== undefined) {
          lockWritten = path.resolve(request.cwd, request.lockOut);
          writeFileAtomicSync(lockWritten, planned.lockText);
        }
      },
    });
    return {
      dir,
      layout: layout.kind,
      target,
      manifest: applied.manifest,
      changes: applied.changes,
      rebuilt: applied.rebuilt,
      ...(lockWritten === undefined ? {} : { lockWritten }),
    };
  } finally {
    await client.close();
  }
}
