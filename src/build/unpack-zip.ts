/**
 * The members of a legacy `.zip` sdist (before PEP 625 made `.tar.gz` the only form), in the
 * tar reader's shape so that unpack.ts checks and writes both alike. The archive layer's zip
 * reader refuses lying headers, encryption and unknown compression, checks every entry's size
 * and CRC-32; here the sum of the declared sizes is bounded before anything is inflated, and a
 * Unix file type recorded in an entry (symlink, device, fifo) is kept so it can be refused.
 */
import { bufferSource, readZipDirectory, readZipEntry, type TarEntry } from "../archive/index.ts";
import { SlimenvError } from "../base/index.ts";

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

function zipFailure(filename: string, cause: unknown): SlimenvError {
  return new SlimenvError("HOSTILE_SDIST", `${filename}: ${(cause as Error).message}`, {
    cause,
  });
}

/** Every entry of the zip as a member: file, dir, symlink (its data is the target) or other. */
export async function readZipMembers(
  filename: string,
  bytes: Uint8Array,
  maxUnpacked: number,
): Promise<TarEntry[]> {
  const source = bufferSource(bytes);
  let entries: Awaited<ReturnType<typeof readZipDirectory>>["entries"];
  let directory: Awaited<ReturnType<typeof readZipDirectory>>;
  try {
    directory = await readZipDirectory(source, filename);
    entries = directory.entries;
  } catch (cause) {
    throw zipFailure(filename, cause);
  }
  const total = entries.reduce((n, e) => n + e.size, 0);
  if (total > maxUnpacked) {
    throw new SlimenvError(
      "HOSTILE_SDIST",
      `${filename}: it unpacks to ${total} bytes, more than ${maxUnpacked}`,
    );
  }
  const out: TarEntry[] = [];
  for (const entry of entries) {
    const unix = entry.versionMadeBy >> 8 === 3;
    const stMode = unix ? entry.externalAttributes >>> 16 : 0;
    const kind = stMode & S_IFMT;
    const isDir = entry.name.endsWith("/") || kind === S_IFDIR;
    let data: Uint8Array;
    try {
      data = isDir
        ? new Uint8Array(0)
        : await readZipEntry(source, directory, entry, filename, maxUnpacked);
    } catch (cause) {
      throw zipFailure(filename, cause);
    }
    const type: TarEntry["type"] = isDir
      ? "dir"
      : kind === 0 || kind === S_IFREG
        ? "file"
        : kind === S_IFLNK
          ? "symlink"
          : "other";
    out.push({
      path: entry.name.replace(/^\.\//, ""),
      type,
      mode: stMode & 0o7777 || (isDir ? 0o755 : 0o644),
      linkname: type === "symlink" ? new TextDecoder().decode(data) : "",
      data: type === "file" ? data : new Uint8Array(0),
    });
  }
  return out;
}
