// Public names of src/elf: reading ELF files (header, sections, debug bytes, the dynamic
// section) and rewriting their library search paths in place.

export type { ElfDynamic, ElfSearchPath } from "./dynamic.ts";
export {
  elfRunpath,
  loaderSearchDirs,
  readElfDynamic,
  readElfDynamicFile,
  readElfRunpath,
  rewriteSearchPaths,
  rewriteSearchPathsFile,
} from "./dynamic.ts";
export type { ElfHeaderInfo } from "./header.ts";
export { elfArch, hasElfMagic, parseElfHeader, readElfInfo } from "./header.ts";
export type { ReadAt } from "./read.ts";
export { bytesReader, fdReader } from "./read.ts";
export type { ElfInfo, ElfSection } from "./sections.ts";
export { elfDebugBytes, isDebugSection, parseElf, readElfFile } from "./sections.ts";
