/**
 * `install`: inputs in (a lock used as is, or requirements locked for the environment's
 * target first, or local wheels), an environment out. Everything that can be checked is
 * checked before the store or the environment is touched: the directory, the target, the
 * inputs, the lock's target, a wheel for every package. Then every wheel is fetched into the
 * store and the environment is materialized (a new generation switched in atomically).
 */
import { rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  collectGarbage,
  type Reporter,
  SlimenvError,
  silentReporter,
  writeFileAtomicSync,
} from "../base/index.ts";
import {
  type BuildOptions,
  buildSourceTree,
  checkoutGit,
  parseGitRequirement,
} from "../build/index.ts";
import type { TargetSelection } from "../python/resolve-target.ts";
import type { Target } from "../python/target.ts";
import {
  credentialsOf,
  indexSettingsOf,
  openLockContext,
  readLockFile,
} from "../resolve/lock-pipeline.ts";
import { selectionFromLock } from "../resolve/lock-target.ts";
import type { ResolvedSettings } from "../settings/load.ts";
import { canonicalizeName } from "../standards/names.ts";
import { Store } from "../store/store.ts";
import { type ApplyBuildSettings, applyPlan } from "./apply.ts";
import type { EnvChanges } from "./changes.ts";
import { checkDestination } from "./destination.ts";
import type { InstallInputs } from "./install-inputs.ts";
import { planInstall } from "./install-plan.ts";
import { existingEnv, refuseForeign } from "./manifest.ts";
import type { MaterializeOptions } from "./materialize.ts";
import { sdistMetadataBuilder } from "./sdist-metadata.ts";
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
  /** How sdists are built: flags, config settings, isolation, time-out (src/build). */
  build?: Omit<ApplyBuildSettings, "settings">;
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
  const builtDir = path.join(os.tmpdir(), `slimenv-source-${process.pid}-${Date.now()}`);
  try {
    const credentials = credentialsOf(request.settings, request.cwd);
    const buildSettings = {
      ...request.build,
      settings: indexSettingsOf(request.settings, request.cwd),
    };
    const metadata = sdistMetadataBuilder({
      ...(request.storeRoot === undefined ? {} : { storeRoot: request.storeRoot }),
      env: request.env,
      client,
      target,
      ...(interpreter === undefined ? {} : { python: interpreter.probe.executable }),
      build: buildSettings,
      withCredentials: (url) => credentials.apply(url),
      reporter,
    });
    let planned: Awaited<ReturnType<typeof planInstall>>;
    try {
      const inputs = await buildSourceDirs(request, builtDir, {
        ...buildSettings,
        client,
        target,
        python: interpreter?.probe.executable ?? "",
        withCredentials: (url) => credentials.apply(url),
        reporter,
        env: request.env,
      });
      planned = await planInstall(
        {
          ...request,
          inputs,
          before,
          ...(interpreter === undefined ? {} : { sdistMetadata: metadata.builder }),
        },
        context,
        reporter,
      );
    } finally {
      metadata.close();
    }
    const names = new Set(planned.choices.map((c) => canonicalizeName(c.name)));
    const stranger = (request.copyPackages ?? []).find((n) => !names.has(canonicalizeName(n)));
    if (stranger !== undefined) {
      throw new SlimenvError(
        "INVALID_OPTION",
        `--copy-package ${stranger}: no such distribution in what is being installed`,
        { hint: `name one of ${[...names].sort().join(", ")}` },
      );
    }
    // What the resolution held (pages, listed files, version sets) is garbage now: collected
    // before linking adds its own objects on top (src/base/garbage.ts).
    if (request.inputs.lockFile === undefined) collectGarbage();
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
      build: buildSettings,
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
    rmSync(builtDir, { recursive: true, force: true });
  }
}

/** Build the local source folders of the inputs; their wheels join the local wheels. */
async function buildSourceDirs(
  request: InstallRequest,
  keepIn: string,
  opts: Omit<BuildOptions, "store">,
): Promise<InstallInputs> {
  const dirs = [...(request.inputs.sourceDirs ?? [])];
  const editable = new Set(request.inputs.editableDirs ?? []);
  dirs.push(...editable);
  const gits = request.inputs.gitRequirements ?? [];
  if (dirs.length === 0 && gits.length === 0) return request.inputs;
  const names = new Map<string, string>();
  for (const [i, text] of gits.entries()) {
    const src = parseGitRequirement(text);
    if (src === undefined) {
      throw new SlimenvError("INVALID_REQUIREMENT", `cannot read ${JSON.stringify(text)}`, {
        hint: "write NAME @ git+URL[@REV][#subdirectory=DIR]",
      });
    }
    opts.reporter.log("info", `checking out ${text}`);
    const { dir, commit } = checkoutGit(src, path.join(keepIn, `git-${i}`));
    opts.reporter.log("info", `${src.name}: building commit ${commit}`);
    dirs.push(dir);
    names.set(dir, canonicalizeName(src.name));
  }
  const store = Store.open({
    ...(request.storeRoot === undefined ? {} : { root: request.storeRoot }),
    env: request.env,
    reporter: opts.reporter,
  });
  try {
    const wheels = [...request.inputs.wheels];
    for (const dir of dirs) {
      const built = await buildSourceTree(
        dir,
        { ...opts, store },
        path.join(keepIn, "wheels"),
        editable.has(dir),
      );
      const wanted = names.get(dir);
      if (wanted !== undefined && built.wheel.name !== wanted) {
        throw new SlimenvError(
          "BUILD_FAILED",
          `the checkout for ${wanted} built a wheel of another project: ${built.wheel.filename}`,
        );
      }
      if (built.path !== undefined) wheels.push(built.path);
    }
    return { ...request.inputs, wheels };
  } finally {
    store.close();
  }
}
