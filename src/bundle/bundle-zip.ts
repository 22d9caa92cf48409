/**
 * The bundle container (docs/fleet.md "Bundle file"): a zip archive whose members are all
 * STORED, in a fixed order, back to back from offset 0 to the central directory, with no
 * encryption, data descriptors, extra fields or comments. Written by src/archive's zip writer
 * (given order, stored); read strictly: the central directory and every local header must
 * agree, so every zip reader sees the same members.
 */
import {
  bufferSource,
  readZipDirectory,
  readZipEntry,
  readZipLocalHeader,
  writeZip,
} from "../archive/index.ts";
import { isSlimenvError, SlimenvError } from "../base/index.ts";

/** A zip without zip64 holds at most 4 GiB; a bigger bundle is refused when written. */
export const MAX_BUNDLE_BYTES = 0xffffffff;

export interface BundleMember {
  name: string;
  data: Uint8Array;
}

function refuse(what: string, why: string): SlimenvError {
  return new SlimenvError("HASH_MISMATCH", `${what} refused: ${why}`);
}

/** The zip file of these members, in this order, every one stored. */
export function writeBundleZip(members: readonly BundleMember[], what: string): Uint8Array {
  const total = members.reduce((n, m) => n + 30 + 46 + 2 * m.name.length + m.data.length, 22);
  if (total > MAX_BUNDLE_BYTES) {
    throw new SlimenvError(
      "INVALID_ENV",
      `${what}: a bundle of ${total} bytes is over the 4 GiB a bundle (a zip without zip64) holds`,
      { hint: "ship large data as its own artifact, or split the env into apps" },
    );
  }
  return writeZip(
    members.map((m) => ({ name: m.name, data: m.data })),
    { sort: false, storeOnly: true },
  );
}

/**
 * The members of a bundle file, in order, each checked: stored, not encrypted, no data
 * descriptor, local header equal to the central directory entry (name, method, sizes, CRC),
 * and laid out back to back from offset 0 up to the central directory.
 */
export async function readBundleZip(bytes: Uint8Array, what: string): Promise<BundleMember[]> {
  const source = bufferSource(bytes);
  try {
    const dir = await readZipDirectory(source, what);
    const members: BundleMember[] = [];
    let at = 0;
    for (const e of dir.entries) {
      if (e.method !== 0) throw refuse(what, `member ${e.name} is not stored (method ${e.method})`);
      if (e.flags & 0x9) throw refuse(what, `member ${e.name} is encrypted or has a descriptor`);
      if (e.compressedSize !== e.size) throw refuse(what, `member ${e.name} sizes differ`);
      if (e.localHeaderOffset !== at) {
        throw refuse(what, `member ${e.name} is not where the previous one ends`);
      }
      const local = await readZipLocalHeader(source, e, what);
      if (
        local.name !== e.name ||
        local.method !== e.method ||
        local.flags !== e.flags ||
        local.size !== e.size ||
        local.compressedSize !== e.compressedSize ||
        local.crc32 !== e.crc32
      ) {
        throw refuse(what, `the local header of ${e.name} differs from the central directory`);
      }
      members.push({ name: e.name, data: await readZipEntry(source, dir, e, what, e.size) });
      at = local.dataStart + e.size;
    }
    if (at !== dir.centralDirectoryOffset) {
      throw refuse(what, "bytes lie between the last member and the central directory");
    }
    return members;
  } catch (err) {
    if (isSlimenvError(err) && err.code === "INDEX_ERROR") {
      throw new SlimenvError("HASH_MISMATCH", `${what} refused: ${err.message}`, { cause: err });
    }
    throw err;
  }
}
