/**
 * Install's planning stage: from its inputs (a lock used as is, requirements locked for the
 * environment's target through the lock pipeline, local wheels) to the wheels to fetch, the
 * names requested, and the lock to record. Nothing is fetched or written here.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Reporter } from "../base/index.ts";
import type { Target } from "../python/target.ts";
import type { SdistMetadataBuilder } from "../resolve/index-provider.ts";
import {
  type LockContext,
  lockPrepared,
  prepareLockInputs,
  readLockFile,
  readPreviousLock,
} from "../resolve/lock-pipeline.ts";
import type { ResolvedSettings } from "../settings/load.ts";
import { canonicalizeName } from "../standards/names.ts";
import type { Pylock } from "../standards/pylock-types.ts";
import { parseWheelFilename } from "../standards/wheel-filename.ts";
import type { InstallInputs } from "./install-inputs.ts";
import { checkWheelFits, planFromLock, type WheelChoice } from "./lock-plan.ts";

/** What planning needs of an install request. */
export interface InstallPlanRequest {
  cwd: string;
  settings: ResolvedSettings;
  inputs: InstallInputs;
  noDeps?: boolean;
  lockOut?: string;
  /** Builds sdist metadata the resolver cannot read (src/build). */
  sdistMetadata?: SdistMetadataBuilder;
}

export interface InstallPlan {
  choices: WheelChoice[];
  requested: string[];
  lock?: { path?: string; sha256: string };
  /** The lock text to write to lockOut after success. */
  lockText?: string;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function localWheelChoice(file: string, target: Target): WheelChoice {
  const filename = path.basename(file);
  const parsed = parseWheelFilename(filename);
  checkWheelFits(filename, target);
  return { name: parsed.name, version: parsed.version.toString(), filename, path: file };
}

/** Plan an install for the context's target (locking requirements when there are any). */
export async function planInstall(
  request: InstallPlanRequest,
  context: LockContext,
  reporter: Reporter,
): Promise<InstallPlan> {
  const { inputs, cwd } = request;
  const { target } = context;
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
  const prepared = prepareLockInputs(
    {
      requirementFiles: inputs.requirementFiles,
      requirements: lockedRequirements,
      constraintFiles: inputs.constraintFiles ?? [],
      extras: inputs.extras ?? [],
      groups: inputs.groups ?? [],
    },
    { cwd, settings: request.settings, reporter },
  );
  const lockPath = path.resolve(cwd, request.lockOut ?? "pylock.toml");
  let previous: Pylock | undefined;
  if (request.lockOut !== undefined) {
    previous = readPreviousLock(lockPath, request.lockOut, reporter).previous;
  }
  const result = await lockPrepared(prepared, {
    context,
    lockDir: path.dirname(lockPath),
    previous,
    reporter,
    ...(request.sdistMetadata === undefined ? {} : { sdistMetadata: request.sdistMetadata }),
  });
  const plan = planFromLock(result.pylock, target, lockPath);
  const requested = [
    ...new Set([
      ...prepared.inputs.requirements.map((r) => canonicalizeName(r.name)),
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
