/**
 * Build one complete environment tree (a generation, or a fresh target dir) from the plan:
 * every wheel's files linked from the store, launchers, dist-info bookkeeping, and the
 * manifest's content.
 */
import { mkdir, symlink } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../base/atomic-write.ts";
import { mapLimit, type Reporter, SlimenvError } from "../base/index.ts";
import type { InterpreterProbe } from "../python/probe-types.ts";
import { canonicalizeName } from "../standards/names.ts";
import { HostileWheelError } from "../store/hostile.ts";
import { foldKey } from "../store/wheel-check.ts";
import { MANIFEST_NAME, META_DIR } from "./generations.ts";
import {
  fileDigest,
  installedRecord,
  planWheel,
  treePthFile,
  type WheelInstall,
} from "./install-wheel.ts";
import {
  ISOLATE_PTH_NAME,
  ISOLATE_PTH_TEXT,
  prefixPythonLauncher,
  targetPythonLauncher,
} from "./launchers.ts";
import { Linker } from "./link.ts";
import { pythonDirVersion } from "./scheme.ts";
import type {
  EnvManifest,
  EnvPlan,
  EnvStore,
  LayoutKind,
  ManifestFile,
  ManifestPackage,
  PlannedFile,
  SchemePaths,
  SlimRecord,
} from "./types.ts";

export interface BuildContext {
  store: EnvStore;
  plan: EnvPlan;
  kind: LayoutKind;
  scheme: SchemePaths;
  interpreterCommand: string;
  reporter: Reporter;
}

/** The manifest minus what the caller adds (generation). */
export type BuiltManifest = Omit<EnvManifest, "generation">;

const encoder = new TextEncoder();

function bytesFile(dest: string, text: string, exec: boolean): PlannedFile {
  return { dest, kind: "bytes", bytes: encoder.encode(text), exec };
}

/** pyvenv.cfg for a venv on the probed interpreter. */
export function pyvenvCfg(probe: InterpreterProbe): string {
  const [a, b, c] = probe.version;
  return [
    `home = ${path.dirname(probe.realExecutable)}`,
    "include-system-site-packages = false",
    `version = ${a}.${b}.${c}`,
    `executable = ${probe.realExecutable}`,
    "slimenv = 1",
    "",
  ].join("\n");
}

/**
 * A generated file (launcher, RECORD, INSTALLER, .pth…): a new file renamed into place, so a
 * path that is already a hard link to a store object is replaced, never written through.
 */
async function writeBytes(file: string, bytes: Uint8Array, exec: boolean): Promise<void> {
  // its folder exists: makeDirs made every folder of the tree
  await writeFileAtomic(file, bytes, { mode: exec ? 0o755 : 0o644, mkdir: false });
}

function copyPackagesOf(plan: EnvPlan): Set<string> {
  return new Set((plan.copyPackages ?? []).map((n) => canonicalizeName(n)));
}

/** What preflight planned, per plan, for the buildTree that follows it. */
const preflighted = new WeakMap<EnvPlan, readonly WheelInstall[]>();

/** Plan every wheel of the plan (step 1); `trees`: make the store trees of link mode pth. */
async function planWheels(ctx: BuildContext, trees: boolean) {
  const { store, plan, reporter } = ctx;
  const requested = new Set(plan.requested.map((n) => canonicalizeName(n)));
  const copies = copyPackagesOf(plan);
  const pth = plan.linkMode === "pth";
  const installs: WheelInstall[] = [];
  const treeOf = new Map<WheelInstall, string>();
  // preflight planned the same plan already: its plans are taken over, not made again
  const before = preflighted.get(plan);
  preflighted.delete(plan);
  for (const [i, wheel] of plan.wheels.entries()) {
    const earlier = before?.[i];
    const install =
      earlier !== undefined
        ? { ...earlier, files: [...earlier.files] }
        : await planWheel(store, wheel, ctx.scheme, {
            requested: requested.has(canonicalizeName(wheel.name)),
            pth: pth && !copies.has(canonicalizeName(wheel.name)),
          });
    if (trees && pth && !install.usesTree) {
      reporter.log(
        "debug",
        `${wheel.filename} has its own .pth file: linked in full instead of through a store tree`,
      );
    }
    if (trees && install.usesTree) treeOf.set(install, await store.wheelTree(wheel));
    installs.push(install);
  }
  return { installs, trees: treeOf, requested };
}

