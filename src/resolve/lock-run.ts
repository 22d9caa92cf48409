import path from "node:path";
import { type Reporter, SlimenvError, silentReporter, writeFileAtomicSync } from "../base/index.ts";
import type { TargetSelection } from "../python/resolve-target.ts";
import type { Target } from "../python/target.ts";
import type { ResolvedSettings } from "../settings/load.ts";
import { readPylock } from "../standards/pylock-read.ts";
import type { Pylock } from "../standards/pylock-types.ts";
import { writePylock } from "../standards/pylock-write.ts";
import { exportRequirements } from "./export.ts";
import type { SdistMetadataBuilder } from "./index-provider.ts";
import type { LockResult } from "./lock.ts";
import { compareLocks } from "./lock-check.ts";
import type { ReadLockInputsOptions } from "./lock-inputs.ts";
import {
  type LockContext,
  lockPrepared,
  openLockContext,
  prepareLockInputs,
  readIfExists,
  readPreviousLock,
} from "./lock-pipeline.ts";
import { selectionFromLock } from "./lock-target.ts";

export interface LockRunRequest extends ReadLockInputsOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  settings: ResolvedSettings;
  selection: TargetSelection;
  /**
   * The selection is only the default (no target option or setting given): the existing
   * lock's recorded target wins, so a lock keeps its target when checked or re-locked.
   */
  lockTargetWins?: boolean;
  /** The lock file to write (or to check). */
  output: string;
  check?: boolean;
  upgrade?: boolean;
  upgradePackages?: readonly string[];
  userAgent: string;
  reporter?: Reporter;
  /** HTTP cache folder (default cacheDir("http")); null: no cache. */
  httpCacheDir?: string | null;
  /**
   * Makes the builder of sdist metadata for the lock's context (src/build, supplied by the
   * CLI): without it, an sdist whose PKG-INFO is not reliable is BUILD_REQUIRED.
   */
  sdistMetadata?: (
    context: LockContext,
  ) => { builder: SdistMetadataBuilder; close: () => void } | undefined;
}

export interface LockRunResult {
  target: Target;
  /** The interpreter probed for the target (interpreter selections only). */
  interpreter?: string;
  output: string;
  result: LockResult;
  /** Lock mode: whether the file was (re)written (false when its bytes were already right). */
  written: boolean;
  /** Check mode: the comparison. */
  check?: { upToDate: boolean; reasons: string[] };
}

/**
 * What a lock records of the inputs it was made from (`[tool.slimenv] inputs`), so that
 * `slimenv lock --check` or `slimenv lock -P NAME` with no inputs named re-locks the same
 * thing. File paths are relative to the lock's folder, with `/` separators.
 */
function recordInputs(
  chosen: ReadLockInputsOptions,
  cwd: string,
  lockDir: string,
): Record<string, string[]> {
  const rel = (file: string) =>
    path.relative(lockDir, path.resolve(cwd, file)).split(path.sep).join("/");
  const table: Record<string, string[]> = {};
  const put = (key: string, values: readonly string[] | undefined) => {
    if (values !== undefined && values.length > 0) table[key] = [...values];
  };
  put("requirements", chosen.requirements);
  put("requirement-files", chosen.requirementFiles?.map(rel));
  put("constraint-files", chosen.constraintFiles?.map(rel));
  put("extras", chosen.extras);
  put("groups", chosen.groups);
  return table;
}

function recordedInputs(
  previous: Pylock | undefined,
  lockDir: string,
): ReadLockInputsOptions | undefined {
  const tool = previous?.tool?.slimenv as Record<string, unknown> | undefined;
  const table = tool?.inputs as Record<string, unknown> | undefined;
  if (table === undefined || typeof table !== "object") return undefined;
  const list = (key: string) =>
    Array.isArray(table[key]) ? (table[key] as unknown[]).filter((x) => typeof x === "string") : [];
  const abs = (file: string) => path.resolve(lockDir, ...file.split("/"));
  const recorded: ReadLockInputsOptions = {
    requirements: list("requirements") as string[],
    requirementFiles: (list("requirement-files") as string[]).map(abs),
    constraintFiles: (list("constraint-files") as string[]).map(abs),
    extras: list("extras") as string[],
    groups: list("groups") as string[],
  };
  const any = (recorded.requirements?.length ?? 0) + (recorded.requirementFiles?.length ?? 0);
  return any > 0 ? recorded : undefined;
}

/**
 * The inputs to use when none are named: those the existing lock records, else
 * pyproject.toml, else requirements.txt, in cwd.
 */
