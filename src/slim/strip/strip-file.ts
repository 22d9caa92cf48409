/**
 * Stripping one ELF file: the tool writes a temp file next to it, which replaces the file by
 * rename only when it is smaller. Never in place, never on a read-only file (store objects
 * are read-only: the caller strips a writable copy).
 */
import { spawnSync } from "node:child_process";
import { rmSync, statSync } from "node:fs";
import { replaceFileSync, SlimenvError, siblingTempPath } from "../../base/index.ts";
import { readElfInfo, readElfRunpath } from "../../elf/index.ts";
import { isAuditwheelPatched, toolRefusal } from "./never-strip.ts";
import {
  type FindStripToolOptions,
  hostArch,
  type StripTool,
  stripToolCandidates,
} from "./tool.ts";

export type StripMode = "debug" | "unneeded";

export interface StripResult {
  before: number;
  after: number;
  /** False when the file was left as it was (stripping would not make it smaller). */
  changed: boolean;
  tool: StripTool;
}

export interface StripFileOptions extends FindStripToolOptions {
  /** The tool to use (default: the best for the file's architecture that may touch it). */
  tool?: StripTool;
}

const FLAGS: Record<StripMode, string> = {
  debug: "--strip-debug",
  unneeded: "--strip-unneeded",
};

/** The tool for `file`: the caller's, else the best candidate that the rules allow. */
export function chooseStripTool(
  file: string,
  arch: string,
  options: StripFileOptions = {},
): StripTool {
  const patched = isAuditwheelPatched(readElfRunpath(file));
  if (options.tool !== undefined) {
    const refusal = toolRefusal(options.tool, patched);
    if (refusal !== undefined) {
      throw new SlimenvError(
        "STRIP_FAILED",
        `${file}: not stripped with ${options.tool.command}: ${refusal}`,
      );
    }
    return options.tool;
  }
  const candidates = stripToolCandidates(arch, options);
  const allowed = candidates.find((t) => toolRefusal(t, patched) === undefined);
  if (allowed !== undefined) return allowed;
  const first = candidates[0];
  throw new SlimenvError(
    "STRIP_FAILED",
    first === undefined
      ? `no strip tool for ${arch} on this machine (${file})`
      : `${file}: not stripped with ${first.command}: ${toolRefusal(first, patched) ?? ""}`,
    {
      hint:
        first === undefined
          ? `install binutils (strip${arch === "x86_64" ? "" : ` or a ${arch} cross binutils`}) or llvm (llvm-strip)`
          : `only binutils strips such a file safely: install ${arch === hostArch() ? "binutils (strip)" : `a ${arch} cross binutils (e.g. ${arch}-linux-gnu-strip)`}; without it the file is kept unstripped`,
    },
  );
}

/** Strip `file` (an ELF file the caller may change) of debug info or of unneeded symbols. */
export function stripFile(
  file: string,
  mode: StripMode,
  options: StripFileOptions = {},
): StripResult {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(file);
  } catch (cause) {
    throw new SlimenvError("IO_ERROR", `cannot read ${file}: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (!st.isFile()) throw new SlimenvError("STRIP_FAILED", `${file} is not a regular file`);
  if ((st.mode & 0o200) === 0) {
    throw new SlimenvError("STRIP_FAILED", `${file} is read-only: not stripped`, {
      hint: "strip a writable copy (store objects are never changed in place)",
    });
  }
  const info = readElfInfo(file);
  if (info === undefined) throw new SlimenvError("INVALID_ELF", `${file} is not an ELF file`);
  const tool = chooseStripTool(file, info.arch, options);
  const temp = siblingTempPath(file, "strip");
  try {
    const res = spawnSync(tool.command, [FLAGS[mode], "-o", temp, file], {
      encoding: "utf8",
      timeout: 300_000,
    });
    if (res.error !== undefined || res.status !== 0) {
      const why =
        res.error?.message ?? res.stderr.trim().split("\n").pop() ?? `exit code ${res.status}`;
      throw new SlimenvError("STRIP_FAILED", `${tool.command} ${FLAGS[mode]} ${file}: ${why}`, {
        cause: res.error,
      });
    }
    const after = statSync(temp).size;
    if (after >= st.size) {
      return { before: st.size, after: st.size, changed: false, tool };
    }
    replaceFileSync(temp, file, st.mode & 0o7777);
    return { before: st.size, after, changed: true, tool };
  } finally {
    rmSync(temp, { force: true });
  }
}
