/**
 * One build in a source folder: `[build-system]` with pip's defaults, the build env, the
 * transform id naming every build input, and the PEP 517 hooks run in order. Also the sdist's
 * verified bytes and the build log's file.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { cacheDir, SlimenvError } from "../base/index.ts";
import type { Target } from "../python/target.ts";
import { canonicalizeName } from "../standards/names.ts";
import { parsePyproject } from "../standards/pyproject.ts";
import { downloadWheelFile } from "../store/download.ts";
import type { StoredWheel } from "../store/types.ts";
import { buildEnvFor } from "./build-env.ts";
import { type BuildOptions, DEFAULT_BUILD_TIMEOUT_MS, type SdistSource } from "./build-types.ts";
import { type BuildFlagProfile, type ConfigSettings, flagPlan } from "./flags.ts";
import { runHook } from "./hooks.ts";
import { type Toolchain, toolchainOf } from "./toolchain.ts";

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

export async function sdistBytes(
  src: SdistSource,
  opts: BuildOptions,
  work: string,
): Promise<Uint8Array> {
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

export function logFileFor(opts: BuildOptions, label: string): string {
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
  /** The compilers and system libraries the build uses (toolchain.ts). */
  toolchain?: Toolchain;
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
    toolchain: parts.toolchain ?? null,
  });
  return `build-wheel:${sha256(inputs)}`;
}

/**
 * Build the wheel of a source folder into `outDir`; returns its path. The folder is the
 * sdist's unpacked top folder or the user's source tree.
 */
export async function buildInFolder(
  sourceDir: string,
  label: string,
  name: string,
  opts: BuildOptions,
  work: string,
  logFile: string,
  sdistSha256: string | undefined,
  want: "wheel" | "metadata" | "editable" = "wheel",
): Promise<{
  wheelPath: string;
  transform: string;
  packageSettings: ConfigSettings;
  toolchain: Toolchain;
  cached?: StoredWheel;
  metadata?: string;
}> {
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
  // The environment the hooks run in (before the build env's PATH and PYTHONPATH).
  const baseEnv = { ...(opts.env ?? process.env), ...plan.env };
  const toolchain = toolchainOf(name, opts.useSystemLibs === true, baseEnv);
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
    toolchain,
  });
  if (sdistSha256 !== undefined && want === "wheel") {
    const cached = opts.store.lookupBuiltWheel(sdistSha256, transform);
    if (cached !== undefined) {
      return { wheelPath: "", transform, packageSettings: plan.packageSettings, toolchain, cached };
    }
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
    env: { ...baseEnv, SLIMENV_BUILD_PYTHON: opts.python },
    logFile,
    timeoutMs: opts.timeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS,
    label,
    reporter: opts.reporter,
  });
  if (isolation) {
    const more = await runHook({
      ...hookBase(),
      hook:
        want === "editable" ? "get_requires_for_build_editable" : "get_requires_for_build_wheel",
    });
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
      return {
        wheelPath: "",
        transform,
        packageSettings: plan.packageSettings,
        toolchain,
        metadata: readFileSync(file, "utf8"),
      };
    }
    // No prepare_metadata_for_build_wheel: the metadata comes from the wheel itself.
  }
  const outDir = path.join(work, "dist");
  mkdirSync(outDir, { recursive: true });
  const hook = want === "editable" ? "build_editable" : "build_wheel";
  const built = await runHook({ ...hookBase(), hook, wheelDirectory: outDir });
  if (built.missing && want === "editable") {
    throw new SlimenvError(
      "BUILD_UNSUPPORTED",
      `${label} cannot be installed editable: its build backend ${bs.backend} has no build_editable (PEP 660)`,
      {
        hint: `install it without -e (./${path.basename(sourceDir)}), or use a backend that supports PEP 660`,
      },
    );
  }
  const basename = built.missing ? undefined : built.value;
  if (typeof basename !== "string" || basename.includes("/") || basename.includes("\\")) {
    throw new SlimenvError(
      "BUILD_FAILED",
      `building ${label} failed: the backend ${bs.backend} has no usable ${hook} (the whole log: ${logFile})`,
    );
  }
  const wheelPath = path.join(outDir, basename);
  if (!existsSync(wheelPath)) {
    throw new SlimenvError(
      "BUILD_FAILED",
      `building ${label} failed: ${hook} named ${basename}, which it did not write (the whole log: ${logFile})`,
    );
  }
  return { wheelPath, transform, packageSettings: plan.packageSettings, toolchain };
}
