/**
 * Import failures that are expected and say nothing about an environment's health: modules
 * for another platform, modules needing a standard-library part the interpreter was built
 * without, and optional dependencies that are not installed. `check` reports these as
 * "skipped (known)", not as failures. The list is data; each entry says why.
 *
 * `module` is a glob over the dotted name (`*` matches any run of characters, dots too).
 * `error`, when given, is a regular expression the error's last line must match.
 * `python`, when given, is a PEP 440 specifier set the interpreter's version must satisfy.
 */
import { SpecifierSet } from "../../standards/specifiers.ts";

export interface KnownFailure {
  module: string;
  error?: string;
  python?: string;
  reason: string;
}

export const KNOWN_FAILURES: readonly KnownFailure[] = [
  {
    module: "numpy.distutils*",
    python: ">=3.12",
    reason: "numpy.distutils needs distutils, which Python 3.12 removed (PEP 632)",
  },
  {
    module: "cv2.config*",
    error: "LOADER_DIR",
    reason: "opencv's loader configuration: run by cv2's bootstrap, not importable on its own",
  },
  {
    module: "cv2.cv2",
    error: "Bindings generation error",
    reason: "opencv's internal bindings module: loaded by cv2's bootstrap only",
  },
  {
    module: "*._windows*",
    reason: "a Windows-only module (imports winreg, msvcrt or ctypes.windll)",
  },
  {
    module: "*win32*",
    error: "winreg|msvcrt|_winapi|windll|win32|pywintypes|WinDLL",
    reason: "a Windows-only module",
  },
  {
    module: "*msvc*compiler",
    reason: "MSVC compiler support, Windows only (imports winreg)",
  },
  {
    module: "*.msvc",
    error: "winreg",
    reason: "MSVC support, Windows only (imports winreg)",
  },
  {
    module: "*securetransport*",
    reason: "macOS Security framework bindings (urllib3.contrib.securetransport)",
  },
  {
    module: "*._macos*",
    error: "darwin|macOS|CoreFoundation|Security|objc",
    reason: "a macOS-only module",
  },
  {
    module: "pip._vendor.*",
    error: "No module named 'pip\\._vendor\\.",
    reason:
      "pip trims the libraries it vendors (e.g. most pygments lexers); the parts needing the removed pieces are never used by pip",
  },
  {
    module: "*",
    error: "No module named '_?tkinter'",
    reason: "the interpreter was built without Tk (tkinter)",
  },
  {
    module: "*",
    error: "^ImportError: Missing optional dependency",
    reason: "an optional dependency that is not installed (pandas import_optional_dependency)",
  },
  {
    module: "*",
    error: "No module named '(winreg|_winreg|msvcrt|_winapi)'",
    reason: "needs a Windows-only standard-library module (e.g. dateutil.tz.win)",
  },
];

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}$`);
}

/** The reason `module` failing with `error` is expected, or undefined when it is a failure. */
export function knownFailure(
  module: string,
  error: string,
  pythonVersion: string,
  list: readonly KnownFailure[] = KNOWN_FAILURES,
): string | undefined {
  for (const entry of list) {
    if (!globToRegExp(entry.module).test(module)) continue;
    if (entry.error !== undefined && !new RegExp(entry.error).test(error)) continue;
    if (entry.python !== undefined && !new SpecifierSet(entry.python).contains(pythonVersion)) {
      continue;
    }
    return entry.reason;
  }
  return undefined;
}

/**
 * The top-level module a `ModuleNotFoundError: No module named 'x.y'` names, or undefined
 * for any other error.
 */
export function missingModule(error: string): string | undefined {
  const m = /^ModuleNotFoundError: No module named '([^']+)'/.exec(error);
  return m?.[1]?.split(".")[0];
}
