// Public names of src/standards: Python packaging standards as pure functions and values.

export type { EntryPoint, EntryPointSpec, ScriptEntryPoint } from "./entry-points.ts";
export {
  consoleScripts,
  formatEntryPoints,
  formatObjectReference,
  guiScripts,
  parseEntryPoints,
  parseObjectReference,
} from "./entry-points.ts";
export type { MarkerEnvironment, MarkerEvaluationEnvironment } from "./markers.ts";
export { Marker } from "./markers.ts";
export type {
  MarkerComparison,
  MarkerGroup,
  MarkerNode,
  MarkerOp,
  MarkerOperand,
} from "./markers-parse.ts";
export type {
  CoreMetadata,
  ParseMetadataOptions,
  ProjectUrl,
  UnknownField,
} from "./metadata.ts";
export {
  emptyMetadata,
  formatMetadata,
  parseMetadata,
  parseMetadataBytes,
  requiresDist,
  requiresPython,
} from "./metadata.ts";
export { licenseExpressionProblem, licenseFileProblem } from "./metadata-values.ts";
export { assertValidName, canonicalizeName, isValidName, normalizeExtra } from "./names.ts";
export type {
  Pylock,
  PylockArchive,
  PylockAttestationIdentity,
  PylockDependency,
  PylockDirectory,
  PylockHashes,
  PylockPackage,
  PylockSdist,
  PylockVcs,
  PylockWheel,
  ReadPylockOptions,
} from "./pylock.ts";
export {
  isPylockFilename,
  PYLOCK_VERSION,
  pylockFilenameName,
  readPylock,
  sortPylockPackages,
  writePylock,
} from "./pylock.ts";
export type { BuildSystem, ParsePyprojectOptions, PyProject } from "./pyproject.ts";
export { parsePyproject, resolveDependencyGroup } from "./pyproject.ts";
export type { ParseRecordOptions, RecordEntry, RecordHash } from "./record.ts";
export {
  decodeRecordDigest,
  encodeRecordDigest,
  formatRecord,
  formatRecordHash,
  parseRecord,
  parseRecordHash,
  recordHash,
  verifyRecordHash,
  WHEEL_HASH_ALGORITHMS,
} from "./record.ts";
export { Requirement } from "./requirement.ts";
export type {
  ParseRequirementsTxtOptions,
  RequirementKind,
  RequirementsEntry,
  RequirementsFile,
  RequirementsSource,
  RequirementsWarning,
} from "./requirements-txt.ts";
export { parseRequirementsTxt, resolveIncludedPath } from "./requirements-txt.ts";
export type { SdistFilename } from "./sdist-filename.ts";
export { parseSdistFilename, tryParseSdistFilename } from "./sdist-filename.ts";
export type { PrereleaseOptions, SpecifierOperator } from "./specifiers.ts";
export { Specifier, SpecifierSet } from "./specifiers.ts";
export type {
  CpythonAbiFlags,
  LinuxLibc,
  LinuxPlatformOptions,
  ParseTagOptions,
  PlatformSpec,
  TagPythonVersion,
  TagTarget,
} from "./tags.ts";
export {
  compatibleTags,
  cpythonAbis,
  cpythonTags,
  createTagRanker,
  genericTags,
  INTERPRETER_SHORT_NAMES,
  interpreterName,
  linuxPlatforms,
  MANYLINUX_ARCHES,
  macBinaryFormats,
  macPlatforms,
  manylinuxPlatforms,
  musllinuxPlatforms,
  normalizeLinuxArch,
  PLAIN_MANYLINUX_ARCHES,
  parseTag,
  platformsForSpec,
  platformTagFromSpec,
  purePythonTags,
  pythonInterpreterRange,
  sysTags,
  Tag,
  windowsPlatforms,
} from "./tags.ts";
export {
  compareVersions,
  parseVersion,
  tryParseVersion,
  Version,
  versionParts,
} from "./version.ts";
export type { PreLetter, VersionParts } from "./version-parse.ts";
export type { WheelFile } from "./wheel-file.ts";
export {
  checkWheelVersion,
  formatWheelFile,
  parseWheelFile,
  SUPPORTED_WHEEL_VERSION,
} from "./wheel-file.ts";
export type {
  ParseWheelFilenameOptions,
  WheelFilename,
  WheelFilenameParts,
} from "./wheel-filename.ts";
export {
  compressTags,
  escapeWheelName,
  formatWheelFilename,
  parseWheelFilename,
  tryParseWheelFilename,
} from "./wheel-filename.ts";
