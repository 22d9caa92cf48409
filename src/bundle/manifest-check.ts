/**
 * The checks docs/fleet.md puts on a bundle manifest, shared by the bundle writer (refuse to
 * build what a device refuses) and reader. The device agent does the same in Python.
 */
import { SlimenvError } from "../base/index.ts";
import {
  APP_NAME_RE,
  BUNDLE_FORMAT,
  type BundleHeader,
  type BundleManifest,
  type BundleTree,
} from "./types.ts";

const SHA_RE = /^[0-9a-f]{64}$/;

function refuse(why: string): SlimenvError {
  return new SlimenvError("HASH_MISMATCH", `bundle manifest refused: ${why}`);
}

/** Why `path` is not a valid tree path, or null when it is. */
export function badTreePath(path: string): string | null {
  if (typeof path !== "string" || path === "") return "empty path";
  if (path.includes("\0")) return "NUL in path";
  if (path.includes("\\")) return "backslash in path";
  if (path.startsWith("/")) return "absolute path";
  if (path.normalize("NFC") !== path) return "path not NFC";
  for (const seg of path.split("/")) {
    if (seg === "" || seg === "." || seg === "..") return `'${seg}' segment in path`;
  }
  return null;
}

/**
 * Resolve symlink `target` (placed in directory `dir`) against the tree's symlinks; null when
 * it leaves the tree (or loops).
 */
export function resolveInside(
  links: ReadonlyMap<string, string>,
  dir: readonly string[],
  target: string,
): string[] | null {
  if (target.startsWith("/") || target.includes("\\") || target.includes("\0")) return null;
  const parts = [...dir];
  const todo = target.split("/").reverse();
  let hops = 0;
  while (todo.length > 0) {
    const c = todo.pop() as string;
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (parts.length === 0) return null;
      parts.pop();
      continue;
    }
    parts.push(c);
    const link = links.get(parts.join("/"));
    if (link !== undefined) {
      if (++hops > 40 || link.startsWith("/")) return null;
      parts.pop();
      todo.push(...link.split("/").reverse());
    }
  }
  return parts;
}

function sortedUnique(list: readonly string[], what: string): void {
  for (let i = 1; i < list.length; i++) {
    if (!((list[i - 1] as string) < (list[i] as string))) {
      throw refuse(`${what} not sorted or not unique at ${JSON.stringify(list[i])}`);
    }
  }
}

