/**
 * requirements.txt as people write it, read the way pip reads it: nested `-r`/`-c` files
 * (paths relative to the including file), index and binary options, per-line `--hash`,
 * `${VAR}` expansion, continuations and comments. Pure: reading files and the environment
 * are callbacks.
 *
 * Where pip silently drops what the user wrote, this parser says so instead: text left
 * over after options is an error, several `-e` on one line are an error, and options pip
 * ignores (e.g. `--pre` after a requirement) give a warning. Several `-r`, `-c` or `-f` on
 * one line are all honoured (pip takes the first).
 */
import path from "node:path";
import { isSlimenvError, pointAt, SlimenvError } from "../base/index.ts";
import { canonicalizeName } from "./names.ts";
import { Requirement } from "./requirement.ts";
import { classifyEditable, classifyRequirementText } from "./requirements-txt-kinds.ts";
import {
  breakArgsOptions,
  expandEnvVars,
  joinContinuations,
  ShellSplitError,
  shellSplit,
  splitPhysicalLines,
  stripComments,
} from "./requirements-txt-lines.ts";
import {
  applyFormatControl,
  checkHash,
  type FormatControl,
  OptionError,
  type ParsedOption,
  PER_REQUIREMENT_OPTIONS,
  parseOptionWords,
} from "./requirements-txt-options.ts";
import type {
  ParseRequirementsTxtOptions,
  RequirementsEntry,
  RequirementsFile,
  RequirementsSource,
} from "./requirements-txt-types.ts";

export type { RequirementKind } from "./requirements-txt-kinds.ts";

export type {
  ParseRequirementsTxtOptions,
  RequirementsEntry,
  RequirementsFile,
  RequirementsSource,
  RequirementsWarning,
} from "./requirements-txt-types.ts";

const URL_LIKE = /^(?:https?|file):/i;

function isAbsolutePath(p: string): boolean {
  return path.posix.isAbsolute(p) || path.win32.isAbsolute(p);
}

/** Resolve `target` as named in `from` (a path or URL). */
export function resolveIncludedPath(from: string, target: string): string {
  if (URL_LIKE.test(from)) return new URL(target, from).href;
  if (URL_LIKE.test(target) || isAbsolutePath(target)) return target;
  return path.join(path.dirname(from), target);
}

function includeKey(file: string): string {
  return URL_LIKE.test(file) ? file : path.normalize(file);
}

interface Frame {
  file: string;
  key: string;
}

class Parser {
  readonly result: RequirementsFile = {
    requirements: [],
    extraIndexUrls: [],
    findLinks: [],
    noIndex: false,
    onlyBinary: [],
    noBinary: [],
    preferBinary: false,
    pre: false,
    requireHashes: false,
    trustedHosts: [],
    features: [],
    files: [],
    warnings: [],
  };
  readonly formatControl: FormatControl = { noBinary: new Set(), onlyBinary: new Set() };
  readonly stack: Frame[] = [];
  readonly options: ParseRequirementsTxtOptions;

  constructor(options: ParseRequirementsTxtOptions) {
    this.options = options;
  }

  fail(
    where: RequirementsSource,
    message: string,
    extra: { detail?: string; cause?: unknown } = {},
  ): never {
    throw new SlimenvError("INVALID_REQUIREMENTS_FILE", `${where.file}:${where.line}: ${message}`, {
      ...extra,
    });
  }

  warn(where: RequirementsSource, message: string): void {
    this.result.warnings.push({ file: where.file, line: where.line, message });
  }

  read(file: string, includedFrom: RequirementsSource | undefined): string {
    try {
      return this.options.readFile(file);
    } catch (err) {
      if (includedFrom === undefined) {
        if (isSlimenvError(err)) throw err;
        throw new SlimenvError(
          "IO_ERROR",
          `cannot read requirements file ${file}: ${reason(err)}`,
          {
            cause: err,
          },
        );
      }
      throw new SlimenvError(
        "IO_ERROR",
        `${includedFrom.file}:${includedFrom.line}: cannot read included file ${file}: ${reason(err)}`,
        { cause: err },
      );
    }
  }

