/**
 * `name @ git+URL[@REV][#subdirectory=DIR]` requirements: a checkout with the machine's `git`
 * into a fresh folder, to be built like a local source folder. The revision (a branch, tag or
 * commit) is checked out detached; the commit actually built is returned for the record.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { SlimenvError } from "../base/index.ts";

export interface GitSource {
  /** The requirement's name. */
  name: string;
  /** The URL without `git+`, without `@REV` and the fragment. */
  url: string;
  rev?: string;
  subdirectory?: string;
}

/** Parse `name @ git+URL[@REV][#subdirectory=DIR]`; undefined when it is not one. */
export function parseGitRequirement(text: string): GitSource | undefined {
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*@\s*git\+(\S+?)\s*$/.exec(text);
  if (m === null) return undefined;
  const name = m[1] as string;
  let rest = m[2] as string;
  let subdirectory: string | undefined;
  const hash = rest.indexOf("#");
  if (hash >= 0) {
    const frag = new URLSearchParams(rest.slice(hash + 1));
    subdirectory = frag.get("subdirectory") ?? undefined;
    rest = rest.slice(0, hash);
  }
  // `@REV` after the path (not the `user@host` of an scp-like or ssh URL).
  let rev: string | undefined;
  const at = rest.lastIndexOf("@");
  const pathStart = rest.indexOf("/", rest.indexOf("://") + 3);
  if (at > pathStart && pathStart > 0) {
    rev = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  return {
    name,
    url: rest,
    ...(rev === undefined || rev === "" ? {} : { rev }),
    ...(subdirectory === undefined ? {} : { subdirectory }),
  };
}

function git(args: string[], cwd: string | undefined, what: string): string {
  const res = spawnSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
  });
  if (res.error !== undefined) {
    throw new SlimenvError("BUILD_FAILED", `${what}: cannot run git`, {
      cause: res.error,
      hint: "install git (apt-get install git), or use a wheel or sdist of it",
    });
  }
  if (res.status !== 0) {
    throw new SlimenvError("BUILD_FAILED", `${what}: git ${args[0]} failed`, {
      detail: `${res.stderr}`.trim().split("\n").slice(-10).join("\n"),
    });
  }
  return res.stdout.trim();
}

/** Clone `src` into `dest` at its revision; returns the source folder and the commit. */
export function checkoutGit(src: GitSource, dest: string): { dir: string; commit: string } {
  const what = `${src.name} @ git+${src.url}${src.rev === undefined ? "" : `@${src.rev}`}`;
  git(["clone", "--quiet", "--no-checkout", src.url, dest], undefined, what);
  git(["checkout", "--quiet", "--detach", src.rev ?? "HEAD"], dest, what);
  const commit = git(["rev-parse", "HEAD"], dest, what);
  const dir = src.subdirectory === undefined ? dest : path.join(dest, src.subdirectory);
  if (path.relative(dest, dir).startsWith("..")) {
    throw new SlimenvError("BUILD_FAILED", `${what}: the subdirectory leaves the checkout`);
  }
  return { dir, commit };
}
