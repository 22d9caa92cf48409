/**
 * What `slimenv lock` locks: requirements from requirements.txt files (with their options,
 * `-c` constraints and `--hash` values), from pyproject.toml (`[project] dependencies`, the
 * extras and dependency groups asked for), from requirement strings on the command line,
 * and constraints files. Everything is read here; nothing is resolved.
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { SlimenvError } from "../base/index.ts";
import { classifyFilename } from "../index/project.ts";
import { canonicalizeName, normalizeExtra } from "../standards/names.ts";
import { parsePyproject, resolveDependencyGroup } from "../standards/pyproject.ts";
import { Requirement } from "../standards/requirement.ts";
import {
  parseRequirementsTxt,
  type RequirementsEntry,
  type RequirementsFile,
} from "../standards/requirements-txt.ts";
import type { SpecifierSet } from "../standards/specifiers.ts";

export interface ReadLockInputsOptions {
  /** requirements.txt files, or pyproject.toml files (a name ending in `.toml`). */
  requirementFiles?: readonly string[];
  /** Requirement strings (`requests>=2`, `numpy`). */
  requirements?: readonly string[];
  /** Constraints files (`-c`). */
  constraintFiles?: readonly string[];
  /** Extras of a pyproject.toml's project to include. */
  extras?: readonly string[];
  /** Dependency groups (PEP 735) of a pyproject.toml to include. */
  groups?: readonly string[];
  /** Where relative paths are taken from (default process.cwd()). */
  cwd?: string;
  /** Variables for `${NAME}` in requirements files (default: none expanded). */
  env?: Record<string, string | undefined>;
}

/** Options that requirements files set (pip's global options in the file). */
export interface RequirementsFileOptions {
  indexUrl?: string;
  extraIndexUrls: string[];
  findLinks: string[];
  noIndex: boolean;
  onlyBinary: string[];
  noBinary: string[];
  pre: boolean;
}

export interface LockInputs {
  /** Top-level requirements, in the order given. */
  requirements: Requirement[];
  constraints: Requirement[];
  /** `--hash` values of requirements files per canonical name ("sha256:…"), sorted. */
  hashes: Map<string, string[]>;
  fileOptions: RequirementsFileOptions;
  /** `[project] requires-python` of a pyproject.toml read. */
  requiresPython?: SpecifierSet;
  /** Normalized extras and groups asked for (sorted). */
  extras: string[];
  groups: string[];
  /** Every input file read (as named), in order. */
  files: string[];
  /** Warnings of the requirements parser ("file:line: message"). */
  warnings: string[];
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new SlimenvError("IO_ERROR", `cannot read ${file}: ${why}`, { cause });
  }
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

function invalid(message: string, hint?: string): SlimenvError {
  return new SlimenvError("INVALID_OPTION", message, hint === undefined ? {} : { hint });
}

/**
 * Turn a URL or path line of a requirements file (`https://…/x.whl`, `./wheels/x.whl`) into
 * `name @ url`. Only archives named like a wheel or sdist can be locked; source trees and
 * VCS URLs need a build (BUILD_REQUIRED).
 */
function entryRequirement(entry: RequirementsEntry, cwd: string): Requirement {
  if (entry.requirement !== undefined) return entry.requirement;
  const where = `${entry.source.file}:${entry.source.line}`;
  if (entry.editable) {
    throw new SlimenvError("BUILD_REQUIRED", `${where}: editable requirements need a build`, {
      hint: "building from source comes in a later slimenv; lock a wheel of it instead",
    });
  }
  const semi = entry.raw.search(/\s;|;\s/);
  const location = (semi < 0 ? entry.raw : entry.raw.slice(0, semi)).trim();
  const marker = semi < 0 ? "" : entry.raw.slice(semi).trim();
  let url: string;
  if (entry.kind === "url") {
    if (!/^(https?|file):/i.test(location)) {
      throw new SlimenvError(
        "BUILD_REQUIRED",
        `${where}: ${location} needs a checkout and a build`,
        {
          hint: "VCS requirements come in a later slimenv; lock a wheel of it instead",
        },
      );
    }
    url = location;
  } else {
    const full = path.resolve(cwd, location);
    url = pathToFileURL(full).href;
  }
  const filename = decodeURIComponent(new URL(url).pathname.split("/").pop() ?? "");
  const kind = classifyFilename(filename);
  if (kind === undefined) {
    throw new SlimenvError(
      "BUILD_REQUIRED",
      `${where}: ${location} is not a wheel or sdist archive; source trees need a build`,
      { hint: "building from source comes in a later slimenv; lock a wheel of it instead" },
    );
  }
  return new Requirement(`${kind.name} @ ${url}${marker === "" ? "" : ` ${marker}`}`);
}

function mergeFileOptions(into: RequirementsFileOptions, file: RequirementsFile): void {
  if (file.indexUrl !== undefined) into.indexUrl = file.indexUrl;
  into.extraIndexUrls.push(...file.extraIndexUrls.filter((u) => !into.extraIndexUrls.includes(u)));
  into.findLinks.push(...file.findLinks.filter((u) => !into.findLinks.includes(u)));
  into.noIndex ||= file.noIndex;
  for (const n of file.onlyBinary) if (!into.onlyBinary.includes(n)) into.onlyBinary.push(n);
  for (const n of file.noBinary) if (!into.noBinary.includes(n)) into.noBinary.push(n);
  into.pre ||= file.pre;
}

