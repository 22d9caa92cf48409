/**
 * Files never to strip, as data: a glob over the file's `/`-separated path (relative to the
 * site directory or the environment root; `*` stays within a folder, `**` spans folders) and
 * the reason. See docs/slim.md "native stripping" for the experiment behind the first rules.
 *
 * A second kind of rule is about the tool, not the file: a file auditwheel repaired (its
 * RPATH/RUNPATH points at `$ORIGIN/…/<name>.libs`) is rewritten by patchelf, and llvm-strip
 * (14) misaligns such files; binutils strip (2.40) handles them. {@link toolRefusal} says when a
 * tool must not touch a file.
 */
import type { StripTool } from "./tool.ts";

export interface NeverStripRule {
  pattern: string;
  reason: string;
}

export const NEVER_STRIP: readonly NeverStripRule[] = [
  {
    pattern: "**/*.libs/**",
    reason:
      "a library auditwheel vendored and patchelf rewrote: stripping it (binutils 2.40 or llvm-strip 14) misaligns its LOAD segments and the loader refuses it ('ELF load command address/offset not page-aligned'): import numpy 2.2 fails",
  },
  {
    pattern: "**/.libs/**",
    reason:
      "a library older auditwheel versions vendored into <package>/.libs, patchelf-rewritten as above",
  },
  {
    pattern: "**/*.debug",
    reason: "a separate debug-info file: it holds nothing but debug data and is not loaded",
  },
];

export const AUDITWHEEL_LLVM_REASON =
  "auditwheel-patched (RPATH $ORIGIN/…/*.libs): llvm-strip 14 misaligns patchelf-rewritten files; only binutils strip is safe here";

function globToRegExp(glob: string): RegExp {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        // `**/` spans zero or more folders; a trailing `**` spans the rest.
        if (glob[i + 2] === "/") {
          out += "(?:.*/)?";
          i += 2;
        } else {
          out += ".*";
          i += 1;
        }
      } else {
        out += "[^/]*";
      }
    } else if (c === "?") {
      out += "[^/]";
    } else {
      out += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${out}$`);
}

/** The reason `relPath` must never be stripped, or undefined. */
export function neverStripReason(
  relPath: string,
  rules: readonly NeverStripRule[] = NEVER_STRIP,
): string | undefined {
  const p = relPath.replace(/\\/g, "/").replace(/^\.?\//, "");
  for (const rule of rules) {
    if (globToRegExp(rule.pattern).test(p)) return rule.reason;
  }
  return undefined;
}

/**
 * True when the RPATH/RUNPATH points at a folder auditwheel made (`$ORIGIN/…/<name>.libs`):
 * the file was rewritten by patchelf.
 */
export function isAuditwheelPatched(runpath: readonly string[]): boolean {
  return runpath.some((p) => p.includes("$ORIGIN") && /(^|\/)[^/]*\.libs\/?$/.test(p));
}

/** Why `tool` must not strip a file with this RPATH/RUNPATH state, or undefined. */
export function toolRefusal(tool: StripTool, auditwheelPatched: boolean): string | undefined {
  return tool.kind === "llvm" && auditwheelPatched ? AUDITWHEEL_LLVM_REASON : undefined;
}
