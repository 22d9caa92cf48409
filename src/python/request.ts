/**
 * What the user asked for with `--python` (or `SLIMENV_PYTHON`): a version, an
 * implementation with a version, a path, or a command name on PATH.
 *
 *   3 · 3.11 · 3.11.7 · 3.13t          any implementation of that version
 *   cpython@3.12 · cpython3.12 · cp312  CPython of that version
 *   python3.12 · python3 · python        the command of that name on PATH when it is of that
 *                                        version; else any implementation of that version
 *   pypy@3.10 · pypy3.10 · pp310         PyPy of that version
 *   ./venv/bin/python · /usr/bin/python3 · ~/py/bin/python3 · .venv   a file (or an env folder)
 *   python3-dbg · mypython              a command searched on PATH
 */
import { pointAt, SlimenvError } from "../base/index.ts";
import type { InterpreterProbe } from "./probe-types.ts";

export type RequestedImplementation = "cpython" | "pypy";

export type PythonRequest =
  /** No preference: the first working interpreter on PATH (then pyenv). */
  | { kind: "default" }
  | {
      kind: "version";
      /** undefined = any implementation. */
      implementation?: RequestedImplementation;
      /** 0 to 3 components; a prefix of the interpreter's version. */
      version: number[];
      /** "3.13t": only free-threaded builds. */
      freeThreaded: boolean;
      text: string;
    }
  | { kind: "path"; path: string; text: string }
  | { kind: "command"; name: string; text: string };

export const REQUEST_HINT =
  "--python accepts a version (3, 3.11, 3.11.7, 3.13t), an implementation and version " +
  "(cpython@3.12, cpython3.12, python3.12, pypy@3.10, pypy3.10), a path to an interpreter " +
  "or env folder, or a command name on PATH";

const IMPLEMENTATIONS: Readonly<Record<string, RequestedImplementation | undefined>> = {
  python: undefined,
  py: undefined,
  cpython: "cpython",
  cp: "cpython",
  pypy: "pypy",
  pp: "pypy",
};

const VERSION = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?(t)?$/;

function invalid(text: string, why: string, column: number): SlimenvError {
  return new SlimenvError(
    "INVALID_OPTION",
    `invalid Python request ${JSON.stringify(text)}: ${why} at column ${column + 1}`,
    { hint: REQUEST_HINT, detail: pointAt(text, column) },
  );
}

/** Parse a version part ("3", "3.11", "3.11.7", "3.13t"); `offset` is its column in `text`. */
function parseVersionPart(
  text: string,
  part: string,
  offset: number,
): { version: number[]; freeThreaded: boolean } {
  const m = VERSION.exec(part);
  if (!m) {
    const bad = firstBadVersionColumn(part);
    throw invalid(text, `${JSON.stringify(part)} is not a version`, offset + bad);
  }
  const version = [m[1], m[2], m[3]].filter((x) => x !== undefined).map(Number);
  if (!version.every((n) => Number.isSafeInteger(n))) {
    throw invalid(text, "version number too large", offset);
  }
  const freeThreaded = m[4] === "t";
  if (freeThreaded && version.length < 2) {
    throw invalid(text, "a free-threaded request needs a minor version (3.13t)", offset);
  }
  return { version, freeThreaded };
}

/** Where a would-be version stops being one (for the caret). */
function firstBadVersionColumn(part: string): number {
  if (part === "") return 0;
  let dots = 0;
  for (let i = 0; i < part.length; i++) {
    const c = part[i] ?? "";
    if (c >= "0" && c <= "9") continue;
    if (c === "." && i > 0 && part[i - 1] !== "." && dots < 2) {
      dots++;
      continue;
    }
    if (c === "t" && i === part.length - 1 && i > 0) continue;
    return i;
  }
  return part.length;
}

/**
 * Parse a request. `undefined` means no request (the default interpreter); an empty or
 * malformed request throws INVALID_OPTION pointing at the bad column.
 */
