/**
 * The checking reader behind readPylock: typed access to parsed TOML values that fails
 * with INVALID_PYLOCK naming the file and the key path.
 */
import { SlimenvError } from "../base/index.ts";
import { Marker } from "./markers.ts";
import { isValidName } from "./names.ts";
import type { PylockHashes } from "./pylock-types.ts";
import { SpecifierSet } from "./specifiers.ts";
import { isTomlTable, UTC_DATETIME, unmarkDatetime } from "./toml-text.ts";

type Table = Record<string, unknown>;

const HASH_LENGTHS: Record<string, number> = {
  md5: 32,
  sha1: 40,
  sha224: 56,
  sha256: 64,
  sha384: 96,
  sha512: 128,
};

export class LockReader {
  readonly file: string;
  readonly strictKeys: boolean;
  readonly onWarning: ((message: string) => void) | undefined;

  constructor(file: string, strictKeys: boolean, onWarning?: (message: string) => void) {
    this.file = file;
    this.strictKeys = strictKeys;
    this.onWarning = onWarning;
  }

  fail(key: string, message: string, cause?: unknown): never {
    throw new SlimenvError(
      "INVALID_PYLOCK",
      `${this.file}: ${key}: ${message}`,
      cause === undefined ? {} : { cause },
    );
  }

  table(value: unknown, key: string): Table {
    if (!isTomlTable(value) || unmarkDatetime(value) !== undefined) {
      this.fail(key, `must be a table, got ${typeName(value)}`);
    }
    return value;
  }

  knownKeys(table: Table, known: readonly string[], key: string): void {
    for (const k of Object.keys(table)) {
      if (known.includes(k)) continue;
      const message = `unknown key ${JSON.stringify(k)}`;
      if (this.strictKeys) this.fail(key, `${message} (lock-version 1.0 has ${known.join(", ")})`);
      this.onWarning?.(`${this.file}: ${key}: ${message}`);
    }
  }

  string(value: unknown, key: string): string {
    if (typeof value !== "string" || unmarkDatetime(value) !== undefined) {
      this.fail(key, `must be a string, got ${typeName(value)}`);
    }
    return value;
  }

  optString(table: Table, k: string, key: string): string | undefined {
    return table[k] === undefined ? undefined : this.string(table[k], `${key}.${k}`);
  }

  strings(value: unknown, key: string): string[] {
    if (!Array.isArray(value))
      this.fail(key, `must be an array of strings, got ${typeName(value)}`);
    return value.map((item, i) => this.string(item, `${key}[${i}]`));
  }

  tables(value: unknown, key: string): Table[] {
    if (!Array.isArray(value)) this.fail(key, `must be an array of tables, got ${typeName(value)}`);
    return value.map((item, i) => this.table(item, `${key}[${i}]`));
  }

  names(value: unknown, key: string): string[] {
    const names = this.strings(value, key);
    names.forEach((name, i) => {
      if (!isValidName(name))
        this.fail(`${key}[${i}]`, `${JSON.stringify(name)} is not a valid name`);
    });
    return names;
  }

  marker(value: unknown, key: string): string {
    const text = this.string(value, key);
    try {
      new Marker(text);
    } catch (err) {
      this.fail(key, `invalid marker ${JSON.stringify(text)}: ${messageOf(err)}`, err);
    }
    return text;
  }

  specifiers(value: unknown, key: string): string {
    const text = this.string(value, key);
    try {
      new SpecifierSet(text);
    } catch (err) {
      this.fail(key, `invalid specifier ${JSON.stringify(text)}: ${messageOf(err)}`, err);
    }
    return text;
  }

  size(value: unknown, key: string): number {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      this.fail(key, `must be a non-negative integer, got ${typeName(value)}`);
    }
    return value;
  }

  uploadTime(value: unknown, key: string): string {
    const text = unmarkDatetime(value);
    if (text === undefined) this.fail(key, `must be a TOML date-time, got ${typeName(value)}`);
    if (!UTC_DATETIME.test(text)) this.fail(key, `${text} must be in UTC (Z or +00:00)`);
    return text;
  }

  hashes(value: unknown, key: string): PylockHashes {
    if (value === undefined) this.fail(key, "is required (a table of algorithm = digest)");
    const table = this.table(value, key);
    const entries = Object.entries(table);
    if (entries.length === 0) this.fail(key, "must hold at least one hash");
    const out: PylockHashes = {};
    for (const [algorithm, digest] of entries) {
      const text = this.string(digest, `${key}.${algorithm}`);
      const want = HASH_LENGTHS[algorithm.toLowerCase()];
      if (!/^[0-9a-fA-F]+$/.test(text) || (want !== undefined && text.length !== want)) {
        this.fail(
          `${key}.${algorithm}`,
          `${JSON.stringify(text)} is not a ${want === undefined ? "hex" : `${want}-digit hex`} digest`,
        );
      }
      out[algorithm] = text;
    }
    return out;
  }
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function typeName(value: unknown): string {
  if (value === undefined) return "nothing";
  if (unmarkDatetime(value) !== undefined || value instanceof Date) return "a date-time";
  if (Array.isArray(value)) return "an array";
  if (isTomlTable(value)) return "a table";
  return `a ${typeof value}`;
}
