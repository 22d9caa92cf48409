/**
 * The WHEEL file in a wheel's .dist-info: Wheel-Version, Generator, Root-Is-Purelib, Tag
 * (multiple), Build — in the same email-header format as METADATA.
 */
import { SlimenvError } from "../base/index.ts";
import { formatHeader, parseEmailHeaders, unfoldValue } from "./email-headers.ts";

export interface WheelFile {
  /** `X.Y` as written. */
  wheelVersion: string;
  generator?: string;
  rootIsPurelib: boolean;
  /** Expanded compatibility tags, e.g. `py3-none-any`, in file order. */
  tags: string[];
  /** Build number (starts with a digit), when the wheel has one. */
  build?: string;
  /** Fields this module does not know, in file order. */
  unknownFields: { name: string; value: string }[];
}

/** The highest Wheel-Version this module implements. */
export const SUPPORTED_WHEEL_VERSION: readonly [number, number] = [1, 0];

export interface WheelVersionCheck {
  major: number;
  minor: number;
  /** True when the version is newer than {@link SUPPORTED_WHEEL_VERSION} (same major): warn. */
  newer: boolean;
}

/**
 * Check a Wheel-Version against what this module supports: a greater major version is an
 * error (INVALID_WHEEL_FILE), a greater minor version returns `newer: true` so the caller
 * warns, as the wheel specification says.
 */
export function checkWheelVersion(wheelVersion: string): WheelVersionCheck {
  const m = /^(\d+)\.(\d+)$/.exec(wheelVersion.trim());
  if (m === null) {
    throw new SlimenvError(
      "INVALID_WHEEL_FILE",
      `invalid WHEEL: Wheel-Version ${JSON.stringify(wheelVersion)} is not of the form X.Y`,
    );
  }
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const [supMajor, supMinor] = SUPPORTED_WHEEL_VERSION;
  if (major > supMajor) {
    throw new SlimenvError(
      "INVALID_WHEEL_FILE",
      `Wheel-Version ${wheelVersion} is not supported: this slimenv installs wheels up to ${supMajor}.x`,
      { hint: "a newer slimenv may install this wheel" },
    );
  }
  return { major, minor, newer: major === supMajor && minor > supMinor };
}

const TAG = /^[A-Za-z0-9_.]+-[A-Za-z0-9_.]+-[A-Za-z0-9_.]+$/;

function fail(line: number, message: string): never {
  throw new SlimenvError("INVALID_WHEEL_FILE", `invalid WHEEL at line ${line}: ${message}`);
}

const KNOWN = new Map([
  ["wheel-version", "Wheel-Version"],
  ["generator", "Generator"],
  ["root-is-purelib", "Root-Is-Purelib"],
  ["tag", "Tag"],
  ["build", "Build"],
]);

/**
 * Parse a WHEEL file. Throws INVALID_WHEEL_FILE naming the field and line. The version is
 * only checked for form here; call {@link checkWheelVersion} before installing.
 */
export function parseWheelFile(text: string): WheelFile {
  const raw = parseEmailHeaders(text, "INVALID_WHEEL_FILE", "WHEEL");
  const singles = new Map<string, { value: string; line: number }>();
  const tags: string[] = [];
  const unknownFields: { name: string; value: string }[] = [];
  for (const h of raw.headers) {
    const name = KNOWN.get(h.name.toLowerCase());
    const value = unfoldValue(h.lines);
    if (name === undefined) {
      unknownFields.push({ name: h.name, value });
    } else if (name === "Tag") {
      if (!TAG.test(value)) {
        fail(h.line, `Tag ${JSON.stringify(value)} is not 'interpreter-abi-platform'`);
      }
      tags.push(value);
    } else {
      const before = singles.get(name);
      if (before !== undefined) {
        fail(h.line, `field ${name} appears again (first at line ${before.line})`);
      }
      singles.set(name, { value, line: h.line });
    }
  }
  const version = singles.get("Wheel-Version");
  if (version === undefined) fail(1, "the required field Wheel-Version is missing");
  if (!/^\d+\.\d+$/.test(version.value)) {
    fail(version.line, `Wheel-Version ${JSON.stringify(version.value)} is not of the form X.Y`);
  }
  const purelib = singles.get("Root-Is-Purelib");
  if (purelib === undefined) fail(1, "the required field Root-Is-Purelib is missing");
  const flag = purelib.value.toLowerCase();
  if (flag !== "true" && flag !== "false") {
    fail(purelib.line, `Root-Is-Purelib ${JSON.stringify(purelib.value)} is not 'true' or 'false'`);
  }
  const result: WheelFile = {
    wheelVersion: version.value,
    rootIsPurelib: flag === "true",
    tags,
    unknownFields,
  };
  const generator = singles.get("Generator");
  if (generator !== undefined) result.generator = generator.value;
  const build = singles.get("Build");
  if (build !== undefined) {
    if (!/^\d[^-\s]*$/.test(build.value)) {
      fail(
        build.line,
        `Build ${JSON.stringify(build.value)} must start with a digit and hold no '-'`,
      );
    }
    result.build = build.value;
  }
  return result;
}

/** Format a WHEEL file in the order the specification shows; ends with a newline. */
export function formatWheelFile(wheel: WheelFile): string {
  const fail = (message: string): never => {
    throw new SlimenvError("INVALID_WHEEL_FILE", `cannot write WHEEL: ${message}`);
  };
  const lines: string[] = [];
  const add = (name: string, value: string) => {
    if (/[\r\n]/.test(value)) fail(`field ${name} has a line break in its value`);
    lines.push(formatHeader(name, value));
  };
  if (!/^\d+\.\d+$/.test(wheel.wheelVersion)) {
    fail(`Wheel-Version ${JSON.stringify(wheel.wheelVersion)} is not of the form X.Y`);
  }
  add("Wheel-Version", wheel.wheelVersion);
  if (wheel.generator !== undefined) add("Generator", wheel.generator);
  add("Root-Is-Purelib", wheel.rootIsPurelib ? "true" : "false");
  for (const t of wheel.tags) {
    if (!TAG.test(t)) fail(`Tag ${JSON.stringify(t)} is not 'interpreter-abi-platform'`);
    add("Tag", t);
  }
  if (wheel.build !== undefined) add("Build", wheel.build);
  for (const f of wheel.unknownFields) {
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(f.name) || KNOWN.has(f.name.toLowerCase())) {
      fail(`${JSON.stringify(f.name)} is not a valid extra field name`);
    }
    add(f.name, f.value);
  }
  return `${lines.join("\n")}\n`;
}
