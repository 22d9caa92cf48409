/**
 * A deployment zip of a flat directory (an `install --target` env, or any folder whose root
 * goes on sys.path: AWS Lambda, Google Cloud Functions, a zipapp-style bundle), measured
 * against a size budget the way Lambda counts it — the unzipped size of every file.
 *
 * What goes in: every file under the directory, at its path relative to the directory,
 * except slimenv's own `.slimenv/` folder (the manifest: it describes the env, not the
 * code). Package files stay, `bin/` (console scripts, the env's launchers) included.
 * Symlinks are followed (link mode `symlink` points into the store), so the zip holds
 * bytes, never links. The zip is deterministic: entries sorted, fixed timestamps, deflate
 * level 9, permissions 0644 or 0755 (executables stay executable): the same tree gives the
 * same bytes.
 *
 * The budget is checked before anything is compressed or written: over it, the error lists
 * the biggest packages, and nothing is written.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { writeZip, type ZipInput } from "../archive/index.ts";
import { formatBytes, type Reporter, SlimenvError, silentReporter } from "../base/index.ts";
import { META_DIR } from "../env/generations.ts";
import { readEnvManifest } from "../env/manifest.ts";
import { assignOwners } from "./ownership.ts";
import { walkTree } from "./walk.ts";

export interface ZipTargetOptions {
  /** The directory to zip (its contents become the zip's root). */
  dir: string;
  /** The zip to write (replaced atomically). */
  out: string;
  /** The budget for the unzipped size, in bytes (Lambda: 250 MiB for function and layers). */
  maxSize?: number;
  reporter?: Reporter;
}

/** What one distribution (or one top-level path no RECORD lists) adds to the zip. */
export interface ZipPart {
  /** Distribution name, or the top-level path for files no distribution owns. */
  name: string;
  /** Distribution version; absent for unowned paths. */
  version?: string;
  files: number;
  /** Bytes once unzipped. */
  unzipped: number;
}

export interface ZipTargetResult {
  dir: string;
  out: string;
  files: number;
  /** Sum of the entries' sizes: what the zip takes once extracted (Lambda's measure). */
  unzipped: number;
  /** Size of the zip file. */
  zipped: number;
  maxSize?: number;
  /** Biggest first. */
  parts: ZipPart[];
  /** Top-level paths left out (`.slimenv`). */
  excluded: string[];
  /** Things that will not work where only the zip's root is on sys.path. */
  notes: string[];
}

/** How many parts the over-budget error lists. */
const LISTED = 10;

interface Member {
  rel: string;
  abs: string;
  size: number;
  exec: boolean;
  part: number;
}

/** Collect the files to zip and who owns them, without reading their contents. */
function collect(
  dir: string,
  reporter: Reporter,
): { members: Member[]; parts: ZipPart[]; excluded: string[] } {
  const walk = walkTree(dir, reporter);
  const { distributions, owner } = assignOwners(walk.entries, reporter);
  const parts: ZipPart[] = distributions.map((d) => ({
    name: d.name,
    version: d.version,
    files: 0,
    unzipped: 0,
  }));
  const unowned = new Map<string, number>();
  const members: Member[] = [];
  const excluded = new Set<string>();
  walk.entries.forEach((entry, i) => {
    if (entry.type === "dir" || i === 0) return;
    const top = entry.rel.split("/")[0] as string;
    if (top === META_DIR) {
      excluded.add(top);
      return;
    }
    if (entry.type === "other") {
      throw new SlimenvError("INVALID_OPTION", `${entry.abs} is not a file, folder or symlink`, {
        hint: "remove it from the folder, or zip another folder",
      });
    }
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(entry.abs); // follows symlinks: the zip holds the bytes
    } catch (cause) {
      throw new SlimenvError("IO_ERROR", `cannot read ${entry.abs}: ${(cause as Error).message}`, {
        cause,
        hint: "a dangling symlink? repair the env (slimenv sync) or remove the link",
      });
    }
    if (!st.isFile()) {
      throw new SlimenvError("INVALID_OPTION", `${entry.abs} is a symlink to a folder`, {
        hint: "a zip holds files: replace the link with the folder's contents",
      });
    }
    let part = owner[i] as number;
    if (part < 0) {
      part = unowned.get(top) ?? -1;
      if (part < 0) {
        part = parts.length;
        parts.push({ name: top, files: 0, unzipped: 0 });
        unowned.set(top, part);
      }
    }
    const p = parts[part] as ZipPart;
    p.files++;
    p.unzipped += Number(st.size);
    members.push({
      rel: entry.rel,
      abs: entry.abs,
      size: Number(st.size),
      exec: (Number(st.mode) & 0o111) !== 0,
      part,
    });
  });
  return { members, parts, excluded: [...excluded].sort() };
}

