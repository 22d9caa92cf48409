/**
 * The slim transform: a {@link SlimPolicy} applied to an environment's planned files while
 * it is materialized (src/env calls it through the SlimTransform interface). Per file: keep,
 * drop (rules + overrides, minus what the import scan keeps), or replace by a derived object
 * (a .pyc, a stripped library) cached in the store; plus generated files (the bytecode-cache
 * hook, zips and their `.pth` files). The store's objects are never changed.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { writeZip, type ZipInput } from "../../archive/zip-write.ts";
import { isSlimenvError, SlimenvError } from "../../base/index.ts";
import type {
  PlannedFile,
  SlimContext,
  SlimPackageInput,
  SlimResult,
  SlimTransform,
} from "../../env/types.ts";
import type { Target } from "../../python/target.ts";
import { canonicalizeName } from "../../standards/names.ts";
import { findPycCompiler, type PycCompiler } from "../bytecode/compile.ts";
import { derivePycs, type PycRequest, pycResultKey } from "../bytecode/derive.ts";
import {
  CODE_PTH_NAME,
  CODE_PTH_TEXT,
  CODE_ZIP_NAME,
  PYCACHE_PTH_NAME,
  PYCACHE_PTH_TEXT,
  SOURCES_MODULE_NAME,
  SOURCES_MODULE_TEXT,
  SOURCES_PTH_NAME,
  SOURCES_PTH_TEXT,
  SOURCES_ZIP_NAME,
} from "../bytecode/hooks.ts";
import { moduleOfPath } from "../drop/imports.ts";
import { type BytecodeMode, isNoopPolicy, resolveBytecode, type SlimPolicy } from "../policy.ts";
import { type NativeStripper, nativeStripper } from "../strip/native-stripper.ts";
import { usageKeep } from "../usage/keep.ts";
import { applyDrops, applyUsage } from "./drop.ts";
import {
  bytesFile,
  cachePycPath,
  derivedFile,
  isSiteSource,
  type ObjectFile,
  readObject,
  type SlimFile,
  sitePath,
  slimFile,
} from "./files.ts";
import { emptySummary, type PackageState, type SlimSummary } from "./summary.ts";
import { zipRefusal } from "./zip.ts";

export interface SlimTransformOptions {
  policy: SlimPolicy;
  /** Finds the bytecode compiler for a target (default: {@link findPycCompiler}). */
  compiler?: (target: Target) => Promise<PycCompiler>;
  /** Default: {@link nativeStripper} (the strip module's tools and never-strip rules). */
  stripper?: NativeStripper;
  /** For finding the compiler. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Stable fingerprint of a policy. */
export function policyId(policy: SlimPolicy): string {
  const text = JSON.stringify({
    bytecode: policy.bytecode,
    strip: policy.strip,
    drop: policy.drop,
    keep: policy.keep,
    dropGlobs: policy.dropGlobs,
    skip: policy.skip,
    ...(policy.used === undefined ? {} : { used: policy.used }),
  });
  return `slim1-${createHash("sha256").update(text).digest("hex").slice(0, 16)}`;
}

/** A SlimTransform for `policy`. */
export function slimTransform(options: SlimTransformOptions): SlimTransform {
  const { policy } = options;
  return {
    id: policyId(policy),
    apply: (packages, ctx) => applyPolicy(options, packages, ctx),
  };
}