  parseFile(file: string, constraint: boolean, includedFrom?: RequirementsSource): void {
    const key = includeKey(file);
    const open = this.stack.findIndex((frame) => frame.key === key);
    if (open !== -1 && includedFrom !== undefined) {
      const chain = [...this.stack.slice(open).map((frame) => frame.file), file].join(" -> ");
      this.fail(includedFrom, `include cycle: ${chain}`);
    }
    const text = this.read(file, includedFrom);
    if (!this.result.files.includes(file)) this.result.files.push(file);
    this.stack.push({ file, key });
    const logical = stripComments(joinContinuations(splitPhysicalLines(text)));
    for (const { line, text: rawText } of logical) {
      const text =
        this.options.env === undefined ? rawText : expandEnvVars(rawText, this.options.env);
      this.parseLine({ file, line }, text, constraint);
    }
    this.stack.pop();
  }

  parseLine(where: RequirementsSource, text: string, constraint: boolean): void {
    const { args, options: optionText } = breakArgsOptions(text);
    let words: string[];
    try {
      words = shellSplit(optionText);
    } catch (err) {
      if (err instanceof ShellSplitError) {
        this.fail(where, `cannot split options ${JSON.stringify(optionText)}: ${err.message}`);
      }
      throw err;
    }
    let parsed: { options: ParsedOption[]; positional: string[] };
    try {
      parsed = parseOptionWords(words);
    } catch (err) {
      if (err instanceof OptionError) this.fail(where, err.message, { detail: text });
      throw err;
    }
    if (parsed.positional.length > 0) {
      this.fail(
        where,
        `unexpected ${JSON.stringify(parsed.positional.join(" "))} after options (a requirement goes first on its line)`,
        { detail: text },
      );
    }
    const raw = args.trim();
    const editables = parsed.options.filter((o) => o.dest === "editable");
    if (raw !== "") {
      this.requirementLine(where, raw, parsed.options, constraint, false);
    } else if (editables.length > 0) {
      if (editables.length > 1) this.fail(where, "only one -e/--editable per line");
      this.requirementLine(where, editables[0]?.value ?? "", parsed.options, constraint, true);
    } else {
      this.optionLine(where, parsed.options);
    }
  }

  requirementLine(
    where: RequirementsSource,
    raw: string,
    options: ParsedOption[],
    constraint: boolean,
    editable: boolean,
  ): void {
    const entry: RequirementsEntry = {
      requirement: undefined,
      raw,
      kind: editable ? classifyEditable(raw) : classifyRequirementText(raw),
      hashes: [],
      source: where,
      constraint,
      editable,
      globalOptions: [],
      configSettings: {},
    };
    for (const option of options) {
      const value = option.value ?? "";
      if (option.dest === "noBinary" || option.dest === "onlyBinary") {
        // pip applies these while parsing the line, whatever else the line holds.
        this.applyFormat(where, option.dest, value);
        continue;
      }
      if (editable) {
        if (option.dest !== "editable") {
          this.warn(where, `${option.name} is ignored on an editable (-e) line`);
        }
        continue;
      }
      if (!PER_REQUIREMENT_OPTIONS.has(option.dest)) {
        this.warn(where, `${option.name} is ignored after a requirement; put it on its own line`);
        continue;
      }
      try {
        if (option.dest === "hash") entry.hashes.push(checkHash(option.name, value));
        else if (option.dest === "globalOption") entry.globalOptions.push(value);
        else addConfigSetting(entry.configSettings, option.name, value);
      } catch (err) {
        if (err instanceof OptionError) this.fail(where, err.message);
        throw err;
      }
    }
    if (entry.kind === "requirement") entry.requirement = this.parseRequirement(where, raw);
    this.result.requirements.push(entry);
  }

  parseRequirement(where: RequirementsSource, raw: string): Requirement {
    try {
      return new Requirement(raw);
    } catch (err) {
      const column = errorColumn(err);
      const why = err instanceof Error ? err.message : String(err);
      const options: { detail?: string; cause?: unknown } = { cause: err };
      if (column !== undefined) options.detail = pointAt(raw, column - 1);
      this.fail(where, `invalid requirement ${JSON.stringify(raw)}: ${why}`, options);
    }
  }

