/**
 * materialize: make an environment directory hold exactly a plan's wheels, crash-safely —
 * a new generation switched in atomically (prefix, venv) or a rename swap (target).
 */
import { existsSync, lstatSync, readdirSync } from "node:fs";
import { mkdir, readdir, rename, rm, rmdir } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../base/atomic-write.ts";
import { type Reporter, SlimenvError, silentReporter } from "../base/index.ts";
import { type BuildContext, buildTree, preflight } from "./build-tree.ts";
import {
  acquireLock,
  currentGeneration,
  ensureManifestLink,
  ensureTopLinks,
  fsyncPath,
  MANIFEST_NAME,
  META_DIR,
  pruneTopLinks,
  recoverGenerations,
  recoverTarget,
  removeOldGenerations,
  switchCurrent,
  targetSiblings,
} from "./generations.ts";
import { existingEnv, manifestPath } from "./manifest.ts";
import { pythonDirVersion, schemePaths } from "./scheme.ts";
import {
  type EnvManifest,
  type EnvPlan,
  type EnvStore,
  LINK_MODES,
  type SlimTransform,
} from "./types.ts";

export interface MaterializeOptions {
  reporter?: Reporter;
  /**
   * Called once the new tree is complete, just before it is switched in. For tests that
   * simulate a crash at that moment (throw from it: the new tree is left, as a kill would).
   */
  beforeSwitch?: () => void | Promise<void>;
  /**
   * Called with each complete candidate tree (its root runs as the env: `dir/bin/python`)
   * before it is switched in. Return a slim transform to build the tree again with it
   * instead (at most {@link MAX_REVIEWS} times), or undefined to switch it in; throw to
   * abandon the install — the candidate is removed and the environment stays as it was.
   */
  review?: (candidate: {
    dir: string;
    manifest: EnvManifest;
  }) => Promise<SlimTransform | undefined>;
}

/** How many rebuilds a review may ask for. */
export const MAX_REVIEWS = 6;

/**
 * Build the tree into `into` (made empty first) and write its manifest at `manifestFile`
 * (a function of the tree root), asking `review` between attempts.
 */
async function buildReviewed(
  into: string,
  manifestFile: (root: string) => string,
  ctx: BuildContext,
  generation: number,
  review: MaterializeOptions["review"],
): Promise<EnvManifest> {
  let plan = ctx.plan;
  for (let attempt = 0; ; attempt++) {
    await rm(into, { recursive: true, force: true });
    let manifest: EnvManifest;
    try {
      await mkdir(path.dirname(manifestFile(into)), { recursive: true });
      const built = await buildTree(into, { ...ctx, plan });
      manifest = { ...built, generation };
      await writeManifest(manifestFile(into), manifest);
    } catch (err) {
      // Nothing half-made stays: a partly built tree goes with the error.
      await rm(into, { recursive: true, force: true });
      throw err;
    }
    if (review === undefined) return manifest;
    let next: SlimTransform | undefined;
    try {
      next = await review({ dir: into, manifest });
    } catch (err) {
      await rm(into, { recursive: true, force: true });
      throw err;
    }
    if (next === undefined) return manifest;
    if (attempt + 1 >= MAX_REVIEWS) {
      await rm(into, { recursive: true, force: true });
      throw new SlimenvError(
        "SLIM_CHECK_FAILED",
        `the environment still fails its check after ${MAX_REVIEWS} rebuilds`,
      );
    }
    plan = { ...plan, slim: next };
  }
}

/** The default interpreter command of a target: `python3.X` (`python3.13t` free-threaded). */
export function defaultInterpreterCommand(plan: Pick<EnvPlan, "target">): string {
  return `python${pythonDirVersion(plan.target)}`;
}

function checkPlan(plan: EnvPlan): void {
  if (!LINK_MODES.includes(plan.linkMode)) {
    throw new SlimenvError("INVALID_OPTION", `unknown link mode ${JSON.stringify(plan.linkMode)}`, {
      hint: `use one of ${LINK_MODES.join(", ")}`,
    });
  }
  if (plan.layout.kind === "venv" && plan.probe === undefined) {
    throw new SlimenvError(
      "INVALID_ENV",
      `a venv (${plan.layout.dir}) links a real interpreter: it needs a probed one, not a target spec`,
      { hint: "pass --python, or use --prefix or --target for a cross-target install" },
    );
  }
  const command = plan.interpreterCommand;
  if (command !== undefined && (command === "" || /[\n\0]/.test(command))) {
    throw new SlimenvError(
      "INVALID_OPTION",
      `interpreter command ${JSON.stringify(command)} is not usable`,
    );
  }
}

