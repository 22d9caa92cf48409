/**
 * Install scheme paths for each layout, relative to the environment's root.
 *
 * - prefix: the interpreter's *user* scheme with the user base set to DIR. The launcher
 *   activates a prefix env through `PYTHONUSERBASE=DIR`, so the site dir must be exactly the
 *   one `site` computes for a user base: `lib/pythonX.Y/site-packages` (on a standard CPython
 *   this is also pip's `--prefix` layout; on Debian's python3 it avoids `local/…/dist-packages`,
 *   which no launcher could activate).
 * - venv: the interpreter's `venv` scheme (3.11+), else its prefix scheme.
 * - target: flat — packages at DIR, scripts in DIR/bin, headers in DIR/include/<name>,
 *   data files under DIR.
 *
 * With no probe (a spec-only, cross target), the POSIX defaults are used. Windows targets are
 * refused for now.
 */
import { SlimenvError } from "../base/index.ts";
import type { InterpreterProbe, ProbeScheme } from "../python/probe-types.ts";
import type { Target } from "../python/target.ts";
import type { LayoutKind, SchemePaths } from "./types.ts";

/** `3.12`, or `3.13t` for a free-threaded build (as site's user dir spells it). */
export function pythonDirVersion(target: Target): string {
  const [major, minor] = target.pythonVersion;
  const threaded = target.abis.some((abi) => abi.endsWith("t")) ? "t" : "";
  return `${major}.${minor}${threaded}`;
}

/** `lib/python3.12/site-packages`: the site dir of a prefix (user base) or venv. */
export function defaultSiteDir(target: Target): string {
  return `lib/python${pythonDirVersion(target)}/site-packages`;
}

function defaultScheme(target: Target): SchemePaths {
  const site = defaultSiteDir(target);
  return {
    purelib: site,
    platlib: site,
    scripts: "bin",
    headers: `include/python${pythonDirVersion(target)}`,
    data: "",
  };
}

/** A template path with its base placeholder removed, relative; undefined if not under it. */
function relativeTemplate(
  template: string | undefined,
  bases: readonly string[],
): string | undefined {
  if (template === undefined) return undefined;
  for (const base of bases) {
    if (template === base) return "";
    if (template.startsWith(`${base}/`)) {
      const rest = template.slice(base.length + 1);
      if (rest.includes("{") || rest.split("/").includes("..")) return undefined;
      return rest;
    }
  }
  return undefined;
}

function fromProbeScheme(
  scheme: ProbeScheme,
  bases: readonly string[],
  fallback: SchemePaths,
): SchemePaths {
  const t = scheme.template ?? {};
  const pick = (key: string, dflt: string) => relativeTemplate(t[key], bases) ?? dflt;
  return {
    purelib: pick("purelib", fallback.purelib),
    platlib: pick("platlib", fallback.platlib),
    scripts: pick("scripts", fallback.scripts),
    headers: pick("include", fallback.headers),
    data: pick("data", fallback.data),
  };
}

/** The scheme of a layout for a target (and its probe, when there is one). */
export function schemePaths(
  kind: LayoutKind,
  target: Target,
  probe?: InterpreterProbe,
): SchemePaths {
  if (target.os === "windows") {
    throw new SlimenvError(
      "INVALID_TARGET",
      "environments for Windows targets are not supported yet",
      { hint: "install for a Linux or macOS target (--python-platform)" },
    );
  }
  if (kind === "target") {
    return { purelib: "", platlib: "", scripts: "bin", headers: "include", data: "" };
  }
  const fallback = defaultScheme(target);
  if (probe === undefined) {
    return kind === "venv"
      ? { ...fallback, headers: `include/site/python${pythonDirVersion(target)}` }
      : fallback;
  }
  if (kind === "venv") {
    const scheme = probe.schemes.venv.template ? probe.schemes.venv : probe.schemes.prefix;
    const paths = fromProbeScheme(scheme, ["{base}", "{platbase}"], fallback);
    return { ...paths, headers: `include/site/python${pythonDirVersion(target)}` };
  }
  // prefix: the user scheme with userbase = DIR; the site dir must be the user site.
  const paths = fromProbeScheme(probe.schemes.user, ["{userbase}"], fallback);
  return { ...paths, purelib: fallback.purelib, platlib: fallback.purelib };
}