async function applyPolicy(
  options: SlimTransformOptions,
  packages: SlimPackageInput[],
  ctx: SlimContext,
): Promise<SlimResult> {
  const { policy } = options;
  const { store, target, reporter } = ctx;
  const mode = resolveBytecode(policy.bytecode, target.pythonVersion);
  const skip = new Set(policy.skip.map((n) => canonicalizeName(n)));
  const noop = isNoopPolicy(policy);
  if (!noop && (mode === "zip" || mode === "pyc+zipped-source") && ctx.layout === "target") {
    throw new SlimenvError(
      "SLIM_FAILED",
      `bytecode mode ${mode} needs .pth processing, which a --target directory does not get`,
      { hint: "use --prefix or --venv, or another --bytecode mode" },
    );
  }
  const states: PackageState[] = packages.map((input) => {
    const skipped = noop || skip.has(canonicalizeName(input.wheel.name));
    return {
      input,
      skipped,
      files: input.files.map(slimFile),
      summary: emptySummary(input, skipped),
    };
  });

  await applyDrops(states, policy, ctx);
  if (policy.used !== undefined) applyUsage(states, usageKeep(policy.used, policy.keep));

  // Bytecode mode per package.
  const modes = new Map<PackageState, BytecodeMode>();
  const fallback = resolveBytecode("smallest", target.pythonVersion);
  for (const state of states) {
    if (state.skipped) continue;
    let m = mode;
    if (m === "zip") {
      const refused = await zipRefusal(store, state.files);
      if (refused !== undefined) {
        state.summary.zipRefused = refused;
        reporter.log("debug", `${state.input.wheel.name}: not zipped: ${refused}`);
        m = fallback;
      }
    }
    modes.set(state, m);
    state.summary.bytecode = m;
  }

  // Compile what needs compiling, in one batch.
  let compiler: PycCompiler | undefined;
  const needsCompiler = [...modes.values()].some((m) => m !== "source" && m !== "zip");
  const wantsCompiler = needsCompiler || [...modes.values()].includes("zip");
  if (wantsCompiler) {
    const find =
      options.compiler ??
      ((t: Target) =>
        findPycCompiler(t, {
          reporter,
          ...(options.env === undefined ? {} : { env: options.env }),
          ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        }));
    try {
      compiler = await find(target);
    } catch (err) {
      if (needsCompiler) throw err;
      reporter.log("info", "no interpreter to compile with: the zip holds sources only");
    }
  }
  const requests: PycRequest[] = [];
  for (const [state, m] of modes) {
    if (m === "source" || compiler === undefined) continue;
    for (const f of state.files) {
      if (isSiteSource(f)) {
        requests.push({ hash: f.file.hash, exec: f.file.objectExec, dfile: f.rulePath });
      }
    }
  }
  const runsBefore = compiler?.runs ?? 0;
  const pycs =
    compiler === undefined || requests.length === 0
      ? new Map()
      : await derivePycs(store, compiler, requests);
  let cachedPycs = 0;
  for (const r of pycs.values()) if (r.ok && r.cached) cachedPycs++;

  const sourcesZip: ZipInput[] = [];
  const codeZip: ZipInput[] = [];
  for (const [state, m] of modes) {
    const siteDir = state.input.siteDir;
    const out: SlimFile[] = [];
    for (const f of state.files) {
      if (!isSiteSource(f) || m === "source") {
        out.push(f);
        continue;
      }
      const pyc =
        compiler === undefined
          ? undefined
          : pycs.get(
              pycResultKey({ hash: f.file.hash, exec: f.file.objectExec, dfile: f.rulePath }),
            );
      if (pyc !== undefined && !pyc.ok) {
        state.summary.compileFailures.push({ path: f.rulePath, error: pyc.error });
      }
      const good = pyc?.ok === true ? pyc : undefined;
      if (m === "zip") {
        const module = moduleOfPath(f.rulePath);
        if (module !== undefined) {
          state.summary.zipModules = [...(state.summary.zipModules ?? []), module];
        }
        codeZip.push({ name: f.rulePath, data: await readObject(store, f.file) });
        if (good !== undefined) {
          codeZip.push({ name: `${f.rulePath.slice(0, -3)}.pyc`, data: await pycBytes(ctx, good) });
        }
        continue;
      }
      if (good === undefined) {
        out.push(f);
        continue;
      }
      state.summary.compiled++;
      if (m === "pyc") {
        out.push(f);
        const rel = cachePycPath(f.rulePath, compiler?.cacheTag ?? "");
        out.push(slimFile(derivedFile(sitePath(siteDir, rel), undefined, good)));
        continue;
      }
      const rel = `${f.rulePath.slice(0, -3)}.pyc`;
      out.push(slimFile(derivedFile(sitePath(siteDir, rel), undefined, good)));
      if (m === "pyc+zipped-source") {
        sourcesZip.push({ name: f.rulePath, data: await readObject(store, f.file) });
      }
    }
    state.files = out;
  }

  if (policy.strip !== "none") await applyStrip(states, options, ctx);

  // Generated files of the environment.
  const envFiles: PlannedFile[] = [];
  const purelib = ctx.scheme.purelib;
  if (!noop && ctx.layout !== "target") {
    envFiles.push(bytesFile(sitePath(purelib, PYCACHE_PTH_NAME), PYCACHE_PTH_TEXT));
  }
  if (sourcesZip.length > 0) {
    envFiles.push(bytesFile(sitePath(purelib, SOURCES_ZIP_NAME), writeZip(unique(sourcesZip))));
    envFiles.push(bytesFile(sitePath(purelib, SOURCES_MODULE_NAME), SOURCES_MODULE_TEXT));
    envFiles.push(bytesFile(sitePath(purelib, SOURCES_PTH_NAME), SOURCES_PTH_TEXT));
  }
  if (codeZip.length > 0) {
    envFiles.push(bytesFile(sitePath(purelib, CODE_ZIP_NAME), writeZip(unique(codeZip))));
    envFiles.push(bytesFile(sitePath(purelib, CODE_PTH_NAME), CODE_PTH_TEXT));
  }

  const summary: SlimSummary = {
    bytecode: mode,
    compilerRuns: (compiler?.runs ?? 0) - runsBefore,
    cachedPycs,
    inputBytes: packages.reduce(
      (n, p) =>
        n + p.files.reduce((m, f) => m + (f.kind === "object" ? f.size : f.bytes.length), 0),
      0,
    ),
    packages: states.map((s) => s.summary),
  };
  const dropped = states.reduce((n, s) => n + s.summary.droppedFiles, 0);
  const compiled = states.reduce((n, s) => n + s.summary.compiled, 0);
  reporter.log(
    "info",
    `slim ${policy.preset}: dropped ${dropped} files, ${compiled} modules as .pyc (${cachedPycs} from the store), bytecode ${mode}`,
  );
  return {
    files: states.map((s) => s.files.map((f) => f.file)),
    envFiles,
    record: { id: policyId(policy), policy: { ...policy, resolvedBytecode: mode }, summary },
  };
}

