/**
 * The options that choose a target, shared by every command that needs one (python probe,
 * lock, install…): either a real interpreter (`--python REQ`, else SLIMENV_PYTHON, else the
 * default) or a spec with no interpreter (`--python-version` + `--platform`
 * [+ `--implementation`]).
 */
import type { Command } from "commander";
import { SlimenvError } from "../base/index.ts";
import type { TargetSelection } from "../python/resolve-target.ts";

export interface TargetOptionValues {
  python?: string;
  pythonVersion?: string;
  platform?: string;
  implementation?: string;
}

/** Add --python, --python-version, --platform and --implementation to a command. */
export function addTargetOptions(command: Command): Command {
  return command
    .option(
      "--python <request>",
      "interpreter to use: a version (3.12), cpython@3.12, pypy3.10, a path or a command (default: $SLIMENV_PYTHON, else the first on PATH)",
    )
    .option(
      "--python-version <version>",
      "target this CPython version without an interpreter (3.11, 3.11.7, 3.13t); needs --platform",
    )
    .option(
      "--platform <tag>",
      "target this platform without an interpreter (manylinux_2_28_aarch64, musllinux_1_2_armv7l, macosx_14_0_arm64, win_amd64…); needs --python-version",
    )
    .option("--implementation <name>", "implementation of a spec target (cp, the default)");
}

const SPEC_HINT =
  "give both --python-version and --platform for a target without an interpreter " +
  "(e.g. --python-version 3.11 --platform manylinux_2_28_aarch64), or --python for a real one";

/** Turn the option values into a selection. Throws INVALID_OPTION for contradictory options. */
export function targetSelectionFromOptions(opts: TargetOptionValues): TargetSelection {
  const spec =
    opts.pythonVersion !== undefined ||
    opts.platform !== undefined ||
    opts.implementation !== undefined;
  if (!spec) {
    return opts.python === undefined
      ? { kind: "interpreter" }
      : { kind: "interpreter", request: opts.python };
  }
  if (opts.python !== undefined) {
    throw new SlimenvError(
      "INVALID_OPTION",
      "--python cannot be combined with --python-version, --platform or --implementation",
      { hint: SPEC_HINT },
    );
  }
  if (opts.pythonVersion === undefined || opts.platform === undefined) {
    const missing = opts.pythonVersion === undefined ? "--python-version" : "--platform";
    throw new SlimenvError("INVALID_OPTION", `a target without an interpreter needs ${missing}`, {
      hint: SPEC_HINT,
    });
  }
  return {
    kind: "spec",
    spec: {
      pythonVersion: opts.pythonVersion,
      platform: opts.platform,
      ...(opts.implementation === undefined ? {} : { implementation: opts.implementation }),
    },
  };
}

/** Whether a target was chosen by a flag or a setting (not merely the default interpreter). */
export function targetChosen(opts: TargetOptionValues, values: Record<string, unknown>): boolean {
  return (
    opts.python !== undefined ||
    opts.pythonVersion !== undefined ||
    opts.platform !== undefined ||
    opts.implementation !== undefined ||
    typeof values["python-version"] === "string" ||
    typeof values.platform === "string" ||
    typeof values.python === "string"
  );
}

/**
 * The target of a command: its flags when any target flag is given; otherwise the settings
 * (`python-version` + `platform`, else `python`) from SLIMENV_* variables and config files.
 */
export function targetSelection(
  opts: TargetOptionValues,
  values: Record<string, unknown>,
): TargetSelection {
  const flagged =
    opts.python !== undefined ||
    opts.pythonVersion !== undefined ||
    opts.platform !== undefined ||
    opts.implementation !== undefined;
  if (flagged) return targetSelectionFromOptions(opts);
  const fromSettings: TargetOptionValues = {};
  if (typeof values["python-version"] === "string" || typeof values.platform === "string") {
    if (typeof values["python-version"] === "string")
      fromSettings.pythonVersion = values["python-version"];
    if (typeof values.platform === "string") fromSettings.platform = values.platform;
  } else if (typeof values.python === "string") {
    fromSettings.python = values.python;
  }
  return targetSelectionFromOptions(fromSettings);
}
