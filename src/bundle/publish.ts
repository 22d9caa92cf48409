/**
 * `slimenv publish`: a static, content-addressed repository (docs/fleet.md "Repository").
 *
 *   REPO/blobs/sha256/ab/cdef…            full and delta bundles, by the file's hash
 *   REPO/channels/CH/APP.json (+ .sig)    the channel index, canonical JSON, signed
 *   REPO/channels/CH/APP.history.json     what was published (CI side: the devices never
 *                                          read it), so deltas can start from the last N
 *
 * Blobs are written first (temp + rename), then the history, then the index and its
 * signature: a reader sees the old index or the new one, never an index naming a missing blob.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type Reporter, SlimenvError, silentReporter } from "../base/index.ts";
import { canonicalJsonBytes } from "./canonical-json.ts";
import { oldFromBundle, planDelta } from "./delta.ts";
import { sha256Hex } from "./hashing.ts";
import { type SigningKey, signDocument, verifyDocument } from "./keys.ts";
import {
  APP_NAME_RE,
  type BundleContents,
  type BundleDraft,
  CHANNEL_FORMAT,
  type ChannelDelta,
  type ChannelIndex,
} from "./types.ts";
import { readBundle, writeBundle } from "./wire.ts";

export interface PublishOptions {
  repo: string;
  channel: string;
  key: SigningKey;
  /** Deltas from the last N published versions (default 3). */
  deltas?: number;
  /** The index's `published` time (default now). */
  published?: Date;
  reporter?: Reporter;
}

interface HistoryEntry {
  sequence: number;
  version: string;
  full: { sha256: string; size: number };
}

interface History {
  format: "slimenv-channel-history/1";
  app: string;
  channel: string;
  entries: HistoryEntry[];
}

export interface PublishResult {
  index: ChannelIndex;
  indexPath: string;
  full: { sha256: string; size: number };
  deltas: ChannelDelta[];
  /** Older versions no delta was made from (not smaller than the full, or blob gone). */
  skipped: number[];
}

function optionError(message: string, hint: string): SlimenvError {
  return new SlimenvError("INVALID_OPTION", message, { hint });
}

export function blobPath(repo: string, sha256: string): string {
  return path.join(repo, "blobs", "sha256", sha256.slice(0, 2), sha256.slice(2));
}

function writeAtomic(file: string, data: Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (cause) {
    rmSync(tmp, { force: true });
    throw new SlimenvError("IO_ERROR", `cannot write ${file}: ${(cause as Error).message}`, {
      cause,
      hint: "--repo must be a writable directory",
    });
  }
}

function readJson<T>(file: string): { value: T; bytes: Uint8Array } | undefined {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch {
    return undefined;
  }
  try {
    return { value: JSON.parse(Buffer.from(bytes).toString("utf8")) as T, bytes };
  } catch (cause) {
    throw new SlimenvError("INVALID_OPTION", `${file} is not JSON`, {
      cause,
      hint: "repair or remove it",
    });
  }
}

