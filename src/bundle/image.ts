/**
 * `slimenv image`: a read-only filesystem image (squashfs or erofs) of an env's app tree — the
 * very tree a bundle ships (readEnvTree: the same files, modes and symlinks, the env manifest
 * as `.slimenv/manifest.json`, runtime caches left out), for a device to loop-mount read-only
 * instead of unpacking files (docs/fleet.md, "Images").
 *
 * Reproducible: the tree is staged with fixed modes and one timestamp (SOURCE_DATE_EPOCH when
 * set, else the env's build time), the tools run with root ownership, no xattrs and a UUID
 * derived from the tree and the spec; the same tree and spec give the same bytes, whatever
 * the env's link mode, owner or umask.
 */

import { createHash } from "node:crypto";
import { chmodSync, createReadStream, mkdtempSync, renameSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Reporter, SlimenvError, siblingTempPath, silentReporter } from "../base/index.ts";
import { buildTime } from "./build-time.ts";
import { lockEnv, readEnvTree } from "./from-env.ts";
import { describeSpec, type ImageSpec, type ImageSpecRequest, imageSpec } from "./image-options.ts";
import { type ImageTree, stageTree } from "./image-stage.ts";
import { imageArgs, probeImageTool, runImageTool } from "./image-tools.ts";

export interface TreeImageOptions {
  /** Environment of the tool run (PATH, SLIMENV_MKSQUASHFS, SLIMENV_MKFS_EROFS). */
  env?: NodeJS.ProcessEnv;
  /** Where the tree is staged (default the OS temp folder); needs room for the tree's bytes. */
  tmpDir?: string;
  reporter?: Reporter;
}

export interface ImageOptions extends ImageSpecRequest, TreeImageOptions {
  /** The slimenv store the env links into (hash reuse, link mode symlink). */
  storeRoot?: string;
}

export interface TreeImage {
  /** The file written. */
  file: string;
  spec: ImageSpec;
  /** Bytes of the image file. */
  size: number;
  sha256: string;
  files: number;
  symlinks: number;
  /** Bytes of the tree's files. */
  treeBytes: number;
  /** The one timestamp of every inode (seconds since the epoch). */
  time: number;
  /** The filesystem UUID (erofs; squashfs has none). */
  uuid: string;
  /** The tool's version line, as it reported it. */
  tool: string;
}

export interface EnvImage extends TreeImage {
  /** Runtime __pycache__ files left out. */
  skipped: number;
}

/** Seconds since the epoch of SOURCE_DATE_EPOCH, else of the env's build time (32-bit). */
export function imageTime(env: NodeJS.ProcessEnv, envCreatedAt: string): number {
  return buildTime(env, envCreatedAt, {
    max: 0xffffffff,
    hint: "unset it or fix it (images hold 32-bit times: up to 2106)",
  });
}

/** A UUID (RFC 4122 layout, version 5 bits) from the tree and spec: stable, and distinct per tree. */
export function imageUuid(tree: ImageTree, spec: ImageSpec, time: number): string {
  const h = createHash("sha256");
  h.update(JSON.stringify([spec, time]));
  for (const f of tree.files) h.update(`\nf ${f.path}\0${f.sha256} ${f.mode}`);
  for (const l of tree.symlinks) h.update(`\nl ${l.path}\0${l.target}`);
  const b = h.digest().subarray(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x50;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const x = b.toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

async function hashFile(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/**
 * Write the image of `tree` to `output` (temp file + rename: nothing half-written at `output`;
 * the staging folder is removed whatever happens). Throws IMAGE_FAILED when the tool is
 * missing or fails, INVALID_ENV for a tree a device would refuse, IO_ERROR for `output`.
 */
export async function writeTreeImage(
  tree: ImageTree,
  output: string,
  spec: ImageSpec,
  time: number,
  options: TreeImageOptions = {},
): Promise<TreeImage> {
  const env = options.env ?? process.env;
  const reporter = options.reporter ?? silentReporter;
  const file = path.resolve(output);
  let toolVersion = await probeImageTool(spec.format, env);
  try {
    if (!statSync(path.dirname(file)).isDirectory()) throw new Error("not a directory");
  } catch (cause) {
    throw new SlimenvError("IO_ERROR", `cannot write ${output}: no folder ${path.dirname(file)}`, {
      cause,
      hint: "-o names the image file to write; its folder must exist",
    });
  }
  const uuid = imageUuid(tree, spec, time);
  const stage = mkdtempSync(path.join(options.tmpDir ?? os.tmpdir(), "slimenv-image-"));
  const temp = siblingTempPath(file, "image");
  try {
    const treeBytes = stageTree(tree, path.join(stage, "tree"), time, reporter);
    const task = reporter.task(`building the ${spec.format} image (${describeSpec(spec)})`, 1);
    const args = imageArgs(spec, path.join(stage, "tree"), temp, time, uuid);
    const reported = await runImageTool(spec, args, env);
    if (reported !== "") toolVersion = reported;
    task.done();
    chmodSync(temp, 0o644);
    const sha256 = await hashFile(temp);
    const size = statSync(temp).size;
    try {
      renameSync(temp, file);
    } catch (cause) {
      throw new SlimenvError("IO_ERROR", `cannot write ${output}: ${(cause as Error).message}`, {
        cause,
        hint: "-o names the image file to write (not a folder)",
      });
    }
    return {
      file,
      spec,
      size,
      sha256,
      files: tree.files.length,
      symlinks: tree.symlinks.length,
      treeBytes,
      time,
      uuid: spec.format === "erofs" ? uuid : "",
      tool: toolVersion,
    };
  } finally {
    rmSync(temp, { force: true });
    rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * Build the image of the env at `envDir` into `output`, holding the env's lock while its tree
 * is read and staged. Options are checked (INVALID_OPTION) and the tool found (IMAGE_FAILED)
 * before the env is read.
 */
export async function buildImage(
  envDir: string,
  output: string,
  options: ImageOptions,
): Promise<EnvImage> {
  const spec = imageSpec(options);
  const env = options.env ?? process.env;
  await probeImageTool(spec.format, env);
  const release = await lockEnv(envDir);
  try {
    const reporter = options.reporter ?? silentReporter;
    const tree = await readEnvTree(envDir, {
      ...(options.storeRoot === undefined ? {} : { storeRoot: options.storeRoot }),
      reporter,
    });
    const time = imageTime(env, tree.manifest.createdAt);
    const image = await writeTreeImage(tree, output, spec, time, { ...options, env, reporter });
    return { ...image, skipped: tree.skipped.length };
  } finally {
    release();
  }
}
