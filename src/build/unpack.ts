/**
 * Unpacking an sdist for a build, strictly: a `.tar.gz` (PEP 625) read whole through the
 * archive layer's tar reader, or a legacy `.zip` sdist through its zip reader (see
 * unpack-zip.ts), every member checked before anything is written — no absolute or `..`
 * paths, one top folder, no device files, symlinks and hard links only to places inside the
 * top folder (symlinks are written as copies of their target's bytes, never as links) — and
 * written under a fresh folder. Refusals are HOSTILE_SDIST.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { readTarEntries, type TarEntry } from "../archive/index.ts";
import { SlimenvError } from "../base/index.ts";
import { readZipMembers } from "./unpack-zip.ts";

/** Refuse an sdist bigger than this unpacked (zip bombs through gzip). */
export const MAX_SDIST_UNPACKED = 1024 * 1024 * 1024;

function hostile(filename: string, why: string): SlimenvError {
  return new SlimenvError("HOSTILE_SDIST", `refusing the sdist ${filename}: ${why}`, {
    hint: "the archive is damaged or malicious; nothing was built or written to the store",
  });
}

/** The normalized parts of a member path, or a refusal. */
function parts(filename: string, p: string): string[] {
  if (p.startsWith("/") || /^[A-Za-z]:/.test(p) || p.includes("\\")) {
    throw hostile(filename, `member ${JSON.stringify(p)} has an absolute path`);
  }
  const out = p.split("/").filter((s) => s !== "" && s !== ".");
  if (out.includes("..")) throw hostile(filename, `member ${JSON.stringify(p)} leaves its folder`);
  if (out.some((s) => s.includes("\0"))) throw hostile(filename, "a member name holds a NUL byte");
  return out;
}

/** Resolve a link target (relative to the link's folder, or for hard links to the root). */
function linkTarget(filename: string, entry: TarEntry, from: string[]): string {
  if (entry.linkname.startsWith("/")) {
    throw hostile(filename, `${entry.path} links to the absolute path ${entry.linkname}`);
  }
  const base = entry.type === "symlink" ? from.slice(0, -1) : [];
  const stack = [...base];
  for (const s of entry.linkname.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") {
      if (stack.length <= 1) {
        throw hostile(filename, `${entry.path} links outside the sdist (${entry.linkname})`);
      }
      stack.pop();
    } else stack.push(s);
  }
  if (stack.length === 0) throw hostile(filename, `${entry.path} links to the archive's root`);
  return stack.join("/");
}

function unsupported(filename: string): SlimenvError {
  return new SlimenvError(
    "BUILD_UNSUPPORTED",
    `${filename}: slimenv builds .tar.gz (PEP 625) and legacy .zip sdists only`,
    { hint: "use a wheel of it, or a .tar.gz sdist" },
  );
}

/**
 * Unpack the sdist `bytes` (named `filename`: `.tar.gz` or `.zip`) into `dest` (which must be
 * empty or absent). Returns the source folder: the archive's one top folder under `dest`.
 */
export async function unpackSdistArchive(
  filename: string,
  bytes: Uint8Array,
  dest: string,
): Promise<string> {
  if (/\.zip$/i.test(filename)) {
    return writeMembers(filename, await readZipMembers(filename, bytes, MAX_SDIST_UNPACKED), dest);
  }
  return unpackSdist(filename, bytes, dest);
}

/**
 * Unpack the `.tar.gz` sdist `bytes` (named `filename`) into `dest` (which must be empty or
 * absent). Returns the source folder: the archive's one top folder under `dest`.
 */
export function unpackSdist(filename: string, bytes: Uint8Array, dest: string): string {
  if (!/\.tar\.gz$/i.test(filename)) throw unsupported(filename);
  let tar: Uint8Array;
  try {
    tar = gunzipSync(bytes, { maxOutputLength: MAX_SDIST_UNPACKED });
  } catch (cause) {
    throw new SlimenvError("HOSTILE_SDIST", `${filename}: not a readable gzip file`, { cause });
  }
  let entries: TarEntry[];
  try {
    entries = readTarEntries(tar, filename);
  } catch (cause) {
    throw new SlimenvError("HOSTILE_SDIST", `${filename}: ${(cause as Error).message}`, { cause });
  }
  return writeMembers(filename, entries, dest);
}

/** Check every member (see the module comment), then write them under `dest`. */
function writeMembers(filename: string, entries: readonly TarEntry[], dest: string): string {
  const tops = new Set<string>();
  const files = new Map<string, TarEntry>();
  const plan: { parts: string[]; entry: TarEntry }[] = [];
  for (const entry of entries) {
    if (entry.type === "other") {
      throw hostile(filename, `member ${JSON.stringify(entry.path)} is a device or fifo`);
    }
    const ps = parts(filename, entry.path);
    if (ps.length === 0) continue;
    tops.add(ps[0] as string);
    const key = ps.join("/");
    if (files.has(key) && entry.type !== "dir") {
      throw hostile(filename, `member ${JSON.stringify(key)} appears twice`);
    }
    if (entry.type === "file") files.set(key, entry);
    plan.push({ parts: ps, entry });
  }
  if (tops.size !== 1) {
    throw hostile(filename, `it has ${tops.size} top-level entries; an sdist has one folder`);
  }
  // Links: each must point at a regular file inside the top folder (written as a copy).
  const resolved = new Map<string, Uint8Array>();
  for (const { parts: ps, entry } of plan) {
    if (entry.type !== "symlink" && entry.type !== "hardlink") continue;
    let target = linkTarget(filename, entry, ps);
    for (let hops = 0; ; hops++) {
      const t = files.get(target);
      if (t !== undefined) {
        resolved.set(ps.join("/"), t.data);
        break;
      }
      const link = plan.find((x) => x.parts.join("/") === target && x.entry.type === "symlink");
      if (link === undefined || hops > 20) {
        throw hostile(
          filename,
          `${entry.path} links to ${entry.linkname}, which is not a file in the sdist`,
        );
      }
      target = linkTarget(filename, link.entry, link.parts);
    }
  }
  mkdirSync(dest, { recursive: true });
  for (const { parts: ps, entry } of plan) {
    const out = path.join(dest, ...ps);
    if (entry.type === "dir") {
      mkdirSync(out, { recursive: true });
      continue;
    }
    mkdirSync(path.dirname(out), { recursive: true });
    const data = entry.type === "file" ? entry.data : (resolved.get(ps.join("/")) as Uint8Array);
    writeFileSync(out, data, { mode: entry.mode & 0o111 ? 0o755 : 0o644, flag: "wx" });
  }
  return path.join(dest, [...tops][0] as string);
}
