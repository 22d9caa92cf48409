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
import { Requirement } from "../standards/requirement.ts";
import { parseWheelFilename } from "../standards/wheel-filename.ts";
import type { InstallInputs } from "./install-inputs.ts";
import { checkWheelFits, lockSelection, planFromLock, type WheelChoice } from "./lock-plan.ts";
import type { EnvManifest } from "./types.ts";

/** What planning needs of an install request. */
export interface InstallPlanRequest {
  cwd: string;
  settings: ResolvedSettings;
  inputs: InstallInputs;
  noDeps?: boolean;
  lockOut?: string;
  /** Builds sdist metadata the resolver cannot read (src/build). */
  sdistMetadata?: SdistMetadataBuilder;
  /** The environment being installed into, when it exists: install adds to what it holds. */
  before?: EnvManifest | undefined;
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

/**
 * Install adds: the packages an existing environment holds that the plan does not name are
 * kept as they are (their wheels are in the store already). `sync` is the exact one.
 */
function keepOthers(
  plan: InstallPlan,
  before: EnvManifest | undefined,
  reporter: Reporter,
  why: string,
): InstallPlan {
  if (before === undefined) return plan;
  const names = new Set(plan.choices.map((c) => canonicalizeName(c.name)));
  const kept = before.packages.filter((p) => !names.has(p.name));
  if (kept.length === 0) return plan;
  reporter.log(
    "info",
    `kept ${kept.length} package(s) the environment holds and ${why} does not name: ${kept.map((p) => p.name).join(", ")} (slimenv sync makes an environment hold exactly a lock)`,
  );
  return {
    ...plan,
    choices: [
      ...plan.choices,
      ...kept.map((p) => ({
        name: p.name,
        version: p.version,
        filename: p.filename,
        sha256: p.wheel,
      })),
    ],
    requested: [
      ...new Set([...plan.requested, ...kept.filter((p) => p.requested).map((p) => p.name)]),
    ],
  };
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
    const selection = lockSelection(pylock, inputs.lockFile, {
      extras: inputs.extras ?? [],
      groups: inputs.groups ?? [],
    });
    const plan = planFromLock(pylock, target, file, selection);
    if (plan.skipped.length > 0) {
      reporter.log(
        "info",
        `not for this target or these extras/groups (marker): ${plan.skipped.join(", ")}`,
      );
    }
    return keepOthers(
      { choices: plan.wheels, requested: plan.roots, lock: { path: file, sha256: sha256(text) } },
      request.before,
      reporter,
      inputs.lockFile,
    );
  }
  const noDeps = request.noDeps === true;
  const local = inputs.wheels.map((w) => localWheelChoice(w, target));
  const lockedRequirements = [
    ...inputs.requirements,
    ...(noDeps ? [] : local.map((w) => `${w.name} @ ${pathToFileURL(w.path as string).href}`)),
  ];
  if (lockedRequirements.length === 0 && inputs.requirementFiles.length === 0) {
    return keepOthers(
      { choices: local, requested: local.map((w) => w.name) },
      request.before,
      reporter,
      "this install",
    );
  }
  // Re-lock the union: what the environment was asked for before, and what is asked now.
  const asked = new Set(
    [...inputs.requirements.map(nameOf), ...local.map((w) => w.name)].filter(
      (n): n is string => n !== undefined,
    ),
  );
  const held =
    noDeps || request.before === undefined
      ? []
      : request.before.packages.filter((p) => p.requested && !asked.has(p.name)).map((p) => p.name);
  const prepared = prepareLockInputs(
    {
      requirementFiles: inputs.requirementFiles,
      requirements: [...lockedRequirements, ...held],
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
  if (previous === undefined && request.before !== undefined) {
    // Prefer the versions the environment holds: adding a package upgrades nothing it need not.
    previous = {
      lockVersion: "1.0",
      createdBy: "slimenv",
      packages: request.before.packages.map((p) => ({ name: p.name, version: p.version })),
    };
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
  const planned: InstallPlan = {
    choices,
    requested,
    lock: {
      ...(request.lockOut === undefined ? {} : { path: lockPath }),
      sha256: sha256(result.text),
    },
    lockText: result.text,
  };
  return noDeps ? keepOthers(planned, request.before, reporter, "this install") : planned;
}

/** The canonical name of a requirement string, when it parses. */
function nameOf(text: string): string | undefined {
  try {
    return canonicalizeName(new Requirement(text).name);
  } catch {
    return undefined;
  }
}