/** Publish the full bundle `bundle` (its bytes) to a channel. */
export async function publishBundle(
  bundle: Uint8Array,
  options: PublishOptions,
): Promise<PublishResult> {
  const reporter = options.reporter ?? silentReporter;
  const repo = path.resolve(options.repo);
  const n = options.deltas ?? 3;
  if (!APP_NAME_RE.test(options.channel)) {
    throw optionError(
      `--channel ${JSON.stringify(options.channel)} is not a channel name`,
      "[a-z0-9][a-z0-9._-]{0,63}",
    );
  }
  if (!(Number.isInteger(n) && n >= 0)) {
    throw optionError(`--deltas ${n} is not a whole number`, "e.g. --deltas 3 (0: none)");
  }
  const pub = [options.key.publicKey];
  const contents = await readBundle(bundle, pub, "the bundle to publish");
  const m = contents.manifest;
  if (m.base !== null) {
    throw optionError("publish takes a full bundle, not a delta", "bundle without --from");
  }
  const dir = path.join(repo, "channels", options.channel);
  const indexPath = path.join(dir, `${m.app}.json`);
  const current = readJson<ChannelIndex>(indexPath);
  if (current !== undefined) {
    const sig = readFileSync(`${indexPath}.sig`);
    verifyDocument(current.bytes, sig, pub, indexPath);
    if (current.value.sequence >= m.sequence) {
      throw optionError(
        `${m.app} ${options.channel} is at sequence ${current.value.sequence}; this bundle's is ${m.sequence}`,
        "bundle with a higher --sequence",
      );
    }
  }
  const historyPath = path.join(dir, `${m.app}.history.json`);
  const history: History = readJson<History>(historyPath)?.value ?? {
    format: "slimenv-channel-history/1",
    app: m.app,
    channel: options.channel,
    entries: [],
  };

  const full = { sha256: sha256Hex(bundle), size: bundle.length };
  const blobs = new Map<string, Uint8Array>([[full.sha256, bundle]]);
  const deltas: ChannelDelta[] = [];
  const skipped: number[] = [];
  // an image bundle ships its image whole: no deltas to it
  const previous =
    m.image === undefined
      ? [...history.entries].sort((a, b) => b.sequence - a.sequence).slice(0, n)
      : [];
  for (const entry of previous) {
    const task = reporter.task(`delta from ${entry.version} (${entry.sequence})`);
    let oldBytes: Uint8Array;
    try {
      oldBytes = new Uint8Array(readFileSync(blobPath(repo, entry.full.sha256)));
    } catch {
      reporter.log(
        "warn",
        `no delta from ${entry.sequence}: its full bundle is gone from the repository`,
      );
      task.done();
      skipped.push(entry.sequence);
      continue;
    }
    const oldContents = await readBundle(oldBytes, pub, `blob ${entry.full.sha256}`);
    if (oldContents.manifest.image !== undefined) {
      // a device that mounted it holds none of its files as objects
      task.done();
      skipped.push(entry.sequence);
      continue;
    }
    const old = oldFromBundle(oldContents, "repo");
    const bytes = deltaBundle(contents, old, options.key, reporter);
    task.done();
    if (bytes.length >= bundle.length) {
      skipped.push(entry.sequence);
      continue;
    }
    const sha256 = sha256Hex(bytes);
    blobs.set(sha256, bytes);
    deltas.push({ from: entry.sequence, sha256, size: bytes.length });
  }
  deltas.sort((a, b) => a.from - b.from);

  const index: ChannelIndex = {
    format: CHANNEL_FORMAT,
    app: m.app,
    channel: options.channel,
    sequence: m.sequence,
    version: m.version,
    header: { sha256: sha256Hex(contents.headerBytes) },
    full,
    deltas,
    published: (options.published ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "Z"),
  };
  for (const [sha, data] of blobs) writeAtomic(blobPath(repo, sha), data);
  history.entries = [
    ...history.entries.filter((e) => e.sequence !== m.sequence),
    { sequence: m.sequence, version: m.version, full },
  ].sort((a, b) => a.sequence - b.sequence);
  writeAtomic(historyPath, canonicalJsonBytes(history));
  const indexBytes = canonicalJsonBytes(index);
  writeAtomic(`${indexPath}.sig`, signDocument(options.key, indexBytes));
  writeAtomic(indexPath, indexBytes);
  return { index, indexPath, full, deltas, skipped };
}

/** The delta bundle that brings a device holding `old` to the full bundle `contents`. */
function deltaBundle(
  contents: BundleContents,
  old: ReturnType<typeof oldFromBundle>,
  key: SigningKey,
  reporter: Reporter,
): Uint8Array {
  const m = contents.manifest;
  const read = (sha: string) => contents.objects.get(sha) as Uint8Array;
  const plan = planDelta(m.app, m.files, read, old, { reporter });
  const { format: _f, objects: _o, patches: _p, tree: _t, payload, agent: _a, ...rest } = m;
  const draft: BundleDraft = { ...rest, base: plan.base };
  // A delta carries no agent: the device has one, and the full bundle carries it.
  return writeBundle(
    {
      manifest: draft,
      objects: plan.objects,
      patches: plan.patches,
      compression: payload.compression,
      ...(old.tree === undefined ? {} : { treeBase: old.tree }),
    },
    key,
  ).bytes;
}
