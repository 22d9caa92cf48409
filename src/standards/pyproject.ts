/**
 * pyproject.toml: the parts slimenv needs from `[project]` (name, version, requires-python,
 * dependencies, optional dependencies, dynamic), `[build-system]` and PEP 735
 * `[dependency-groups]` with include expansion. Errors name the key path
 * (`project.dependencies[2]`).
 */
import { parse as parseToml, TomlError } from "smol-toml";
import { pointAt, SlimenvError } from "../base/index.ts";
import { expandDependencyGroups } from "./dependency-groups.ts";
import { isValidName, normalizeExtra } from "./names.ts";
import { PyprojectReader } from "./pyproject-reader.ts";
import type { Requirement } from "./requirement.ts";
import { SpecifierSet } from "./specifiers.ts";
import { tryParseVersion } from "./version.ts";

export interface BuildSystem {
  requires: Requirement[];
  buildBackend?: string;
  backendPath?: string[];
}

export interface PyProject {
  /** `project.name` as written. */
  name?: string;
  /** `project.version` as written. */
  version?: string;
  requiresPython?: SpecifierSet;
  dependencies: Requirement[];
  /** Keyed by normalized extra name (PEP 685). */
  optionalDependencies: Record<string, Requirement[]>;
  /** Keyed by normalized group name; includes expanded (PEP 735). */
  dependencyGroups: Record<string, Requirement[]>;
  dynamic: string[];
  buildSystem?: BuildSystem;
  /** The whole document as parsed, for `[tool]` tables and anything else. */
  data: Record<string, unknown>;
}

export interface ParsePyprojectOptions {
  /** Name used in error messages (default "pyproject.toml"). */
  file?: string;
}

/** Parse TOML text; a syntax error becomes `code` with line and column. */
export function parseTomlDocument(
  text: string,
  file: string,
  code: "INVALID_PYPROJECT" | "INVALID_PYLOCK",
): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split("\n")[0] ?? err.message;
      const lineText = text.split(/\r?\n/)[err.line - 1] ?? "";
      throw new SlimenvError(
        code,
        `${file}:${err.line}:${err.column}: invalid TOML at line ${err.line}, column ${err.column}: ${first.replace(/^Invalid TOML document: /, "")}`,
        { detail: pointAt(lineText, err.column - 1), cause: err },
      );
    }
    throw err;
  }
}

const PROJECT_FIELDS = new Set([
  "name",
  "version",
  "description",
  "readme",
  "requires-python",
  "license",
  "license-files",
  "authors",
  "maintainers",
  "keywords",
  "classifiers",
  "urls",
  "scripts",
  "gui-scripts",
  "entry-points",
  "dependencies",
  "optional-dependencies",
  "import-names",
  "import-namespaces",
]);

function readProject(reader: PyprojectReader, value: unknown, out: PyProject): void {
  const project = reader.table(value, "project");
  out.dynamic =
    project.dynamic === undefined ? [] : reader.strings(project.dynamic, "project.dynamic");
  out.dynamic.forEach((field, i) => {
    const key = `project.dynamic[${i}]`;
    if (field === "name") reader.fail(key, "project.name cannot be dynamic");
    if (!PROJECT_FIELDS.has(field))
      reader.fail(key, `${JSON.stringify(field)} is not a [project] field`);
    if (project[field] !== undefined) {
      reader.fail(key, `${JSON.stringify(field)} is listed as dynamic but also given in [project]`);
    }
  });
  if (project.name === undefined) reader.fail("project.name", "is required in [project]");
  const name = reader.string(project.name, "project.name");
  if (!isValidName(name))
    reader.fail("project.name", `${JSON.stringify(name)} is not a valid name`);
  out.name = name;
  if (project.version !== undefined) {
    const version = reader.string(project.version, "project.version");
    if (tryParseVersion(version) === undefined) {
      reader.fail("project.version", `${JSON.stringify(version)} is not a valid PEP 440 version`);
    }
    out.version = version;
  }
  if (project["requires-python"] !== undefined) {
    const text = reader.string(project["requires-python"], "project.requires-python");
    try {
      out.requiresPython = new SpecifierSet(text);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      reader.fail(
        "project.requires-python",
        `invalid specifier ${JSON.stringify(text)}: ${why}`,
        err,
      );
    }
  }
  if (project.dependencies !== undefined) {
    out.dependencies = reader.requirements(project.dependencies, "project.dependencies");
  }
  if (project["optional-dependencies"] !== undefined) {
    const table = reader.table(project["optional-dependencies"], "project.optional-dependencies");
    const seen = new Map<string, string>();
    for (const [extra, list] of Object.entries(table)) {
      const key = `project.optional-dependencies.${extra}`;
      if (!isValidName(extra))
        reader.fail(key, `${JSON.stringify(extra)} is not a valid extra name`);
      const normalized = normalizeExtra(extra);
      const before = seen.get(normalized);
      if (before !== undefined) {
        reader.fail(
          key,
          `extras ${JSON.stringify(before)} and ${JSON.stringify(extra)} are the same name`,
        );
      }
      seen.set(normalized, extra);
      out.optionalDependencies[normalized] = reader.requirements(list, key);
    }
  }
}

function readBuildSystem(reader: PyprojectReader, value: unknown): BuildSystem {
  const table = reader.table(value, "build-system");
  const out: BuildSystem = {
    requires:
      table.requires === undefined
        ? []
        : reader.requirements(table.requires, "build-system.requires"),
  };
  if (table["build-backend"] !== undefined) {
    out.buildBackend = reader.string(table["build-backend"], "build-system.build-backend");
  }
  if (table["backend-path"] !== undefined) {
    out.backendPath = reader.strings(table["backend-path"], "build-system.backend-path");
  }
  return out;
}

/**
 * Parse pyproject.toml text. Throws INVALID_PYPROJECT: on a TOML syntax error (with line
 * and column), a value of the wrong type, an invalid requirement, name or version (naming
 * the key), or a bad dependency group (unknown include, cycle, duplicate name).
 */
export function parsePyproject(text: string, options: ParsePyprojectOptions = {}): PyProject {
  const file = options.file ?? "pyproject.toml";
  const data = parseTomlDocument(text, file, "INVALID_PYPROJECT");
  const reader = new PyprojectReader(file);
  const out: PyProject = {
    dependencies: [],
    optionalDependencies: {},
    dependencyGroups: {},
    dynamic: [],
    data,
  };
  if (data.project !== undefined) readProject(reader, data.project, out);
  if (data["build-system"] !== undefined)
    out.buildSystem = readBuildSystem(reader, data["build-system"]);
  if (data["dependency-groups"] !== undefined) {
    out.dependencyGroups = expandDependencyGroups(reader, data["dependency-groups"]);
  }
  return out;
}

/**
 * The requirements of one dependency group (name compared normalized), includes expanded.
 * Throws INVALID_PYPROJECT naming the groups there are when there is no such group.
 */
export function resolveDependencyGroup(doc: PyProject, name: string): Requirement[] {
  const key = normalizeExtra(name);
  const group = Object.hasOwn(doc.dependencyGroups, key) ? doc.dependencyGroups[key] : undefined;
  if (group === undefined) {
    const known = Object.keys(doc.dependencyGroups);
    throw new SlimenvError(
      "INVALID_PYPROJECT",
      `no dependency group named ${JSON.stringify(name)}`,
      {
        hint:
          known.length === 0
            ? "pyproject.toml has no [dependency-groups] table"
            : `groups are: ${known.join(", ")}`,
      },
    );
  }
  return [...group];
}
