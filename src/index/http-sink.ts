/**
 * Where a downloaded body goes instead of memory: the BodySink interface and FileSink, a file
 * hashed (sha256) and counted while written.
 */
import { createHash, type Hash } from "node:crypto";
import { type FileHandle, open } from "node:fs/promises";
import { SlimenvError } from "../base/index.ts";

/**
 * Where the body of a 2xx answer goes instead of memory (HttpClient.download). Each answer
 * starts it again: a retried download never mixes two attempts.
 */
export interface BodySink {
  /** Drop what was written so far; called once per answer that is not a redirect. */
  reset(): Promise<void>;
  /** The next piece of the decoded body. */
  write(chunk: Uint8Array): Promise<void>;
}

/**
 * A BodySink that writes to a file (created or truncated) while hashing it (sha256) and
 * counting its bytes. A failed write is IO_ERROR (not a network failure: never retried).
 */
/**
 * Bytes gathered before one write: network chunks are small (16–64 KiB). Progress is told
 * per write, of bytes already in the file.
 */
const WRITE_SIZE = 256 * 1024;

export class FileSink implements BodySink {
  readonly path: string;
  #handle: FileHandle | undefined;
  #hash: Hash = createHash("sha256");
  #size = 0;
  /** Bytes in the file so far; the rest of #size waits in #buffer. */
  #written = 0;
  #buffer: Buffer | undefined;
  #buffered = 0;
  readonly #onProgress: ((bytes: number) => void) | undefined;

  private constructor(file: string, handle: FileHandle, onProgress?: (bytes: number) => void) {
    this.path = file;
    this.#handle = handle;
    this.#onProgress = onProgress;
  }

  static async open(file: string, onProgress?: (bytes: number) => void): Promise<FileSink> {
    try {
      return new FileSink(file, await open(file, "w"), onProgress);
    } catch (err) {
      throw FileSink.#ioError(file, err);
    }
  }

  /** Bytes written since the last reset. */
  get size(): number {
    return this.#size;
  }

  /** Hex sha256 of the bytes written since the last reset. */
  sha256(): string {
    return this.#hash.copy().digest("hex");
  }

  async reset(): Promise<void> {
    this.#buffered = 0;
    try {
      await this.#open().truncate(0);
    } catch (err) {
      throw FileSink.#ioError(this.path, err);
    }
    this.#hash = createHash("sha256");
    this.#size = 0;
    this.#written = 0;
  }

  /** Take `chunk` (written to the file in pieces of WRITE_SIZE, and on close). */
  async write(chunk: Uint8Array): Promise<void> {
    this.#open();
    if (this.#buffered + chunk.byteLength > WRITE_SIZE) await this.#flush();
    if (chunk.byteLength >= WRITE_SIZE) {
      await this.#writeOut(chunk);
    } else {
      this.#buffer ??= Buffer.allocUnsafe(WRITE_SIZE);
      this.#buffer.set(chunk, this.#buffered);
      this.#buffered += chunk.byteLength;
    }
    this.#hash.update(chunk);
    this.#size += chunk.byteLength;
  }

  /** Write what is gathered, then close the file (idempotent). */
  async close(): Promise<void> {
    const handle = this.#handle;
    if (handle === undefined) return;
    try {
      await this.#flush();
    } finally {
      this.#handle = undefined;
      await handle.close();
    }
  }

  async #flush(): Promise<void> {
    if (this.#buffered === 0 || this.#buffer === undefined) return;
    const bytes = this.#buffer.subarray(0, this.#buffered);
    this.#buffered = 0;
    await this.#writeOut(bytes);
  }

  async #writeOut(bytes: Uint8Array): Promise<void> {
    const handle = this.#open();
    try {
      let done = 0;
      while (done < bytes.byteLength) {
        const { bytesWritten } = await handle.write(
          bytes,
          done,
          bytes.byteLength - done,
          this.#written + done,
        );
        done += bytesWritten;
      }
    } catch (err) {
      throw FileSink.#ioError(this.path, err);
    }
    this.#written += bytes.byteLength;
    this.#onProgress?.(this.#written);
  }

  #open(): FileHandle {
    if (this.#handle === undefined) throw new Error(`${this.path} is closed`);
    return this.#handle;
  }

  static #ioError(file: string, err: unknown): SlimenvError {
    const reason = (err as { code?: string }).code ?? String(err);
    return new SlimenvError("IO_ERROR", `cannot write ${file} (${reason})`, { cause: err });
  }
}
