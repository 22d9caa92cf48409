/**
 * `sync`: make an existing environment hold exactly what a lock says — packages added,
 * removed, upgraded — with the environment's own target, layout, link mode and launcher
 * settings (from its manifest). The rebuild is a new generation: unchanged packages are
 * linked to the same store objects again (in hardlink mode the very same inodes), and a
 * lock that changes nothing rebuilds nothing.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { type Reporter, SlimenvError, silentReporter } from "../base/index.ts";
import type { BuildFlagProfile } from "../build/index.ts";
import { clientFromSettings } from "../index/http-from-settings.ts";
import { findInterpreter } from "../python/discover.ts";
import type { InterpreterProbe } from "../python/probe-types.ts";
import { type Target, targetFromProbe } from "../python/target.ts";
import { targetFromSpec } from "../python/target-spec.ts";
import { credentialsOf, indexSettingsOf, readLockFile } from "../resolve/lock-pipeline.ts";
import type { ResolvedSettings } from "../settings/load.ts";
import { isPylockFilename } from "../standards/pylock-types.ts";
import { type ApplyBuildSettings, applyPlan } from "./apply.ts";
import type { EnvChanges } from "./changes.ts";
import { planFromLock } from "./lock-plan.ts";
import { readEnvManifest, refuseForeign } from "./manifest.ts";
import type { EnvManifest, Layout, SlimRecord, SlimTransform } from "./types.ts";

export interface SyncRequest {
  /** The environment. */
  dir: string;
  /** The lock (default: the one recorded in the env's manifest, else ./pylock.toml). */
  lockFile?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  settings: ResolvedSettings;
  userAgent: string;
  reporter?: Reporter;
  storeRoot?: string;
  /** How sdists are built: flags, config settings, isolation, time-out (src/build). */
  build?: Omit<ApplyBuildSettings, "settings">;
  httpCacheDir?: string | null;
  /**
   * Rebuilds the slim transform of a slimmed environment from its manifest record (src/slim
   * provides it; the env keeps its policy). `samePackages`: the lock holds exactly the
   * versions the env has (usage-based pruning only carries over then).
   */
  slimFor?: (record: SlimRecord, samePackages: boolean) => SlimTransform | undefined;
}

export interface SyncResult {
  dir: string;
  lockFile: string;
  manifest: EnvManifest;
  changes: EnvChanges;
  /** False when the environment already matched the lock. */
  rebuilt: boolean;
}

/** The Target an environment was built for, from its manifest (re-probing its interpreter). */
export async function manifestTarget(
  manifest: EnvManifest,
  env: NodeJS.ProcessEnv,
  reporter: Reporter,
): Promise<{ target: Target; probe?: InterpreterProbe }> {
  if (manifest.target.source === "probe" && manifest.interpreter !== undefined) {
    if (!existsSync(manifest.interpreter)) {
      throw new SlimenvError(
        "INVALID_ENV",
        `the environment was built for ${manifest.interpreter}, which no longer exists`,
        { hint: "install the environment again with --python" },
      );
    }
    const found = await findInterpreter(manifest.interpreter, { env, reporter });
    return { target: targetFromProbe(found.probe), probe: found.probe };
  }
  if (manifest.target.spec !== undefined) return { target: targetFromSpec(manifest.target.spec) };
  // A manifest written before the spec was recorded: the most specific platform tag of its
  // tags (linux_* comes first in a Linux tag list, before the manylinux tag named).
  const platforms = manifest.target.tags.map((t) => t.split("-")[2] ?? "");
  const platform =
    platforms.find((p) => /^(manylinux|musllinux|macosx)_/.test(p)) ?? platforms[0] ?? "";
  const abi = manifest.target.tags[0]?.split("-")[1] ?? "";
  const [major, minor, micro] = manifest.target.pythonVersion;
  const pythonVersion = `${major}.${minor}.${micro}${abi.endsWith("t") ? "t" : ""}`;
  return {
    target: targetFromSpec({
      pythonVersion,
      platform,
      implementation: manifest.target.implementation,
    }),
  };
}

