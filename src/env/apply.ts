/**
 * The apply stage that install and sync share: fetch every chosen wheel into the store, then
 * materialize the environment (a new generation switched in atomically), or nothing at all
 * when the environment already holds exactly these wheels with these settings.
 */
import { type Reporter, SlimenvError } from "../base/index.ts";
import { type BuildOptions, buildSdist } from "../build/index.ts";
import type { HttpClient } from "../index/http.ts";
import type { InterpreterProbe } from "../python/probe-types.ts";
import type { Target } from "../python/target.ts";
import { canonicalizeName } from "../standards/names.ts";
import { Store } from "../store/store.ts";
import type { StoredWheel } from "../store/types.ts";
import { type EnvChanges, envChanges } from "./changes.ts";
import { fetchWheels } from "./fetch-wheels.ts";
import { checkWheelFileFits, type WheelChoice } from "./lock-plan.ts";
import { type MaterializeOptions, materialize } from "./materialize.ts";
import type { BuiltRecord, EnvManifest, Layout, LinkMode, SlimTransform } from "./types.ts";

/** What the last stage (fetch, materialize) needs; shared by install and sync. */
export interface ApplyRequest {
  layout: Layout;
  target: Target;
  probe?: InterpreterProbe;
  choices: WheelChoice[];
  requested: string[];
  linkMode: LinkMode;
  isolated: boolean;
  copyPackages?: string[];
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
  /** Rebuild even when the env already holds exactly these wheels (every file linked anew). */
  reinstall?: boolean;
  /** How packages with only an sdist are built (src/build); none: they are refused. */
  build?: ApplyBuildSettings;
}

/** The build options install and sync pass down (the rest comes from the request). */
export type ApplyBuildSettings = Pick<
  BuildOptions,
  | "settings"
  | "flags"
  | "configSettings"
  | "useSystemLibs"
  | "isolation"
  | "timeoutMs"
  | "logDir"
  | "envRoot"
>;

/** Build every sdist choice into the store; the choices come back as wheel choices. */
async function buildChoices(
  store: Store,
  req: ApplyRequest,
  records: BuiltRecord[],
): Promise<WheelChoice[]> {
  const out: WheelChoice[] = [];
  for (const choice of req.choices) {
    if (choice.sdist === undefined) {
      out.push(choice);
      continue;
    }
    if (req.build === undefined) {
      throw new SlimenvError(
        "BUILD_REQUIRED",
        `${choice.name} ${choice.version} has only an sdist (${choice.sdist.filename}); installing it needs a build`,
        { hint: "lock a wheel of it instead" },
      );
    }
    const onlyBinary = req.build.settings.onlyBinary;
    if (onlyBinary.includes(":all:") || onlyBinary.includes(canonicalizeName(choice.name))) {
      throw new SlimenvError(
        "BUILD_REQUIRED",
        `${choice.name} ${choice.version} has only an sdist (${choice.sdist.filename}), and --only-binary forbids building it`,
        { hint: "drop it from --only-binary, or lock a wheel of it" },
      );
    }
    const built = await buildSdist(
      { name: choice.name, version: choice.version, ...choice.sdist },
      {
        ...req.build,
        store,
        client: req.client,
        python: req.probe?.executable ?? "",
        target: req.target,
        withCredentials: req.withCredentials,
        reporter: req.reporter,
        env: req.env,
      },
    );
    records.push({
      name: choice.name,
      version: choice.version,
      sdist: choice.sdist.sha256,
      wheel: built.wheel.sha256,
      flags: req.build.flags ?? "default",
      ...(req.build.configSettings === undefined ||
      Object.keys(req.build.configSettings).length === 0
        ? {}
        : { configSettings: req.build.configSettings }),
      ...(req.build.useSystemLibs === true ? { useSystemLibs: true } : {}),
      ...(Object.keys(built.packageSettings).length === 0
        ? {}
        : { packageSettings: built.packageSettings }),
      toolchain: built.toolchain,
      compiled: !built.cached,
      transform: built.transform,
    });
    if (built.cached) {
      req.reporter.log("info", `${choice.name} ${choice.version}: built wheel from the store`);
    }
    out.push({
      name: choice.name,
      version: choice.version,
      filename: built.wheel.filename,
      sha256: built.wheel.sha256,
    });
  }
  return out;
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
  const copies = (names: readonly string[] | undefined) =>
    [...new Set((names ?? []).map((n) => canonicalizeName(n)))].sort().join(",");
  if (copies(before.copyPackages) !== copies(req.copyPackages)) return false;
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
    const built: BuiltRecord[] = [];
    const choices = await buildChoices(store, req, built);
    const fetched = await fetchWheels(store, req.client, choices, {
      reporter: req.reporter,
      withCredentials: req.withCredentials,
      accept: (facts) => checkWheelFileFits(facts, req.target),
    });
    // One wheel per name: a later choice (a local wheel) replaces an earlier one.
    const byName = new Map<string, StoredWheel>();
    for (const w of fetched) byName.set(w.name, w);
    const wheels = [...byName.values()];
    if (req.reinstall !== true && sameEnv(req.before, wheels, req) && req.before !== undefined) {
      req.reporter.log("debug", `${req.layout.dir} already holds exactly these packages`);
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
        ...(req.copyPackages === undefined ? {} : { copyPackages: req.copyPackages }),
        ...(req.interpreterCommand === undefined
          ? {}
          : { interpreterCommand: req.interpreterCommand }),
        ...(req.lock === undefined ? {} : { lock: req.lock }),
        ...(req.slim === undefined ? {} : { slim: req.slim }),
        ...(built.length === 0 ? {} : { built }),
      },
      { reporter: req.reporter, ...(req.review === undefined ? {} : { review: req.review }) },
    );
    req.afterSwitch?.();
    return { manifest, changes: envChanges(req.before, manifest), rebuilt: true };
  } finally {
    store.close();
  }
}