export function parsePythonRequest(input: string | undefined): PythonRequest {
  if (input === undefined) return { kind: "default" };
  if (typeof input !== "string") {
    throw new SlimenvError("INVALID_OPTION", "a Python request must be a string", {
      hint: REQUEST_HINT,
    });
  }
  const text = input.trim();
  if (text === "") {
    throw new SlimenvError("INVALID_OPTION", "empty Python request", { hint: REQUEST_HINT });
  }
  if (/[/\\]/.test(text) || text.startsWith(".") || text.startsWith("~")) {
    return { kind: "path", path: text, text };
  }
  if (/^\d/.test(text)) {
    return { kind: "version", ...parseVersionPart(text, text, 0), text };
  }
  const at = text.indexOf("@");
  if (at >= 0) {
    const name = text.slice(0, at).toLowerCase();
    if (name === "") throw invalid(text, "missing implementation before '@'", 0);
    if (!(name in IMPLEMENTATIONS)) {
      throw invalid(
        text,
        `unknown implementation ${JSON.stringify(text.slice(0, at))} (use cpython, python or pypy)`,
        0,
      );
    }
    const rest = text.slice(at + 1);
    if (rest === "") throw invalid(text, "missing version after '@'", at + 1);
    const implementation = IMPLEMENTATIONS[name];
    return {
      kind: "version",
      ...(implementation ? { implementation } : {}),
      ...parseVersionPart(text, rest, at + 1),
      text,
    };
  }
  const m = /^(cpython|python|pypy|cp|pp|py)(.*)$/i.exec(text);
  if (m) {
    const name = (m[1] ?? "").toLowerCase();
    const rest = m[2] ?? "";
    const implementation = IMPLEMENTATIONS[name];
    const base = { kind: "version" as const, ...(implementation ? { implementation } : {}), text };
    const isShort = name === "cp" || name === "pp" || name === "py";
    if (rest === "" && !isShort) return { ...base, version: [], freeThreaded: false };
    if (isShort && /^\d{2,}t?$/.test(rest)) {
      // cp312 / pp310 / py311: nodot form, one-digit major.
      const digits = rest.replace(/t$/, "");
      return {
        ...base,
        version: [Number(digits.slice(0, 1)), Number(digits.slice(1))],
        freeThreaded: rest.endsWith("t"),
      };
    }
    if (/^[0-9.]+t?$/.test(rest)) {
      return { ...base, ...parseVersionPart(text, rest, name.length) };
    }
  }
  const bad = /[^A-Za-z0-9_.+-]/.exec(text);
  if (bad) {
    throw invalid(text, `unexpected character ${JSON.stringify(bad[0])}`, bad.index);
  }
  return { kind: "command", name: text, text };
}

/** One line describing a request, for messages: "CPython 3.12", "any Python 3", "/usr/bin/python3". */
export function describeRequest(request: PythonRequest): string {
  switch (request.kind) {
    case "default":
      return "any Python";
    case "path":
      return request.path;
    case "command":
      return `command ${request.name}`;
    case "version": {
      const impl =
        request.implementation === "cpython"
          ? "CPython"
          : request.implementation === "pypy"
            ? "PyPy"
            : "Python";
      const version = request.version.join(".");
      const any = request.implementation === undefined ? "any " : "";
      return `${any}${impl}${version ? ` ${version}` : ""}${request.freeThreaded ? " (free-threaded)" : ""}`;
    }
  }
}

/** Whether a probed interpreter satisfies a version request. Paths, commands and default match anything. */
export function requestMatches(request: PythonRequest, probe: InterpreterProbe): boolean {
  if (request.kind !== "version") return true;
  if (
    request.implementation !== undefined &&
    probe.implementation.name !== request.implementation
  ) {
    return false;
  }
  for (let i = 0; i < request.version.length; i++) {
    if (probe.version[i] !== request.version[i]) return false;
  }
  if (request.freeThreaded) {
    const gil = probe.configVars.Py_GIL_DISABLED;
    if (!(gil === 1 || gil === true || gil === "1")) return false;
  }
  return true;
}