/** The environment's own files (launchers, pyvenv.cfg, isolation) and interpreter symlinks. */
function envFilesOf(ctx: BuildContext) {
  const { plan, kind, scheme } = ctx;
  const envFiles: PlannedFile[] = [];
  const symlinks: { dest: string; target: string }[] = [];
  const version = pythonDirVersion(plan.target);
  const pythonNames = ["python", "python3", `python${version}`];
  if (kind === "prefix") {
    const launcher = prefixPythonLauncher(ctx.interpreterCommand);
    for (const name of pythonNames) {
      envFiles.push(bytesFile(path.posix.join(scheme.scripts, name), launcher, true));
    }
    if (plan.isolated === true) {
      envFiles.push(
        bytesFile(path.posix.join(scheme.purelib, ISOLATE_PTH_NAME), ISOLATE_PTH_TEXT, false),
      );
    }
  } else if (kind === "target") {
    // python3 and python3.X too: under `slimenv run DIR`, DIR/bin is first on PATH, and no
    // wheel's script may answer to an interpreter's name there.
    const launcher = targetPythonLauncher(ctx.interpreterCommand);
    for (const name of pythonNames) {
      envFiles.push(bytesFile(path.posix.join(scheme.scripts, name), launcher, true));
    }
  } else if (plan.probe !== undefined) {
    envFiles.push(bytesFile("pyvenv.cfg", pyvenvCfg(plan.probe), false));
    for (const name of pythonNames) {
      symlinks.push({
        dest: path.posix.join(scheme.scripts, name),
        target: plan.probe.realExecutable,
      });
    }
  }
  return { envFiles, symlinks };
}

/**
 * Refuse a wheel that claims a path the environment owns: its launchers and own files, the
 * manifest (`manifest.json` at a generation's root, `.slimenv/` of a target dir), anything
 * named `.slimenv` at the top, and `_slimenv*` files in a site dir (rule `slimenv-path`).
 */
function checkClaims(
  ctx: BuildContext,
  installs: readonly WheelInstall[],
  owned: ReadonlySet<string>,
): void {
  const reserved = new Set([...owned].map(foldKey));
  if (ctx.kind !== "target") reserved.add(MANIFEST_NAME);
  const sites = new Set([ctx.scheme.purelib, ctx.scheme.platlib].map(foldKey));
  for (const install of installs) {
    for (const file of install.files) {
      const key = foldKey(file.dest);
      const first = key.indexOf("/");
      const last = key.lastIndexOf("/");
      const top = first < 0 ? key : key.slice(0, first);
      const slimenvName = key.startsWith("_slimenv", last + 1);
      const dir = last < 0 ? "." : key.slice(0, last);
      if (
        reserved.has(key) ||
        top === META_DIR ||
        (slimenvName && (sites.has(dir) || (dir === "." && sites.has(""))))
      ) {
        throw new HostileWheelError(
          install.wheel.filename,
          "slimenv-path",
          `it would put a file at ${file.dest}, which the environment itself owns`,
        );
      }
    }
  }
}

/**
 * Everything about the plan that can be refused, checked before anything is written: every
 * wheel planned (entry points parsed, script names checked) and no wheel claiming a path
 * the environment owns.
 */
