/**
 * `install`: inputs in (a lock used as is, or requirements locked for the environment's
 * target first, or local wheels), an environment out. Everything that can be checked is
 * checked before the store or the environment is touched: the directory, the target, the
 * inputs, the lock's target, a wheel for every package. Then every wheel is fetched into the
 * store and the environment is materialized (a new generation switched in atomically).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  isSlimenvError,
  type Reporter,
  SlimenvError,
  silentReporter,
  writeFileAtomicSync,
} from "../base/index.ts";
import type { HttpClient } from "../index/http.ts";
import { clientFromSettings } from "../index/http-from-settings.ts";
import { CredentialStore } from "../index/source-url.ts";
import type { InterpreterProbe } from "../python/probe-types.ts";
import { resolveTarget, type TargetSelection } from "../python/resolve-target.ts";
import type { Target } from "../python/target.ts";
import { lock } from "../resolve/lock.ts";
import { readLockInputs } from "../resolve/lock-inputs.ts";
import { lockSettings } from "../resolve/lock-settings.ts";
import type { LockTargetInfo } from "../resolve/lock-target.ts";
import type { ResolvedSettings } from "../settings/load.ts";
import { canonicalizeName } from "../standards/names.ts";
import { readPylock } from "../standards/pylock-read.ts";
import type { Pylock } from "../standards/pylock-types.ts";
import { parseWheelFilename } from "../standards/wheel-filename.ts";
import { Store } from "../store/store.ts";
import type { StoredWheel } from "../store/types.ts";
import { type EnvChanges, envChanges } from "./changes.ts";
import { fetchWheels } from "./fetch-wheels.ts";
import type { InstallInputs } from "./install-inputs.ts";
import { checkWheelFits, planFromLock, type WheelChoice } from "./lock-plan.ts";
import { existingEnv } from "./manifest.ts";
import { type MaterializeOptions, materialize } from "./materialize.ts";
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
  layout: Layout;
  inputs: InstallInputs;
  /** Install only what was named: no dependencies (local wheels are not locked at all). */
  noDeps?: boolean;
  /** Write the lock made from requirements here (after the install succeeded). */
  lockOut?: string;
  linkMode?: LinkMode;
  isolated?: boolean;
  interpreterCommand?: string;
  userAgent: string;
  reporter?: Reporter;
  /** The store directory (default `$SLIMENV_HOME/store/v1`). */
  storeRoot?: string;
  /** HTTP cache folder (default cacheDir("http")); null: no cache. */
  httpCacheDir?: string | null;
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

/** What the last stage (fetch, materialize) needs; shared by install and sync. */
export interface ApplyRequest {
  layout: Layout;
  target: Target;
  probe?: InterpreterProbe;
  choices: WheelChoice[];
  requested: string[];
  linkMode: LinkMode;
  isolated: boolean;
  interpreterCommand?: string;
  lock?: { path?: string; sha256: string };
  before: EnvManifest | undefined;
  client: HttpClient;
  withCredentials: (url: string) => string;
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  storeRoot?: string;
  /** Called once the environment is switched (install writes --lock-out here). */
  afterSwitch?: () => void;
  slim?: SlimTransform;
  review?: MaterializeOptions["review"];
}

export interface ApplyResult {
  manifest: EnvManifest;
  changes: EnvChanges;
  rebuilt: boolean;
}

/** An env with exactly these wheels and settings needs no rebuild. */
function sameEnv(before: EnvManifest | undefined, wheels: StoredWheel[], req: ApplyRequest) {
  if (before === undefined || before.layout !== req.layout.kind) return false;
  if (before.linkMode !== req.linkMode || before.isolated !== req.isolated) return false;
  if (before.slim?.id !== req.slim?.id) return false;
  if (req.interpreterCommand !== undefined && before.interpreterCommand !== req.interpreterCommand)
    return false;
  if (before.packages.length !== wheels.length) return false;
  const requested = new Set(req.requested);
  const byName = new Map(before.packages.map((p) => [p.name, p]));
  return wheels.every((w) => {
    const p = byName.get(w.name);
    return p !== undefined && p.wheel === w.sha256 && p.requested === requested.has(w.name);
  });
}

