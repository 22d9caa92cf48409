/**
 * Importing a wheel: hash the wheel file (and check it against the lock's sha256), inspect
 * it, unpack every file into a private temp folder while hashing it (one pass) and check it
 * against RECORD — on a worker thread (unpack-files.ts, unpack-pool.ts) — and only when every
 * file passed link the new objects into objects/ and register the wheel and its files in one
 * transaction. A refused wheel leaves nothing.
 */
import { createHash } from "node:crypto";
import { lstatSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { type ByteSource, bufferSource, openFileSource } from "../archive/zip-read.ts";
import { SlimenvError } from "../base/index.ts";
import { parseWheelFilename } from "../standards/wheel-filename.ts";
import { readWheel, type StoreCore, touchWheels } from "./core.ts";
import { HostileWheelError } from "./hostile.ts";
import { hashFile } from "./objects.ts";
import { objectFile, tempName } from "./paths.ts";
import { writeTransaction } from "./schema.ts";
import type { StoredFile, StoredWheel } from "./types.ts";
import type { UnpackJob } from "./unpack-files.ts";
import { runUnpack } from "./unpack-pool.ts";
import { type InspectedWheel, inspectWheel } from "./wheel-inspect.ts";

/**
 * The wheel's bytes: in memory, or a file. `digest` is the file's sha256 and size when the
 * caller computed them while writing it, in a folder only this process writes (a download
 * into the store's tmp/): the file is then not read a second time just to hash it.
 */
export type WheelSource =
  | { path: string; digest?: { sha256: string; size: number } }
  | { bytes: Uint8Array };

export interface ImportOptions {
  filename: string;
  /** Expected hex sha256 of the wheel file (from the lock): checked before anything else. */
  sha256?: string;
  /** Where the wheel came from; kept so `verify --repair` can download it again. */
  url?: string;
  /**
   * Called with what the wheel says of itself once it passed inspection, before any of its
   * bytes are written: throw to refuse it (the caller's own rules, e.g. the WHEEL file's tags
   * against a target). Not called for a wheel the store already holds.
   */
  accept?: (facts: WheelFacts) => void;
}

/** What a wheel says of itself: the filename's tags and its WHEEL file's. */
export interface WheelFacts {
  filename: string;
  /** The filename's tags, expanded. */
  tags: string[];
  /** The WHEEL file's Tag lines. */
  wheelTags: string[];
  rootIsPurelib: boolean;
}

async function wheelSha256(source: WheelSource): Promise<{ sha256: string; size: number }> {
  if ("path" in source) return source.digest ?? hashFile(source.path);
  return {
    sha256: createHash("sha256").update(source.bytes).digest("hex"),
    size: source.bytes.length,
  };
}

/** Import a wheel (see the module comment). Idempotent. */
export async function importWheel(
  core: StoreCore,
  source: WheelSource,
  options: ImportOptions,
): Promise<StoredWheel> {
  const parsed = parseWheelFilename(options.filename);
  const { sha256, size } = await wheelSha256(source);
  if (options.sha256 !== undefined && options.sha256.toLowerCase() !== sha256) {
    throw new SlimenvError(
      "HASH_MISMATCH",
      `${options.filename}: sha256 is ${sha256}, expected ${options.sha256.toLowerCase()}`,
      { hint: "the file is not the one the lock names; re-lock or get the right file" },
    );
  }
  const known = readWheel(core, sha256);
  if (known !== undefined) {
    touchWheels(core, [sha256]);
    return known;
  }
  const bytesSource: ByteSource | undefined =
    "bytes" in source ? bufferSource(source.bytes) : undefined;
  const fileSource = "path" in source ? await openFileSource(source.path) : undefined;
  try {
    const zip = (bytesSource ?? fileSource) as ByteSource;
    if (zip.size !== size) {
      throw new SlimenvError("IO_ERROR", `${options.filename} changed while it was read`);
    }
    const inspected = await inspectWheel(zip, parsed, options.filename, core.limits, core.reporter);
    options.accept?.({
      filename: inspected.filename,
      tags: inspected.tags,
      wheelTags: inspected.wheelTags,
      rootIsPurelib: inspected.rootIsPurelib,
    });
    for (let attempt = 1; ; attempt++) {
      const result = await unpackAndRegister(core, inspected, source, sha256, size, options.url);
      if (result !== undefined) return result;
      if (attempt >= 3) {
        throw new SlimenvError(
          "STORE_CORRUPT",
          `${options.filename}: objects keep disappearing while the wheel is imported`,
          { hint: "is another process pruning the store? try again" },
        );
      }
      core.reporter.log("debug", `${options.filename}: objects were pruned meanwhile; retrying`);
    }
  } finally {
    await fileSource?.close();
  }
}

/** Unpack (objects promoted), register. Undefined when an object vanished meanwhile. */
async function unpackAndRegister(
  core: StoreCore,
  wheel: InspectedWheel,
  source: WheelSource,
  sha256: string,
  size: number,
  url: string | undefined,
): Promise<StoredWheel | undefined> {
  const dir = tempName(core.paths, ".import");
  await mkdir(dir, { recursive: true });
  try {
    const { files, created } = await unpack(core, wheel, source, dir);
    return register(core, wheel, sha256, size, url, files, created);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The job for unpack-files.ts: flat arrays, no object per file. */
function unpackJob(
  core: StoreCore,
  wheel: InspectedWheel,
  source: WheelSource,
  dir: string,
): UnpackJob {
  const n = wheel.files.length;
  const job: UnpackJob = {
    wheel: "path" in source ? source.path : source.bytes,
    what: wheel.filename,
    dir,
    objects: core.paths.objects,
    fsync: core.fsync,
    umask: UMASK,
    names: new Array<string>(n),
    dataStarts: new Array<number>(n),
    compressedSizes: new Array<number>(n),
    sizes: new Array<number>(n),
    methods: new Array<number>(n),
    flags: new Array<number>(n),
    crcs: new Array<number>(n),
    algorithms: new Array<string>(n),
    declared: new Array<string>(n),
    exec: new Array<number>(n),
  };
  wheel.files.forEach(({ entry, local, record, exec }, i) => {
    job.names[i] = entry.name;
    job.dataStarts[i] = local.dataStart;
    job.compressedSizes[i] = entry.compressedSize;
    job.sizes[i] = entry.size;
    job.methods[i] = entry.method;
    job.flags[i] = entry.flags;
    job.crcs[i] = entry.crc32;
    job.algorithms[i] = record?.hash?.algorithm ?? "sha256";
    job.declared[i] = record?.hash?.digest ?? "";
    job.exec[i] = exec ? 1 : 0;
  });
  return job;
}

/** The process's umask, read once (a worker thread cannot). */
const UMASK = process.umask();

async function unpack(
  core: StoreCore,
  wheel: InspectedWheel,
  source: WheelSource,
  dir: string,
): Promise<{ files: StoredFile[]; created: readonly number[] }> {
  const total = wheel.files.reduce((n, f) => n + f.entry.size, 0);
  const task = core.reporter.task(`unpack ${wheel.filename}`, total, "B");
  try {
    const result = await runUnpack(unpackJob(core, wheel, source, dir), core.unpackThreads);
    if ("failure" in result) {
      const { rule, slimenvCode, code, message } = result.failure;
      if (rule !== undefined) throw new HostileWheelError(wheel.filename, rule, message);
      if (slimenvCode !== undefined) throw new SlimenvError(slimenvCode, message);
      throw Object.assign(new Error(message), code === undefined ? {} : { code });
    }
    task.advance(total);
    const files = wheel.files.map(({ entry, exec }, i) => ({
      path: entry.name,
      hash: result.hashes[i] as string,
      exec,
      size: entry.size,
    }));
    return { files, created: result.created };
  } finally {
    task.done();
  }
}

/** Thrown inside the registration transaction to roll it back. */
const VANISHED = Symbol("vanished");

/**
 * Register the wheel and its files in one transaction; undefined when an object it needs
 * vanished (a concurrent prune), after a rollback. An object this import's link just made
 * (`created`) is only looked at when a prune had marked it for deletion: a prune removes
 * nothing else that is this new (an orphan younger than ORPHAN_GRACE_MS, an hour, is kept;
 * the link was made a moment ago). Any other object is checked on disk.
 */
function register(
  core: StoreCore,
  wheel: InspectedWheel,
  sha256: string,
  size: number,
  url: string | undefined,
  files: readonly StoredFile[],
  created: readonly number[],
): StoredWheel | undefined {
  const { db } = core;
  let done: "exists" | "added";
  let now = 0;
  try {
    done = writeTransaction(db, () => {
      if (readWheel(core, sha256) !== undefined) return "exists";
      now = core.now();
      const addObject = db.prepare(
        "INSERT OR IGNORE INTO objects(hash, exec, size, added) VALUES (?, ?, ?, ?)",
      );
      const unmark = db.prepare("DELETE FROM pending_deletes WHERE hash = ? AND exec = ?");
      files.forEach((f, i) => {
        const marked = unmark.run(f.hash, f.exec ? 1 : 0).changes !== 0;
        if ((marked || created[i] !== 1) && !isObject(core, f)) throw VANISHED;
        addObject.run(f.hash, f.exec ? 1 : 0, f.size, now);
      });
      const inserted = db
        .prepare(
          `INSERT INTO wheels(sha256, filename, name, version, tags, root_is_purelib, size, record, url, added, last_used)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          sha256,
          wheel.filename,
          wheel.name,
          wheel.version,
          JSON.stringify(wheel.tags),
          wheel.rootIsPurelib ? 1 : 0,
          size,
          wheel.recordText,
          url ?? null,
          now,
          now,
        );
      const id = Number(inserted.lastInsertRowid);
      const addFile = db.prepare(
        "INSERT INTO wheel_files(wheel_id, seq, path, hash, exec, size) VALUES (?, ?, ?, ?, ?, ?)",
      );
      files.forEach((f, seq) => {
        addFile.run(id, seq, f.path, f.hash, f.exec ? 1 : 0, f.size);
      });
      return "added";
    });
  } catch (err) {
    if (err === VANISHED) return undefined;
    throw err;
  }
  if (done === "exists") {
    touchWheels(core, [sha256]);
    return readWheel(core, sha256);
  }
  // what readWheel would read back
  return {
    sha256,
    filename: wheel.filename,
    name: wheel.name,
    version: wheel.version,
    tags: [...wheel.tags],
    rootIsPurelib: wheel.rootIsPurelib,
    files: files.map((f) => ({ ...f })),
    record: wheel.recordText,
  };
}

function isObject(core: StoreCore, f: StoredFile): boolean {
  try {
    return lstatSync(objectFile(core.paths, f.hash, f.exec)).isFile();
  } catch {
    return false;
  }
}
