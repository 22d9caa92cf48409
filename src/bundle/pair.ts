/**
 * Rename-aware pairing of a new app tree's files with an old one's, to pick the old object a
 * patch starts from. Same path first; then the same path once the parts that change from
 * release to release are normalized away:
 *
 *   - auditwheel's hash suffix of bundled libraries: `libfoo-56d6093b.so.1` → `libfoo.so.1`
 *     (also `numpy.libs/libopenblas64_p-r0-15028c96.3.21.so`);
 *   - the version of a project's `.dist-info` / `.data` / `.egg-info` folder:
 *     `numpy-1.26.4.dist-info` → `numpy-*.dist-info`;
 *   - `name-1.2.3` style version segments of folders: `tool-2.0.1/` → `tool-*`.
 *
 * Pairing only proposes; delta.ts keeps a patch only when it is smaller than the object.
 */

/** A file as pairing sees it (manifest files are this shape). */
export interface PairFile {
  path: string;
  sha256: string;
  size: number;
}

export interface Pair {
  /** The new object to produce. */
  target: string;
  /** The old object to patch from. */
  source: string;
  /** The new file's path (the first, when several files hold the object). */
  path: string;
  /** The old file's path. */
  from: string;
  how: "same-path" | "renamed";
}

const AUDITWHEEL = /^(.+)-[0-9a-f]{8}((?:\.[^/]*)?\.(?:so|dylib)(?:\.[^/]*)?)$/;
const PROJECT_DIR = /^([A-Za-z0-9_.]+?)-[^-/]+\.(dist-info|data|egg-info)$/;
const VERSIONED = /^(.+?)-v?\d+(?:\.\d+)*(?:[.+_-]?[a-z0-9]+)*$/i;

/** The path with release-specific parts replaced (see the module comment). */
export function normalizePath(p: string): string {
  const segments = p.split("/");
  const last = segments.length - 1;
  return segments
    .map((seg, i) => {
      const project = PROJECT_DIR.exec(seg);
      if (project !== null) return `${project[1]}-*.${project[2]}`;
      if (i === last) {
        const lib = AUDITWHEEL.exec(seg);
        return lib === null ? seg : `${lib[1]}${lib[2]}`;
      }
      const versioned = VERSIONED.exec(seg);
      return versioned === null ? seg : `${versioned[1]}-*`;
    })
    .join("/");
}

/**
 * Propose one source object for each new object that `needed` says must reach the device
 * and `hasSource` says we can read the bytes of. New files are taken in path order, so the
 * result is the same for the same inputs.
 */
export function pairFiles(
  oldFiles: readonly PairFile[],
  newFiles: readonly PairFile[],
  needed: (sha256: string) => boolean,
  hasSource: (sha256: string) => boolean,
): Pair[] {
  const byPath = new Map<string, PairFile>();
  const byNormal = new Map<string, PairFile[]>();
  for (const f of oldFiles) {
    if (!hasSource(f.sha256)) continue;
    byPath.set(f.path, f);
    const key = normalizePath(f.path);
    const list = byNormal.get(key);
    if (list === undefined) byNormal.set(key, [f]);
    else list.push(f);
  }
  const pairs = new Map<string, Pair>();
  const sorted = [...newFiles].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const f of sorted) {
    if (f.size === 0 || pairs.has(f.sha256) || !needed(f.sha256)) continue;
    const same = byPath.get(f.path);
    if (same !== undefined && same.sha256 !== f.sha256) {
      pairs.set(f.sha256, pair(f, same, "same-path"));
      continue;
    }
    const candidates = (byNormal.get(normalizePath(f.path)) ?? []).filter(
      (o) => o.sha256 !== f.sha256 && o.path !== f.path,
    );
    const best = closestInSize(candidates, f.size);
    if (best !== undefined) pairs.set(f.sha256, pair(f, best, "renamed"));
  }
  return [...pairs.values()];
}

function pair(f: PairFile, old: PairFile, how: Pair["how"]): Pair {
  return { target: f.sha256, source: old.sha256, path: f.path, from: old.path, how };
}

/** The candidate nearest in size (ties: the first path), or undefined. */
function closestInSize(candidates: readonly PairFile[], size: number): PairFile | undefined {
  let best: PairFile | undefined;
  for (const c of candidates) {
    if (best === undefined) best = c;
    else {
      const d = Math.abs(c.size - size);
      const bd = Math.abs(best.size - size);
      if (d < bd || (d === bd && c.path < best.path)) best = c;
    }
  }
  return best;
}