/** Fetch every chosen wheel into the store, then materialize (unless nothing changed). */
export async function applyPlan(req: ApplyRequest): Promise<ApplyResult> {
  const store = Store.open({
    ...(req.storeRoot === undefined ? {} : { root: req.storeRoot }),
    env: req.env,
    reporter: req.reporter,
  });
  try {
    const fetched = await fetchWheels(store, req.client, req.choices, {
      reporter: req.reporter,
      withCredentials: req.withCredentials,
    });
    // One wheel per name: a later choice (a local wheel) replaces an earlier one.
    const byName = new Map<string, StoredWheel>();
    for (const w of fetched) byName.set(w.name, w);
    const wheels = [...byName.values()];
    if (sameEnv(req.before, wheels, req) && req.before !== undefined) {
      req.reporter.log("info", `${req.layout.dir} already holds exactly these packages`);
      req.afterSwitch?.();
      return { manifest: req.before, changes: envChanges(req.before, req.before), rebuilt: false };
    }
    const manifest = await materialize(
      store,
      {
        layout: req.layout,
        target: req.target,
        ...(req.probe === undefined ? {} : { probe: req.probe }),
        wheels,
        requested: req.requested.filter((n) => byName.has(n)),
        linkMode: req.linkMode,
        isolated: req.isolated,
        ...(req.interpreterCommand === undefined
          ? {}
          : { interpreterCommand: req.interpreterCommand }),
        ...(req.lock === undefined ? {} : { lock: req.lock }),
        ...(req.slim === undefined ? {} : { slim: req.slim }),
      },
      { reporter: req.reporter, ...(req.review === undefined ? {} : { review: req.review }) },
    );
    req.afterSwitch?.();
    return { manifest, changes: envChanges(req.before, manifest), rebuilt: true };
  } finally {
    store.close();
  }
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

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Read a pylock.toml; IO_ERROR when missing. */
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

interface Planned {
  choices: WheelChoice[];
  requested: string[];
  lock?: { path?: string; sha256: string };
  /** The lock text to write to lockOut after success. */
  lockText?: string;
}

function localWheelChoice(file: string, target: Target): WheelChoice {
  const filename = path.basename(file);
  const parsed = parseWheelFilename(filename);
  checkWheelFits(filename, target);
  return { name: parsed.name, version: parsed.version.toString(), filename, path: file };
}

async function planInstall(
  request: InstallRequest,
  target: Target,
  client: HttpClient,
  reporter: Reporter,
): Promise<Planned> {
  const { inputs, cwd } = request;
  if (inputs.lockFile !== undefined) {
    const file = path.resolve(cwd, inputs.lockFile);
    const { lock: pylock, text } = readLockFile(file, inputs.lockFile);
    if (request.noDeps === true) reporter.log("warn", "--no-deps does not apply to a lock file");
    const plan = planFromLock(pylock, target, file);
    if (plan.skipped.length > 0) {
      reporter.log("info", `not for this target (marker): ${plan.skipped.join(", ")}`);
    }
    return {
      choices: plan.wheels,
      requested: plan.roots,
      lock: { path: file, sha256: sha256(text) },
    };
  }
  const noDeps = request.noDeps === true;
  const local = inputs.wheels.map((w) => localWheelChoice(w, target));
  const lockedRequirements = [
    ...inputs.requirements,
    ...(noDeps ? [] : local.map((w) => `${w.name} @ ${pathToFileURL(w.path as string).href}`)),
  ];
  if (lockedRequirements.length === 0 && inputs.requirementFiles.length === 0) {
    return { choices: local, requested: local.map((w) => w.name) };
  }
  const lockInputs = readLockInputs({
    requirementFiles: inputs.requirementFiles,
    requirements: lockedRequirements,
    constraintFiles: inputs.constraintFiles ?? [],
    extras: inputs.extras ?? [],
    groups: inputs.groups ?? [],
    cwd,
  });
  for (const w of lockInputs.warnings) reporter.log("warn", w);
  const settings = lockSettings(request.settings, lockInputs.fileOptions, cwd);
  const lockPath = path.resolve(cwd, request.lockOut ?? "pylock.toml");
  let previous: Pylock | undefined;
  if (request.lockOut !== undefined && existsSync(lockPath)) {
    try {
      previous = readLockFile(lockPath, request.lockOut).lock;
    } catch (err) {
      if (!isSlimenvError(err)) throw err;
      reporter.log("warn", `ignoring the existing ${request.lockOut}: ${err.message}`);
    }
  }
  const targetInfo: LockTargetInfo =
    request.selection.kind === "spec"
      ? { kind: "spec", spec: request.selection.spec }
      : { kind: "interpreter" };
  const values = request.settings.values;
  const result = await lock(lockInputs, {
    target,
    targetInfo,
    settings,
    client,
    lockDir: path.dirname(lockPath),
    ...(previous === undefined ? {} : { previous }),
    reporter,
    ...(values.concurrency === undefined ? {} : { concurrency: values.concurrency }),
  });
  const plan = planFromLock(result.pylock, target, lockPath);
  const requested = [
    ...new Set([
      ...lockInputs.requirements.map((r) => canonicalizeName(r.name)),
      ...local.map((w) => w.name),
    ]),
  ];
  const wanted = new Set(requested);
  const choices = noDeps
    ? [...plan.wheels.filter((w) => wanted.has(w.name)), ...local]
    : plan.wheels;
  return {
    choices,
    requested,
    lock: {
      ...(request.lockOut === undefined ? {} : { path: lockPath }),
      sha256: sha256(result.text),
    },
    lockText: result.text,
  };
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
  if (layout.kind === "venv" && request.selection.kind === "spec") {
    throw new SlimenvError(
      "INVALID_OPTION",
      "a venv links a real interpreter: it cannot be made for --python-version/--platform",
      {
        hint: "pass --python (or nothing, for the default interpreter), or use --prefix / --target",
      },
    );
  }
  const before = existingEnv(layout.dir, layout.kind);
  const { target, interpreter } = await resolveTarget(request.selection, {
    env: request.env,
    reporter,
    cwd: request.cwd,
  });
  const client = clientFromSettings(request.settings, {
    env: request.env,
    userAgent: request.userAgent,
    reporter,
    httpCacheDir: request.httpCacheDir,
  });
  try {
    const planned = await planInstall(request, target, client, reporter);
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
