/**
 * The bytes of a distribution file the lock must hash itself (a direct archive, or an index
 * file listed without hashes): read from disk for a `file:` URL, else downloaded (never from
 * the HTTP cache).
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { SlimenvError } from "../base/index.ts";
import type { HttpClient } from "../index/http.ts";
import { stripCredentials } from "../index/source-url.ts";

export async function distributionBytes(
  url: string,
  client: HttpClient,
  withCredentials: (url: string) => string,
): Promise<Uint8Array> {
  if (url.startsWith("file:")) {
    try {
      return await readFile(fileURLToPath(url));
    } catch (cause) {
      throw new SlimenvError("IO_ERROR", `cannot read ${fileURLToPath(url)}`, { cause });
    }
  }
  const response = await client.get(withCredentials(url), { cache: "no-store" });
  if (response.status !== 200) {
    throw new SlimenvError(
      "INDEX_ERROR",
      `unexpected HTTP status ${response.status} for ${stripCredentials(url)}`,
    );
  }
  return response.body;
}
