/**
 * Which files of one project version a target can use: the wheels whose tags the target
 * supports (best tag first), and an sdist when sdists are allowed for the project. Also says
 * why a version is unusable ("no wheel for cp311-manylinux_2_28_aarch64; wheels exist for: …")
 * and reads `--only-binary` / `--no-binary` ("format control").
 */
import { KnownFile, type ListedFile } from "../index/listed-file.ts";
import type { DistributionFile } from "../index/project.ts";
import type { Target } from "../python/target.ts";
import { canonicalizeName } from "../standards/names.ts";
import { createTagRanker } from "../standards/tags.ts";
import type { Version } from "../standards/version.ts";

/** Canonical names, or ":all:". */
export interface FormatControl {
  onlyBinary?: readonly string[];
  noBinary?: readonly string[];
}

/** The files of one version the target can use. */
export interface VersionFiles {
  version: Version;
  /** Compatible wheels, most preferred first. */
  wheels: DistributionFile[];
  /** The sdist, when sdists are allowed and one exists. */
  sdist?: DistributionFile;
  /** Every file of the version the index lists (usable or not). */
  all: DistributionFile[];
  /** Every file of the version is yanked. */
  yanked: boolean;
  /** Why nothing here is usable (set when `wheels` is empty and there is no `sdist`). */
  unavailableReason?: string;
}

/**
 * The files of one version the target can use, as listed (whole files not built yet): the
 * same choice as VersionFiles, see `wholeFiles`.
 */
export interface VersionChoice {
  version: Version;
  wheels: ListedFile[];
  sdist?: ListedFile;
  all: ListedFile[];
  yanked: boolean;
  unavailableReason?: string;
}

/** The whole files of a choice. */
export function wholeFiles(choice: VersionChoice): VersionFiles {
  const out: VersionFiles = {
    version: choice.version,
    wheels: choice.wheels.map((f) => f.file()),
    all: choice.all.map((f) => f.file()),
    yanked: choice.yanked,
  };
  if (choice.sdist !== undefined) out.sdist = choice.sdist.file();
  if (choice.unavailableReason !== undefined) out.unavailableReason = choice.unavailableReason;
  return out;
}

/** Whether a format-control list applies to a (canonical) project name. */
export function appliesTo(list: readonly string[] | undefined, name: string): boolean {
  if (list === undefined) return false;
  return list.some((n) => n === ":all:" || canonicalizeName(n) === name);
}

/**
 * A key equal for equal versions ("1.0" and "1.0.0"): the normalized text with trailing
 * zero release segments dropped.
 */
export function versionKey(version: Version): string {
  let key = versionKeys.get(version);
  if (key === undefined) {
    key = computeVersionKey(version);
    versionKeys.set(version, key);
  }
  return key;
}

const versionKeys = new WeakMap<Version, string>();

function computeVersionKey(version: Version): string {
  const release = [...version.release];
  while (release.length > 1 && release[release.length - 1] === 0) release.pop();
  const pre = version.pre === undefined ? "" : `${version.pre[0]}${version.pre[1]}`;
  const post = version.post === undefined ? "" : `.post${version.post}`;
  const dev = version.dev === undefined ? "" : `.dev${version.dev}`;
  const local = version.local === undefined ? "" : `+${version.local}`;
  return `${version.epoch}!${release.join(".")}${pre}${post}${dev}${local}`;
}

/** The compressed tag triple of a wheel filename ("cp312-cp312-macosx_11_0_arm64"). */
export function wheelTagText(filename: string): string {
  return filename
    .replace(/\.whl$/i, "")
    .split("-")
    .slice(-3)
    .join("-");
}

/**
 * The platform tag that names a target best: its newest manylinux / musllinux tag on Linux
 * (an interpreter's own `linux_<arch>` comes first in its list but says less), else its
 * first platform.
 */
export function targetPlatform(target: Target): string {
  return (
    target.platforms.find((p) => /^(manylinux|musllinux)_\d/.test(p)) ??
    target.platforms[0] ??
    target.arch
  );
}

/** A short name of the target for messages: "cp311-manylinux_2_28_aarch64". */
export function targetLabel(target: Target): string {
  const [major, minor] = target.pythonVersion;
  return `${target.implementation}${major}${minor}-${targetPlatform(target)}`;
}

const MAX_LISTED = 4;

function listShort(items: readonly string[]): string {
  const shown = items.slice(0, MAX_LISTED).join(", ");
  return items.length > MAX_LISTED ? `${shown}, … (${items.length - MAX_LISTED} more)` : shown;
}

function byFilename(a: { filename: string }, b: { filename: string }): number {
  return a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0;
}

function isSorted(files: readonly { filename: string }[]): boolean {
  for (let i = 1; i < files.length; i++) {
    if (byFilename(files[i - 1] as { filename: string }, files[i] as { filename: string }) > 0) {
      return false;
    }
  }
  return true;
}

/** Picks the usable files of each version for one target and one format control. */
export class FileSelector {
  readonly #rank: ReturnType<typeof createTagRanker>;
  readonly #target: Target;
  readonly #format: FormatControl;
  /** Rank per compressed tag set text (null: the target supports none of its tags). */
  readonly #ranks = new Map<string, number | null>();