/** Paths that do nothing when the zip's root is merely on sys.path (not a site dir). */
function lambdaNotes(members: readonly Member[]): string[] {
  const pth = members.filter((m) => !m.rel.includes("/") && m.rel.endsWith(".pth"));
  if (pth.length === 0) return [];
  return [
    `${pth.map((m) => m.rel).join(", ")}: .pth files are only read in site dirs, and a zip's root on sys.path (AWS Lambda's /var/task) is not one; what they add to sys.path is missing there (install without --slim max's zip, or add the paths in the handler)`,
  ];
}

/**
 * Zip `dir` to `out` deterministically; throws SIZE_BUDGET_EXCEEDED (writing nothing) when the
 * unzipped size is over `maxSize`.
 */
export function zipTarget(options: ZipTargetOptions): ZipTargetResult {
  const reporter = options.reporter ?? silentReporter;
  const dir = path.resolve(options.dir);
  const out = path.resolve(options.out);
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(dir);
  } catch {
    throw new SlimenvError("INVALID_OPTION", `${dir} does not exist`, {
      hint: "give the folder to zip, e.g. the --target DIR of slimenv install",
    });
  }
  if (!st.isDirectory()) {
    throw new SlimenvError("INVALID_OPTION", `${dir} is not a folder`, {
      hint: "give the folder to zip, e.g. the --target DIR of slimenv install",
    });
  }
  const manifest = readEnvManifest(dir);
  if (manifest !== undefined && manifest.layout !== "target") {
    throw new SlimenvError(
      "INVALID_ENV",
      `${dir} is a ${manifest.layout} environment: its packages are under lib/, not at its root`,
      { hint: "install into a flat folder with slimenv install --target DIR, and zip that" },
    );
  }
  if (manifest !== undefined && manifest.linkMode === "pth") {
    throw new SlimenvError(
      "INVALID_ENV",
      `${dir} was installed with --link-mode pth: its packages are in the store, not in the folder`,
      { hint: "reinstall it with another --link-mode (the default copies or hard-links)" },
    );
  }
  const outDir = path.dirname(out);
  try {
    if (!statSync(outDir).isDirectory()) throw new Error("not a folder");
  } catch {
    throw new SlimenvError("INVALID_OPTION", `the folder of ${out} does not exist`, {
      hint: "create it first, or write the zip elsewhere (-o FILE)",
    });
  }
  if (`${realpathSync(outDir)}/`.startsWith(`${realpathSync(dir)}/`)) {
    throw new SlimenvError("INVALID_OPTION", `the zip ${out} would be inside the folder it zips`, {
      hint: "write it outside the folder (-o ../lambda.zip)",
    });
  }

  reporter.log("debug", `measuring ${dir}`);
  const { members, parts, excluded } = collect(dir, reporter);
  const unzipped = members.reduce((n, m) => n + m.size, 0);
  const ranked = parts
    .filter((p) => p.files > 0)
    .sort((a, b) => b.unzipped - a.unzipped || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (options.maxSize !== undefined && unzipped > options.maxSize) {
    const width = Math.max(...ranked.slice(0, LISTED).map((p) => label(p).length));
    const lines = ranked
      .slice(0, LISTED)
      .map((p) => `${label(p).padEnd(width)}  ${formatBytes(p.unzipped).padStart(10)}`);
    if (ranked.length > LISTED) lines.push(`… and ${ranked.length - LISTED} more`);
    throw new SlimenvError(
      "SIZE_BUDGET_EXCEEDED",
      `${dir} unzips to ${formatBytes(unzipped)} (${unzipped} bytes), over the budget of ${formatBytes(options.maxSize)} (${options.maxSize} bytes); nothing written`,
      {
        detail: `biggest, unzipped:\n${lines.join("\n")}`,
        hint: "slim it (slimenv install --slim edge …), leave out the biggest packages, or ship them in a layer",
      },
    );
  }

  const task = reporter.task("zipping", members.length, "files");
  let bytes: Uint8Array;
  try {
    const inputs: ZipInput[] = members.map((m) => {
      const data = readFileSync(m.abs);
      task.advance(1);
      return { name: m.rel, data, mode: m.exec ? 0o755 : 0o644 };
    });
    bytes = writeZip(inputs);
  } finally {
    task.done();
  }
  const temp = path.join(outDir, `.${path.basename(out)}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    writeFileSync(temp, bytes);
    renameSync(temp, out);
  } catch (cause) {
    rmSync(temp, { force: true });
    throw new SlimenvError("IO_ERROR", `cannot write ${out}: ${(cause as Error).message}`, {
      cause,
    });
  }
  return {
    dir,
    out,
    files: members.length,
    unzipped,
    zipped: bytes.length,
    ...(options.maxSize !== undefined ? { maxSize: options.maxSize } : {}),
    parts: ranked,
    excluded,
    notes: lambdaNotes(members),
  };
}

function label(p: ZipPart): string {
  return p.version === undefined ? p.name : `${p.name} ${p.version}`;
}
