/**
 * Downloading a wheel a lock names to a file of its own, checked against the lock.
 *
 * The wheel is streamed (HttpClient.download) into a temp file in the store's own tmp/ (the
 * same file system as objects/, so nothing is copied across devices) while it is hashed; its
 * size and sha256 are checked against the lock before anything uses it (fetch.ts imports it,
 * repair.ts restores objects from it). A wheel is never held in memory whole, whatever its
 * size. The temp file is removed in every case (a killed process's by the next Store.open).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Reporter, SlimenvError, silentReporter } from "../base/index.ts";
import type { HttpClient } from "../index/http.ts";
import type { HttpDownload } from "../index/http-types.ts";
import { type StorePaths, tempName } from "./paths.ts";

export interface WheelFileRef {
  url: string;
  filename: string;
  /** Hex sha256 from the lock. */
  sha256: string;
  size?: number;
}

/** A downloaded wheel file that is the one the lock names. */
export interface DownloadedWheel {
  path: string;
  /** The URL it came from after redirects, credentials stripped. */
  url: string;
  size: number;
  /** Hex sha256. */
  sha256: string;
}

/** HTTP_ERROR / HASH_MISMATCH unless `response` is the file `file` names. */
function checkDownload(file: WheelFileRef, response: HttpDownload): void {
  if (response.status !== 200) {
    throw new SlimenvError(
      "HTTP_ERROR",
      `GET ${response.url}: HTTP ${response.status} for ${file.filename}`,
    );
  }
  if (file.size !== undefined && response.size !== file.size) {
    throw new SlimenvError(
      "HASH_MISMATCH",
      `${file.filename}: downloaded ${response.size} bytes, the lock says ${file.size}`,
    );
  }
  const expected = file.sha256.toLowerCase();
  if (response.sha256 !== expected) {
    throw new SlimenvError(
      "HASH_MISMATCH",
      `${file.filename} from ${response.url}: sha256 is ${response.sha256}, the lock expects ${expected}`,
      { hint: "the index serves another file than the one locked; re-lock, or check the index" },
    );
  }
}

/**
 * Stream `file.url` into `dest` (never held in memory) and check it is the file the lock
 * names: HTTP_ERROR for an answer other than 200 or a body longer than `file.size` (cut off
 * as soon as it is), HASH_MISMATCH for another size or sha256. `dest` is removed on failure.
 */
export async function downloadWheelFile(
  client: HttpClient,
  file: WheelFileRef,
  dest: string,
  reporter: Reporter = silentReporter,
): Promise<DownloadedWheel> {
  const task = reporter.task(`download ${file.filename}`, file.size, "B");
  let shown = 0; // a retry starts again from 0: the bar waits until it passes this point
  try {
    const response = await client.download(file.url, dest, {
      ...(file.size === undefined ? {} : { maxBytes: file.size }),
      onProgress: (bytes) => {
        if (bytes > shown) task.advance(bytes - shown);
        shown = Math.max(shown, bytes);
      },
    });
    try {
      checkDownload(file, response);
    } catch (err) {
      await rm(dest, { force: true });
      throw err;
    }
    return { path: dest, url: response.url, size: response.size, sha256: response.sha256 };
  } finally {
    task.done();
  }
}

/**
 * Download and check `file` into a temp file under the store's tmp/, run `use` on it, and
 * remove the temp file whatever happens.
 */
export async function withDownloadedWheel<T>(
  paths: StorePaths,
  client: HttpClient,
  file: WheelFileRef,
  reporter: Reporter,
  use: (wheel: DownloadedWheel) => Promise<T>,
): Promise<T> {
  const temp = tempName(paths, ".download");
  try {
    return await use(await downloadWheelFile(client, file, temp, reporter));
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * Download `file.url`, check it is the file the lock names, and return its bytes. This holds
 * the whole wheel in memory: prefer fetchWheel, or downloadWheelFile into a file.
 */
export async function downloadWheel(
  client: HttpClient,
  file: WheelFileRef,
  reporter: Reporter = silentReporter,
): Promise<Uint8Array> {
  const dir = await mkdtemp(path.join(tmpdir(), "slimenv-download-"));
  try {
    const wheel = await downloadWheelFile(client, file, path.join(dir, "wheel"), reporter);
    const bytes = await readFile(wheel.path);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