export async function preflight(ctx: BuildContext): Promise<void> {
  const { installs } = await planWheels(ctx, false);
  const { envFiles, symlinks } = envFilesOf(ctx);
  checkClaims(ctx, installs, new Set([...envFiles, ...symlinks].map((f) => f.dest)));
  preflighted.set(ctx.plan, installs);
}

/** Build the tree at `root` (which must exist and be empty). */
export async function buildTree(root: string, ctx: BuildContext): Promise<BuiltManifest> {
  const { store, plan, kind, scheme, reporter } = ctx;
  const pth = plan.linkMode === "pth";

  // 1. Plan every wheel; no wheel may claim a file of the environment's own (step 2).
  const { installs, trees, requested } = await planWheels(ctx, true);
  const { envFiles, symlinks } = envFilesOf(ctx);
  checkClaims(ctx, installs, new Set([...envFiles, ...symlinks].map((f) => f.dest)));
  for (const [install, tree] of trees) install.files.push(treePthFile(install, tree));

  // 1b. Slimming: each package's files kept, dropped or replaced; generated files added.
  let slimRecord: SlimRecord | undefined;
  const slimFiles: PlannedFile[] = [];
  if (plan.slim !== undefined) {
    if (pth) {
      throw new SlimenvError(
        "INVALID_OPTION",
        "link mode pth serves packages from the store's trees, which slimming cannot change",
        { hint: "use another --link-mode with --slim" },
      );
    }
    const result = await plan.slim.apply(
      installs.map((i) => ({ wheel: i.wheel, siteDir: i.siteDir, files: i.files })),
      { store, target: plan.target, layout: kind, scheme, reporter },
    );
    installs.forEach((install, i) => {
      install.files = result.files[i] ?? install.files;
    });
    slimFiles.push(...result.envFiles);
    slimRecord = result.record;
  }

  // 3. Who owns each path: later wheels win (with a warning when the bytes differ); the
  //    environment's own files (2: launchers, pyvenv.cfg, isolation, slimming's) are its own.
  const owner = new Map<string, { install: WheelInstall | undefined; file: PlannedFile }>();
  for (const install of installs) {
    for (const file of install.files) {
      const before = owner.get(file.dest);
      if (before?.install !== undefined && fileDigest(before.file).hash !== fileDigest(file).hash) {
        reporter.log(
          "warn",
          `${install.wheel.filename} overwrites ${file.dest} of ${before.install.wheel.filename}`,
        );
      }
      owner.set(file.dest, { install, file });
    }
  }
  envFiles.push(...slimFiles);
  for (const file of envFiles) owner.set(file.dest, { install: undefined, file });

  // 4. RECORD of each wheel, over the files it ended up owning.
  const owned = new Map<WheelInstall, PlannedFile[]>();
  for (const { install, file } of owner.values()) {
    if (install === undefined) continue;
    const list = owned.get(install) ?? [];
    list.push(file);
    owned.set(install, list);
  }
  for (const install of installs) {
    const files = owned.get(install) ?? [];
    const record = installedRecord(install, files);
    files.push(record);
    owned.set(install, files);
    owner.set(record.dest, { install, file: record });
  }

  // 5. Place everything.
  const linker = new Linker(plan.linkMode === "pth" ? "auto" : plan.linkMode, reporter);
  const copies = copyPackagesOf(plan);
  const copied = new Set<PlannedFile>();
  for (const { install, file } of owner.values()) {
    if (install !== undefined && copies.has(canonicalizeName(install.wheel.name))) {
      copied.add(file);
    }
  }
  const all = [...owner.values()].map((o) => o.file);
  const dirs = new Set<string>();
  for (const file of all) dirs.add(path.posix.dirname(file.dest));
  for (const s of symlinks) dirs.add(path.posix.dirname(s.dest));
  await makeDirs(root, dirs);
  const task = reporter.task("linking files", all.length, "files");
  // Objects linked as they are: one synchronous call each once the link mode is settled;
  // generated files, copies and the rest through the thread pool, several at once.
  const others: PlannedFile[] = [];
  for (const file of all) {
    if (file.kind !== "object" || copied.has(file) || (file.exec && !file.objectExec)) {
      others.push(file);
      continue;
    }
    const source = store.objectPath(file.hash, file.objectExec);
    // `dest` is relative and normalized (install-wheel.ts joins it): no path.join per file
    const dest = `${root}${path.sep}${file.dest}`;
    if (!linker.placeNow(source, dest)) await linker.place(source, dest);
    task.advance(1);
  }
  await mapLimit(others, 32, async (file) => {
    const dest = path.join(root, file.dest);
    if (file.kind === "bytes") {
      await writeBytes(dest, file.bytes, file.exec);
    } else {
      const source = store.objectPath(file.hash, file.objectExec);
      if (copied.has(file)) await linker.placeWritableCopy(source, dest, file.exec);
      else if (file.exec && !file.objectExec) await linker.placeExecutableCopy(source, dest);
      else await linker.place(source, dest);
    }
    task.advance(1);
  });
  task.done();
  for (const s of symlinks) await symlink(s.target, path.join(root, s.dest));

  // 6. The manifest's content.
  const describe = (file: PlannedFile): ManifestFile => {
    const { hash, size } = fileDigest(file);
    return {
      path: file.dest,
      hash,
      exec: file.exec || (file.kind === "object" && file.objectExec),
      size,
    };
  };
  const packages: ManifestPackage[] = installs.map((install) => {
    const tree = trees.get(install);
    return {
      name: install.wheel.name,
      version: install.wheel.version,
      wheel: install.wheel.sha256,
      filename: install.wheel.filename,
      requested: requested.has(canonicalizeName(install.wheel.name)),
      ...(tree === undefined ? {} : { tree }),
      files: (owned.get(install) ?? []).map(describe).sort((a, b) => (a.path < b.path ? -1 : 1)),
    };
  });
  const t = plan.target;
  return {
    version: 1,
    layout: kind,
    target: {
      implementation: t.implementation,
      pythonVersion: t.pythonVersion,
      os: t.os,
      arch: t.arch,
      tags: t.tags,
      source: t.source,
      ...(t.spec === undefined ? {} : { spec: t.spec }),
      platforms: t.platforms,
    },
    ...(plan.probe === undefined ? {} : { interpreter: plan.probe.realExecutable }),
    linkMode: plan.linkMode,
    effectiveLinkMode: linker.effective,
    interpreterCommand: ctx.interpreterCommand,
    isolated: plan.isolated === true,
    scheme,
    packages,
    envFiles: envFiles.map(describe),
    createdAt: new Date().toISOString(),
    ...(plan.lock === undefined ? {} : { lock: plan.lock }),
    ...(slimRecord === undefined ? {} : { slim: slimRecord }),
    ...(copies.size === 0 ? {} : { copyPackages: [...copies].sort() }),
    ...(plan.built === undefined || plan.built.length === 0 ? {} : { built: plan.built }),
  };
}

/**
 * Create `dirs` (relative, "/"-separated) and their parents under `root`: one level at a time,
 * each level's folders at once, every folder with one mkdir (not one awaited recursive mkdir
 * per folder, which probes every parent again).
 */
async function makeDirs(root: string, dirs: Iterable<string>): Promise<void> {
  const all = new Set<string>();
  for (let d of dirs) {
    while (d !== "." && d !== "" && !all.has(d)) {
      all.add(d);
      d = path.posix.dirname(d);
    }
  }
  const levels: string[][] = [];
  for (const d of all) {
    const depth = d.split("/").length - 1;
    const level = levels[depth] ?? [];
    level.push(d);
    levels[depth] = level;
  }
  for (const level of levels) {
    if (level === undefined) continue;
    await mapLimit(level, 32, async (d) => {
      try {
        await mkdir(path.join(root, d));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
    });
  }
}
