/**
 * The tree document of a bundle (docs/fleet.md "Tree"): canonical JSON `{"files","symlinks"}`,
 * shipped compressed whole (xz or gzip) or as an SLDIFF01 patch of a tree the device keeps.
 * Decoding checks the member's bytes against `tree.stored` before decompressing or patching
 * anything, bounds the output by `tree.size`, and checks the result against `tree.sha256`.
 */
import { constants, gunzipSync, gzipSync } from "node:zlib";
import { SlimenvError } from "../base/index.ts";
import { applyPatch, diffStreams, encodeStreams, GIVE_UP_ABOVE } from "./bsdiff.ts";
import { canonicalJsonBytes } from "./canonical-json.ts";
import { compressStream, PATCH_CODEC, xzAvailable, xzCompress, xzDecompress } from "./compress.ts";
import { sha256Hex } from "./hashing.ts";
import {
  type BundleTree,
  type Compression,
  TREE_MEMBERS,
  type TreeEncoding,
  type TreeInfo,
} from "./types.ts";

/** Bound on the decoded tree (about 350,000 files); the agent applies the same. */
export const MAX_TREE_BYTES = 64 * 1024 * 1024;

function refuse(what: string, why: string): SlimenvError {
  return new SlimenvError("HASH_MISMATCH", `${what} refused: ${why}`);
}

/** The canonical bytes of a tree document (what `tree.sha256` hashes). */
export function treeBytesOf(tree: BundleTree): Uint8Array {
  return canonicalJsonBytes({ files: tree.files, symlinks: tree.symlinks });
}

export interface EncodedTree {
  info: TreeInfo;
  member: { name: (typeof TREE_MEMBERS)[TreeEncoding]; data: Uint8Array };
}

function compressTree(bytes: Uint8Array, codec: Compression): Uint8Array {
  if (codec === "xz") return xzCompress(bytes, true);
  return new Uint8Array(gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION }));
}

/**
 * Encode the tree bytes: compressed with `codec`, or, given the bytes of a base tree the
 * device keeps, as an SLDIFF01 patch of it when the patch is the smaller.
 */
export function encodeTree(bytes: Uint8Array, codec: Compression, base?: Uint8Array): EncodedTree {
  if (bytes.length > MAX_TREE_BYTES) {
    throw new SlimenvError(
      "INVALID_ENV",
      `the tree document is ${bytes.length} bytes, over the ${MAX_TREE_BYTES} a device accepts`,
      { hint: "split the env into apps of fewer files" },
    );
  }
  let encoding: TreeEncoding = codec;
  let data = compressTree(bytes, codec);
  let baseSha: string | null = null;
  if (base !== undefined) {
    const patch = treePatch(base, bytes);
    if (patch !== undefined && patch.length < data.length) {
      encoding = "sldiff";
      data = patch;
      baseSha = sha256Hex(base);
    }
  }
  return {
    info: {
      sha256: sha256Hex(bytes),
      size: bytes.length,
      encoding,
      stored: { sha256: sha256Hex(data), size: data.length },
      base: baseSha,
    },
    member: { name: TREE_MEMBERS[encoding], data },
  };
}

/**
 * The SLDIFF01 patch of tree `base` into `bytes`: the smaller of its zlib and xz encodings
 * (a few changed entries make streams of a few hundred bytes, where xz's ~60 bytes of
 * container a stream outweigh its better compression).
 */
function treePatch(base: Uint8Array, bytes: Uint8Array): Uint8Array | undefined {
  const streams = diffStreams(base, bytes, { giveUpAbove: GIVE_UP_ABOVE });
  if (streams === undefined) return undefined;
  const codecs = xzAvailable() ? [PATCH_CODEC.zlib, PATCH_CODEC.xz] : [PATCH_CODEC.zlib];
  const patches = codecs.map((c) => encodeStreams(streams, c, (d) => compressStream(d, c)));
  return patches.reduce((a, b) => (b.length < a.length ? b : a));
}

/**
 * The decoded tree bytes of a tree member, every check of docs/fleet.md in order. `baseOf`
 * returns the bytes of a kept tree by its sha256 (sldiff), or undefined.
 */
export function decodeTree(
  info: TreeInfo,
  stored: Uint8Array,
  baseOf: (sha256: string) => Uint8Array | undefined,
  what: string,
): Uint8Array {
  if (stored.length !== info.stored.size || sha256Hex(stored) !== info.stored.sha256) {
    throw refuse(what, "the tree member's hash or size differs from bundle.json");
  }
  if (info.size > MAX_TREE_BYTES) throw refuse(what, `the tree is over ${MAX_TREE_BYTES} bytes`);
  let out: Uint8Array;
  if (info.encoding === "sldiff") {
    const base = info.base === null ? undefined : baseOf(info.base);
    if (base === undefined) {
      throw new SlimenvError(
        "HASH_MISMATCH",
        `${what} refused: it patches base tree ${String(info.base).slice(0, 12)}, which is not at hand`,
        { hint: "build the delta --from the bundle the device has, or ship a full bundle" },
      );
    }
    out = applyPatch(base, stored);
  } else if (info.encoding === "gzip") {
    try {
      out = new Uint8Array(gunzipSync(stored, { maxOutputLength: Math.max(1, info.size) }));
    } catch (cause) {
      throw new SlimenvError("HASH_MISMATCH", `${what} refused: the tree is not valid gzip`, {
        cause,
      });
    }
  } else if (info.encoding === "xz") {
    out = xzDecompress(stored);
  } else {
    throw refuse(what, `unknown tree encoding ${JSON.stringify(info.encoding)}`);
  }
  if (out.length !== info.size || sha256Hex(out) !== info.sha256) {
    throw refuse(what, "the decoded tree's hash or size differs from bundle.json");
  }
  return out;
}

/** Parse decoded tree bytes (exactly the two fields). */
export function parseTree(bytes: Uint8Array, what: string): BundleTree {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new SlimenvError("HASH_MISMATCH", `${what}: the tree is not JSON`, { cause });
  }
  const d = doc as Partial<BundleTree> | null;
  if (
    d === null ||
    typeof d !== "object" ||
    !Array.isArray(d.files) ||
    !Array.isArray(d.symlinks) ||
    Object.keys(d).length !== 2
  ) {
    throw refuse(what, 'the tree is not {"files":[…],"symlinks":[…]}');
  }
  return { files: d.files, symlinks: d.symlinks };
}
