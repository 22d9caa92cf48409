/**
 * `slimenv bundle --lock pylock.toml`: a bundle straight from a lock, a target and a slim
 * policy, no env kept. The lock is installed as it is (checked to be for the target) into a
 * temp prefix env through the ordinary install (and slimming) code, bundled, and the temp env
 * removed. Bytes are reproducible only with SOURCE_DATE_EPOCH set: the env manifest shipped in
 * the tree records when the temp env was built.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type InstallRequest, install } from "../env/install.ts";
import { installSlim } from "../slim/install-slim.ts";
import type { SlimPolicy } from "../slim/policy.ts";
import { storeRoot } from "../store/paths.ts";
import { type PackOptions, type PackResult, packEnv } from "./pack.ts";

export interface LockBundleRequest
  extends Omit<InstallRequest, "layout" | "inputs" | "lockOut" | "noDeps" | "slim" | "review"> {
  /** The PEP 751 lock, relative to `cwd`. */
  lockFile: string;
  /** Slim the temp env with this policy (import-checked as `install --slim` does). */
  slim?: SlimPolicy;
  /** The import check's cache folder. */
  checkCacheDir?: string;
}

/** Install `lockFile` into a temp env, bundle it, remove the env. */
export async function packLock(
  request: LockBundleRequest,
  options: Omit<PackOptions, "storeRoot">,
): Promise<PackResult> {
  const { lockFile, slim, checkCacheDir, ...rest } = request;
  const tmp = mkdtempSync(path.join(tmpdir(), "slimenv-bundle-"));
  const dir = path.join(tmp, "env");
  try {
    const install_: InstallRequest = {
      ...rest,
      layout: { kind: "prefix", dir },
      inputs: {
        requirementFiles: [],
        requirements: [],
        wheels: [],
        lockFile: path.resolve(request.cwd, lockFile),
      },
    };
    if (slim === undefined) await install(install_);
    else {
      await installSlim(install_, {
        policy: slim,
        ...(checkCacheDir === undefined ? {} : { checkCacheDir }),
      });
    }
    return await packEnv(dir, {
      ...options,
      storeRoot: request.storeRoot ?? storeRoot(undefined, request.env),
      ...(request.reporter === undefined ? {} : { reporter: request.reporter }),
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