export async function sync(request: SyncRequest): Promise<SyncResult> {
  const reporter = request.reporter ?? silentReporter;
  const dir = path.resolve(request.cwd, request.dir);
  const before = readEnvManifest(dir);
  if (before === undefined) {
    throw new SlimenvError("INVALID_ENV", `${dir} is not an environment made by slimenv`, {
      hint: "create it with slimenv install --prefix/--target/--venv DIR",
    });
  }
  // A requirements file or a pyproject.toml is not a lock (a lock's name may be anything.toml).
  const notLock =
    request.lockFile !== undefined &&
    !isPylockFilename(request.lockFile) &&
    (!/\.toml$/i.test(request.lockFile) || path.basename(request.lockFile) === "pyproject.toml");
  if (request.lockFile !== undefined && notLock) {
    throw new SlimenvError(
      "INVALID_OPTION",
      `sync takes a lock (pylock.toml or pylock.NAME.toml), not ${request.lockFile}`,
      {
        hint: `make one with slimenv lock -r ${request.lockFile} (then slimenv sync ${request.dir} pylock.toml), or add to the env with slimenv install -r ${request.lockFile} --${before.layout} ${request.dir}`,
      },
    );
  }
  refuseForeign(dir, before, "sync");
  const lockFile =
    request.lockFile !== undefined
      ? path.resolve(request.cwd, request.lockFile)
      : before.lock?.path !== undefined && existsSync(before.lock.path)
        ? before.lock.path
        : path.resolve(request.cwd, "pylock.toml");
  const shown = path.relative(request.cwd, lockFile) || lockFile;
  const { lock, text } = readLockFile(lockFile, shown);
  const { target, probe } = await manifestTarget(before, request.env, reporter);
  const plan = planFromLock(lock, target, lockFile);
  const names = new Set(plan.wheels.map((w) => w.name));
  const requested = [
    ...new Set([
      ...plan.roots,
      ...before.packages.filter((p) => p.requested && names.has(p.name)).map((p) => p.name),
    ]),
  ];
  const versions = new Map(before.packages.map((p) => [p.name, p.version]));
  const samePackages =
    plan.wheels.length === before.packages.length &&
    plan.wheels.every((w) => versions.get(w.name) === w.version);
  const slim = before.slim === undefined ? undefined : request.slimFor?.(before.slim, samePackages);
  if (before.slim !== undefined && slim === undefined) {
    reporter.log("warn", "the environment was slimmed; this sync rebuilds it unslimmed");
  }
  const client = clientFromSettings(request.settings, {
    env: request.env,
    userAgent: request.userAgent,
    reporter,
    httpCacheDir: request.httpCacheDir,
  });
  const credentials = credentialsOf(request.settings, request.cwd);
  try {
    const applied = await applyPlan({
      layout: { kind: before.layout, dir } as Layout,
      target,
      ...(probe === undefined ? {} : { probe }),
      choices: plan.wheels,
      requested,
      linkMode: before.linkMode,
      isolated: before.isolated,
      ...(before.copyPackages === undefined ? {} : { copyPackages: before.copyPackages }),
      interpreterCommand: before.interpreterCommand,
      lock: { path: lockFile, sha256: createHash("sha256").update(text).digest("hex") },
      before,
      client,
      withCredentials: (url) => credentials.apply(url),
      env: request.env,
      reporter,
      ...(request.storeRoot === undefined ? {} : { storeRoot: request.storeRoot }),
      build: {
        ...recordedBuild(before),
        ...request.build,
        settings: indexSettingsOf(request.settings, request.cwd),
      },
      ...(slim === undefined ? {} : { slim }),
    });
    return {
      dir,
      lockFile,
      manifest: applied.manifest,
      changes: applied.changes,
      rebuilt: applied.rebuilt,
    };
  } finally {
    await client.close();
  }
}

/** The build settings the env was built with (its manifest), kept unless the sync gives others. */
function recordedBuild(before: EnvManifest): Omit<ApplyBuildSettings, "settings"> {
  const first = before.built?.[0];
  if (first === undefined) return {};
  return {
    flags: first.flags as BuildFlagProfile,
    ...(first.configSettings === undefined ? {} : { configSettings: first.configSettings }),
    ...(first.useSystemLibs === true ? { useSystemLibs: true } : {}),
  };
}
