/**
 * Every file of one project across the sources that list it (project pages of one or more
 * indexes, find-links files), grouped as the sources group them: per version as the
 * filenames spell it. A resolver chooses among the ListedFiles and asks for the whole
 * DistributionFile only of the files it keeps.
 */
import { KnownFile, type ListedFile } from "./listed-file.ts";
import type { CompactPage } from "./page-compact.ts";
import type { DistributionFile } from "./project.ts";

export class ProjectListing {
  /** Groups of files of one version spelling each; pages first (in order), then other files. */
  readonly groups: readonly (readonly ListedFile[])[];

  constructor(pages: readonly CompactPage[], others: readonly DistributionFile[] = []) {
    const groups: (readonly ListedFile[])[] = [];
    for (const page of pages) groups.push(...page.groups);
    for (const file of others) groups.push([new KnownFile(file)]);
    this.groups = groups;
  }

  #all: DistributionFile[] | undefined;

  /** Every file, whole (each page's files in the page's version groups); built once. */
  all(): DistributionFile[] {
    if (this.#all === undefined) {
      this.#all = [];
      for (const group of this.groups) for (const entry of group) this.#all.push(entry.file());
    }
    return this.#all;
  }

  get size(): number {
    let n = 0;
    for (const group of this.groups) n += group.length;
    return n;
  }
}
