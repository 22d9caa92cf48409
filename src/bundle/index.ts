// Shipping to devices (docs/fleet.md): bundles full and delta, patches, keys, repositories.

export { agentBytes, agentCode, agentRunner, agentSource } from "./agent-source.ts";
export type { PatchStreams, StreamCodec } from "./bsdiff.ts";
export {
  applyPatch,
  diffStreams,
  encodeStreams,
  makePatch,
  patchCodec,
  patchCodecFor,
  XZ_PATCH_FROM,
} from "./bsdiff.ts";
export type { BundleMember } from "./bundle-zip.ts";
export { MAX_BUNDLE_BYTES, readBundleZip, writeBundleZip } from "./bundle-zip.ts";
export { canonicalJson, canonicalJsonBytes } from "./canonical-json.ts";
export type { PatchCodec, PayloadOptions } from "./compress.ts";
export {
  compressPayload,
  compressStream,
  decompressPayload,
  decompressStream,
  PATCH_CODEC,
  XZ_EXTREME_UP_TO,
  xzAvailable,
  xzPayloadArgs,
} from "./compress.ts";
export type { DeltaPlan, OldState } from "./delta.ts";
export { compressedSize, oldFromBundle, planDelta, readOld, treeBase } from "./delta.ts";
export { envTarget, libcOfPlatform } from "./env-target.ts";
export { loadSigningKey, parseHealth } from "./files.ts";
export type { EnvTree, EnvTreeOptions, TreeFile } from "./from-env.ts";
export { ENV_MANIFEST_PATH, readEnvTree } from "./from-env.ts";
export type { LockBundleRequest } from "./from-lock.ts";
export { packLock } from "./from-lock.ts";
export { sha256Hex } from "./hashing.ts";
export type { EnvImage, ImageOptions, TreeImage, TreeImageOptions } from "./image.ts";
export { buildImage, imageTime, imageUuid, writeTreeImage } from "./image.ts";
export type {
  ImageCompression,
  ImageFormat,
  ImageSpec,
  ImageSpecRequest,
} from "./image-options.ts";
export {
  describeSpec,
  IMAGE_COMPRESSIONS,
  IMAGE_FORMATS,
  imageSpec,
  parseBlockSize,
} from "./image-options.ts";
export type { ImageTree } from "./image-stage.ts";
export { checkImageTree, stageTree } from "./image-stage.ts";
export { imageArgs, imageTool, probeImageTool, runImageTool } from "./image-tools.ts";
export type { PublicKey, SigningKey } from "./keys.ts";
export {
  formatPrivateKey,
  formatPublicKey,
  generateSigningKey,
  keyId,
  parsePrivateKey,
  parsePublicKey,
  readPublicKey,
  readSigningKey,
  signDocument,
  signingKeyFromSeed,
  verifyDocument,
  writeKeyPair,
} from "./keys.ts";
export type { PackOptions, PackResult } from "./pack.ts";
export { checkPackOptions, packEnv } from "./pack.ts";
export type { Pair, PairFile } from "./pair.ts";
export { normalizePath, pairFiles } from "./pair.ts";
export type { PublishOptions, PublishResult } from "./publish.ts";
export { blobPath, publishBundle } from "./publish.ts";
export { suffixArray } from "./suffix-array.ts";
export type { EncodedTree } from "./tree-codec.ts";
export { decodeTree, encodeTree, MAX_TREE_BYTES, parseTree, treeBytesOf } from "./tree-codec.ts";
export type * from "./types.ts";
export { APP_NAME_RE, BUNDLE_FORMAT, CHANNEL_FORMAT, PATCH_MAGIC, TREE_MEMBERS } from "./types.ts";
export type { ReadBundleOptions, WrittenBundle } from "./wire.ts";
export { MAX_HEADER_BYTES, objectSetHash, readBundle, writeBundle } from "./wire.ts";
export { spliceXz } from "./xz-blocks.ts";