function unique(entries: ZipInput[]): ZipInput[] {
  const seen = new Set<string>();
  return entries.filter((e) => {
    if (seen.has(e.name)) return false;
    seen.add(e.name);
    return true;
  });
}

async function pycBytes(
  ctx: SlimContext,
  pyc: { object?: { hash: string; exec: boolean }; bytes?: Uint8Array },
): Promise<Uint8Array> {
  if (pyc.object !== undefined) {
    const file: ObjectFile = {
      dest: "",
      kind: "object",
      hash: pyc.object.hash,
      objectExec: pyc.object.exec,
      exec: false,
      size: 0,
    };
    return readObject(ctx.store, file);
  }
  return pyc.bytes ?? new Uint8Array(0);
}

/** Native files through the plugged-in stripper, as derived objects. */
async function applyStrip(states: PackageState[], options: SlimTransformOptions, ctx: SlimContext) {
  const stripper = options.stripper ?? nativeStripper();
  const mode = options.policy.strip;
  if (mode === "none") return;
  const { store } = ctx;
  const transform = `strip1:${mode}:${stripper.id}`;
  const dir =
    (await store.workDir?.("strip")) ?? (await mkdtemp(path.join(tmpdir(), "slimenv-strip-")));
  try {
    let n = 0;
    for (const state of states) {
      if (state.skipped) continue;
      state.files = await Promise.all(
        state.files.map(async (f) => {
          const file = f.file;
          if (file.kind !== "object" || f.rulePath === undefined || f.rulePath.endsWith(".py")) {
            return f;
          }
          const input = store.objectPath(file.hash, file.objectExec);
          if (!(await stripper.wants(f.rulePath, input))) return f;
          const cached = store.lookupDerived?.(file.hash, file.objectExec, transform);
          let result: {
            object?: { hash: string; exec: boolean };
            bytes?: Uint8Array;
            size: number;
          };
          if (cached !== undefined) {
            result = { object: cached, size: file.size };
          } else {
            const out = path.join(dir, `${n++}`);
            try {
              await stripper.strip(input, out, mode);
            } catch (err) {
              if (!isSlimenvError(err, "STRIP_FAILED")) throw err;
              // Kept as it is, reported by package and path (never by the work file's name).
              const reason = err.message
                .split(out)
                .join(f.rulePath)
                .split(input)
                .join(f.rulePath)
                .replace(`${f.rulePath}: `, "");
              state.summary.stripKept = [
                ...(state.summary.stripKept ?? []),
                { path: f.rulePath, reason },
              ];
              ctx.reporter.log(
                "warn",
                `${state.summary.name}: ${f.rulePath} kept unstripped: ${reason}`,
              );
              await rm(out, { force: true });
              return f;
            }
            if (store.storeDerived !== undefined) {
              const object = await store.storeDerived(file.hash, file.objectExec, transform, {
                path: out,
              });
              result = { object, size: file.size };
            } else {
              const bytes = new Uint8Array(await readFile(out));
              result = { bytes, size: bytes.length };
            }
          }
          state.summary.stripped++;
          const placed = derivedFile(file.dest, file.from, result);
          if (placed.kind === "object") {
            placed.size = (await stat(store.objectPath(placed.hash, placed.objectExec))).size;
            placed.exec = file.exec;
          }
          return { ...f, file: placed };
        }),
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
