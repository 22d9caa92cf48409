/**
 * A remote file read by HTTP range requests, as a zip reader's ByteSource: opened with one
 * suffix range (the file's tail, which also gives its size), then one range per read that the
 * bytes already fetched do not cover. A server that answers with the whole file (200) is
 * served from that answer from then on.
 */

import type { ByteSource } from "../archive/zip-read.ts";
import { SlimenvError } from "../base/index.ts";
import type { HttpClient } from "./http.ts";
import { HttpError } from "./http-errors.ts";
import type { HttpResponse } from "./http-types.ts";
import { stripCredentials } from "./source-url.ts";

const CONTENT_RANGE = /^bytes\s+(\d+)-(\d+)\/(\d+)$/i;

function bad(url: string, why: string): SlimenvError {
  return new SlimenvError("INDEX_ERROR", `bad range answer from ${stripCredentials(url)}: ${why}`);
}

function parseContentRange(response: HttpResponse, url: string): [number, number, number] {
  const header = response.headers["content-range"];
  const m = header === undefined ? null : CONTENT_RANGE.exec(header.trim());
  if (m === null) throw bad(url, `Content-Range ${JSON.stringify(header ?? "")}`);
  const start = Number(m[1]);
  const end = Number(m[2]);
  const total = Number(m[3]);
  if (end < start || end >= total || response.body.length !== end - start + 1) {
    throw bad(url, `Content-Range ${header} does not fit the ${response.body.length}-byte body`);
  }
  return [start, end, total];
}

export class RangeSource implements ByteSource {
  readonly size: number;
  /** The whole file, once a server answered a range request with all of it. */
  whole: Uint8Array | undefined;
  readonly #client: HttpClient;
  readonly #url: string;
  readonly #chunks: { start: number; bytes: Uint8Array }[] = [];

  private constructor(client: HttpClient, url: string, size: number) {
    this.#client = client;
    this.#url = url;
    this.size = size;
  }

  /**
   * Fetch the last `tailBytes` of `url`. Returns the source; the whole file when the server
   * ignored the range (200); "unsupported" when it refused it (416 and the like).
   */
  static async open(
    client: HttpClient,
    url: string,
    tailBytes: number,
  ): Promise<RangeSource | Uint8Array | "unsupported"> {
    let response: HttpResponse;
    try {
      response = await client.get(url, { range: { suffix: tailBytes }, cache: "no-store" });
    } catch (err) {
      // 416: the server cannot serve that range (an empty file, a server that refuses suffixes).
      if (err instanceof HttpError && err.status === 416) return "unsupported";
      throw err;
    }
    if (response.status === 200) return response.body;
    if (response.status === 404) {
      throw new SlimenvError(
        "INDEX_ERROR",
        `${stripCredentials(url)} is listed by the index but not found (404)`,
      );
    }
    if (response.status !== 206) return "unsupported";
    const [start, , total] = parseContentRange(response, url);
    const source = new RangeSource(client, url, total);
    source.#chunks.push({ start, bytes: response.body });
    return source;
  }

  async read(start: number, end: number): Promise<Uint8Array> {
    if (this.whole !== undefined) return this.whole.subarray(start, end);
    for (const chunk of this.#chunks) {
      if (start >= chunk.start && end <= chunk.start + chunk.bytes.length) {
        return chunk.bytes.subarray(start - chunk.start, end - chunk.start);
      }
    }
    if (end <= start) return new Uint8Array(0);
    const response = await this.#client.get(this.#url, {
      range: { start, end: end - 1 },
      cache: "no-store",
    });
    if (response.status === 200) {
      if (response.body.length !== this.size) {
        throw bad(this.#url, `the file is now ${response.body.length} bytes, was ${this.size}`);
      }
      this.whole = response.body;
      return this.whole.subarray(start, end);
    }
    if (response.status !== 206) throw bad(this.#url, `HTTP status ${response.status}`);
    const [gotStart, gotEnd, total] = parseContentRange(response, this.#url);
    if (total !== this.size)
      throw bad(this.#url, `the file is now ${total} bytes, was ${this.size}`);
    if (gotStart > start || gotEnd < end - 1) {
      throw bad(this.#url, `asked for bytes ${start}-${end - 1}, got ${gotStart}-${gotEnd}`);
    }
    this.#chunks.push({ start: gotStart, bytes: response.body });
    return response.body.subarray(start - gotStart, end - gotStart);
  }
}
