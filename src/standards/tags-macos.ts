/**
 * macOS platform tags (`macosx_<major>_<minor>_<binary format>`), in the order pypa/packaging's
 * `mac_platforms(version, arch)` yields them.
 *
 * Until macOS 10.15 every release bumped the minor version; from macOS 11 on the major
 * version is bumped and minor releases are compatible, so only `<major>_0` tags are listed.
 * x86_64 on 11+ also runs everything built for 10.16 down to 10.4; other arches only
 * universal2 binaries of those releases.
 */
import { SlimenvError } from "../base/index.ts";

type MacVersion = readonly [number, number];

function before(version: MacVersion, major: number, minor: number): boolean {
  return version[0] < major || (version[0] === major && version[1] < minor);
}

/**
 * The binary formats a macOS `version` on `arch` runs, most specific first: the arch itself,
 * then fat formats that contain it (intel, fat64, fat3, fat, universal2, universal).
 * Empty when the arch did not exist on that release.
 */
export function macBinaryFormats(version: MacVersion, arch: string): string[] {
  const formats = [arch];
  if (arch === "x86_64") {
    if (before(version, 10, 4)) return [];
    formats.push("intel", "fat64", "fat3");
  } else if (arch === "i386") {
    if (before(version, 10, 4)) return [];
    formats.push("intel", "fat3", "fat");
  } else if (arch === "ppc64") {
    if (!before(version, 10, 6) || before(version, 10, 4)) return [];
    formats.push("fat64");
  } else if (arch === "ppc") {
    if (!before(version, 10, 7)) return [];
    formats.push("fat3", "fat");
  }
  if (arch === "arm64" || arch === "x86_64") formats.push("universal2");
  if (["x86_64", "i386", "ppc64", "ppc", "intel"].includes(arch)) formats.push("universal");
  return formats;
}

/**
 * Platform tags for macOS `version` ([major, minor]) on `arch` ("arm64", "x86_64", "i386",
 * "ppc", "ppc64"), most preferred first, as packaging's `mac_platforms`.
 */
export function macPlatforms(version: readonly [number, number], arch: string): string[] {
  if (
    !Array.isArray(version) ||
    version.length !== 2 ||
    !version.every((n) => Number.isSafeInteger(n) && n >= 0)
  ) {
    throw new SlimenvError("INVALID_TARGET", `invalid macOS version: ${JSON.stringify(version)}`, {
      hint: "give [major, minor] as 'sw_vers -productVersion' prints it, e.g. [14, 0] or [10, 15]",
    });
  }
  if (typeof arch !== "string" || !/^[a-z0-9_]+$/.test(arch)) {
    throw new SlimenvError(
      "INVALID_TARGET",
      `invalid macOS architecture: ${JSON.stringify(arch)}`,
      {
        hint: "use arm64, x86_64, i386, ppc or ppc64",
      },
    );
  }
  const out: string[] = [];
  const add = (major: number, minor: number, formats: readonly string[]) => {
    for (const format of formats) out.push(`macosx_${major}_${minor}_${format}`);
  };
  const [major, minor] = version;
  if (major === 10) {
    for (let m = minor; m >= 0; m--) add(10, m, macBinaryFormats([10, m], arch));
  }
  if (major >= 11) {
    for (let m = major; m > 10; m--) add(m, 0, macBinaryFormats([m, 0], arch));
    for (let m = 16; m > 3; m--) {
      add(10, m, arch === "x86_64" ? macBinaryFormats([10, m], arch) : ["universal2"]);
    }
  }
  return out;
}
