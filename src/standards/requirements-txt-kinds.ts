/**
 * What a requirement line names: a PEP 508 requirement, a URL, or a local path. pip decides
 * this partly by looking at the disk; here the decision is made from the text alone, with
 * pip's rules for URL schemes, archive file names and path-looking names.
 */

/** How a requirement line refers to what it installs. */
export type RequirementKind = "requirement" | "url" | "path";

const VCS_SCHEMES = [
  "git",
  "git+http",
  "git+https",
  "git+ssh",
  "git+git",
  "git+file",
  "hg+file",
  "hg+http",
  "hg+https",
  "hg+ssh",
  "hg+static-http",
  "svn",
  "svn+ssh",
  "svn+http",
  "svn+https",
  "svn+svn",
  "svn+file",
  "bzr+http",
  "bzr+https",
  "bzr+ssh",
  "bzr+sftp",
  "bzr+ftp",
  "bzr+lp",
  "bzr+file",
];
const URL_SCHEMES = new Set(["http", "https", "file", "ftp", ...VCS_SCHEMES]);

const ARCHIVE_SUFFIXES = [
  ".zip",
  ".whl",
  ".tar.bz2",
  ".tbz",
  ".tar.xz",
  ".txz",
  ".tlz",
  ".tar.lz",
  ".tar.lzma",
  ".tar.gz",
  ".tgz",
  ".tar",
];

/** True when text starts with a scheme pip treats as a URL (http, file, git+https, …). */
export function isRequirementUrl(text: string): boolean {
  const colon = text.indexOf(":");
  if (colon === -1) return false;
  return URL_SCHEMES.has(text.slice(0, colon).toLowerCase());
}

/** True for names of archives pip can install from (`.whl`, `.tar.gz`, `.zip`, …). */
export function isArchiveName(text: string): boolean {
  const lower = text.toLowerCase();
  return ARCHIVE_SUFFIXES.some((suffix) => lower.endsWith(suffix));
}

function looksLikePath(text: string): boolean {
  return text.includes("/") || text.includes("\\") || text.startsWith(".");
}

/** `./pkg[extra1,extra2]` → `./pkg`. */
function stripExtras(text: string): string {
  const match = /^(.+)(\[[^\]]+\])$/s.exec(text);
  return match?.[1] ?? text;
}

/**
 * Decide what a (non-editable) requirement line names. A path-looking name that holds `@`
 * with a name-looking part before it is a `name @ url` requirement.
 */
export function classifyRequirementText(text: string): RequirementKind {
  const url = isRequirementUrl(text);
  const separator = url ? "; " : ";";
  const cut = text.indexOf(separator);
  const head = (cut === -1 ? text : text.slice(0, cut)).trim();
  if (url) return "url";
  const bare = stripExtras(head);
  if (isArchiveName(bare) || looksLikePath(head)) {
    const at = head.indexOf("@");
    if (at !== -1 && !looksLikePath(head.slice(0, at))) return "requirement";
    return "path";
  }
  return "requirement";
}

/** What an editable (`-e`) value names: a VCS/file URL or a local directory. */
export function classifyEditable(text: string): Exclude<RequirementKind, "requirement"> {
  return isRequirementUrl(text) ? "url" : "path";
}
