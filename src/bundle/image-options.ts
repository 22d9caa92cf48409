/**
 * What a read-only image may be (docs/fleet.md, "Images"): the format, its compressor and
 * level, and the block size, checked before anything is read or written, with the defaults
 * filled in. Plain data; the tools' argv are built from it (image-tools.ts).
 *
 *   squashfs  zstd (level 1–22, default 19) · xz · lz4 (high-compression mode) · gzip (1–9,
 *             default 9); block size 4 KiB – 1 MiB, a power of two, default 128 KiB
 *   erofs     lz4hc (level 0–12, default 12) · lz4 · none; block size = the largest compressed
 *             physical cluster, a multiple of 4 KiB up to 1 MiB, default 4 KiB (clusters above
 *             4 KiB need Linux ≥ 5.13)
 */
import { SlimenvError } from "../base/index.ts";

export const IMAGE_FORMATS = ["squashfs", "erofs"] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export const IMAGE_COMPRESSIONS = {
  squashfs: ["zstd", "xz", "lz4", "gzip"],
  erofs: ["lz4hc", "lz4", "none"],
} as const satisfies Record<ImageFormat, readonly string[]>;

export type ImageCompression = (typeof IMAGE_COMPRESSIONS)[ImageFormat][number];

/** Compressors that take a level: [lowest, highest, default]. */
const LEVELS: Partial<Record<ImageCompression, readonly [number, number, number]>> = {
  zstd: [1, 22, 19],
  gzip: [1, 9, 9],
  lz4hc: [0, 12, 12],
};

const KIB = 1024;
const MIB = 1024 * KIB;

/** What the caller asks for; unset fields take the format's defaults. */
export interface ImageSpecRequest {
  format: string;
  compression?: string;
  level?: number;
  /** Bytes. */
  blockSize?: number;
}

/** A checked image specification, every field filled in. */
export interface ImageSpec {
  format: ImageFormat;
  compression: ImageCompression;
  /** null for a compressor without levels. */
  level: number | null;
  /** squashfs: the data block size; erofs: the largest physical cluster (4096 = the default). */
  blockSize: number;
}

function bad(message: string, hint: string): SlimenvError {
  return new SlimenvError("INVALID_OPTION", message, { hint });
}

function isFormat(text: string): text is ImageFormat {
  return (IMAGE_FORMATS as readonly string[]).includes(text);
}

/** Check a request and fill in the defaults. Throws INVALID_OPTION naming the flag. */
export function imageSpec(request: ImageSpecRequest): ImageSpec {
  const format = request.format;
  if (!isFormat(format)) {
    throw bad(`--format ${JSON.stringify(format)} is not an image format`, "squashfs or erofs");
  }
  const choices: readonly string[] = IMAGE_COMPRESSIONS[format];
  const compression = (request.compression ?? choices[0]) as ImageCompression;
  if (!choices.includes(compression)) {
    throw bad(
      `--compression ${compression} is not a ${format} compressor`,
      `${format} takes ${choices.join(", ")}`,
    );
  }
  const range = LEVELS[compression];
  let level: number | null = null;
  if (range === undefined) {
    if (request.level !== undefined) {
      throw bad(`--level: ${compression} has no levels`, "leave --level out for it");
    }
  } else {
    level = request.level ?? range[2];
    if (!Number.isInteger(level) || level < range[0] || level > range[1]) {
      throw bad(
        `--level ${level} is out of range for ${compression}`,
        `${compression} levels go from ${range[0]} to ${range[1]} (default ${range[2]})`,
      );
    }
  }
  const blockSize = request.blockSize ?? (format === "squashfs" ? 128 * KIB : 4 * KIB);
  if (format === "squashfs") {
    if (!isPowerOfTwo(blockSize) || blockSize < 4 * KIB || blockSize > MIB) {
      throw bad(
        `--block-size ${blockSize} is not a squashfs block size`,
        "a power of two from 4K to 1M (default 128K)",
      );
    }
  } else if (compression === "none" && request.blockSize !== undefined) {
    throw bad("--block-size: an uncompressed erofs image has no clusters", "leave it out");
  } else if (blockSize % (4 * KIB) !== 0 || blockSize < 4 * KIB || blockSize > MIB) {
    throw bad(
      `--block-size ${blockSize} is not an erofs cluster size`,
      "a multiple of 4K up to 1M (default 4K; above 4K needs Linux 5.13 on the device)",
    );
  }
  return { format, compression, level, blockSize };
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** `128K`, `1M`, `4096`: bytes. Throws INVALID_OPTION. */
export function parseBlockSize(text: string): number {
  const m = /^(\d+)([KkMm]?)$/.exec(text.trim());
  if (m === null) throw bad(`--block-size ${JSON.stringify(text)} is not a size`, "e.g. 128K, 1M");
  const unit = (m[2] ?? "").toUpperCase();
  return Number(m[1]) * (unit === "K" ? KIB : unit === "M" ? MIB : 1);
}

/** "zstd-19, 128 KiB blocks" — how the spec reads in output and reports. */
export function describeSpec(spec: ImageSpec): string {
  const codec = spec.level === null ? spec.compression : `${spec.compression}-${spec.level}`;
  const block =
    spec.blockSize >= MIB ? `${spec.blockSize / MIB} MiB` : `${spec.blockSize / KIB} KiB`;
  if (spec.format === "erofs") {
    return spec.compression === "none" ? "uncompressed" : `${codec}, ${block} clusters`;
  }
  return `${codec}, ${block} blocks`;
}
