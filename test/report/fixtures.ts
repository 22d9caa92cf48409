/**
 * Shared helpers for the size-report tests: temp dirs, `du` and `readelf` as oracles, and
 * native files built with gcc (with and without -g) or assembled by llvm-mc for big-endian
 * targets.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { TestContext } from "vitest";
import {
  command,
  GCC,
  GCC_M32,
  LLVM_MC_PATH,
  LLVM_MC as LLVM_MC_PREREQ,
  type Prereq,
  requireOrSkip,
} from "../helpers/prereq.ts";
import { tempDir as cleanedTempDir } from "../helpers/tmp.ts";

export function tempDir(prefix: string): string {
  return cleanedTempDir(`slimenv-report-${prefix}-`);
}

/** `du -s -B1` and `du -s --apparent-size -B1` of `p`. */
export function du(p: string): { apparent: number; onDisk: number } {
  const first = (args: string[]) =>
    Number(execFileSync("du", [...args, p], { encoding: "utf8" }).split("\t")[0]);
  return { apparent: first(["-s", "--apparent-size", "-B1"]), onDisk: first(["-s", "-B1"]) };
}

export interface ReadelfSection {
  index: number;
  name: string;
  type: string;
  offset: number;
  size: number;
}

/** The section table as GNU readelf prints it (`readelf -S -W`). */
export function readelfSections(file: string): ReadelfSection[] {
  const text = execFileSync("readelf", ["-S", "-W", file], { encoding: "utf8" });
  const out: ReadelfSection[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*\[\s*(\d+)\]\s+(.*)$/.exec(line);
    if (m === null) continue;
    const index = Number(m[1]);
    const tokens = (m[2] ?? "").trim().split(/\s+/);
    // Section 0 has no name: its row starts at the type.
    const [name, type, , off, size] = index === 0 ? ["", ...tokens] : tokens;
    out.push({
      index,
      name: name ?? "",
      type: type ?? "",
      offset: Number.parseInt(off ?? "", 16),
      size: Number.parseInt(size ?? "", 16),
    });
  }
  return out;
}

/** The oracle for debug bytes: sizes of `.debug*`/`.zdebug*` sections that occupy the file. */
export function readelfDebugBytes(file: string): number {
  return readelfSections(file)
    .filter((s) => /^\.(z?debug|gnu\.debuglto_)/.test(s.name) && s.type !== "NOBITS")
    .reduce((a, s) => a + s.size, 0);
}

const C_SOURCE = `
static int helper(int x) { return x * 3 + 1; }
struct point { int x, y; double weight; };
int api(int y) { struct point p = { y, y + 1, 0.5 }; return helper(p.x) + p.y; }
int total(const int *xs, int n) { int t = 0; for (int i = 0; i < n; i++) t += api(xs[i]); return t; }
`;

const ASM_SOURCE = ".text\n.globl f\nf:\n nop\n nop\n.data\nv: .long 7\n";

export const LLVM_MC = LLVM_MC_PATH;
export const HAVE_GCC = GCC.ok;
export const HAVE_GCC_M32 = GCC_M32.ok;
const OBJCOPY = command("objcopy", "binutils");

/** What each optional native sample needs. */
const SAMPLE_NEEDS: Record<keyof NativeSamples, Prereq> = {
  debugSo: GCC,
  plainSo: GCC,
  zdebugSo: OBJCOPY,
  debug32: GCC_M32,
  bigEndian64: LLVM_MC_PREREQ,
  bigEndian32: LLVM_MC_PREREQ,
};

/**
 * A built sample, or (when the tool that builds it is missing) skip the test without CI and
 * fail it, naming the tool, under CI.
 */
export function sampleOrSkip(
  ctx: TestContext,
  samples: NativeSamples,
  key: keyof NativeSamples,
): string {
  const file = samples[key];
  if (file !== undefined) return file;
  const need = SAMPLE_NEEDS[key];
  requireOrSkip(ctx, need);
  throw new Error(`the ${key} sample was not built although ${need.what} is there`);
}

export interface NativeSamples {
  /** 64-bit little-endian shared object, -g. */
  debugSo: string;
  /** The same without debug info (-g0). */
  plainSo: string;
  /** A -g shared object with gnu-zlib compressed .zdebug_* sections. */
  zdebugSo?: string;
  /** 32-bit little-endian relocatable object, -g. */
  debug32?: string;
  /** 64-bit and 32-bit big-endian objects with DWARF (llvm-mc -g, powerpc). */
  bigEndian64?: string;
  bigEndian32?: string;
}

/** Build the native samples in `dir` (gcc is required; the others when available). */
export function buildNativeSamples(dir: string): NativeSamples {
  mkdirSync(dir, { recursive: true });
  const src = path.join(dir, "m.c");
  writeFileSync(src, C_SOURCE);
  const gcc = (...args: string[]) => execFileSync("gcc", args, { stdio: "pipe" });
  const debugSo = path.join(dir, "debug.so");
  const plainSo = path.join(dir, "plain.so");
  gcc("-g", "-O1", "-shared", "-fPIC", "-o", debugSo, src);
  gcc("-g0", "-O1", "-shared", "-fPIC", "-o", plainSo, src);
  const samples: NativeSamples = { debugSo, plainSo };
  const zdebug = path.join(dir, "zdebug.so");
  if (spawnSync("objcopy", ["--compress-debug-sections=zlib-gnu", debugSo, zdebug]).status === 0) {
    samples.zdebugSo = zdebug;
  }
  if (HAVE_GCC_M32) {
    samples.debug32 = path.join(dir, "debug32.o");
    gcc("-m32", "-g", "-c", "-o", samples.debug32, src);
  }
  if (LLVM_MC !== undefined) {
    const asm = path.join(dir, "a.s");
    writeFileSync(asm, ASM_SOURCE);
    for (const [key, triple] of [
      ["bigEndian64", "powerpc64-linux-gnu"],
      ["bigEndian32", "powerpc-linux-gnu"],
    ] as const) {
      const out = path.join(dir, `${triple}.o`);
      if (
        spawnSync(LLVM_MC, [`-triple=${triple}`, "-filetype=obj", "-g", "-o", out, asm]).status ===
        0
      ) {
        samples[key] = out;
      }
    }
  }
  return samples;
}

/** Write `files` (relative path → content) under `root`, making directories. */
export function writeTree(root: string, files: Record<string, string | Uint8Array>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
}
