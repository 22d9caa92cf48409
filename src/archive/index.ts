// Layer 2: archives. Strict zip and tar, read and write (lying headers refused). Needs only
// base/. Public names of src/archive/.

export { findTarFiles, readTarEntries, type TarEntry } from "./tar-read.ts";
export type { ZipEntryShape, ZipLocalHeader } from "./zip-local.ts";
export { inflateZipEntry, readZipLocalHeader, zipEntryChunks } from "./zip-local.ts";
export type { ByteSource, FileByteSource, ZipDirectory, ZipEntry } from "./zip-read.ts";
export {
  bufferSource,
  openFileSource,
  readZipDirectory,
  readZipEntry,
  ZIP_TAIL_BYTES,
} from "./zip-read.ts";
export type { ZipInput, ZipWriteOptions } from "./zip-write.ts";
export { writeZip } from "./zip-write.ts";
