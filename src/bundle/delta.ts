/**
 * Deltas: what a device already holds (from an old bundle, an old manifest.json, or the
 * agent's `status --json`), and the objects and patches a new tree needs on top of it.
 *
 * - old bundle: the device holds every object of its files; the bundle's objects are patch
 *   sources;
 * - manifest.json (a bundle's): the same holdings; sources only from the local store;
 * - status --json: every object of the device store, whatever app uses it (apps share one
 *   store); it names no paths, so only same-object dedupe — add an old bundle or manifest
 *   (`--from` repeats) for patches.
 *
 * Patch sources are read from an old bundle's objects or the local slimenv store (keyed by
 * the same sha256). A patch is kept only when smaller than its object compressed alone.
 */
import { existsSync, readFileSync } from "node:fs";
import { constants, deflateSync } from "node:zlib";
import { isSlimenvError, type Reporter, SlimenvError, silentReporter } from "../base/index.ts";
import { objectFile, storePaths } from "../store/paths.ts";
import { applyPatch, makePatch, XZ_PATCH_FROM } from "./bsdiff.ts";
import { PATCH_CODEC, xzAvailable, xzCompress } from "./compress.ts";
import type { PublicKey } from "./keys.ts";
import { type PairFile, pairFiles } from "./pair.ts";
import {
  type BaseRef,
  BUNDLE_FORMAT,
  type BundleContents,
  type BundleManifest,
  type PatchInput,
} from "./types.ts";
import { objectSetHash, readBundle, sha256Hex } from "./wire.ts";

/** What the device holds before the delta, and the bytes we can patch from. */
export interface OldState {
  /** Where it came from (file names), for messages. */
  from: string[];
  app: string | undefined;
  sequence: number;
  held: Set<string>;
  files: PairFile[];
  sources: Map<string, Uint8Array>;
}

function badOld(file: string, why: string): SlimenvError {
  return new SlimenvError("INVALID_OPTION", `--from ${file}: ${why}`, {
    hint: "--from takes an old bundle, its manifest.json, or the agent's `status --json`",
  });
}

function isTar(bytes: Uint8Array): boolean {
  return bytes.length >= 512 && Buffer.from(bytes.subarray(257, 262)).toString() === "ustar";
}

/** Read what `--from` names (each file adds to the holdings) for the app `app`. */
export function readOld(files: readonly string[], app: string, trusted: PublicKey[]): OldState {
  const old: OldState = {
    from: [...files],
    app: undefined,
    sequence: 0,
    held: new Set(),
    files: [],
    sources: new Map(),
  };
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(file));
    } catch (cause) {
      throw badOld(file, `cannot read it (${(cause as Error).message})`);
    }
    if (isTar(bytes)) {
      let contents: BundleContents;
      try {
        contents = readBundle(bytes, trusted, file);
      } catch (err) {
        if (!isSlimenvError(err)) throw err;
        throw new SlimenvError(err.code, err.message, {
          cause: err,
          hint: "an old bundle given to --from must be signed by --key and intact",
        });
      }
      addManifest(old, contents.manifest);
      for (const [sha, data] of contents.objects) old.sources.set(sha, data);
      continue;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
    } catch {
      throw badOld(file, "neither a bundle nor JSON");
    }
    const d = doc as Partial<BundleManifest> & { apps?: unknown; objects?: unknown };
    if (d?.format === BUNDLE_FORMAT && Array.isArray(d.files)) {
      addManifest(old, d as BundleManifest);
    } else if (d !== null && typeof d.apps === "object" && Array.isArray(d.objects)) {
      addStatus(old, file, d.apps as Record<string, { current?: unknown }>, d.objects, app);
    } else {
      throw badOld(file, "not a bundle manifest nor an agent status");
    }
  }
  return old;
}

/** What a device that applied the bundle `contents` holds; its objects are patch sources. */
export function oldFromBundle(contents: BundleContents, from: string): OldState {
  const old: OldState = {
    from: [from],
    app: undefined,
    sequence: 0,
    held: new Set(),
    files: [],
    sources: new Map(contents.objects),
  };
  addManifest(old, contents.manifest);
  return old;
}

