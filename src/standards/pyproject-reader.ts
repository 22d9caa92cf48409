/**
 * Reading typed values out of a parsed pyproject.toml, each failure naming the key path
 * (`project.dependencies[2]`). Shared by pyproject.ts and dependency-groups.ts.
 */
import { SlimenvError } from "../base/index.ts";
import { Requirement } from "./requirement.ts";

export type Table = Record<string, unknown>;

export function isTable(value: unknown): value is Table {
  return (
    typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date)
  );
}

/** Reads typed values out of the document, failing with the key path. */
export class PyprojectReader {
  readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  fail(key: string, message: string, cause?: unknown): never {
    throw new SlimenvError(
      "INVALID_PYPROJECT",
      `${this.file}: ${key}: ${message}`,
      cause === undefined ? {} : { cause },
    );
  }

  table(value: unknown, key: string): Table {
    if (!isTable(value)) this.fail(key, `must be a table, got ${typeName(value)}`);
    return value;
  }

  string(value: unknown, key: string): string {
    if (typeof value !== "string") this.fail(key, `must be a string, got ${typeName(value)}`);
    return value;
  }

  array(value: unknown, key: string): unknown[] {
    if (!Array.isArray(value)) this.fail(key, `must be an array, got ${typeName(value)}`);
    return value;
  }

  strings(value: unknown, key: string): string[] {
    return this.array(value, key).map((item, i) => this.string(item, `${key}[${i}]`));
  }

  requirement(value: unknown, key: string): Requirement {
    const text = this.string(value, key);
    try {
      return new Requirement(text);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      this.fail(key, `invalid requirement ${JSON.stringify(text)}: ${why}`, err);
    }
  }

  requirements(value: unknown, key: string): Requirement[] {
    return this.array(value, key).map((item, i) => this.requirement(item, `${key}[${i}]`));
  }
}

function typeName(value: unknown): string {
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date";
  if (isTable(value)) return "a table";
  return `a ${typeof value}`;
}
