/**
 * Drop groups: named sets of standard-library paths a runtime copy can leave out, as data
 * (like a rule file). Each pattern is a path relative to the stdlib folder (lib/pythonX.Y),
 * with `/` separators; `*` matches within one path segment and `**` any number of segments
 * (zero included). A pattern that matches a folder drops everything under it.
 */
import { SlimenvError } from "../base/index.ts";

export interface DropGroup {
  name: string;
  /** Why a distributor may leave it out, and what stops working. */
  reason: string;
  patterns: readonly string[];
}

export const DROP_GROUPS: readonly DropGroup[] = [
  {
    name: "tests",
    reason:
      "CPython's own test suites and the extension modules only they import; nothing outside the tests imports them (Fedora ships them as python3-test)",
    patterns: [
      "**/test",
      "**/tests",
      "idlelib/idle_test",
      "lib-dynload/_test*",
      "lib-dynload/_ctypes_test.*",
      "lib-dynload/_xxtestfuzz.*",
      "lib-dynload/xxlimited*",
      "lib-dynload/xxsubtype.*",
    ],
  },
  {
    name: "idlelib",
    reason: "the IDLE editor, an application rather than a library; needs tkinter",
    patterns: ["idlelib"],
  },
  {
    name: "tkinter",
    reason:
      "Tk bindings and what is built on them (turtle, turtledemo); the _tkinter extension needs libtk and X libraries a server or device rarely has",
    patterns: ["tkinter", "lib-dynload/_tkinter.*", "turtle.py", "turtledemo"],
  },
  {
    name: "turtledemo",
    reason: "demo scripts for turtle graphics",
    patterns: ["turtledemo"],
  },
  {
    name: "ensurepip",
    reason:
      "bundled pip wheels for `python -m ensurepip` and `python -m venv` (venv then needs --without-pip)",
    patterns: ["ensurepip"],
  },
  {
    name: "lib2to3",
    reason: "the Python 2 to 3 converter's library (deprecated, removed in 3.13)",
    patterns: ["lib2to3"],
  },
  {
    name: "pydoc_data",
    reason:
      "the topic texts `help('keywords')` and pydoc show; pydoc still documents modules without them",
    patterns: ["pydoc_data"],
  },
  {
    name: "distutils",
    reason:
      "the legacy build system (deprecated, removed in 3.12); setuptools carries its own copy",
    patterns: ["distutils"],
  },
  {
    name: "devel",
    reason:
      "the config-X.Y-<arch> folder: Makefile, static libpython and objects for building extensions or embedding; not read at run time (Fedora's python3-devel)",
    patterns: ["config-*"],
  },
];

/**
 * Dropped when no --drop is given: `devel` only — nothing there is read at run time, and the
 * copy has no include/ to build extensions with (pyenv's static libpython alone is ~60 MiB).
 * A given --drop replaces this list (`--drop none` keeps everything).
 */
export const DEFAULT_RUNTIME_DROPS: readonly string[] = ["devel"];

export type DropGroupName = string;

/** Parse `--drop a,b,c` (also repeated flags, already split); unknown names are INVALID_OPTION. */
export function parseDropGroups(values: readonly string[]): DropGroup[] {
  const out: DropGroup[] = [];
  for (const value of values) {
    for (const raw of value.split(",")) {
      const name = raw.trim().toLowerCase();
      if (name === "" || name === "none") continue;
      const group = DROP_GROUPS.find((g) => g.name === name);
      if (group === undefined) {
        throw new SlimenvError(
          "INVALID_OPTION",
          `unknown drop group ${JSON.stringify(raw.trim())}`,
          {
            hint: `--drop takes a comma-separated list of: ${DROP_GROUPS.map((g) => g.name).join(", ")}`,
          },
        );
      }
      if (!out.includes(group)) out.push(group);
    }
  }
  return out;
}

function segmentRegex(segment: string): string {
  return segment
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join("[^/]*");
}

/** A compiled pattern: matches a relative path (no leading or trailing slash). */
export function compileDropPattern(pattern: string): RegExp {
  const segments = pattern.split("/").filter((s) => s !== "");
  let re = "";
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === "**") re += last ? ".*" : "(?:[^/]+/)*";
    else re += segmentRegex(segment) + (last ? "" : "/");
  });
  return new RegExp(`^${re}$`);
}

/** Matches stdlib-relative paths against a set of groups (a path or any of its folders). */
export class DropMatcher {
  private readonly patterns: { group: string; re: RegExp }[];

  constructor(groups: readonly DropGroup[]) {
    this.patterns = groups.flatMap((g) =>
      g.patterns.map((p) => ({ group: g.name, re: compileDropPattern(p) })),
    );
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** The group that drops `relPath` itself (not through a folder above it), if any. */
  matchSelf(relPath: string): string | undefined {
    return this.patterns.find((p) => p.re.test(relPath))?.group;
  }

  /** The group that drops `relPath` or one of the folders it is in, if any. */
  match(relPath: string): string | undefined {
    const parts = relPath.split("/");
    for (let i = 1; i <= parts.length; i++) {
      const hit = this.matchSelf(parts.slice(0, i).join("/"));
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
}
