/**
 * `slimenv bundle`: a full or delta bundle of an env, signed. Reproducible: the same env,
 * options and key give the same bytes — `created` and the default `sequence` come from
 * SOURCE_DATE_EPOCH when set, else from the env manifest's build time (not the clock), the
 * zip and compression are deterministic, and Ed25519 signatures are too.
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Reporter, SlimenvError, silentReporter } from "../base/index.ts";
import { agentBytes } from "./agent-source.ts";
import { buildTime } from "./build-time.ts";
import { planDelta, readOld, treeBase } from "./delta.ts";
import { type EnvTree, lockEnv, readEnvTree } from "./from-env.ts";
import { imageTime, writeTreeImage } from "./image.ts";
import { type ImageSpec, type ImageSpecRequest, imageSpec } from "./image-options.ts";
import type { SigningKey } from "./keys.ts";
import {
  APP_NAME_RE,
  type BundleDraft,
  type BundleManifest,
  type Compression,
  type HealthCheck,
} from "./types.ts";
import { writeBundle } from "./wire.ts";

export interface PackOptions {
  app: string;
  version: string;
  key: SigningKey;
  sequence?: number;
  health?: HealthCheck | null;
  /** Old bundles, tree documents or device statuses: makes a delta. */
  from?: readonly string[];
  compression?: Compression;
  /** Carry agent.py (default: a full bundle does, for bootstrap; a delta does not). */
  agent?: boolean;
  storeRoot?: string;
  /** Carry a read-only image of the tree (squashfs|erofs) instead of objects; no `from`. */
  image?: ImageSpecRequest;
  /** Environment variables (SOURCE_DATE_EPOCH; PATH and SLIMENV_MKSQUASHFS… for `image`). */
  env?: NodeJS.ProcessEnv;
  reporter?: Reporter;
}

export interface PackResult {
  bytes: Uint8Array;
  manifest: BundleManifest;
  kind: "full" | "delta";
  files: number;
  /** Bytes of the files of the tree. */
  treeBytes: number;
  objects: number;
  patches: number;
  /** Files the device already holds (delta). */
  held: number;
  /** Runtime __pycache__ files left out. */
  skipped: number;
  /** The image carried (`image` bundles), else null. */
  image: { spec: ImageSpec; sha256: string; size: number } | null;
}

function optionError(message: string, hint: string): SlimenvError {
  return new SlimenvError("INVALID_OPTION", message, { hint });
}

export function checkPackOptions(o: PackOptions): void {
  if (!APP_NAME_RE.test(o.app)) {
    throw optionError(
      `--app ${JSON.stringify(o.app)} is not an app name`,
      "[a-z0-9][a-z0-9._-]{0,63}",
    );
  }
  if (o.version.trim() === "") throw optionError("--version is empty", "e.g. --version 1.4.0");
  if (o.sequence !== undefined && !(Number.isSafeInteger(o.sequence) && o.sequence > 0)) {
    throw optionError(`--sequence ${o.sequence} is not a positive integer`, "e.g. --sequence 42");
  }
  const h = o.health;
  if (h !== undefined && h !== null) {
    if (h.command.length === 0 || h.command.some((a) => a === "")) {
      throw optionError("--health is empty", "e.g. --health \"bin/python -c 'import app'\"");
    }
    if (!(Number.isSafeInteger(h.timeout) && h.timeout > 0)) {
      throw optionError(
        `--health-timeout ${h.timeout} is not a positive number of seconds`,
        "e.g. 60",
      );
    }
  }
}

/**
 * Build the bundle of the env at `envDir`, holding the env's lock meanwhile. Writes nothing
 * but the lock file; returns the bytes.
 */
export async function packEnv(envDir: string, options: PackOptions): Promise<PackResult> {
  checkPackOptions(options);
  if (options.image !== undefined) {
    imageSpec(options.image);
    if ((options.from ?? []).length > 0) {
      throw optionError(
        "--image with --from: an image bundle ships its image whole (no delta)",
        "drop --from, or drop --image for a delta of plain files",
      );
    }
  }
  const release = await lockEnv(envDir);
  try {
    return await packLocked(envDir, options);
  } finally {
    release();
  }
}

