/**
 * The head both on-disk caches of this folder (http-cache.ts, page-cache.ts) start an entry
 * with: a magic line naming the format, then one line of JSON metadata; the body follows.
 */

/** The magic line and the metadata as one JSON line, to put before an entry's body. */
export function cacheHead(magic: string, meta: object): Buffer {
  return Buffer.from(`${magic}${JSON.stringify(meta)}\n`, "utf8");
}

/**
 * The metadata of an entry that starts with `magic` (not yet checked: the caller checks its
 * fields) and the offset of the newline that ends it; undefined for anything else.
 */
export function readCacheHead(
  data: Buffer,
  magic: string,
): { meta: unknown; end: number } | undefined {
  if (data.subarray(0, magic.length).toString("utf8") !== magic) return undefined;
  const end = data.indexOf(10, magic.length);
  if (end < 0) return undefined;
  try {
    return { meta: JSON.parse(data.subarray(magic.length, end).toString("utf8")), end };
  } catch {
    return undefined;
  }
}
