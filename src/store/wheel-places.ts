/**
 * Where a wheel's files may be and which names it may not claim: top-level packages and
 * modules, one `<name>-<version>.dist-info/` of the filename's project, `.data/<scheme>/` for
 * the five schemes (checkPlaces); never a path slimenv owns in an env (checkSlimenvPaths) nor
 * a script named like a path or an env launcher (checkScriptNames).
 */
import type { ZipEntry } from "../archive/zip-read.ts";
import { canonicalizeName } from "../standards/names.ts";
import { tryParseVersion, type Version } from "../standards/version.ts";
import { HostileWheelError } from "./hostile.ts";
import { foldKey } from "./wheel-check.ts";

/** The sub-folders of `<name>-<version>.data/` the wheel specification defines. */
export const DATA_SCHEMES: ReadonlySet<string> = new Set([
  "scripts",
  "headers",
  "data",
  "purelib",
  "platlib",
]);

/** `<stem>.dist-info` → [name, version] split at the last '-' of the stem. */
function splitDistInfo(dir: string, suffix: string): [string, string] | undefined {
  const stem = dir.slice(0, -suffix.length);
  const dash = stem.lastIndexOf("-");
  if (dash <= 0) return undefined;
  return [stem.slice(0, dash), stem.slice(dash + 1)];
}

function sameProject(dir: string, suffix: string, name: string, version: Version): boolean {
  const parts = splitDistInfo(dir, suffix);
  if (parts === undefined) return false;
  const v = tryParseVersion(parts[1]);
  return canonicalizeName(parts[0]) === name && v !== undefined && v.equals(version);
}

/**
 * Where files may be: top-level packages and modules, one `<name>-<version>.dist-info/`,
 * and `<name>-<version>.data/<scheme>/…` for the five schemes. Returns the dist-info name.
 */
export function checkPlaces(
  wheel: string,
  entries: readonly ZipEntry[],
  name: string,
  version: Version,
): string {
  const distInfos = new Set<string>();
  for (const entry of entries) {
    const slash = entry.name.indexOf("/");
    const top = slash === -1 ? entry.name : entry.name.slice(0, slash);
    if (slash !== -1 && top.endsWith(".dist-info")) distInfos.add(top);
  }
  const found = [...distInfos];
  if (found.length === 0) {
    throw new HostileWheelError(wheel, "no-dist-info", "it has no .dist-info directory");
  }
  if (found.length > 1) {
    throw new HostileWheelError(
      wheel,
      "second-dist-info",
      `it has more than one .dist-info directory (${found.sort().join(", ")})`,
    );
  }
  const distInfo = found[0] as string;
  if (!sameProject(distInfo, ".dist-info", name, version)) {
    throw new HostileWheelError(
      wheel,
      "dist-info-name",
      `its ${distInfo} directory does not match the filename's project ${name} ${version}`,
    );
  }
  const dataDir = `${distInfo.slice(0, -".dist-info".length)}.data`;
  for (const entry of entries) {
    const parts = entry.name.split("/");
    const top = parts[0] ?? "";
    const isDir = entry.name.endsWith("/");
    const outside = (why: string) => {
      throw new HostileWheelError(
        wheel,
        "outside-allowed-places",
        `entry ${JSON.stringify(entry.name)} ${why}`,
      );
    };
    if (parts.length === 1 && (top.endsWith(".dist-info") || top.endsWith(".data"))) {
      outside("is a top-level file named like a metadata directory");
    }
    if (top.endsWith(".data") && parts.length > 1) {
      if (top !== dataDir) outside(`is in a .data directory other than ${dataDir}`);
      const scheme = parts[1] ?? "";
      if (scheme === "" && isDir) continue;
      if (!DATA_SCHEMES.has(scheme)) {
        outside(`is in ${top}/${scheme}, not one of ${[...DATA_SCHEMES].join(", ")}`);
      }
      if (parts.length === 2 && !isDir) outside(`is a file where the ${scheme} folder should be`);
    }
  }
  return distInfo;
}

/** `python`, `python3`, `python3.X` (`python3.Xt`): the names of an env's own launchers. */
export function isLauncherName(name: string): boolean {
  return /^python(3(\.\d+t?)?)?$/.test(foldKey(name));
}

/**
 * Paths slimenv owns in some layout, which no wheel may claim (in any layout, so a wheel is
 * stored or refused once, whatever env it later goes to): any `.slimenv` folder or `_slimenv*`
 * name; the launchers `bin/python*` (scripts, data `bin/`, and a top-level `bin/` — the target
 * layout's scripts dir); the env manifest `manifest.json` and `pyvenv.cfg` at the data root
 * (the root of a prefix or venv generation).
 */
export function checkSlimenvPaths(wheel: string, entries: readonly ZipEntry[], distInfo: string) {
  const dataDir = `${distInfo.slice(0, -".dist-info".length)}.data`;
  for (const entry of entries) {
    if (entry.name.endsWith("/")) continue;
    const parts = entry.name.split("/");
    const folded = parts.map(foldKey);
    const claim = (what: string): never => {
      throw new HostileWheelError(
        wheel,
        "slimenv-path",
        `entry ${JSON.stringify(entry.name)} claims ${what}, which slimenv owns in an environment`,
      );
    };
    if (folded.some((p) => p === ".slimenv" || p.startsWith("_slimenv"))) {
      claim("a .slimenv/_slimenv name");
    }
    const launcherIn = (rest: readonly string[]) =>
      rest.length === 2 && rest[0] === "bin" && isLauncherName(rest[1] ?? "");
    if (parts[0] === dataDir) {
      const scheme = parts[1];
      const rest = folded.slice(2);
      if (scheme === "scripts" && rest.length === 1 && isLauncherName(rest[0] ?? "")) {
        claim("an environment launcher");
      }
      if (scheme === "data") {
        if (rest.length === 1 && (rest[0] === "manifest.json" || rest[0] === "pyvenv.cfg")) {
          claim("the environment's own metadata");
        }
        if (launcherIn(rest)) claim("an environment launcher");
      }
      if ((scheme === "purelib" || scheme === "platlib") && launcherIn(rest)) {
        claim("an environment launcher");
      }
      continue;
    }
    if (launcherIn(folded)) claim("an environment launcher");
  }
}

/**
 * console_scripts and gui_scripts names, read leniently line by line (a stricter reader runs
 * at install): a name that is a path, or an env launcher's name, refuses the wheel.
 */
export function checkScriptNames(wheel: string, entryPoints: string): void {
  let group = "";
  for (const raw of entryPoints.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.startsWith("[")) {
      group = line.endsWith("]") ? line.slice(1, -1).trim() : "";
      continue;
    }
    if (group !== "console_scripts" && group !== "gui_scripts") continue;
    const eq = line.indexOf("=");
    if (eq === -1) continue;
    const name = line.slice(0, eq).trim();
    if (
      name === "" ||
      name === "." ||
      name === ".." ||
      /[/\\]/.test(name) ||
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the point
      /[\u0000-\u001f\u007f]/.test(name)
    ) {
      throw new HostileWheelError(
        wheel,
        "script-name",
        `${group} entry ${JSON.stringify(name)} is not a usable script name (it would be a path)`,
      );
    }
    if (isLauncherName(name)) {
      throw new HostileWheelError(
        wheel,
        "slimenv-path",
        `${group} entry ${JSON.stringify(name)} would replace an environment launcher`,
      );
    }
  }
}
