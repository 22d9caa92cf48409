/**
 * Globs over `/`-separated paths, as the drop rules and the `slim-keep` / `slim-drop`
 * settings write them: `*` matches within one path segment, `?` one character of a segment,
 * `**` any number of whole segments (none included), `[abc]` one of a set. Matching is
 * case-sensitive and anchored at both ends. A pattern without `/` matches the last segment
 * anywhere (`*.pyi` matches `pkg/sub/x.pyi`), like a .gitignore line.
 */
import { SlimenvError } from "../../base/index.ts";

export interface Glob {
  readonly pattern: string;
  test(path: string): boolean;
}

function escapeChar(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}

function segmentSource(segment: string, pattern: string): string {
  let out = "";
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i] as string;
    if (ch === "*") {
      out += "[^/]*";
    } else if (ch === "?") {
      out += "[^/]";
    } else if (ch === "[") {
      const end = segment.indexOf("]", i + 2);
      if (end === -1) {
        throw new SlimenvError("INVALID_CONFIG", `glob ${JSON.stringify(pattern)}: unclosed [`, {
          hint: "write [ as [[] to match it literally",
        });
      }
      let body = segment.slice(i + 1, end);
      const negate = body.startsWith("!");
      if (negate) body = body.slice(1);
      out += `[${negate ? "^" : ""}${body.replace(/[\\\]^]/g, (c) => `\\${c}`)}]`;
      i = end;
    } else {
      out += escapeChar(ch);
    }
  }
  return out;
}

/** Compile a glob; INVALID_CONFIG for an empty pattern or an unclosed `[`. */
export function compileGlob(pattern: string): Glob {
  const trimmed = pattern.trim().replace(/^\.\//, "");
  if (trimmed === "" || trimmed.startsWith("/")) {
    throw new SlimenvError(
      "INVALID_CONFIG",
      `glob ${JSON.stringify(pattern)} is empty or absolute`,
      { hint: "write paths relative to the site dir, e.g. numpy/testing/**" },
    );
  }
  const full = trimmed.includes("/") ? trimmed : `**/${trimmed}`;
  const segments = full.split("/").filter((s) => s !== "");
  let source = "^";
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === "**") {
      source += last ? ".*" : "(?:[^/]+/)*";
    } else {
      source += segmentSource(segment, pattern) + (last ? "" : "/");
    }
  });
  const re = new RegExp(`${source}$`);
  return { pattern, test: (p: string) => re.test(p) };
}

/** True when any of `globs` matches `path`. */
export function anyGlob(globs: readonly Glob[], path: string): boolean {
  return globs.some((g) => g.test(path));
}
