/**
 * Deltas: what a device already holds (from an old bundle, an old tree document, or the
 * agent's `status --json`), and the objects and patches a new tree needs on top of it.
 *
 * - old bundle: the device holds every object of its files; the bundle's objects are patch
 *   sources, and its tree bytes the base the new tree is patched against;
 * - a tree document (the device's `manifests/SEQ.tree.json`, or a bundle's tree decoded):
 *   the same holdings and tree base; sources only from the local store;
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
import { sha256Hex } from "./hashing.ts";
import type { PublicKey } from "./keys.ts";
import { checkTree } from "./manifest-check.ts";
import { type PairFile, pairFiles } from "./pair.ts";
import { parseTree } from "./tree-codec.ts";
import type { BaseRef, BundleContents, BundleTree, PatchInput } from "./types.ts";
import { objectSetHash, readBundle } from "./wire.ts";

/** What the device holds before the delta, and the bytes we can patch from. */
export interface OldState {
  /** Where it came from (file names), for messages. */
  from: string[];
  app: string | undefined;
  sequence: number;
  held: Set<string>;
  files: PairFile[];
  sources: Map<string, Uint8Array>;
  /**
   * The exact bytes of the tree the device keeps for the newest old generation (when known):
   * the new tree ships as a patch of it.
   */
  tree: Uint8Array | undefined;
  /**
   * The sha256 of the trees a device status says the app's kept generations have (undefined
   * without a status): a tree base outside it is not used.
   */
  deviceTrees: Set<string> | undefined;
}

function badOld(file: string, why: string): SlimenvError {
  return new SlimenvError("INVALID_OPTION", `--from ${file}: ${why}`, {
    hint: "--from takes an old bundle, a tree document (the device's manifests/SEQ.tree.json), or the agent's `status --json`",
  });
}

function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && Buffer.from(bytes.subarray(0, 4)).equals(Buffer.from("PK\x03\x04"));
}

/** Read what `--from` names (each file adds to the holdings) for the app `app`. */
export async function readOld(
  files: readonly string[],
  app: string,
  trusted: PublicKey[],
): Promise<OldState> {
  const old: OldState = {
    from: [...files],
    app: undefined,
    sequence: 0,
    held: new Set(),
    files: [],
    sources: new Map(),
    tree: undefined,
    deviceTrees: undefined,
  };
  // Trees given as documents are a delta's base for the old bundles given beside them.
  const trees = new Map<string, Uint8Array>();
  const docs: [string, Uint8Array][] = [];
  const bundles: [string, Uint8Array][] = [];
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(file));
    } catch (cause) {
      throw badOld(file, `cannot read it (${(cause as Error).message})`);
    }
    if (isZip(bytes)) bundles.push([file, bytes]);
    else docs.push([file, bytes]);
  }
  for (const [file, bytes] of docs) {
    let doc: unknown;
    try {
      doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
    } catch {
      throw badOld(file, "neither a bundle nor JSON");
    }
    const d = doc as Partial<BundleTree> & { apps?: unknown; objects?: unknown };
    if (d !== null && Array.isArray(d.files) && Array.isArray(d.symlinks)) {
      const tree = parseTree(bytes, `--from ${file}`);
      checkTree(tree);
      trees.set(sha256Hex(bytes), bytes);
      addTree(old, tree, bytes, undefined, 0);
    } else if (d !== null && typeof d.apps === "object" && Array.isArray(d.objects)) {
      addStatus(old, file, d.apps as Record<string, { current?: unknown }>, d.objects, app);
    } else {
      throw badOld(file, "not a bundle, a tree document nor an agent status");
    }
  }
  for (const [file, bytes] of bundles) {
    let contents: BundleContents;
    try {
      contents = await readBundle(bytes, trusted, file, { trees });
    } catch (err) {
      if (!isSlimenvError(err)) throw err;
      throw new SlimenvError(err.code, err.message, {
        cause: err,
        hint: "an old bundle given to --from must be signed by --key and intact (a delta whose tree is a patch needs its base tree given too)",
      });
    }
    if (contents.manifest.image !== undefined) {
      throw badOld(
        file,
        "an image bundle: a device that mounted its image holds none of its files as objects",
      );
    }
    addContents(old, contents);
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
    sources: new Map(),
    tree: undefined,
    deviceTrees: undefined,
  };
  addContents(old, contents);
  return old;
}

function addContents(old: OldState, contents: BundleContents): void {
  const m = contents.manifest;
  addTree(old, m, contents.treeBytes, m.app, m.sequence);
  for (const [sha, data] of contents.objects) old.sources.set(sha, data);
}

function addTree(
  old: OldState,
  tree: BundleTree,
  bytes: Uint8Array,
  app: string | undefined,
  sequence: number,
): void {
  for (const f of tree.files) old.held.add(f.sha256);
  old.files.push(...tree.files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size })));
  if (old.tree === undefined || sequence >= old.sequence) old.tree = bytes;
  if (app !== undefined && (old.app === undefined || sequence > old.sequence)) {
    old.app = app;
    old.sequence = sequence;
  }
}

/** The tree base a delta patches against: known, and kept by the device when a status says. */
export function treeBase(old: OldState): Uint8Array | undefined {
  if (old.tree === undefined) return undefined;
  if (old.deviceTrees !== undefined && !old.deviceTrees.has(sha256Hex(old.tree))) return undefined;
  return old.tree;
}

function addStatus(
  old: OldState,
  file: string,
  apps: Record<string, { current?: unknown; generations?: unknown }>,
  objects: unknown[],
  app: string,
): void {
  const gens = apps[app]?.generations;
  old.deviceTrees ??= new Set();
  for (const g of Array.isArray(gens) ? gens : []) {
    const tree = (g as { tree?: unknown } | null)?.tree;
    if (typeof tree === "string") old.deviceTrees.add(tree);
  }
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
