/**
 * Windows platform tags. Windows has no version ladder: an interpreter supports exactly the
 * tag of its own architecture (sysconfig.get_platform() with '-' as '_').
 */
import { SlimenvError } from "../base/index.ts";

const WINDOWS_TAGS: ReadonlyMap<string, string> = new Map([
  ["amd64", "win_amd64"],
  ["x86_64", "win_amd64"],
  ["x64", "win_amd64"],
  ["win_amd64", "win_amd64"],
  ["x86", "win32"],
  ["i386", "win32"],
  ["i686", "win32"],
  ["win32", "win32"],
  ["arm64", "win_arm64"],
  ["aarch64", "win_arm64"],
  ["win_arm64", "win_arm64"],
]);

/** Windows platform tag for `arch` (AMD64/x86_64, x86/win32, ARM64/aarch64): a one-item list. */
export function windowsPlatforms(arch: string): string[] {
  const tag =
    typeof arch === "string"
      ? WINDOWS_TAGS.get(arch.trim().toLowerCase().replace(/-/g, "_"))
      : undefined;
  if (tag === undefined) {
    throw new SlimenvError(
      "INVALID_TARGET",
      `unknown Windows architecture: ${JSON.stringify(arch)}`,
      { hint: "use amd64 (win_amd64), x86 (win32) or arm64 (win_arm64)" },
    );
  }
  return [tag];
}
