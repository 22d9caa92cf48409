/**
 * The native stripper slim transforms use by default: the strip module's tools and
 * never-strip rules (src/slim/strip/) behind the NativeStripper interface.
 * Only ELF shared objects (`*.so`, `*.so.N`) not named by a never-strip rule are stripped, a
 * writable copy each (store objects are never touched). Whether a stripped extension still
 * loads is proven by the import check that follows materialization (a package that fails is
 * rebuilt unslimmed); a bundled library no extension loads is not verified here.
 */
import { chmodSync, copyFileSync } from "node:fs";
import { readElfInfo } from "../../elf/index.ts";
import type { StripMode } from "../policy.ts";
import { neverStripReason } from "./never-strip.ts";
import { type StripFileOptions, stripFile } from "./strip-file.ts";

const SHARED_OBJECT = /\.so(\.\d+)*$/;

/** Native stripping, plugged in by the strip module (src/slim/strip/). */
export interface NativeStripper {
  /** Names the tool and its rules: part of the derived objects' transform id. */
  id: string;
  /** Whether this file should be stripped (an ELF file not on the never-strip list). */
  wants(rulePath: string, inputPath: string): Promise<boolean>;
  /** Write a stripped copy of `inputPath` to `outputPath` (verified); throw when it cannot. */
  strip(inputPath: string, outputPath: string, mode: Exclude<StripMode, "none">): Promise<void>;
}

/** `options`: how the strip tool is found (tests simulate a machine with only llvm-strip). */
export function nativeStripper(options: StripFileOptions = {}): NativeStripper {
  return {
    id: "strip-tools1",
    async wants(rulePath, inputPath) {
      if (!SHARED_OBJECT.test(rulePath)) return false;
      if (neverStripReason(rulePath) !== undefined) return false;
      return readElfInfo(inputPath) !== undefined;
    },
    async strip(inputPath, outputPath, mode: Exclude<StripMode, "none">) {
      copyFileSync(inputPath, outputPath);
      chmodSync(outputPath, 0o644);
      stripFile(outputPath, mode, options);
    },
  };
}
