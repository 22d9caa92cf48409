/**
 * Finding a strip tool for an architecture. Order (see docs/slim.md "native stripping" for
 * the experiment behind it):
 *   1. binutils `strip` when it supports the architecture (its `--info` lists the BFD target),
 *   2. a cross binutils `<triplet>-strip` for the architecture,
 *   3. `llvm-strip` (or the newest `llvm-strip-N`), which reads every architecture.
 * binutils comes first because llvm-strip 14 misaligned the LOAD segments of every
 * auditwheel/patchelf-rewritten file we tried (numpy 1.26 and 2.2 extension modules), which
 * binutils 2.40 strips correctly. `prefer: "llvm"` puts llvm-strip first.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface StripTool {
  kind: "binutils" | "llvm";
  /** Command name or path. */
  command: string;
}

export interface FindStripToolOptions {
  /** Put llvm-strip first (default "binutils"). */
  prefer?: "binutils" | "llvm";
  /** Path lookup: the absolute path of a command, or undefined (default: search PATH). */
  which?: (command: string) => string | undefined;
  /** Every llvm-strip command on PATH (default: scan PATH for llvm-strip and llvm-strip-N). */
  llvmStrips?: () => string[];
  /** BFD targets a binutils strip supports (default: parse `strip --info`). */
  bfdTargets?: (command: string) => readonly string[];
  /** The folders to search, as in PATH (default: this process's PATH). */
  searchPath?: string;
}

/** BFD target names by architecture (what `strip --info` lists). */
const BFD_TARGETS: Record<string, string[]> = {
  x86_64: ["elf64-x86-64"],
  i686: ["elf32-i386"],
  aarch64: ["elf64-littleaarch64"],
  armv7l: ["elf32-littlearm"],
  ppc64le: ["elf64-powerpcle"],
  ppc64: ["elf64-powerpc"],
  s390x: ["elf64-s390"],
  riscv64: ["elf64-littleriscv"],
  loongarch64: ["elf64-loongarch"],
};

/** GNU triplets whose `<triplet>-strip` handles the architecture. */
const TRIPLETS: Record<string, string[]> = {
  x86_64: ["x86_64-linux-gnu", "x86_64-linux-musl"],
  i686: ["i686-linux-gnu", "i686-linux-musl"],
  aarch64: ["aarch64-linux-gnu", "aarch64-linux-musl"],
  armv7l: ["arm-linux-gnueabihf", "armv7l-linux-musleabihf", "arm-linux-musleabihf"],
  ppc64le: ["powerpc64le-linux-gnu", "powerpc64le-linux-musl"],
  ppc64: ["powerpc64-linux-gnu"],
  s390x: ["s390x-linux-gnu", "s390x-linux-musl"],
  riscv64: ["riscv64-linux-gnu", "riscv64-linux-musl"],
  loongarch64: ["loongarch64-linux-gnu"],
};

/** Architecture names as wheel tags spell them (amd64 → x86_64, arm64 → aarch64…). */
export function normalizeArch(arch: string): string {
  const a = arch.toLowerCase();
  if (a === "amd64" || a === "x64") return "x86_64";
  if (a === "arm64") return "aarch64";
  if (a === "i386" || a === "i486" || a === "i586" || a === "x86" || a === "ia32") return "i686";
  if (a === "armv7" || a === "armhf" || a === "arm") return "armv7l";
  if (a === "ppc64el" || a === "powerpc64le") return "ppc64le";
  return a;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function pathDirs(searchPath: string | undefined): string[] {
  return (searchPath ?? "").split(path.delimiter).filter((d) => d !== "");
}

/** The absolute path of `command` on PATH (or on `searchPath`), or undefined. */
export function whichCommand(command: string, searchPath = process.env.PATH): string | undefined {
  if (command.includes("/")) return isExecutable(command) ? command : undefined;
  for (const dir of pathDirs(searchPath)) {
    const full = path.join(dir, command);
    if (isExecutable(full)) return full;
  }
  return undefined;
}

/** llvm-strip commands on PATH: the unversioned one first, then by version, newest first. */
export function findLlvmStrips(searchPath = process.env.PATH): string[] {
  const found = new Map<string, number>();
  for (const dir of pathDirs(searchPath)) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const m = /^llvm-strip(?:-(\d+))?$/.exec(name);
      if (m === null || found.has(name) || !isExecutable(path.join(dir, name))) continue;
      found.set(name, m[1] === undefined ? Number.POSITIVE_INFINITY : Number(m[1]));
    }
  }
  return [...found.entries()].sort((a, b) => b[1] - a[1]).map(([name]) => name);
}

const bfdCache = new Map<string, readonly string[]>();

/** The BFD targets `command --info` lists (empty when it cannot be run). */
export function binutilsTargets(command: string): readonly string[] {
  const cached = bfdCache.get(command);
  if (cached !== undefined) return cached;
  const res = spawnSync(command, ["--info"], { encoding: "utf8", timeout: 10_000 });
  const targets =
    res.status === 0 ? res.stdout.split("\n").filter((l) => /^[a-z0-9][\w.-]*$/.test(l)) : [];
  bfdCache.set(command, targets);
  return targets;
}

/** The host's architecture, as wheel tags spell it. */
export function hostArch(): string {
  return normalizeArch(os.machine());
}

/** Every usable strip tool for `arch`, best first. */
export function stripToolCandidates(arch: string, options: FindStripToolOptions = {}): StripTool[] {
  const which = options.which ?? ((command: string) => whichCommand(command, options.searchPath));
  const targets = options.bfdTargets ?? binutilsTargets;
  const want = normalizeArch(arch);
  const binutils: StripTool[] = [];
  const hostStrip = which("strip");
  const bfd = BFD_TARGETS[want];
  if (hostStrip !== undefined && bfd !== undefined) {
    const supported = targets(hostStrip);
    if (bfd.some((t) => supported.includes(t)))
      binutils.push({ kind: "binutils", command: hostStrip });
  }
  for (const triplet of TRIPLETS[want] ?? []) {
    const cross = which(`${triplet}-strip`);
    if (cross !== undefined && !binutils.some((t) => t.command === cross)) {
      binutils.push({ kind: "binutils", command: cross });
    }
  }
  const llvm: StripTool[] = (options.llvmStrips ?? (() => findLlvmStrips(options.searchPath)))()
    .map((name) => which(name))
    .filter((p): p is string => p !== undefined)
    .map((command) => ({ kind: "llvm", command }));
  return options.prefer === "llvm" ? [...llvm, ...binutils] : [...binutils, ...llvm];
}

/** The best strip tool for `arch`, or undefined when the machine has none. */
export function findStripTool(
  arch: string,
  options: FindStripToolOptions = {},
): StripTool | undefined {
  return stripToolCandidates(arch, options)[0];
}