/**
 * Build the environment the plan describes at `plan.layout.dir`, replacing what a previous
 * materialize put there, and register it in the store. Returns the manifest written.
 */
export async function materialize(
  store: EnvStore,
  plan: EnvPlan,
  options: MaterializeOptions = {},
): Promise<EnvManifest> {
  checkPlan(plan);
  const reporter = options.reporter ?? silentReporter;
  const dir = path.resolve(plan.layout.dir);
  const kind = plan.layout.kind;
  const scheme = schemePaths(kind, plan.target, plan.probe);
  const ctx: BuildContext = {
    store,
    plan,
    kind,
    scheme,
    interpreterCommand: plan.interpreterCommand ?? defaultInterpreterCommand(plan),
    reporter,
  };
  // Everything that can be refused is refused before the first mkdir.
  await preflight(ctx);
  if (kind === "target") {
    const parent = path.dirname(dir);
    const madeParent = !existsSync(parent);
    await mkdir(parent, { recursive: true });
    const release = await acquireLock(targetSiblings(dir).lock);
    let building = true;
    try {
      recoverTarget(dir);
      existingEnv(dir, kind);
      const { fresh, old } = targetSiblings(dir);
      const manifest = await buildReviewed(
        fresh,
        (root) => path.join(root, META_DIR, MANIFEST_NAME),
        ctx,
        0,
        options.review,
      );
      building = false;
      await options.beforeSwitch?.();
      if (existsSync(dir)) {
        await rename(dir, old);
        await rename(fresh, dir);
        await fsyncPath(path.dirname(dir));
        await rm(old, { recursive: true, force: true });
      } else {
        await rename(fresh, dir);
        await fsyncPath(path.dirname(dir));
      }
      store.registerEnv(dir, plan.wheels, manifestPath(dir));
      reporter.log("debug", `installed ${plan.wheels.length} packages into ${dir}`);
      return manifest;
    } finally {
      release();
      if (building && madeParent) await rmdir(parent).catch(() => undefined);
    }
  }

  existingEnv(dir, kind);
  const meta = path.join(dir, META_DIR);
  const madeDir = !existsSync(dir);
  const madeMeta = !existsSync(meta);
  const before = madeDir ? [] : readdirSync(dir);
  await mkdir(meta, { recursive: true });
  const release = await acquireLock(path.join(meta, "lock"));
  let building = true;
  try {
    recoverGenerations(dir);
    const generation = (currentGeneration(dir) ?? 0) + 1;
    const genDir = path.join(meta, `gen-${generation}`);
    const manifest = await buildReviewed(
      genDir,
      (root) => path.join(root, MANIFEST_NAME),
      ctx,
      generation,
      options.review,
    );
    const names = (await readdir(genDir)).filter((n) => n !== MANIFEST_NAME);
    try {
      await ensureTopLinks(dir, names);
      await ensureManifestLink(dir);
    } catch (err) {
      await rm(genDir, { recursive: true, force: true });
      throw err;
    }
    building = false;
    await options.beforeSwitch?.();
    await switchCurrent(dir, generation);
    await pruneTopLinks(dir, new Set(names));
    await removeOldGenerations(dir, generation);
    store.registerEnv(dir, plan.wheels, manifestPath(dir));
    reporter.log(
      "debug",
      `installed ${plan.wheels.length} packages into ${dir} (generation ${generation})`,
    );
    return manifest;
  } finally {
    release();
    if (building) await undoStart(dir, { madeDir, madeMeta, before });
  }
}

/**
 * A build that failed before its switch leaves the directory as it found it: a directory or
 * `.slimenv` made for it is removed, and so is any top-level link it added.
 */
async function undoStart(
  dir: string,
  made: { madeDir: boolean; madeMeta: boolean; before: readonly string[] },
): Promise<void> {
  if (made.madeDir) {
    await rm(dir, { recursive: true, force: true });
    return;
  }
  if (made.madeMeta) await rm(path.join(dir, META_DIR), { recursive: true, force: true });
  const keep = new Set(made.before);
  for (const name of readdirSync(dir)) {
    if (keep.has(name) || name === META_DIR) continue;
    if (lstatSync(path.join(dir, name)).isSymbolicLink()) await rm(path.join(dir, name));
  }
}

/** The manifest: a new file renamed into place (never written through a link). */
export async function writeManifest(file: string, manifest: EnvManifest): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(manifest, null, 2)}\n`);
}
