/**
 * The resolver's way to the metadata of an sdist whose PKG-INFO is not reliable: through the
 * build layer's prepare_metadata_for_build_wheel (cached by the sdist's sha256), with the
 * store opened on first use and closed by the caller once locking is done.
 */
import { fileURLToPath } from "node:url";
import { type Reporter, SlimenvError } from "../base/index.ts";
import { type BuildOptions, prepareSdistMetadata } from "../build/index.ts";
import type { HttpClient } from "../index/http.ts";
import type { DistributionFile } from "../index/project.ts";
import type { Target } from "../python/target.ts";
import type { SdistMetadataBuilder } from "../resolve/index-provider.ts";
import { Store } from "../store/store.ts";
import type { ApplyBuildSettings } from "./apply.ts";

export interface SdistMetadataContext {
  storeRoot?: string;
  env: NodeJS.ProcessEnv;
  client: HttpClient;
  target: Target;
  /** The build interpreter (none: a spec target, which cannot build). */
  python?: string;
  build: ApplyBuildSettings;
  withCredentials: (url: string) => string;
  reporter: Reporter;
}

export function sdistMetadataBuilder(ctx: SdistMetadataContext): {
  builder: SdistMetadataBuilder;
  close: () => void;
} {
  let store: Store | undefined;
  const builder: SdistMetadataBuilder = (file: DistributionFile) => {
    const sha256 = file.hashes.sha256;
    if (sha256 === undefined) {
      throw new SlimenvError(
        "BUILD_REQUIRED",
        `the dependencies of ${file.name} ${file.version.toString()} are known only by building ${file.filename}, and its index gives no sha256 to verify it by`,
      );
    }
    store ??= Store.open({
      ...(ctx.storeRoot === undefined ? {} : { root: ctx.storeRoot }),
      env: ctx.env,
      reporter: ctx.reporter,
    });
    const where = /^file:/i.test(file.url) ? { path: fileURLToPath(file.url) } : { url: file.url };
    const opts: BuildOptions = {
      ...ctx.build,
      store,
      client: ctx.client,
      python: ctx.python ?? "",
      target: ctx.target,
      withCredentials: ctx.withCredentials,
      reporter: ctx.reporter,
      env: ctx.env,
    };
    return prepareSdistMetadata(
      {
        name: file.name,
        version: file.version.toString(),
        filename: file.filename,
        sha256,
        ...where,
        ...(file.size === undefined ? {} : { size: file.size }),
      },
      opts,
    );
  };
  return { builder, close: () => store?.close() };
}
