/** What parsing a requirements.txt gives (requirements-txt.ts), and its options. */
import type { Requirement } from "./requirement.ts";
import type { RequirementKind } from "./requirements-txt-kinds.ts";

/** Where a line came from: the file as it was named to readFile, and its 1-based line. */
export interface RequirementsSource {
  file: string;
  line: number;
}

/** One requirement line (or `-e` line) of a requirements or constraints file. */
export interface RequirementsEntry {
  /** The parsed requirement; undefined for URLs, local paths and editables (see `raw`). */
  requirement: Requirement | undefined;
  /** The requirement text as written (after `${VAR}` expansion and joining lines). */
  raw: string;
  kind: RequirementKind;
  /** `--hash` values in order, e.g. "sha256:2cf2…". */
  hashes: string[];
  source: RequirementsSource;
  /** True when the line came from a constraints file (`-c`). */
  constraint: boolean;
  /** True for `-e` / `--editable`. */
  editable: boolean;
  /** `--global-option` values for this requirement. */
  globalOptions: string[];
  /** `-C` / `--config-settings` KEY=VALUE pairs; a key given twice holds a list. */
  configSettings: Record<string, string | string[]>;
}

export interface RequirementsWarning {
  file: string;
  line: number;
  message: string;
}

/** Everything a requirements file (and the files it includes) says. */
export interface RequirementsFile {
  requirements: RequirementsEntry[];
  /** `-i` / `--index-url`; undefined means the default index. */
  indexUrl?: string;
  extraIndexUrls: string[];
  findLinks: string[];
  noIndex: boolean;
  /** Canonical names, or ":all:"; the state after applying every `--only-binary` in order. */
  onlyBinary: string[];
  /** Canonical names, or ":all:"; the state after applying every `--no-binary` in order. */
  noBinary: string[];
  preferBinary: boolean;
  pre: boolean;
  requireHashes: boolean;
  trustedHosts: string[];
  /** `--use-feature` values. */
  features: string[];
  /** Every file read, in the order first read. */
  files: string[];
  warnings: RequirementsWarning[];
}

export interface ParseRequirementsTxtOptions {
  /** Returns a file's text; throws when it cannot be read. */
  readFile: (path: string) => string;
  /** Variables for `${NAME}` expansion; without it nothing is expanded. */
  env?: Record<string, string | undefined>;
  /**
   * Whether a path exists. With it, a relative `--find-links` path is taken relative to
   * the file when it exists there (as pip does), else as written; without it, always
   * relative to the file.
   */
  exists?: (path: string) => boolean;
  /** Read the top file as a constraints file (like `pip install -c FILE`). */
  constraint?: boolean;
}