function defaultInputs(
  request: LockRunRequest,
  previous: Pylock | undefined,
  lockDir: string,
): ReadLockInputsOptions {
  const given =
    (request.requirementFiles?.length ?? 0) > 0 || (request.requirements?.length ?? 0) > 0;
  if (given) return request;
  const recorded = recordedInputs(previous, lockDir);
  if (recorded !== undefined) {
    return {
      ...request,
      ...recorded,
      constraintFiles: [...(recorded.constraintFiles ?? []), ...(request.constraintFiles ?? [])],
      extras: [...(recorded.extras ?? []), ...(request.extras ?? [])],
      groups: [...(recorded.groups ?? []), ...(request.groups ?? [])],
    };
  }
  for (const name of ["pyproject.toml", "requirements.txt"]) {
    if (readIfExists(path.join(request.cwd, name)) !== undefined) {
      return { ...request, requirementFiles: [name] };
    }
  }
  return request;
}

export async function runLock(request: LockRunRequest): Promise<LockRunResult> {
  const reporter = request.reporter ?? silentReporter;
  const output = path.resolve(request.cwd, request.output);
  const lockDir = path.dirname(output);
  const { text: existingText, previous } = readPreviousLock(
    output,
    request.output,
    reporter,
    request.check === true,
  );
  const chosen = defaultInputs(request, previous, lockDir);
  const prepared = prepareLockInputs(chosen, { ...request, reporter });
  const recorded = request.lockTargetWins === true ? selectionFromLock(previous) : undefined;
  const context = await openLockContext({
    ...request,
    selection: recorded ?? request.selection,
    reporter,
  });
  const { target, interpreter } = context;
  let result: LockResult;
  const probed = interpreter === undefined ? {} : { interpreter: interpreter.executable };
  let metadata: { builder: SdistMetadataBuilder; close: () => void } | undefined;
  try {
    const upgrade =
      request.upgrade === true
        ? true
        : (request.upgradePackages?.length ?? 0) > 0
          ? new Set(request.upgradePackages)
          : false;
    metadata = request.sdistMetadata?.(context);
    result = await lockPrepared(prepared, {
      context,
      lockDir,
      previous,
      upgrade: request.check === true ? false : upgrade,
      reporter,
      ...(metadata === undefined ? {} : { sdistMetadata: metadata.builder }),
    });
  } finally {
    metadata?.close();
    await context.client.close();
  }
  const tool = result.pylock.tool?.slimenv as Record<string, unknown>;
  tool.inputs = recordInputs(chosen, request.cwd, lockDir);
  result = { ...result, text: writePylock(result.pylock) };

  if (request.check === true) {
    if (existingText === undefined || previous === undefined) {
      return {
        target,
        ...probed,
        output,
        result,
        written: false,
        check: { upToDate: false, reasons: [`${request.output} does not exist`] },
      };
    }
    const check = compareLocks(previous, existingText, result.pylock, result.text);
    return { target, ...probed, output, result, written: false, check };
  }
  const written = existingText !== result.text;
  if (written) writeFileAtomicSync(output, result.text);
  return { target, ...probed, output, result, written };
}

export interface ExportRequest {
  cwd: string;
  /** The lock file to read (default pylock.toml). */
  lockFile: string;
  format: string;
  /** Write here (atomically); undefined: return the text only. */
  output?: string;
  emitIndexUrls?: boolean;
}

/** Read a lock and export it; writes `output` when given. Returns the text. */
export function exportLockFile(request: ExportRequest): string {
  if (request.format !== "requirements" && request.format !== "requirements.txt") {
    throw new SlimenvError(
      "INVALID_OPTION",
      `unknown export format ${JSON.stringify(request.format)}`,
      {
        hint: "--format requirements (a hashed requirements.txt) is the one format so far",
      },
    );
  }
  const file = path.resolve(request.cwd, request.lockFile);
  const text = readIfExists(file);
  if (text === undefined) {
    throw new SlimenvError("IO_ERROR", `${request.lockFile} does not exist`, {
      hint: "create it with slimenv lock, or name the lock file to export",
    });
  }
  const lockData = readPylock(text, { file: request.lockFile });
  const out = exportRequirements(lockData, {
    lockDir: path.dirname(file),
    lockName: path.basename(file),
    emitIndexUrls: request.emitIndexUrls ?? false,
  });
  if (request.output !== undefined)
    writeFileAtomicSync(path.resolve(request.cwd, request.output), out);
  return out;
}
