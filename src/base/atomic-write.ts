/**
 * Atomic file writes: the bytes go to a new temporary file in the target's own folder, which
 * is then renamed over the target. A reader sees the old file or the new one, never half of
 * one; a crash leaves at most a hidden `.tmp` file. The temporary file is created exclusively
 * and the target is replaced, never opened, so a write never goes through an existing hard
 * link (env files may be links into the store).
 */
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { chmod, mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { SlimenvError } from "./errors.ts";

export interface AtomicWriteOptions {
  /** Flush the new file to disk before the rename (power-loss safety). Default false. */
  fsync?: boolean;
  /** Permission bits of the new file (default: 0o666 less the umask). */
  mode?: number;
  /** Create the target's folder first. Default true. */
  mkdir?: boolean;
  /** The hint of the IO_ERROR thrown when the write fails. */
  hint?: string;
}

/** A fresh hidden name beside `file`, in its folder: `.NAME.TAG-PID-RANDOM.tmp`. */
export function siblingTempPath(file: string, tag = "write"): string {
  return path.join(
    path.dirname(path.resolve(file)),
    `.${path.basename(file)}.${tag}-${process.pid}-${randomBytes(4).toString("hex")}.tmp`,
  );
}

function ioError(file: string, cause: unknown, hint: string | undefined): SlimenvError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new SlimenvError("IO_ERROR", `cannot write ${file}: ${why}`, {
    cause,
    ...(hint === undefined ? {} : { hint }),
  });
}

/**
 * Write `data` to `file` atomically (temp file in the same folder, then rename). Throws
 * IO_ERROR (`cannot write FILE: why`, the fs error as cause); nothing is left behind.
 */
export function writeFileAtomicSync(
  file: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): void {
  const temp = siblingTempPath(file);
  try {
    if (options.mkdir !== false) mkdirSync(path.dirname(temp), { recursive: true });
    const fd = openSync(temp, "wx", options.mode ?? 0o666);
    try {
      const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
      if (options.fsync === true) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (options.mode !== undefined) chmodSync(temp, options.mode);
    renameSync(temp, file);
  } catch (cause) {
    try {
      rmSync(temp, { force: true });
    } catch {
      // the folder itself is unusable: nothing was written
    }
    throw ioError(file, cause, options.hint);
  }
}

/** The same as `writeFileAtomicSync`, without blocking. */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const temp = siblingTempPath(file);
  try {
    if (options.mkdir !== false) await mkdir(path.dirname(temp), { recursive: true });
    const handle = await open(temp, "wx", options.mode ?? 0o666);
    try {
      await handle.writeFile(data);
      if (options.fsync === true) await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.mode !== undefined) await chmod(temp, options.mode);
    await rename(temp, file);
  } catch (cause) {
    await rm(temp, { force: true }).catch(() => {});
    throw ioError(file, cause, options.hint);
  }
}

/**
 * Put a finished temporary file (see `siblingTempPath`) in place of `file` by rename, with
 * `mode` when given. The temporary file is removed when that fails.
 */
export function replaceFileSync(temp: string, file: string, mode?: number): void {
  try {
    if (mode !== undefined) chmodSync(temp, mode);
    renameSync(temp, file);
  } catch (cause) {
    rmSync(temp, { force: true });
    throw cause;
  }
}
