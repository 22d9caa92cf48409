/**
 * CPython's ABI tags, from the build flags a probe (or a spec) reports.
 */
import { SlimenvError } from "../base/index.ts";

export interface CpythonAbiFlags {
  /** Py_DEBUG build (`d`). */
  debug?: boolean;
  /** WITH_PYMALLOC (`m`, only before 3.8). Default true, as builds have it on. */
  pymalloc?: boolean;
  /** Py_GIL_DISABLED (`t`, 3.13+). */
  freeThreaded?: boolean;
  /** Py_UNICODE_SIZE == 4 (`u`, only before 3.3). Default false. */
  ucs4?: boolean;
}

/**
 * The ABI tags a CPython build loads extension modules for, most preferred first, as
 * packaging's `_cpython_abis`: `cp<XY><t><d><m><u>`, and for debug builds from 3.8 on the
 * non-debug `cp<XY><t>` as well. (abi3 and none are added by cpythonTags.)
 */
export function cpythonAbis(
  version: readonly [number, number],
  flags: CpythonAbiFlags = {},
): string[] {
  if (
    !Array.isArray(version) ||
    version.length < 2 ||
    !version.every((n) => Number.isSafeInteger(n) && n >= 0)
  ) {
    throw new SlimenvError("INVALID_TARGET", `invalid Python version: ${JSON.stringify(version)}`, {
      hint: "give [major, minor], e.g. [3, 12]",
    });
  }
  const [major, minor] = version;
  const before = (a: number, b: number) => major < a || (major === a && minor < b);
  const nodot = `${major}${minor}`;
  const debug = flags.debug ? "d" : "";
  const threading = !before(3, 13) && flags.freeThreaded ? "t" : "";
  let pymalloc = "";
  let ucs4 = "";
  const abis: string[] = [];
  if (before(3, 8)) {
    if (flags.pymalloc ?? true) pymalloc = "m";
    if (before(3, 3) && flags.ucs4) ucs4 = "u";
  } else if (debug) {
    abis.push(`cp${nodot}${threading}`);
  }
  abis.unshift(`cp${nodot}${threading}${debug}${pymalloc}${ucs4}`);
  return abis;
}
