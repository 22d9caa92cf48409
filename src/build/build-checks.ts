/**
 * Whether a build fits: this machine can build for the target (checkCanBuild), and the wheel a
 * backend built is of the project, version and tags asked for (checkBuilt).
 */
import { SlimenvError } from "../base/index.ts";
import type { Target } from "../python/target.ts";
import { canonicalizeName } from "../standards/names.ts";
import { createTagRanker } from "../standards/tags.ts";
import { Version } from "../standards/version.ts";
import { parseWheelFilename } from "../standards/wheel-filename.ts";
import type { BuildOptions } from "./build-types.ts";

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

/** Check a built wheel's filename against what was built and for whom. */
export function checkBuilt(
  filename: string,
  src: { name: string; version: string },
  opts: BuildOptions,
) {
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
