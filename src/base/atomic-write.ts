/**
 * Writing a file without ever writing in place: the bytes go to a new temp file in the same
 * folder, which is then renamed over the destination. Whatever the destination was — absent,
 * a regular file, or a hard link to a read-only store object — it is replaced, never opened
 * for writing, so no other link to its inode sees a change (and a crash leaves the old file
 * or the new one, never half of one).
 */
import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { SlimenvError } from "./errors.ts";

export interface AtomicWriteOptions {
  /** The new file's mode, less the umask, as open() makes it (default 0o644). */
  mode?: number;
  /** fsync the file before the rename (default true). */
  fsync?: boolean;
}

/** The temp name used next to `file`: hidden, with the pid and a random part. */
export function atomicTempName(file: string): string {
  return path.join(
    path.dirname(file),
    `.${path.basename(file)}.slimenv-tmp-${process.pid}-${randomBytes(4).toString("hex")}`,
  );
}

/** Write `data` to `file` through a temp file in the same folder and a rename. */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const temp = atomicTempName(file);
  const mode = options.mode ?? 0o644;
  try {
    const fh = await open(temp, "wx", mode);
    try {
      await fh.writeFile(data);
      if (options.fsync !== false) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, file);
  } catch (cause) {
    await rm(temp, { force: true });
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new SlimenvError("IO_ERROR", `cannot write ${file}: ${why}`, { cause });
  }
}
