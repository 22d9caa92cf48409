/**
 * The native part of a runtime copy: the shared libraries the interpreter and the lib-dynload
 * extensions need from the original install (libpython for --enable-shared builds, and any
 * library the install keeps in its own lib folder), their search paths rewritten from the
 * original's absolute paths to `$ORIGIN`-relative ones, and stripping (with slim's strip
 * tools: the one for the interpreter's architecture, a temp file that replaces each file only
 * when smaller; the runtime check that follows proves the copy still works).
 */
import { chmodSync, existsSync, statSync } from "node:fs";
import { chmod, copyFile, mkdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { isSlimenvError, SlimenvError } from "../base/index.ts";
import { readElfDynamicFile, readElfInfo, rewriteSearchPathsFile } from "../elf/index.ts";
import { STRIP_MODES, type StripMode } from "../slim/policy.ts";
import { stripFile } from "../slim/strip/strip-file.ts";
import { findStripTool, hostArch, type StripTool } from "../slim/strip/tool.ts";

/** `--strip`: none, debug (`--strip-debug`) or unneeded (`--strip-unneeded`), as for slim. */
export { STRIP_MODES, type StripMode };

/**
 * The default: debug info only (`--strip-debug`: pyenv's libpython goes from 23–30 MiB to
 * ~4 MiB), as the `edge` slim preset does; the copy's check proves every extension still
 * loads. Without a strip tool on PATH the default falls back to none, with a note.
 */
export const DEFAULT_RUNTIME_STRIP: StripMode = "debug";

export function parseStripMode(text: string): StripMode {
  const wanted = text.trim().toLowerCase();
  const found = STRIP_MODES.find((m) => m === wanted);
  if (found === undefined) {
    throw new SlimenvError("INVALID_OPTION", `unknown strip mode ${JSON.stringify(text)}`, {
      hint: `--strip takes one of: ${STRIP_MODES.join(", ")} (debug = --strip-debug, unneeded = --strip-unneeded)`,
    });
  }
  return found;
}

/**
 * The strip tool on `env`'s PATH for the architecture of `executable` (an ELF interpreter;
 * default, and for a file that is not ELF: the host's), as slim chooses it: binutils `strip`
 * when it supports the architecture, a cross binutils, else `llvm-strip`. Throws
 * RUNTIME_UNSUPPORTED when there is none.
 */
export function findRuntimeStripTool(env: NodeJS.ProcessEnv, executable?: string): StripTool {
  const arch = (executable === undefined ? undefined : readElfInfo(executable)?.arch) ?? hostArch();
  const tool = findStripTool(arch, { searchPath: env.PATH ?? "" });
  if (tool !== undefined) return tool;
  throw new SlimenvError(
    "RUNTIME_UNSUPPORTED",
    `no strip tool for ${arch} on PATH (strip or llvm-strip)`,
    { hint: "install binutils (or llvm), or use --strip none" },
  );
}

/** What a runtime build did to native files: part of its result. */
export interface RuntimeNativeChanges {
  libraries: string[];
  searchPathChanges: { file: string; from: string; to: string }[];
  stripped: string[];
}

export interface NativeResult {
  /** Every ELF file of the copy, relative to its root. */
  elfFiles: string[];
  /** Libraries copied from the original install (relative to the root). */
  libraries: string[];
  searchPathChanges: { file: string; from: string; to: string }[];
  notes: string[];
}

function posix(p: string): string {
  return p.split(path.sep).join("/");
}

function inside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

function expandOrigin(entry: string, originDir: string): string {
  return path.resolve(entry.replace(/^\$(ORIGIN|\{ORIGIN\})/, originDir));
}

/**
 * Copy the libraries the ELF files at `elfRels` (already in `root`, same relative paths as
 * under `prefix`) load from the original install, then rewrite every search path that points
 * into the original install to a `$ORIGIN`-relative one. `libdir` is searched for the
 * interpreter's libpython when the binary has no search path of its own.
 */
export async function copyNativeDependencies(
  prefix: string,
  root: string,
  elfRels: readonly string[],
  options: {
    executableRel: string;
    libdir: string | undefined;
    shared: boolean;
    strip?: { tool: StripTool; mode: StripMode };
  },
): Promise<NativeResult> {
  const notes: string[] = [];
  const libraries: string[] = [];
  const queue = [...elfRels];
  const seen = new Set(queue);
  /** Per ELF file: its search-path directories inside the original prefix. */
  for (let i = 0; i < queue.length; i++) {
    const rel = queue[i] as string;
    const original = path.join(prefix, rel);
    const dyn = await readElfDynamicFile(path.join(root, rel)).catch(() => undefined);
    if (dyn === undefined) continue;
    const originDir = path.dirname(original);
    const dirs = dyn.searchPaths
      .flatMap((s) => s.value.split(":"))
      .filter((e) => e !== "")
      .map((e) => expandOrigin(e, originDir));
    if (rel === options.executableRel && dyn.searchPaths.length === 0 && options.shared) {
      if (options.libdir !== undefined) dirs.push(options.libdir);
      notes.push(
        `${rel} has no RUNPATH: the system loader finds libpython for it (on LD_LIBRARY_PATH or its cache), not the copy's lib folder`,
      );
    }
    for (const name of dyn.needed) {
      for (const dir of dirs) {
        if (!inside(prefix, dir)) continue;
        const candidate = path.join(dir, name);
        if (!existsSync(candidate)) continue;
        const libRel = posix(path.relative(prefix, candidate));
        if (!seen.has(libRel)) {
          seen.add(libRel);
          const dest = path.join(root, libRel);
          await mkdir(path.dirname(dest), { recursive: true });
          await copyFile(await realpath(candidate), dest);
          await chmod(dest, (await stat(candidate)).mode & 0o7777);
          libraries.push(libRel);
          queue.push(libRel);
        }
        break;
      }
    }
  }
  const elfFiles: string[] = [];
  for (const rel of queue) {
    if ((await readElfDynamicFile(path.join(root, rel)).catch(() => undefined)) !== undefined) {
      elfFiles.push(rel);
    }
  }
  if (options.strip !== undefined && options.strip.mode !== "none" && elfFiles.length > 0) {
    stripFiles(
      elfFiles.map((f) => path.join(root, f)),
      options.strip.tool,
      options.strip.mode,
    );
  }
  const searchPathChanges: NativeResult["searchPathChanges"] = [];
  for (const rel of elfFiles) {
    const originDir = path.dirname(path.join(prefix, rel));
    const changes = await rewriteSearchPathsFile(path.join(root, rel), (value) =>
      value
        .split(":")
        .map((entry) => {
          if (entry === "" || /^\$(ORIGIN|\{ORIGIN\})/.test(entry)) return entry;
          const abs = expandOrigin(entry, originDir);
          if (abs !== prefix && !inside(prefix, abs)) return entry;
          const relDir = posix(path.relative(originDir, abs));
          return relDir === "" ? "$ORIGIN" : `$ORIGIN/${relDir}`;
        })
        .join(":"),
    );
    for (const c of changes) searchPathChanges.push({ file: rel, ...c });
  }
  return { elfFiles, libraries, searchPathChanges, notes };
}

/**
 * Strip `files` (copies the caller owns) with `tool`, each through a temp file that replaces
 * it when smaller (slim's stripFile); a read-only copy is made writable for it and keeps its
 * mode. A failure is RUNTIME_CHECK_FAILED.
 */
export function stripFiles(files: readonly string[], tool: StripTool, mode: StripMode): void {
  if (mode === "none") return;
  for (const file of files) {
    const fileMode = statSync(file).mode & 0o7777;
    if ((fileMode & 0o200) === 0) chmodSync(file, fileMode | 0o200);
    try {
      stripFile(file, mode, { tool });
    } catch (err) {
      if (!isSlimenvError(err, "STRIP_FAILED")) throw err;
      throw new SlimenvError(
        "RUNTIME_CHECK_FAILED",
        `${path.basename(tool.command)} --strip-${mode} failed: ${err.message}`,
        { hint: "use --strip none, or another strip tool on PATH", cause: err },
      );
    } finally {
      chmodSync(file, fileMode);
    }
  }
}
