/**
 * Importing a wheel: hash the wheel file (and check it against the lock's sha256), inspect
 * it, unpack every file into a private temp folder while hashing it (one pass) and check it
 * against RECORD, and only when every file passed link the new objects into objects/ and
 * register the wheel and its files in one transaction. A refused wheel leaves nothing.
 */
import { createHash } from "node:crypto";
import { lstatSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { zipEntryChunks } from "../archive/zip-local.ts";
import { type ByteSource, bufferSource, openFileSource } from "../archive/zip-read.ts";
import { isSlimenvError, SlimenvError } from "../base/index.ts";
import { parseWheelFilename } from "../standards/wheel-filename.ts";
import { objectExists, readWheel, type StoreCore, touchWheels } from "./core.ts";
import { HostileWheelError } from "./hostile.ts";
import { hashFile, promoteObject, writeHashed } from "./objects.ts";
import { objectFile, tempName } from "./paths.ts";
import { writeTransaction } from "./schema.ts";
import type { StoredFile, StoredWheel } from "./types.ts";
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

interface Unpacked extends StoredFile {
  /** The temp file holding a new object, or undefined when the object already existed. */
  temp: string | undefined;
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
      const result = await unpackAndRegister(core, inspected, sha256, size, options.url);
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

/** Unpack, promote, register. Undefined when an object vanished before registration. */
async function unpackAndRegister(
  core: StoreCore,
  wheel: InspectedWheel,
  sha256: string,
  size: number,
  url: string | undefined,
): Promise<StoredWheel | undefined> {
  const dir = tempName(core.paths, ".import");
  await mkdir(dir, { recursive: true });
  try {
    const unpacked = await unpack(core, wheel, dir);
    for (const file of unpacked) {
      if (file.temp !== undefined) {
        promoteObject(file.temp, objectFile(core.paths, file.hash, file.exec), file.exec);
      }
    }
    return register(core, wheel, sha256, size, url, unpacked);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function unpack(core: StoreCore, wheel: InspectedWheel, dir: string): Promise<Unpacked[]> {
  const total = wheel.files.reduce((n, f) => n + f.entry.size, 0);
  const task = core.reporter.task(`unpack ${wheel.filename}`, total, "B");
  const planned = new Set<string>();
  const out: Unpacked[] = [];
  try {
    for (const [i, file] of wheel.files.entries()) {
      const { entry, record } = file;
      const algorithm = record?.hash?.algorithm ?? "sha256";
      const declared = record?.hash?.digest;
      // With a sha256 RECORD the object name is known before unpacking: an object that is
      // already stored (or already unpacked from this wheel) is only hashed, not written.
      const known =
        algorithm === "sha256" && declared !== undefined
          ? Buffer.from(declared, "base64url").toString("hex")
          : undefined;
      const skip =
        known !== undefined &&
        (planned.has(`${known}:${file.exec}`) || objectExists(core, known, file.exec));
      const temp = skip ? undefined : path.join(dir, String(i));
      let digests: Awaited<ReturnType<typeof writeHashed>>;
      try {
        digests = await writeHashed(
          zipEntryChunks(wheel.source, entry, file.local.dataStart, wheel.filename),
          temp,
          algorithm,
          { fsync: core.fsync },
        );
      } catch (err) {
        if (isSlimenvError(err) && err.code === "INDEX_ERROR") {
          throw new HostileWheelError(wheel.filename, "zip-structure", err.message, err);
        }
        throw err;
      }
      if (declared !== undefined && digests.record !== declared) {
        throw new HostileWheelError(
          wheel.filename,
          "hash-mismatch",
          `${JSON.stringify(entry.name)} does not match its RECORD hash ${algorithm}=${declared}`,
        );
      }
      const key = `${digests.sha256}:${file.exec}`;
      const fresh = temp !== undefined && !planned.has(key);
      planned.add(key);
      out.push({
        path: entry.name,
        hash: digests.sha256,
        exec: file.exec,
        size: digests.size,
        temp: fresh ? temp : undefined,
      });
      task.advance(entry.size);
    }
  } finally {
    task.done();
  }
  return out;
}

function register(
  core: StoreCore,
  wheel: InspectedWheel,
  sha256: string,
  size: number,
  url: string | undefined,
  files: readonly Unpacked[],
): StoredWheel | undefined {
  const { db } = core;
  const done = writeTransaction(db, () => {
    if (readWheel(core, sha256) !== undefined) return "exists";
    for (const f of files) {
      try {
        if (!lstatSync(objectFile(core.paths, f.hash, f.exec)).isFile()) return "vanished";
      } catch {
        return "vanished";
      }
    }
    const now = core.now();
    const addObject = db.prepare(
      "INSERT OR IGNORE INTO objects(hash, exec, size, added) VALUES (?, ?, ?, ?)",
    );
    const unmark = db.prepare("DELETE FROM pending_deletes WHERE hash = ? AND exec = ?");
    for (const f of files) {
      addObject.run(f.hash, f.exec ? 1 : 0, f.size, now);
      unmark.run(f.hash, f.exec ? 1 : 0);
    }
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
  if (done === "vanished") return undefined;
  if (done === "exists") touchWheels(core, [sha256]);
  return readWheel(core, sha256);
}