/** Read every input of a lock. Throws the parsers' errors, or INVALID_OPTION for none. */
export function readLockInputs(options: ReadLockInputsOptions): LockInputs {
  const cwd = options.cwd ?? process.cwd();
  const inputs: LockInputs = {
    requirements: [],
    constraints: [],
    hashes: new Map(),
    fileOptions: {
      extraIndexUrls: [],
      findLinks: [],
      noIndex: false,
      onlyBinary: [],
      noBinary: [],
      pre: false,
    },
    extras: [...new Set((options.extras ?? []).map(normalizeExtra))].sort(),
    groups: [...new Set((options.groups ?? []).map(normalizeExtra))].sort(),
    files: [],
    warnings: [],
  };
  const requirementFiles = options.requirementFiles ?? [];
  const pyprojects = requirementFiles.filter((f) => f.toLowerCase().endsWith(".toml"));
  const txtFiles = requirementFiles.filter((f) => !f.toLowerCase().endsWith(".toml"));
  if ((inputs.extras.length > 0 || inputs.groups.length > 0) && pyprojects.length === 0) {
    throw invalid(
      "--extra and --group select parts of a pyproject.toml, and none is given",
      "pass -r pyproject.toml",
    );
  }
  for (const file of pyprojects) readPyproject(path.resolve(cwd, file), file, inputs);
  const readRequirements = (file: string, constraint: boolean) => {
    const parsed = parseRequirementsTxt(file, {
      readFile: (p) => readText(path.resolve(cwd, p)),
      exists: (p) => exists(path.resolve(cwd, p)),
      constraint,
      ...(options.env === undefined ? {} : { env: options.env }),
    });
    inputs.files.push(...parsed.files);
    for (const w of parsed.warnings) inputs.warnings.push(`${w.file}:${w.line}: ${w.message}`);
    mergeFileOptions(inputs.fileOptions, parsed);
    for (const entry of parsed.requirements) {
      const req = entryRequirement(entry, cwd);
      if (entry.constraint) inputs.constraints.push(req);
      else inputs.requirements.push(req);
      if (entry.hashes.length > 0) {
        const name = canonicalizeName(req.name);
        const known = new Set(inputs.hashes.get(name) ?? []);
        for (const h of entry.hashes) known.add(h.toLowerCase());
        inputs.hashes.set(name, [...known].sort());
      }
    }
  };
  for (const file of txtFiles) readRequirements(file, false);
  for (const file of options.constraintFiles ?? []) readRequirements(file, true);
  for (const text of options.requirements ?? []) inputs.requirements.push(new Requirement(text));
  if (inputs.requirements.length === 0 && inputs.files.length === 0) {
    throw invalid(
      "nothing to lock: give requirements, -r requirements.txt or -r pyproject.toml",
      "e.g. slimenv lock requests numpy, or slimenv lock -r requirements.txt",
    );
  }
  return inputs;
}

function readPyproject(full: string, shown: string, inputs: LockInputs): void {
  const doc = parsePyproject(readText(full), { file: shown });
  inputs.files.push(shown);
  if (doc.dynamic.includes("dependencies")) {
    throw new SlimenvError(
      "BUILD_REQUIRED",
      `${shown}: [project] dependencies are dynamic; only a build can tell them`,
      { hint: "list them in [project] dependencies, or lock a requirements.txt" },
    );
  }
  if (doc.requiresPython !== undefined) {
    inputs.requiresPython =
      inputs.requiresPython === undefined
        ? doc.requiresPython
        : inputs.requiresPython.and(doc.requiresPython);
  }
  const self = doc.name === undefined ? undefined : canonicalizeName(doc.name);
  const requirements: Requirement[] = [];
  const seenExtras = new Set<string>();
  // A project's extras may name the project itself ("all = ['me[a,b]']"): expand those.
  const addAll = (reqs: readonly Requirement[]) => {
    for (const req of reqs) {
      if (self !== undefined && canonicalizeName(req.name) === self && req.url === undefined) {
        for (const extra of req.extras) addExtra(extra);
      } else {
        requirements.push(req);
      }
    }
  };
  const addExtra = (extra: string) => {
    const key = normalizeExtra(extra);
    if (seenExtras.has(key)) return;
    seenExtras.add(key);
    const reqs = Object.hasOwn(doc.optionalDependencies, key)
      ? doc.optionalDependencies[key]
      : undefined;
    if (reqs === undefined) {
      const known = Object.keys(doc.optionalDependencies);
      throw new SlimenvError(
        "INVALID_PYPROJECT",
        `${shown}: no extra named ${JSON.stringify(extra)}`,
        {
          hint:
            known.length === 0
              ? "the project defines no extras"
              : `extras are: ${known.join(", ")}`,
        },
      );
    }
    addAll(reqs);
  };
  addAll(doc.dependencies);
  for (const extra of inputs.extras) addExtra(extra);
  for (const group of inputs.groups) addAll(resolveDependencyGroup(doc, group));
  inputs.requirements.push(...requirements);
}
