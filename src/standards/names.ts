/**
 * Project and extra names: PEP 503 normalization, the core-metadata rule for a valid
 * `Name`, and PEP 685 normalization of extras.
 */
import { SlimenvError } from "../base/index.ts";

/** Core metadata `Name`: ASCII letters and digits at both ends, `.`, `_` and `-` inside. */
const VALID_NAME = /^(?:[a-z0-9]|[a-z0-9][a-z0-9._-]*[a-z0-9])$/i;

/**
 * PEP 503 normalized form: lower-cased, every run of `-`, `_` and `.` replaced by one `-`.
 * "Oslo.Concurrency" → "oslo-concurrency". Works on any string (no validation).
 */
export function canonicalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** True when `name` is a valid distribution name by the core metadata rule. */
export function isValidName(name: string): boolean {
  return VALID_NAME.test(name);
}

/** Returns `name` unchanged when valid; throws INVALID_NAME otherwise. */
export function assertValidName(name: string): string {
  if (isValidName(name)) return name;
  let why: string;
  if (name === "") why = "it is empty";
  else if (/^[-_.]|[-_.]$/.test(name)) why = "it must start and end with a letter or digit";
  else why = "only ASCII letters, digits, '.', '_' and '-' are allowed";
  throw new SlimenvError("INVALID_NAME", `Invalid project name ${JSON.stringify(name)}: ${why}`, {
    hint: "A name is ASCII letters and digits, with '.', '_' or '-' between them (e.g. 'my-package').",
  });
}

/** PEP 685: extras are compared in their PEP 503 normalized form. */
export function normalizeExtra(extra: string): string {
  return canonicalizeName(extra);
}
