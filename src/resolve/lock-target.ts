/**
 * How a single-target lock describes its target and its inputs:
 *  - `environments`: one marker that holds exactly on the target's Python and platform
 *    (`python_full_version == "3.11.7" and implementation_name == "cpython" and
 *    sys_platform == "linux" and platform_machine == "aarch64"`; with a spec naming only
 *    X.Y, `python_version == "3.11"`);
 *  - `requires-python`: the same Python version as a specifier (`==3.11.7` / `==3.11.*`);
 *  - `[tool.slimenv.target]`: what markers cannot say (ABI, platform tag, libc);
 *  - `[tool.slimenv] inputs-sha256`: a fingerprint of the normalized inputs.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stripCredentials } from "../index/source-url.ts";
import type { TargetSelection } from "../python/resolve-target.ts";
import type { Target } from "../python/target.ts";
import { parsePythonVersionSpec, type TargetSpec } from "../python/target-spec.ts";
import { Marker } from "../standards/markers.ts";
import type { Pylock } from "../standards/pylock-types.ts";
import type { Requirement } from "../standards/requirement.ts";
import { targetPlatform } from "./file-selection.ts";
import type { LockInputs } from "./lock-inputs.ts";
import type { LockSettings } from "./lock-settings.ts";

/** How the target was chosen: a spec (no interpreter) or a probed interpreter. */
export type LockTargetInfo = { kind: "spec"; spec: TargetSpec } | { kind: "interpreter" };

function pythonPin(target: Target, info: LockTargetInfo): { minorOnly: boolean; text: string } {
  const [major, minor, micro] = target.pythonVersion;
  if (info.kind === "spec" && !parsePythonVersionSpec(info.spec.pythonVersion).hasMicro) {
    return { minorOnly: true, text: `${major}.${minor}` };
  }
  return { minorOnly: false, text: `${major}.${minor}.${micro}` };
}

/** The one `environments` marker of a single-target lock. */
export function environmentMarker(target: Target, info: LockTargetInfo): string {
  const env = target.markerEnvironment;
  const py = pythonPin(target, info);
  const parts = [
    py.minorOnly
      ? `python_version == ${JSON.stringify(py.text)}`
      : `python_full_version == ${JSON.stringify(py.text)}`,
    `implementation_name == ${JSON.stringify(env.implementation_name)}`,
    `sys_platform == ${JSON.stringify(env.sys_platform)}`,
    `platform_machine == ${JSON.stringify(env.platform_machine)}`,
  ];
  return new Marker(parts.join(" and ")).toString();
}

/** The lock's `requires-python`: the target's version, `==3.11.7` or `==3.11.*`. */
export function lockRequiresPython(target: Target, info: LockTargetInfo): string {
  const py = pythonPin(target, info);
  return py.minorOnly ? `==${py.text}.*` : `==${py.text}`;
}

/** `[tool.slimenv.target]`: the target, as plain values. */
export function targetTable(target: Target, info: LockTargetInfo): Record<string, string> {
  const out: Record<string, string> = {
    source: info.kind === "spec" ? "spec" : "interpreter",
    implementation: target.implementation,
    "python-version":
      info.kind === "spec" ? info.spec.pythonVersion.trim() : target.pythonVersion.join("."),
    platform: info.kind === "spec" ? info.spec.platform.trim() : targetPlatform(target),
    abi: target.abis[0] ?? "none",
  };
  if (target.libc !== undefined) out.libc = `${target.libc.kind} ${target.libc.version.join(".")}`;
  return out;
}

/**
 * The target a lock records, as a selection: the spec (`--python-version` + `--platform`) of a
 * lock made for a target without an interpreter; undefined for a lock made for an interpreter
 * (the local one is used again) or one that records no target.
 */
export function selectionFromLock(lock: Pylock | undefined): TargetSelection | undefined {
  const tool = lock?.tool?.slimenv as Record<string, unknown> | undefined;
  const table = tool?.target as Record<string, unknown> | undefined;
  if (table === undefined || typeof table !== "object" || table.source !== "spec") return undefined;
  const pythonVersion = table["python-version"];
  const platform = table.platform;
  if (typeof pythonVersion !== "string" || typeof platform !== "string") return undefined;
  const implementation =
    typeof table.implementation === "string" ? table.implementation : undefined;
  return {
    kind: "spec",
    spec: { pythonVersion, platform, ...(implementation === undefined ? {} : { implementation }) },
  };
}

/** A one-line description of a target table, for messages. */
export function describeTargetTable(table: Record<string, unknown> | undefined): string {
  if (table === undefined) return "an unknown target";
  const impl = String(table.implementation ?? "cp");
  return `${impl} ${String(table["python-version"] ?? "?")} on ${String(table.platform ?? "?")} (${String(table.abi ?? "?")})`;
}

function portable(location: string, lockDir: string): string {
  if (/^https?:/i.test(location)) return stripCredentials(location);
  const file = /^file:/i.test(location) ? fileURLToPath(location) : location;
  return path.relative(lockDir, file).split(path.sep).join("/") || ".";
}

function requirementText(req: Requirement, lockDir: string): string {
  if (req.url === undefined || !/^file:/i.test(req.url)) return stripCredentials(req.toString());
  return stripCredentials(req.toString()).replace(req.url, `file:${portable(req.url, lockDir)}`);
}

/**
 * sha256 of the normalized inputs: requirements, constraints, hashes, extras, groups,
 * requires-python, index URLs (without credentials), find-links (local ones relative to the
 * lock's folder), index strategy, binary options, pre-release mode and resolution strategy.
 * The order of requirements does not matter; the order of index URLs does.
 */
export function inputsFingerprint(
  inputs: LockInputs,
  settings: LockSettings,
  lockDir: string,
): string {
  const sorted = (list: string[]) => [...new Set(list)].sort();
  const normalized = {
    requirements: sorted(inputs.requirements.map((r) => requirementText(r, lockDir))),
    constraints: sorted(inputs.constraints.map((r) => requirementText(r, lockDir))),
    hashes: [...inputs.hashes.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    extras: inputs.extras,
    groups: inputs.groups,
    requiresPython: inputs.requiresPython?.toString() ?? null,
    indexUrls: settings.indexUrls.map(stripCredentials),
    findLinks: settings.findLinks.map((s) => portable(s, lockDir)),
    indexStrategy: settings.strategy,
    onlyBinary: settings.onlyBinary,
    noBinary: settings.noBinary,
    prerelease: settings.prerelease,
    resolution: settings.resolution,
  };
  return createHash("sha256").update(JSON.stringify(normalized)).digest("hex");
}
