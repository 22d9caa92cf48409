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
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { cacheDir, type Reporter, SlimenvError, writeFileAtomicSync } from "../base/index.ts";
import type { HttpClient } from "../index/http.ts";
import type { Target } from "../python/target.ts";
import type { LockSettings } from "../resolve/lock-settings.ts";
import { canonicalizeName } from "../standards/names.ts";
import { parsePyproject } from "../standards/pyproject.ts";
import { createTagRanker } from "../standards/tags.ts";
import { Version } from "../standards/version.ts";
import { parseWheelFilename } from "../standards/wheel-filename.ts";
import { downloadWheelFile } from "../store/download.ts";
import type { Store } from "../store/store.ts";
import type { StoredWheel } from "../store/types.ts";
import { buildEnvFor } from "./build-env.ts";
import { type BuildFlagProfile, type ConfigSettings, flagPlan } from "./flags.ts";
import { runHook } from "./hooks.ts";
import { unpackSdist } from "./unpack.ts";

/** Where the sdist comes from: a URL or a file, with the lock's sha256. */
export interface SdistSource {
  name: string;
  version: string;
  filename: string;
  sha256: string;
  url?: string;
  path?: string;
  size?: number;
}

export interface BuildOptions {
  store: Store;
  client: HttpClient;
  /** The interpreter that builds (the target's). */
  python: string;
  target: Target;
  /** Index settings, for locking build requirements. */
  settings: LockSettings;
  withCredentials: (url: string) => string;
  reporter: Reporter;
  flags?: BuildFlagProfile;
  configSettings?: ConfigSettings;
  useSystemLibs?: boolean;
  /** false: `--no-build-isolation`, the backend comes from `pythonPath` / the interpreter. */
  isolation?: boolean;
  /** With isolation off: site folders of the target env put on the build's path. */
  envSitePaths?: string[];
  /** Per hook (default 1800 s). */
  timeoutMs?: number;
  /** Where failed builds' logs are kept (default `$SLIMENV_HOME/build-logs`). */
  logDir?: string;
  /** Where build envs live (default beside the store: `<store>/../build-envs`). */
  envRoot?: string;
  env?: NodeJS.ProcessEnv;
}

export interface BuiltWheel {
  wheel: StoredWheel;
  /** True when the store already held it (nothing was built). */
  cached: boolean;
  /** Seconds the build took (0 when cached). */
  seconds: number;
  /** The build inputs' id (the derived object's transform). */
  transform: string;
}

export const DEFAULT_BUILD_TIMEOUT_MS = 1800 * 1000;

const NODE_ARCH: Record<string, string> = {
  x64: "x86_64",
  arm64: "aarch64",
  ia32: "i686",
  arm: "armv7l",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
};

/** BUILD_UNSUPPORTED unless slimenv can build for `target` on this machine. */
export function checkCanBuild(target: Target, label: string): void {
  const hint =
    "build on a machine of the target's kind (CPU and OS), or use wheels (--only-binary :all:)";
  const machine = NODE_ARCH[process.arch] ?? process.arch;
  const osName =
    process.platform === "darwin"
      ? "macos"
      : process.platform === "win32"
        ? "windows"
        : process.platform;
  const sameArch =
    target.arch === machine ||
    (machine === "x86_64" && target.arch === "amd64") ||
    (machine === "aarch64" && target.arch === "arm64");
  if (!sameArch || target.os !== osName) {
    throw new SlimenvError(
      "BUILD_UNSUPPORTED",
      `${label} needs a build for ${target.os} ${target.arch}, and this machine is ${osName} ${machine}: that needs a cross toolchain slimenv does not provide`,
      { hint },
    );
  }
  if (target.source === "spec") {
    throw new SlimenvError(
      "BUILD_UNSUPPORTED",
      `${label} needs a build, and the target (--python-version/--platform) has no interpreter to run it`,
      { hint: "pass --python for a local interpreter of that version, or use wheels" },
    );
  }
}

interface BuildSystemInfo {
  requires: string[];
  backend: string;
  backendPath?: string[];
}

