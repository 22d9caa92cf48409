/**
 * A slim policy: what materialization does to each file of each package. Plain JSON data;
 * the env manifest records it. Built from a preset and flags by {@link slimPolicy}.
 *
 * Bytecode modes:
 * - `source`: .py files as the wheel has them; a `.pth` hook sends the interpreter's bytecode
 *   caches to a user cache dir (sys.pycache_prefix), so the env does not grow at run time.
 * - `pyc`: sources plus compiled `__pycache__/<mod>.<tag>.pyc`.
 * - `pyc-only`: a sourceless `<mod>.pyc` in the module's place.
 * - `pyc+zipped-source`: sourceless .pyc; the sources in one compressed zip per env that a
 *   linecache hook reads for tracebacks and inspect.getsource.
 * - `zip`: each pure-Python package that works from a zip goes into one compressed zip on
 *   sys.path; the others get `smallest`.
 * - `smallest` (presets): `pyc-only` for a target before 3.11, `source` from 3.11 on.
 */
import { SlimenvError } from "../base/index.ts";
import { canonicalizeName } from "../standards/names.ts";
import { DROP_GROUPS, type DropGroup } from "./drop/rules.ts";
import {
  BYTECODE_MODES,
  type BytecodeChoice,
  type BytecodeMode,
  type SlimPolicy,
  STRIP_MODES,
} from "./policy-types.ts";
import { findPreset, PRESET_NAMES } from "./presets.ts";

export * from "./policy-types.ts";

export interface SlimOptions {
  preset: string;
  bytecode?: string;
  strip?: string;
  /** Comma-separated groups, `all` or `none` (also as a list). */
  drop?: string | readonly string[];
  keep?: readonly string[];
  dropGlobs?: readonly string[];
  skip?: readonly string[];
}

function pick<T extends string>(
  what: string,
  flag: string,
  value: string,
  allowed: readonly T[],
): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new SlimenvError("INVALID_OPTION", `unknown ${what} ${JSON.stringify(value)}`, {
    hint: `${flag}: one of ${allowed.join(", ")}`,
  });
}

/** Parse `--drop`: comma-separated groups, `all`, or `none`. */
export function parseDropGroups(value: string | readonly string[]): DropGroup[] {
  const items = (typeof value === "string" ? [value] : value)
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
  const out = new Set<DropGroup>();
  for (const item of items) {
    if (item === "all") for (const g of DROP_GROUPS) out.add(g);
    else if (item !== "none") out.add(pick("drop group", "--drop", item, [...DROP_GROUPS]));
  }
  return DROP_GROUPS.filter((g) => out.has(g));
}

/** Build a policy from a preset and the flags that change it. INVALID_OPTION on bad input. */
export function slimPolicy(options: SlimOptions): SlimPolicy {
  const preset = findPreset(options.preset);
  if (preset === undefined) {
    throw new SlimenvError(
      "INVALID_OPTION",
      `unknown slim preset ${JSON.stringify(options.preset)}`,
      {
        hint: `--slim: one of ${PRESET_NAMES.join(", ")}`,
      },
    );
  }
  const base = preset.policy;
  const bytecode =
    options.bytecode === undefined
      ? base.bytecode
      : pick("bytecode mode", "--bytecode", options.bytecode, [...BYTECODE_MODES, "smallest"]);
  const strip =
    options.strip === undefined
      ? base.strip
      : pick("strip mode", "--strip", options.strip, STRIP_MODES);
  const drop = options.drop === undefined ? [...base.drop] : parseDropGroups(options.drop);
  const changed =
    bytecode !== base.bytecode || strip !== base.strip || drop.join(",") !== base.drop.join(",");
  return {
    preset: changed ? "custom" : preset.name,
    bytecode,
    strip,
    drop,
    keep: [...(options.keep ?? [])],
    dropGlobs: [...(options.dropGlobs ?? [])],
    skip: [...new Set((options.skip ?? []).map((n) => canonicalizeName(n)))].sort(),
  };
}

/** The bytecode mode a choice means for a target Python (`smallest` resolved). */
export function resolveBytecode(
  choice: BytecodeChoice,
  pythonVersion: readonly [number, number, ...number[]],
): BytecodeMode {
  if (choice !== "smallest") return choice;
  const [major, minor] = pythonVersion;
  return major > 3 || (major === 3 && minor >= 11) ? "source" : "pyc-only";
}

/** True when the policy changes nothing at all (files exactly as the wheels have them). */
export function isNoopPolicy(policy: SlimPolicy): boolean {
  return (
    policy.bytecode === "source" &&
    policy.strip === "none" &&
    policy.drop.length === 0 &&
    policy.dropGlobs.length === 0 &&
    policy.used === undefined
  );
}

/** The same policy with `names` left unslimmed (the check's rebuild path). */
export function withSkipped(policy: SlimPolicy, names: readonly string[]): SlimPolicy {
  const skip = [...new Set([...policy.skip, ...names.map((n) => canonicalizeName(n))])].sort();
  return { ...policy, skip };
}

/** The same policy pruned to what a traced command used (undefined `used`: no pruning). */
export function withUsage(
  policy: SlimPolicy,
  used: readonly string[] | undefined,
  command?: string,
): SlimPolicy {
  const { used: _u, usedBy: _b, ...rest } = policy;
  if (used === undefined) return rest;
  return {
    ...rest,
    used: [...new Set(used)].sort(),
    ...(command === undefined ? {} : { usedBy: command }),
  };
}

/** One line describing a policy, for output. */
export function describePolicy(policy: SlimPolicy): string {
  const parts = [
    `bytecode ${policy.bytecode}`,
    `strip ${policy.strip}`,
    `drop ${policy.drop.length === 0 ? "nothing" : policy.drop.join(",")}`,
  ];
  if (policy.skip.length > 0) parts.push(`unslimmed ${policy.skip.join(",")}`);
  if (policy.used !== undefined) parts.push(`pruned to ${policy.used.length} used files`);
  return `${policy.preset} (${parts.join("; ")})`;
}
