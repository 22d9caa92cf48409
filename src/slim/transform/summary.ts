/**
 * What the slim transform did, per package and in all (the env manifest and the check read
 * it), and the state each package is in while the transform's steps run.
 */
import type { SlimPackageInput } from "../../env/types.ts";
import type { BytecodeMode } from "../policy.ts";
import type { SlimFile } from "./files.ts";

export interface PackageSlimSummary {
  name: string;
  version: string;
  /** The bytecode mode applied, or `unslimmed` (policy skip / rebuilt after a failed check). */
  bytecode: BytecodeMode | "unslimmed";
  droppedFiles: number;
  droppedBytes: number;
  /** Dropped files per rule id. */
  byRule: Record<string, number>;
  /** Drop scopes kept because non-test code imports them. */
  keptByImports: string[];
  compiled: number;
  compileFailures: { path: string; error: string }[];
  stripped: number;
  /** Native files kept unstripped because no tool here strips them safely, and why. */
  stripKept?: { path: string; reason: string }[];
  /** Why the package was not zipped (bytecode mode zip). */
  zipRefused?: string;
  /** Modules served from the env's code zip (bytecode mode zip): the check imports them. */
  zipModules?: string[];
}

export interface SlimSummary {
  /** The bytecode mode the policy means for the target. */
  bytecode: BytecodeMode;
  /** Compiler processes started (0 when every .pyc came from the store). */
  compilerRuns: number;
  /** .pyc served from the store's derived objects. */
  cachedPycs: number;
  /** Bytes of every package file as the wheels have them (before slimming). */
  inputBytes?: number;
  packages: PackageSlimSummary[];
}

/** One package while the transform's steps run over it. */
export interface PackageState {
  input: SlimPackageInput;
  skipped: boolean;
  files: SlimFile[];
  summary: PackageSlimSummary;
}

export function emptySummary(input: SlimPackageInput, skipped: boolean): PackageSlimSummary {
  return {
    name: input.wheel.name,
    version: input.wheel.version,
    bytecode: skipped ? "unslimmed" : "source",
    droppedFiles: 0,
    droppedBytes: 0,
    byRule: {},
    keptByImports: [],
    compiled: 0,
    compileFailures: [],
    stripped: 0,
  };
}