async function packLocked(envDir: string, options: PackOptions): Promise<PackResult> {
  const reporter = options.reporter ?? silentReporter;
  const tree = await readEnvTree(envDir, {
    ...(options.storeRoot === undefined ? {} : { storeRoot: options.storeRoot }),
    reporter,
  });
  const time = buildTime(options.env ?? process.env, tree.manifest.createdAt);
  const fromFiles = options.from ?? [];
  const old =
    fromFiles.length === 0
      ? undefined
      : await readOld(fromFiles, options.app, [options.key.publicKey]);
  const sequence = options.sequence ?? time;
  if (old !== undefined && old.app === options.app && sequence <= old.sequence) {
    throw optionError(
      `sequence ${sequence} is not above the old one (${old.sequence}): the device would refuse it`,
      "pass a higher --sequence",
    );
  }
  const draft: BundleDraft = {
    app: options.app,
    version: options.version,
    sequence,
    created: new Date(time * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    target: tree.target,
    interpreter: tree.interpreter,
    health: options.health ?? null,
    files: tree.files.map(({ path, sha256, size, mode }) => ({ path, sha256, size, mode })),
    symlinks: tree.symlinks,
    base: null,
  };
  let objects = new Map<string, Uint8Array>();
  let patches: { source: string; target: string; data: Uint8Array }[] = [];
  let held = 0;
  const image =
    options.image === undefined ? undefined : await treeImage(tree, options.image, options);
  if (image !== undefined) {
    // the image holds every file: the payload carries none
  } else if (old === undefined) {
    for (const f of tree.files) {
      if (!objects.has(f.sha256)) objects.set(f.sha256, new Uint8Array(readFileSync(f.abs)));
    }
  } else {
    const byHash = new Map(tree.files.map((f) => [f.sha256, f.abs]));
    const readNew = (sha: string) => new Uint8Array(readFileSync(byHash.get(sha) as string));
    const plan = planDelta(options.app, tree.files, readNew, old, {
      ...(options.storeRoot === undefined ? {} : { storeRoot: options.storeRoot }),
      reporter,
    });
    draft.base = plan.base;
    objects = plan.objects;
    patches = plan.patches;
    held = plan.stats.held;
  }
  const base = old === undefined ? undefined : treeBase(old);
  const written = writeBundle(
    {
      manifest: draft,
      objects,
      patches,
      ...((options.agent ?? old === undefined) ? { agent: agentBytes() } : {}),
      ...(options.compression === undefined ? {} : { compression: options.compression }),
      ...(base === undefined ? {} : { treeBase: base }),
      ...(image === undefined ? {} : { image: { format: image.spec.format, data: image.data } }),
    },
    options.key,
  );
  return {
    bytes: written.bytes,
    manifest: written.manifest,
    kind: old === undefined ? "full" : "delta",
    files: tree.files.length,
    treeBytes: tree.files.reduce((n, f) => n + f.size, 0),
    objects: objects.size,
    patches: patches.length,
    held,
    skipped: tree.skipped.length,
    image:
      image === undefined
        ? null
        : {
            spec: image.spec,
            sha256: written.manifest.image?.sha256 ?? "",
            size: image.data.length,
          },
  };
}

/** The image of the tree, built by `slimenv image`'s code in a temp folder, read back whole. */
async function treeImage(
  tree: EnvTree,
  request: ImageSpecRequest,
  options: PackOptions,
): Promise<{ spec: ImageSpec; data: Uint8Array }> {
  const spec = imageSpec(request);
  const env = options.env ?? process.env;
  const dir = mkdtempSync(path.join(os.tmpdir(), "slimenv-bundle-image-"));
  try {
    const file = path.join(dir, `image.${spec.format}`);
    await writeTreeImage(tree, file, spec, imageTime(env, tree.manifest.createdAt), {
      env,
      tmpDir: dir,
      ...(options.reporter === undefined ? {} : { reporter: options.reporter }),
    });
    return { spec, data: new Uint8Array(readFileSync(file)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
