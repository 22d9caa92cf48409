/**
 * The image builders slimenv runs: `mksquashfs` (Debian squashfs-tools) and `mkfs.erofs`
 * (Debian erofs-utils), found on PATH or named by SLIMENV_MKSQUASHFS / SLIMENV_MKFS_EROFS.
 * Their argv make the output a function of the staged tree and the spec only: every file
 * owned by root, one timestamp for everything, no extended attributes, a fixed filesystem
 * UUID (erofs), mksquashfs' reproducible mode on (its default since 4.4), no appending.
 */

import { SlimenvError } from "../base/index.ts";
import { runProcess } from "../python/process.ts";
import type { ImageFormat, ImageSpec } from "./image-options.ts";

/** How long one image build may take before it is killed. */
const BUILD_TIMEOUT_MS = 60 * 60 * 1000;

interface ToolInfo {
  variable: string;
  command: string;
  debianPackage: string;
  /** Arguments that make the tool say it is there (exit status 0 or 1, anything but ENOENT). */
  probe: string[];
}

const TOOLS: Record<ImageFormat, ToolInfo> = {
  squashfs: {
    variable: "SLIMENV_MKSQUASHFS",
    command: "mksquashfs",
    debianPackage: "squashfs-tools",
    probe: ["-version"],
  },
  erofs: {
    variable: "SLIMENV_MKFS_EROFS",
    command: "mkfs.erofs",
    debianPackage: "erofs-utils",
    probe: ["--help"],
  },
};

/** The command that builds `format` images under `env`. */
export function imageTool(format: ImageFormat, env: NodeJS.ProcessEnv): string {
  const tool = TOOLS[format];
  const named = env[tool.variable];
  return named !== undefined && named !== "" ? named : tool.command;
}

function toolHint(format: ImageFormat): string {
  const t = TOOLS[format];
  return `install it (apt-get install -y ${t.debianPackage}) or name it with ${t.variable}`;
}

/**
 * Make sure the tool runs, before anything is staged; returns its version line (mksquashfs)
 * or "" (mkfs.erofs 1.5 has no version flag: the build's first line says it).
 */
export async function probeImageTool(format: ImageFormat, env: NodeJS.ProcessEnv): Promise<string> {
  const command = imageTool(format, env);
  const res = await runProcess(command, TOOLS[format].probe, { env, timeoutMs: 30_000 });
  if (res.error !== undefined || res.status === null) {
    const why = res.error?.code === "ENOENT" ? "not found" : (res.error?.message ?? "killed");
    throw new SlimenvError("IMAGE_FAILED", `cannot run ${command}: ${why}`, {
      hint: toolHint(format),
      ...(res.error === undefined ? {} : { cause: res.error }),
    });
  }
  return format === "squashfs" ? firstLine(res.stdout) : "";
}

function firstLine(text: string): string {
  return text.split("\n")[0]?.trim() ?? "";
}

/** The tool's arguments that build `output` from the folder `tree`. */
export function imageArgs(
  spec: ImageSpec,
  tree: string,
  output: string,
  time: number,
  uuid: string,
): string[] {
  if (spec.format === "squashfs") {
    const codec: string[] = ["-comp", spec.compression];
    if (spec.level !== null) codec.push("-Xcompression-level", String(spec.level));
    if (spec.compression === "lz4") codec.push("-Xhc");
    return [
      tree,
      output,
      "-noappend",
      "-reproducible",
      ...codec,
      "-b",
      String(spec.blockSize),
      "-all-root",
      "-all-time",
      String(time),
      "-mkfs-time",
      String(time),
      "-no-xattrs",
      "-no-exports",
      "-no-recovery",
      "-no-progress",
      "-quiet",
    ];
  }
  const args: string[] = [];
  if (spec.compression !== "none") {
    args.push(`-z${spec.compression}${spec.level === null ? "" : `,${spec.level}`}`);
    if (spec.blockSize !== 4096) args.push(`-C${spec.blockSize}`);
  }
  // -x-1: no extended attributes; -T: one timestamp for every inode and the superblock.
  args.push("-x-1", `-T${time}`, `-U${uuid}`, "--all-root", output, tree);
  return args;
}

/** Run the tool; returns its version as the run reported it (erofs) or "". */
export async function runImageTool(
  spec: ImageSpec,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const command = imageTool(spec.format, env);
  // The time is in the argv; mksquashfs refuses SOURCE_DATE_EPOCH beside -all-time.
  const { SOURCE_DATE_EPOCH: _, ...toolEnv } = env;
  const res = await runProcess(command, args, { env: toolEnv, timeoutMs: BUILD_TIMEOUT_MS });
  if (res.error !== undefined || res.status !== 0) {
    const why = res.timedOut
      ? `timed out after ${BUILD_TIMEOUT_MS / 60_000} minutes`
      : res.error !== undefined
        ? res.error.message
        : lastLines(`${res.stderr}\n${res.stdout}`) ||
          `exit status ${res.status ?? res.signal ?? "?"}`;
    throw new SlimenvError("IMAGE_FAILED", `${command} failed: ${why}`, {
      hint: `its message says why; ${TOOLS[spec.format].variable} names another ${TOOLS[spec.format].command}`,
      ...(res.error === undefined ? {} : { cause: res.error }),
    });
  }
  const m = /^mkfs\.erofs\s+(\S+)/m.exec(res.stdout);
  return m === null ? "" : `mkfs.erofs ${m[1]}`;
}

function lastLines(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  return lines.slice(-3).join(" / ");
}