  constructor(target: Target, format: FormatControl = {}) {
    this.#target = target;
    this.#format = format;
    this.#rank = createTagRanker(target.tags);
  }

  /** Group a project's files by version and select the usable ones of each. */
  select(name: string, files: readonly DistributionFile[]): VersionFiles[] {
    return this.choose(
      name,
      files.map((f) => [new KnownFile(f)]),
    ).map(wholeFiles);
  }

  /**
   * Choose among listed files: `groups` hold files of one version each (as a listing groups
   * them); groups of equal versions ("1.0", "1.0.0") are merged, in the order each version
   * first appears.
   */
  choose(name: string, groups: Iterable<readonly ListedFile[]>): VersionChoice[] {
    // A listing's group is used as it is unless another group of the same version joins it.
    const byVersion = new Map<string, { files: readonly ListedFile[]; own: boolean }>();
    for (const group of groups) {
      const first = group[0];
      if (first === undefined) continue;
      const key = versionKey(first.version);
      const merged = byVersion.get(key);
      if (merged === undefined) byVersion.set(key, { files: group, own: false });
      else if (merged.own) (merged.files as ListedFile[]).push(...group);
      else byVersion.set(key, { files: [...merged.files, ...group], own: true });
    }
    const out: VersionChoice[] = [];
    for (const { files } of byVersion.values()) out.push(this.#chooseVersion(name, files));
    return out;
  }

  /** The rank of a compressed tag set ("py2.py3-none-any"), expanded without parsing. */
  #rankOf(text: string): number | undefined {
    let rank = this.#ranks.get(text);
    if (rank === undefined) {
      const [interpreters = "", abis = "", platforms = ""] = text.split("-");
      const tags: string[] = [];
      for (const i of interpreters.split(".")) {
        for (const a of abis.split(".")) {
          for (const p of platforms.split(".")) tags.push(`${i}-${a}-${p}`);
        }
      }
      rank = this.#rank(tags) ?? null;
      this.#ranks.set(text, rank);
    }
    return rank ?? undefined;
  }

  #chooseVersion(name: string, group: readonly ListedFile[]): VersionChoice {
    // Pages list each version's files sorted already: copied and sorted only when not.
    const all = isSorted(group) ? (group as ListedFile[]) : [...group].sort(byFilename);
    const yanked = all.every((f) => f.yanked !== undefined);
    // Yanked files are left out when the version has files that are not.
    const live =
      yanked || all.every((f) => f.yanked === undefined)
        ? all
        : all.filter((f) => f.yanked === undefined);
    const noBinary = appliesTo(this.#format.noBinary, name);
    const onlyBinary = !noBinary && appliesTo(this.#format.onlyBinary, name);
    const ranked: { file: ListedFile; rank: number }[] = [];
    if (!noBinary) {
      for (const file of live) {
        if (file.kind !== "wheel" || file.tagText === undefined) continue;
        const rank = this.#rankOf(file.tagText);
        if (rank !== undefined) ranked.push({ file, rank });
      }
    }
    ranked.sort((a, b) => {
      if (a.rank !== b.rank) return a.rank - b.rank;
      const ba = a.file.build?.[0] ?? -1;
      const bb = b.file.build?.[0] ?? -1;
      if (ba !== bb) return bb - ba;
      return byFilename(a.file, b.file);
    });
    const out: VersionChoice = {
      version: (all[0] as ListedFile).version,
      wheels: ranked.map((r) => r.file),
      all,
      yanked,
    };
    if (!onlyBinary) {
      // One sdist: .tar.gz (the standard form) before any other.
      let sdist: ListedFile | undefined;
      for (const f of live) {
        if (f.kind !== "sdist") continue;
        if (f.filename.toLowerCase().endsWith(".tar.gz")) {
          sdist = f;
          break;
        }
        sdist ??= f;
      }
      if (sdist !== undefined) out.sdist = sdist;
    }
    if (out.wheels.length === 0 && out.sdist === undefined) {
      out.unavailableReason = this.#reason(name, live, { noBinary, onlyBinary });
    }
    return out;
  }

  #reason(
    name: string,
    live: readonly ListedFile[],
    how: { noBinary: boolean; onlyBinary: boolean },
  ): string {
    const wheels = live.filter((f) => f.kind === "wheel");
    const hasSdist = live.some((f) => f.kind === "sdist");
    if (how.noBinary) {
      return `no sdist, and --no-binary applies to ${name}`;
    }
    const label = targetLabel(this.#target);
    if (wheels.length === 0) {
      return hasSdist
        ? `no wheel for ${label}, only an sdist, and --only-binary applies to ${name}`
        : `no wheel for ${label} and no sdist`;
    }
    const tags = [...new Set(wheels.map((f) => wheelTagText(f.filename)))].sort();
    const tail = how.onlyBinary && hasSdist ? ` (the sdist is excluded by --only-binary)` : "";
    return `no wheel for ${label}; wheels exist for: ${listShort(tags)}${tail}`;
  }
}
