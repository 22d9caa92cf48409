/**
 * The PEP 517 frontend: an sdist (or a local source folder) in, a wheel in the store out.
 *
 * 1. Refuse what cannot be built here: a target without an interpreter, or for another CPU or
 *    OS than the machine's (that needs a cross toolchain slimenv does not provide).
 * 2. Get the sdist's bytes (verified against the lock's sha256) and unpack it strictly.
 * 3. Read `[build-system]` (none: setuptools' legacy backend, as pip does).
 * 4. Look up the built wheel in the store by (sdist sha256, build inputs): found, done.
 * 5. Materialize the isolated build env from the store, ask the backend for more build
 *    requirements, then run `build_wheel` in a subprocess with a time-out.
 * 6. Check the wheel (its name, version and tags fit), import it into the store, record it.
 * The work folder is removed whatever happens; a failure keeps only the log, which the error
 * names. Nothing enters the store before the wheel is checked.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { SlimenvError, writeFileAtomicSync } from "../base/index.ts";
import { canonicalizeName } from "../standards/names.ts";
import { parseWheelFilename } from "../standards/wheel-filename.ts";
import { checkBuilt, checkCanBuild } from "./build-checks.ts";
import { buildInFolder, logFileFor, sdistBytes } from "./build-folder.ts";
import type { BuildOptions, BuiltWheel, SdistSource } from "./build-types.ts";
import { markEditable } from "./editable.ts";
import { unpackSdistArchive } from "./unpack.ts";

/** Build the wheel of an sdist into the store (or find it there). See the module comment. */
export async function buildSdist(src: SdistSource, opts: BuildOptions): Promise<BuiltWheel> {
  const label = `${canonicalizeName(src.name)} ${src.version}`;
  checkCanBuild(opts.target, label);
  const started = Date.now();
  const work = mkdtempSync(path.join(os.tmpdir(), "slimenv-build-"));
  const logFile = logFileFor(opts, label);
  let ok = false;
  try {
    const bytes = await sdistBytes(src, opts, work);
    const sourceDir = await unpackSdistArchive(src.filename, bytes, path.join(work, "src"));
    opts.reporter.log("info", `building ${label} from ${src.filename}`);
    const res = await buildInFolder(
      sourceDir,
      label,
      canonicalizeName(src.name),
      opts,
      work,
      logFile,
      src.sha256,
    );
    if (res.cached !== undefined) {
      ok = true;
      return {
        wheel: res.cached,
        cached: true,
        seconds: 0,
        transform: res.transform,
        packageSettings: res.packageSettings,
        toolchain: res.toolchain,
      };
    }
    const filename = path.basename(res.wheelPath);
    checkBuilt(filename, src, opts);
    const wheel = await opts.store.importWheel({ path: res.wheelPath }, { filename });
    opts.store.recordBuiltWheel(src.sha256, res.transform, wheel.sha256);
    ok = true;
    const seconds = (Date.now() - started) / 1000;
    opts.reporter.log("info", `built ${filename} in ${seconds.toFixed(1)} s`);
    return {
      wheel,
      cached: false,
      seconds,
      transform: res.transform,
      packageSettings: res.packageSettings,
      toolchain: res.toolchain,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (ok) rmSync(logFile, { force: true });
  }
}

/**
 * The METADATA of an sdist whose PKG-INFO does not state its dependencies reliably: from the
 * backend's prepare_metadata_for_build_wheel (or, where it has none, from a full build, whose
 * wheel then goes into the store like any build). Cached by the sdist's sha256 in `cacheDir`.
 */
export async function prepareSdistMetadata(
  src: SdistSource,
  opts: BuildOptions & { metadataCacheDir?: string },
): Promise<string> {
  const label = `${canonicalizeName(src.name)} ${src.version}`;
  const cacheFolder =
    opts.metadataCacheDir ?? path.join(path.dirname(opts.store.root), "build-metadata");
  const cached = path.join(cacheFolder, `${src.sha256.toLowerCase()}.METADATA`);
  if (existsSync(cached)) return readFileSync(cached, "utf8");
  checkCanBuild(opts.target, label);
  const work = mkdtempSync(path.join(os.tmpdir(), "slimenv-build-"));
  const logFile = logFileFor(opts, `${label}-metadata`);
  let ok = false;
  try {
    const bytes = await sdistBytes(src, opts, work);
    const sourceDir = await unpackSdistArchive(src.filename, bytes, path.join(work, "src"));
    const name = canonicalizeName(src.name);
    const res = await buildInFolder(
      sourceDir,
      label,
      name,
      opts,
      work,
      logFile,
      src.sha256,
      "metadata",
    );
    let text = res.metadata;
    if (text === undefined) {
      const filename = path.basename(res.wheelPath);
      checkBuilt(filename, src, opts);
      const wheel = await opts.store.importWheel({ path: res.wheelPath }, { filename });
      opts.store.recordBuiltWheel(src.sha256, res.transform, wheel.sha256);
      const meta = wheel.files.find((f) => /^[^/]+\.dist-info\/METADATA$/.test(f.path));
      if (meta === undefined) {
        throw new SlimenvError(
          "BUILD_FAILED",
          `the wheel built from ${src.filename} has no METADATA`,
        );
      }
      text = readFileSync(opts.store.objectPath(meta.hash, meta.exec), "utf8");
    }
    mkdirSync(cacheFolder, { recursive: true });
    writeFileAtomicSync(cached, text);
    ok = true;
    return text;
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (ok) rmSync(logFile, { force: true });
  }
}

/**
 * Build the wheel of a local source folder (`./mypkg`) into the store. Nothing is cached by
 * input (a folder has no content hash): it builds every time, in a copy-free in-tree build.
 * `editable`: the backend's PEP 660 `build_editable` wheel instead, which points at the folder
 * (see editable.ts); a backend without it is BUILD_UNSUPPORTED.
 */
export async function buildSourceTree(
  sourceDir: string,
  opts: BuildOptions,
  keepWheelIn?: string,
  editable = false,
): Promise<BuiltWheel & { path?: string }> {
  const label = path.basename(path.resolve(sourceDir));
  checkCanBuild(opts.target, label);
  const started = Date.now();
  const work = mkdtempSync(path.join(os.tmpdir(), "slimenv-build-"));
  const logFile = logFileFor(opts, label);
  let ok = false;
  try {
    const res = await buildInFolder(
      path.resolve(sourceDir),
      label,
      label,
      opts,
      work,
      logFile,
      undefined,
      editable ? "editable" : "wheel",
    );
    const filename = path.basename(res.wheelPath);
    const parsed = parseWheelFilename(filename);
    checkBuilt(filename, { name: parsed.name, version: "" }, opts);
    if (editable) await markEditable(res.wheelPath, sourceDir);
    const wheel = await opts.store.importWheel({ path: res.wheelPath }, { filename });
    let kept: string | undefined;
    if (keepWheelIn !== undefined) {
      mkdirSync(keepWheelIn, { recursive: true });
      kept = path.join(keepWheelIn, filename);
      copyFileSync(res.wheelPath, kept);
    }
    ok = true;
    return {
      ...(kept === undefined ? {} : { path: kept }),
      wheel,
      cached: false,
      seconds: (Date.now() - started) / 1000,
      transform: res.transform,
      packageSettings: res.packageSettings,
      toolchain: res.toolchain,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (ok) rmSync(logFile, { force: true });
  }
}
