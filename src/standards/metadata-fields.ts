/**
 * The core metadata fields (versions 1.0 to 2.5): their canonical spelling, where they land
 * in {@link CoreMetadata}, whether they may repeat, and the metadata version that added them.
 */

/** A `Project-URL` value: `label, url`. */
export interface ProjectUrl {
  label: string;
  url: string;
}

/** A field this module does not know, kept so that formatting writes it back. */
export interface UnknownField {
  name: string;
  value: string;
}

/**
 * Parsed core metadata. Single-use fields are absent when the file does not have them;
 * multiple-use fields are arrays (empty when absent). Values are strings as written
 * (one-line fields unfolded and trimmed); Requires-Dist and Requires-Python are parsed
 * on demand by `requiresDist()` and `requiresPython()`.
 */
export interface CoreMetadata {
  metadataVersion: string;
  name: string;
  version: string;
  dynamic: string[];
  platforms: string[];
  supportedPlatforms: string[];
  summary?: string;
  description?: string;
  descriptionContentType?: string;
  keywords: string[];
  homePage?: string;
  downloadUrl?: string;
  author?: string;
  authorEmail?: string;
  maintainer?: string;
  maintainerEmail?: string;
  license?: string;
  licenseExpression?: string;
  licenseFiles: string[];
  classifiers: string[];
  requiresDist: string[];
  requiresPython?: string;
  requiresExternal: string[];
  projectUrls: ProjectUrl[];
  providesExtra: string[];
  providesDist: string[];
  obsoletesDist: string[];
  /** Deprecated 1.1 fields (`Requires`, `Provides`, `Obsoletes`). */
  requires: string[];
  provides: string[];
  obsoletes: string[];
  /** Metadata 2.5 (PEP 794). */
  importNames: string[];
  importNamespaces: string[];
  /** Fields not in the specification, in file order. */
  unknownFields: UnknownField[];
}

export type SingleKey =
  | "metadataVersion"
  | "name"
  | "version"
  | "summary"
  | "description"
  | "descriptionContentType"
  | "homePage"
  | "downloadUrl"
  | "author"
  | "authorEmail"
  | "maintainer"
  | "maintainerEmail"
  | "license"
  | "licenseExpression"
  | "requiresPython";

export type ListKey =
  | "dynamic"
  | "platforms"
  | "supportedPlatforms"
  | "licenseFiles"
  | "classifiers"
  | "requiresDist"
  | "requiresExternal"
  | "providesExtra"
  | "providesDist"
  | "obsoletesDist"
  | "requires"
  | "provides"
  | "obsoletes"
  | "importNames"
  | "importNamespaces";

/**
 * How a field's value is read: `line` = unfolded to one line; `text` = multi-line, with
 * continuation prefixes removed; `keywords` and `url` are special single/multi fields.
 */
export type FieldShape =
  | { kind: "single"; key: SingleKey; text: boolean }
  | { kind: "list"; key: ListKey }
  | { kind: "keywords" }
  | { kind: "projectUrl" };

export interface FieldSpec {
  /** Canonical spelling, as the specification writes it. */
  name: string;
  shape: FieldShape;
  /** Metadata version that added the field, as [major, minor]. */
  since: readonly [number, number];
}

const single = (key: SingleKey, text = false): FieldShape => ({ kind: "single", key, text });
const list = (key: ListKey): FieldShape => ({ kind: "list", key });

/** All fields, in the order the specification lists them (and formatting writes them). */
export const FIELDS: readonly FieldSpec[] = [
  { name: "Metadata-Version", shape: single("metadataVersion"), since: [1, 0] },
  { name: "Name", shape: single("name"), since: [1, 0] },
  { name: "Version", shape: single("version"), since: [1, 0] },
  { name: "Dynamic", shape: list("dynamic"), since: [2, 2] },
  { name: "Platform", shape: list("platforms"), since: [1, 0] },
  { name: "Supported-Platform", shape: list("supportedPlatforms"), since: [1, 1] },
  { name: "Summary", shape: single("summary"), since: [1, 0] },
  { name: "Description", shape: single("description", true), since: [1, 0] },
  { name: "Description-Content-Type", shape: single("descriptionContentType"), since: [2, 1] },
  { name: "Keywords", shape: { kind: "keywords" }, since: [1, 0] },
  { name: "Home-page", shape: single("homePage"), since: [1, 0] },
  { name: "Download-URL", shape: single("downloadUrl"), since: [1, 1] },
  { name: "Author", shape: single("author"), since: [1, 0] },
  { name: "Author-email", shape: single("authorEmail"), since: [1, 0] },
  { name: "Maintainer", shape: single("maintainer"), since: [1, 2] },
  { name: "Maintainer-email", shape: single("maintainerEmail"), since: [1, 2] },
  { name: "License", shape: single("license", true), since: [1, 0] },
  { name: "License-Expression", shape: single("licenseExpression"), since: [2, 4] },
  { name: "License-File", shape: list("licenseFiles"), since: [2, 4] },
  { name: "Classifier", shape: list("classifiers"), since: [1, 1] },
  { name: "Requires-Dist", shape: list("requiresDist"), since: [1, 2] },
  { name: "Requires-Python", shape: single("requiresPython"), since: [1, 2] },
  { name: "Requires-External", shape: list("requiresExternal"), since: [1, 2] },
  { name: "Project-URL", shape: { kind: "projectUrl" }, since: [1, 2] },
  { name: "Provides-Extra", shape: list("providesExtra"), since: [2, 1] },
  { name: "Provides-Dist", shape: list("providesDist"), since: [1, 2] },
  { name: "Obsoletes-Dist", shape: list("obsoletesDist"), since: [1, 2] },
  { name: "Requires", shape: list("requires"), since: [1, 1] },
  { name: "Provides", shape: list("provides"), since: [1, 1] },
  { name: "Obsoletes", shape: list("obsoletes"), since: [1, 1] },
  { name: "Import-Name", shape: list("importNames"), since: [2, 5] },
  { name: "Import-Namespace", shape: list("importNamespaces"), since: [2, 5] },
];

/** Field spec by lower-cased name (field names are case-insensitive). */
export const FIELDS_BY_LOWER: ReadonlyMap<string, FieldSpec> = new Map(
  FIELDS.map((f) => [f.name.toLowerCase(), f]),
);

/** Metadata versions this module knows; others of major 1 or 2 are read with a warning. */
export const KNOWN_METADATA_VERSIONS: readonly string[] = [
  "1.0",
  "1.1",
  "1.2",
  "2.1",
  "2.2",
  "2.3",
  "2.4",
  "2.5",
];

/** Highest major metadata version this module reads. */
export const MAX_METADATA_MAJOR = 2;

/** An empty CoreMetadata with the three required fields set. */
export function emptyMetadata(
  metadataVersion: string,
  name: string,
  version: string,
): CoreMetadata {
  return {
    metadataVersion,
    name,
    version,
    dynamic: [],
    platforms: [],
    supportedPlatforms: [],
    keywords: [],
    licenseFiles: [],
    classifiers: [],
    requiresDist: [],
    requiresExternal: [],
    projectUrls: [],
    providesExtra: [],
    providesDist: [],
    obsoletesDist: [],
    requires: [],
    provides: [],
    obsoletes: [],
    importNames: [],
    importNamespaces: [],
    unknownFields: [],
  };
}