function isInt(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

/** Throw a refusal unless `m` is a well-formed slimenv-bundle/2 header and tree. */
export function checkManifest(m: BundleManifest): void {
  checkHeader(m);
  checkTree(m);
}

/** Throw a refusal unless `m` is a well-formed bundle.json (format slimenv-bundle/2). */
export function checkHeader(m: BundleHeader): void {
  if (m === null || typeof m !== "object") throw refuse("not an object");
  if (m.format !== BUNDLE_FORMAT) throw refuse(`format ${JSON.stringify(m.format)}`);
  if (typeof m.app !== "string" || !APP_NAME_RE.test(m.app)) throw refuse("bad app name");
  if (!isInt(m.sequence)) throw refuse("bad sequence");
  if (typeof m.version !== "string") throw refuse("bad version");
  const tg = m.target;
  if (tg === null || typeof tg !== "object") throw refuse("no target");
  for (const k of ["implementation", "python", "abi", "machine"] as const) {
    if (typeof tg[k] !== "string" || tg[k] === "") throw refuse(`target.${k} missing`);
  }
  if (tg.libc !== null && tg.libc !== "glibc" && tg.libc !== "musl") throw refuse("target.libc");
  if (tg.libc !== null && !/^\d+(\.\d+)*$/.test(String(tg.libcVersion))) {
    throw refuse("target.libcVersion");
  }
  if (m.health !== null) {
    const h = m.health;
    if (!Array.isArray(h.command) || h.command.length === 0 || !isInt(h.timeout)) {
      throw refuse("bad health command");
    }
  }
  for (const o of m.objects) {
    if (!SHA_RE.test(o.sha256) || !isInt(o.size)) throw refuse("bad object entry");
  }
  sortedUnique(
    m.objects.map((o) => o.sha256),
    "objects",
  );
  for (const p of m.patches) {
    for (const h of [p.sha256, p.source, p.target]) {
      if (!SHA_RE.test(h)) throw refuse("bad patch entry");
    }
    if (!isInt(p.size)) throw refuse("bad patch size");
  }
  sortedUnique(
    m.patches.map((p) => p.target),
    "patches",
  );
  const pl = m.payload;
  const names = { xz: "payload.tar.xz", gzip: "payload.tar.gz" } as const;
  if (pl === null || typeof pl !== "object" || names[pl.compression] !== pl.name) {
    throw refuse("bad payload entry");
  }
  if (!SHA_RE.test(pl.sha256) || !isInt(pl.size)) throw refuse("bad payload hash");
  if (
    m.agent !== null &&
    (m.agent === undefined || !SHA_RE.test(m.agent.sha256) || !isInt(m.agent.size))
  ) {
    throw refuse("bad agent entry");
  }
  const t = m.tree;
  const members = { xz: true, gzip: true, sldiff: true } as const;
  if (
    t === null ||
    typeof t !== "object" ||
    !Object.hasOwn(members, t.encoding) ||
    !SHA_RE.test(t.sha256) ||
    !isInt(t.size) ||
    t.stored === null ||
    typeof t.stored !== "object" ||
    !SHA_RE.test(t.stored.sha256) ||
    !isInt(t.stored.size) ||
    (t.encoding === "sldiff" ? !SHA_RE.test(String(t.base)) : t.base !== null)
  ) {
    throw refuse("bad tree entry");
  }
  checkImageEntry(m);
}

/** `image`: absent, or a format, hash and size; an image bundle carries no object or patch. */
function checkImageEntry(m: BundleHeader): void {
  if (!Object.hasOwn(m, "image")) return;
  const i = m.image;
  if (
    i === null ||
    typeof i !== "object" ||
    (i.format !== "squashfs" && i.format !== "erofs") ||
    !SHA_RE.test(i.sha256) ||
    !isInt(i.size)
  ) {
    throw refuse("bad image entry");
  }
  if (m.objects.length > 0 || m.patches.length > 0 || m.base !== null) {
    throw refuse("an image bundle carries no objects or patches and is no delta");
  }
}

/** Throw a refusal unless `m` is a well-formed tree: paths, modes, symlinks. */
export function checkTree(m: BundleTree): void {
  if (!Array.isArray(m.files) || !Array.isArray(m.symlinks)) throw refuse("bad tree");
  const owners = new Set<string>();
  for (const f of m.files) {
    const why = badTreePath(f.path);
    if (why !== null) throw refuse(`${why}: ${JSON.stringify(f.path)}`);
    if (!SHA_RE.test(f.sha256) || !isInt(f.size)) throw refuse(`bad entry ${f.path}`);
    if (f.mode !== 420 && f.mode !== 493) throw refuse(`mode ${f.mode} of ${f.path}`);
    owners.add(f.path);
  }
  sortedUnique(
    m.files.map((f) => f.path),
    "files",
  );
  const links = new Map<string, string>();
  for (const s of m.symlinks) {
    const why = badTreePath(s.path);
    if (why !== null) throw refuse(`${why}: ${JSON.stringify(s.path)}`);
    if (owners.has(s.path)) throw refuse(`${s.path} is a file and a symlink`);
    owners.add(s.path);
    links.set(s.path, s.target);
  }
  sortedUnique(
    m.symlinks.map((s) => s.path),
    "symlinks",
  );
  for (const p of owners) {
    const segs = p.split("/");
    for (let i = 1; i < segs.length; i++) {
      if (owners.has(segs.slice(0, i).join("/"))) throw refuse(`${p} is under a file or symlink`);
    }
  }
  for (const s of m.symlinks) {
    if (typeof s.target !== "string" || s.target === "") throw refuse(`empty symlink ${s.path}`);
    if (resolveInside(links, s.path.split("/").slice(0, -1), s.target) === null) {
      throw refuse(`symlink ${s.path} -> ${s.target} escapes the tree`);
    }
  }
}