/** `[build-system]` of a source folder, with pip's defaults. */
export function readBuildSystem(sourceDir: string, label: string): BuildSystemInfo {
  const file = path.join(sourceDir, "pyproject.toml");
  const legacy = {
    requires: ["setuptools>=40.8.0"],
    backend: "setuptools.build_meta:__legacy__",
  };
  if (!existsSync(file)) return legacy;
  let doc: ReturnType<typeof parsePyproject>;
  try {
    doc = parsePyproject(readFileSync(file, "utf8"), { file: `${label}: pyproject.toml` });
  } catch (cause) {
    throw new SlimenvError(
      "BUILD_FAILED",
      `building ${label} failed: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  const bs = doc.buildSystem;
  if (bs === undefined) return legacy;
  const requires = bs.requires.map((r) => r.toString());
  if (bs.buildBackend === undefined) return { requires, backend: legacy.backend };
  return {
    requires,
    backend: bs.buildBackend,
    ...(bs.backendPath === undefined ? {} : { backendPath: bs.backendPath }),
  };
}

function sha256(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function sdistBytes(src: SdistSource, opts: BuildOptions, work: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  if (src.path !== undefined) {
    bytes = readFileSync(src.path);
  } else if (src.url !== undefined) {
    const file = path.join(work, src.filename);
    await downloadWheelFile(
      opts.client,
      {
        url: opts.withCredentials(src.url),
        filename: src.filename,
        sha256: src.sha256,
        ...(src.size === undefined ? {} : { size: src.size }),
      },
      file,
      opts.reporter,
    );
    bytes = readFileSync(file);
    rmSync(file, { force: true });
  } else {
    throw new SlimenvError("INTERNAL", `no source for ${src.filename}`);
  }
  const got = sha256(bytes);
  if (got !== src.sha256.toLowerCase()) {
    throw new SlimenvError(
      "HASH_MISMATCH",
      `${src.filename}: sha256 is ${got}, the lock expects ${src.sha256}`,
    );
  }
  return bytes;
}

function logFileFor(opts: BuildOptions, label: string): string {
  const dir = opts.logDir ?? cacheDir("build-logs", opts.env ?? process.env);
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return path.join(dir, `${label.replace(/[^A-Za-z0-9._-]+/g, "-")}-${stamp}-${process.pid}.log`);
}

/** The transform id naming every input of a build (see store/built.ts). */
export function buildTransform(parts: {
  target: Target;
  flags: BuildFlagProfile;
  configSettings: ConfigSettings;
  env: Record<string, string>;
  buildEnv: string;
  isolation: boolean;
  backend: string;
}): string {
  const t = parts.target;
  const inputs = JSON.stringify({
    v: 1,
    python: `${t.implementation}${t.pythonVersion.join(".")}`,
    abi: t.abis[0] ?? "none",
    platform: t.platforms[0] ?? t.arch,
    arch: t.arch,
    flags: parts.flags,
    config: Object.keys(parts.configSettings)
      .sort()
      .map((k) => [k, parts.configSettings[k]]),
    env: Object.keys(parts.env)
      .sort()
      .map((k) => [k, parts.env[k]]),
    buildEnv: parts.buildEnv,
    isolation: parts.isolation,
    backend: parts.backend,
  });
  return `build-wheel:${sha256(inputs)}`;
}

/**
 * Build the wheel of a source folder into `outDir`; returns its path. The folder is the
 * sdist's unpacked top folder or the user's source tree.
 */
async function buildInFolder(
  sourceDir: string,
  label: string,
  name: string,
  opts: BuildOptions,
  work: string,
  logFile: string,
  sdistSha256: string | undefined,
  want: "wheel" | "metadata" = "wheel",
): Promise<{ wheelPath: string; transform: string; cached?: StoredWheel; metadata?: string }> {
  const bs = readBuildSystem(sourceDir, label);
  const isolation = opts.isolation ?? true;
  const flags = opts.flags ?? "default";
  const plan = flagPlan(
    name,
    bs.backend,
    flags,
    opts.useSystemLibs === true,
    opts.configSettings ?? {},
    opts.env ?? process.env,
  );
  const envCtx = {
    store: opts.store,
    client: opts.client,
    target: opts.target,
    settings: opts.settings,
    withCredentials: opts.withCredentials,
    reporter: opts.reporter,
    root: opts.envRoot ?? path.join(path.dirname(opts.store.root), "build-envs"),
  };
  let env = isolation
    ? await buildEnvFor(bs.requires, opts.python, envCtx)
    : { dir: "", pythonPath: [], binPath: [], id: "no-isolation", packages: [] };
  const transform = buildTransform({
    target: opts.target,
    flags,
    configSettings: plan.configSettings,
    env: plan.env,
    buildEnv: env.id,
    isolation,
    backend: bs.backend,
  });
  if (sdistSha256 !== undefined && want === "wheel") {
    const cached = opts.store.lookupBuiltWheel(sdistSha256, transform);
    if (cached !== undefined) return { wheelPath: "", transform, cached };
  }
  const hookBase = () => ({
    python: opts.python,
    sourceDir,
    backend: bs.backend,
    ...(bs.backendPath === undefined ? {} : { backendPath: bs.backendPath }),
    configSettings: plan.configSettings,
    workDir: work,
    pythonPath: [...env.pythonPath, ...(isolation ? [] : (opts.envSitePaths ?? []))],
    binPath: env.binPath,
    isolated: isolation,
    env: { ...plan.env, SLIMENV_BUILD_PYTHON: opts.python },
    logFile,
    timeoutMs: opts.timeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS,
    label,
    reporter: opts.reporter,
  });
  if (isolation) {
    const more = await runHook({ ...hookBase(), hook: "get_requires_for_build_wheel" });
    const extra = more.missing ? [] : ((more.value as string[] | null) ?? []);
    const have = new Set(env.packages.map((p) => canonicalizeName(p.split("==")[0] ?? "")));
    const missing = extra.filter((r) => {
      const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(r);
      return m?.[1] === undefined || !have.has(canonicalizeName(m[1]));
    });
    if (missing.length > 0)
      env = await buildEnvFor([...bs.requires, ...missing], opts.python, envCtx);
  }
  if (want === "metadata") {
    const metaDir = path.join(work, "metadata");
    mkdirSync(metaDir, { recursive: true });
    const meta = await runHook({
      ...hookBase(),
      hook: "prepare_metadata_for_build_wheel",
      metadataDirectory: metaDir,
    });
    if (!meta.missing) {
      const dir = meta.value;
      const file =
        typeof dir === "string" && !/[/\\]/.test(dir)
          ? path.join(metaDir, dir, "METADATA")
          : undefined;
      if (file === undefined || !existsSync(file)) {
        throw new SlimenvError(
          "BUILD_FAILED",
          `preparing the metadata of ${label} failed: the backend wrote no METADATA (the whole log: ${logFile})`,
        );
      }
      return { wheelPath: "", transform, metadata: readFileSync(file, "utf8") };
    }
    // No prepare_metadata_for_build_wheel: the metadata comes from the wheel itself.
  }
  const outDir = path.join(work, "dist");
  mkdirSync(outDir, { recursive: true });
  const built = await runHook({ ...hookBase(), hook: "build_wheel", wheelDirectory: outDir });
  const basename = built.missing ? undefined : built.value;
  if (typeof basename !== "string" || basename.includes("/") || basename.includes("\\")) {
    throw new SlimenvError(
      "BUILD_FAILED",
      `building ${label} failed: the backend ${bs.backend} has no usable build_wheel (the whole log: ${logFile})`,
    );
  }
  const wheelPath = path.join(outDir, basename);
  if (!existsSync(wheelPath)) {
    throw new SlimenvError(
      "BUILD_FAILED",
      `building ${label} failed: build_wheel named ${basename}, which it did not write (the whole log: ${logFile})`,
    );
  }
  return { wheelPath, transform };
}

/** Check a built wheel's filename against what was built and for whom. */
function checkBuilt(filename: string, src: { name: string; version: string }, opts: BuildOptions) {
  const label = `${src.name} ${src.version}`;
  let parsed: ReturnType<typeof parseWheelFilename>;
  try {
    parsed = parseWheelFilename(filename);
  } catch (cause) {
    throw new SlimenvError("BUILD_FAILED", `building ${label} gave ${filename}: not a wheel name`, {
      cause,
    });
  }
  if (parsed.name !== canonicalizeName(src.name)) {
    throw new SlimenvError(
      "BUILD_FAILED",
      `building ${label} gave a wheel of another project: ${filename}`,
    );
  }
  if (src.version !== "" && !parsed.version.equals(new Version(src.version))) {
    throw new SlimenvError(
      "BUILD_FAILED",
      `building ${label} gave a wheel of version ${parsed.version.toString()}: ${filename}`,
    );
  }
  if (createTagRanker(opts.target.tags)(parsed.tags.map(String)) === undefined) {
    throw new SlimenvError(
      "BUILD_FAILED",
      `building ${label} gave ${filename}, whose tags do not fit the target`,
      { hint: "the backend built for another interpreter or platform" },
    );
  }
}

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
    const sourceDir = unpackSdist(src.filename, bytes, path.join(work, "src"));
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
      return { wheel: res.cached, cached: true, seconds: 0, transform: res.transform };
    }
    const filename = path.basename(res.wheelPath);
    checkBuilt(filename, src, opts);
    const wheel = await opts.store.importWheel({ path: res.wheelPath }, { filename });
    opts.store.recordBuiltWheel(src.sha256, res.transform, wheel.sha256);
    ok = true;
    const seconds = (Date.now() - started) / 1000;
    opts.reporter.log("info", `built ${filename} in ${seconds.toFixed(1)} s`);
    return { wheel, cached: false, seconds, transform: res.transform };
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
    const sourceDir = unpackSdist(src.filename, bytes, path.join(work, "src"));
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
 */
export async function buildSourceTree(
  sourceDir: string,
  opts: BuildOptions,
  keepWheelIn?: string,
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
    );
    const filename = path.basename(res.wheelPath);
    const parsed = parseWheelFilename(filename);
    checkBuilt(filename, { name: parsed.name, version: "" }, opts);
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
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (ok) rmSync(logFile, { force: true });
  }
}