  optionLine(where: RequirementsSource, options: ParsedOption[]): void {
    const r = this.result;
    const includes: { file: string; constraint: boolean }[] = [];
    const of = (dest: ParsedOption["dest"]) =>
      options.filter((o) => o.dest === dest).map((o) => o.value ?? "");
    try {
      for (const option of options) {
        const value = option.value ?? "";
        switch (option.dest) {
          case "noBinary":
          case "onlyBinary":
            this.applyFormat(where, option.dest, value);
            break;
          case "hash":
            checkHash(option.name, value);
            this.warn(where, `${option.name} without a requirement on its line is ignored`);
            break;
          case "globalOption":
          case "configSettings":
            this.warn(where, `${option.name} without a requirement on its line is ignored`);
            break;
          case "requirement":
          case "constraint":
            includes.push({ file: value, constraint: option.dest === "constraint" });
            break;
          default:
            break;
        }
      }
    } catch (err) {
      if (err instanceof OptionError) this.fail(where, err.message);
      throw err;
    }
    if (of("requireHashes").length > 0) r.requireHashes = true;
    for (const feature of of("useFeature")) {
      if (!r.features.includes(feature)) r.features.push(feature);
    }
    if (of("noIndex").length > 0) {
      r.noIndex = true;
      r.indexUrl = undefined;
      r.extraIndexUrls = [];
    }
    const indexUrl = of("indexUrl").at(-1);
    if (indexUrl !== undefined && !r.noIndex) {
      // As pip: -i replaces every index seen so far, extra ones included.
      r.indexUrl = indexUrl;
      r.extraIndexUrls = [];
    }
    if (!r.noIndex) r.extraIndexUrls.push(...of("extraIndexUrl"));
    for (const link of of("findLinks")) r.findLinks.push(this.findLinksValue(where.file, link));
    if (of("pre").length > 0) r.pre = true;
    if (of("preferBinary").length > 0) r.preferBinary = true;
    r.trustedHosts.push(...of("trustedHost"));
    for (const include of includes) {
      this.parseFile(resolveIncludedPath(where.file, include.file), include.constraint, where);
    }
  }

  applyFormat(where: RequirementsSource, kind: "noBinary" | "onlyBinary", value: string): void {
    try {
      applyFormatControl(this.formatControl, kind, value, canonicalizeName);
    } catch (err) {
      if (err instanceof OptionError) this.fail(where, err.message);
      throw err;
    }
  }

  findLinksValue(file: string, value: string): string {
    if (URL_LIKE.test(value) || isAbsolutePath(value)) return value;
    const relative = resolveIncludedPath(file, value);
    const exists = this.options.exists;
    if (exists === undefined) return relative;
    return exists(relative) ? relative : value;
  }
}

function addConfigSetting(
  settings: Record<string, string | string[]>,
  name: string,
  value: string,
): void {
  const eq = value.indexOf("=");
  if (eq === -1) throw new OptionError(`${name} needs KEY=VALUE, got ${JSON.stringify(value)}`);
  const key = value.slice(0, eq);
  const val = value.slice(eq + 1);
  const old = Object.hasOwn(settings, key) ? settings[key] : undefined;
  if (old === undefined) settings[key] = val;
  else if (Array.isArray(old)) old.push(val);
  else settings[key] = [old, val];
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The 1-based column a parse error points at, from its `column` or its "at column N". */
function errorColumn(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const column = (err as { column?: unknown }).column;
  if (typeof column === "number") return column;
  const match = /at column (\d+)/.exec(err instanceof Error ? err.message : "");
  return match === null ? undefined : Number(match[1]);
}

/**
 * Parse a requirements file and every file it includes. Throws INVALID_REQUIREMENTS_FILE
 * naming `file:line` for a bad line, an unknown option or an include cycle; IO_ERROR when
 * a file cannot be read.
 */
export function parseRequirementsTxt(
  file: string,
  options: ParseRequirementsTxtOptions,
): RequirementsFile {
  const parser = new Parser(options);
  parser.parseFile(file, options.constraint ?? false);
  const result = parser.result;
  result.noBinary = [...parser.formatControl.noBinary].sort();
  result.onlyBinary = [...parser.formatControl.onlyBinary].sort();
  return result;
}