function addManifest(old: OldState, m: BundleManifest): void {
  for (const f of m.files) old.held.add(f.sha256);
  old.files.push(...m.files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size })));
  if (old.app === undefined || m.sequence > old.sequence) {
    old.app = m.app;
    old.sequence = m.sequence;
  }
}

function addStatus(
  old: OldState,
  file: string,
  apps: Record<string, { current?: unknown }>,
  objects: unknown[],
  app: string,
): void {
  for (const sha of objects) {
    if (typeof sha !== "string" || !/^[0-9a-f]{64}$/.test(sha)) {
      throw badOld(file, "its objects are not sha256 hashes");
    }
    old.held.add(sha);
  }
  const current = apps[app]?.current;
  if (typeof current === "number" && current > old.sequence) {
    old.app = app;
    old.sequence = current;
  }
}

/** The size of an object compressed alone, with the codec its patch would use. */
export function compressedSize(data: Uint8Array): number {
  if (data.length >= XZ_PATCH_FROM && xzAvailable()) return xzCompress(data).length;
  return deflateSync(data, { level: constants.Z_BEST_COMPRESSION }).length;
}

export interface DeltaPlan {
  base: BaseRef;
  /** Objects to carry, by sha256. */
  objects: Map<string, Uint8Array>;
  patches: PatchInput[];
  stats: {
    held: number;
    carried: number;
    patched: number;
    patchBytes: number;
    objectBytes: number;
  };
}

/** Objects and patches that bring a device holding `old` to the tree `files`. */
export function planDelta(
  app: string,
  files: readonly PairFile[],
  readNew: (sha256: string) => Uint8Array,
  old: OldState,
  options: { storeRoot?: string; reporter?: Reporter } = {},
): DeltaPlan {
  const reporter = options.reporter ?? silentReporter;
  const store = options.storeRoot === undefined ? undefined : storePaths(options.storeRoot);
  const readSource = (sha: string): Uint8Array | undefined => {
    const known = old.sources.get(sha);
    if (known !== undefined || store === undefined) return known;
    for (const exec of [false, true]) {
      const p = objectFile(store, sha, exec);
      if (existsSync(p)) {
        const data = new Uint8Array(readFileSync(p));
        if (sha256Hex(data) === sha) {
          old.sources.set(sha, data);
          return data;
        }
      }
    }
    return undefined;
  };
  const byHash = new Map<string, PairFile>();
  for (const f of files) if (!byHash.has(f.sha256)) byHash.set(f.sha256, f);
  const needed = (sha: string) => byHash.has(sha) && !old.held.has(sha);
  const pairs = pairFiles(old.files, files, needed, (sha) => readSource(sha) !== undefined);
  const patches: PatchInput[] = [];
  const patched = new Set<string>();
  const task = reporter.task("diffing", pairs.length, "files");
  for (const p of pairs) {
    const src = readSource(p.source) as Uint8Array;
    const tgt = readNew(p.target);
    // Raw streams: the payload's solid xz compresses the patches together. The patch wins
    // when it compresses smaller alone than the object does alone.
    const patch = makePatch(src, tgt, PATCH_CODEC.raw);
    if (
      patch !== undefined &&
      compressedSize(patch) < compressedSize(tgt) &&
      Buffer.from(applyPatch(src, patch)).equals(tgt)
    ) {
      patches.push({ source: p.source, target: p.target, data: patch });
      patched.add(p.target);
      reporter.log("debug", `patch ${p.path} (${p.how} from ${p.from}): ${patch.length} bytes`);
    }
    task.advance(1);
  }
  task.done();
  const objects = new Map<string, Uint8Array>();
  for (const sha of [...byHash.keys()].sort()) {
    if (old.held.has(sha) || patched.has(sha)) continue;
    objects.set(sha, readNew(sha));
  }
  const held = [...byHash.keys()].filter((s) => old.held.has(s)).length;
  return {
    base: { app: old.app ?? app, sequence: old.sequence, objects: objectSetHash(old.held) },
    objects,
    patches,
    stats: {
      held,
      carried: objects.size,
      patched: patches.length,
      patchBytes: patches.reduce((n, p) => n + p.data.length, 0),
      objectBytes: [...objects.values()].reduce((n, d) => n + d.length, 0),
    },
  };
}
