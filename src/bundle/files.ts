/**
 * The small file chores of the bundle commands: atomic writes, reading keys with errors that
 * say which flag to fix, and the health command's argv from its command-line text.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { isSlimenvError, SlimenvError } from "../base/index.ts";
import { parsePrivateKey, type SigningKey } from "./keys.ts";
import type { HealthCheck } from "./types.ts";

/** Write `data` to `file` through a temp file renamed into place (nothing half-written). */
export function writeFileAtomic(file: string, data: Uint8Array | string, mode = 0o644): void {
  const target = path.resolve(file);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}`);
  try {
    writeFileSync(tmp, data, { mode });
    renameSync(tmp, target);
  } catch (cause) {
    rmSync(tmp, { force: true });
    throw new SlimenvError("IO_ERROR", `cannot write ${file}: ${(cause as Error).message}`, {
      cause,
      hint: "-o names the file to write; its directory must exist and be writable",
    });
  }
}

/** The signing key at `file` (`--key`). */
export function loadSigningKey(file: string): SigningKey {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new SlimenvError("INVALID_OPTION", `cannot read the key ${file}`, {
      cause,
      hint: "--key names the private key file `slimenv keygen` wrote (NAME.key)",
    });
  }
  try {
    return parsePrivateKey(text, file);
  } catch (err) {
    if (!isSlimenvError(err)) throw err;
    throw new SlimenvError("INVALID_OPTION", err.message, {
      cause: err,
      hint: "--key takes the .key file (PKCS#8 PEM), not the .pub",
    });
  }
}

/**
 * The health command's argv: a JSON array of strings, or words split like a shell does
 * (single and double quotes, backslash escapes; no variables, globs or operators).
 */
export function parseHealth(text: string, timeout = 60): HealthCheck {
  const bad = (why: string) =>
    new SlimenvError("INVALID_OPTION", `--health ${JSON.stringify(text)}: ${why}`, {
      hint: `e.g. --health "bin/python -c 'import app'" or --health '["bin/python","-m","app.check"]'`,
    });
  let argv: string[];
  if (text.trim().startsWith("[")) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw bad("not a JSON array");
    }
    if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
      throw bad("not an array of strings");
    }
    argv = value;
  } else {
    argv = splitWords(text, bad);
  }
  if (argv.length === 0 || argv.some((a) => a === "")) throw bad("empty command or argument");
  if (!(Number.isSafeInteger(timeout) && timeout > 0)) {
    throw new SlimenvError("INVALID_OPTION", `--health-timeout ${timeout} is not whole seconds`, {
      hint: "e.g. --health-timeout 60",
    });
  }
  return { command: argv, timeout };
}

function splitWords(text: string, bad: (why: string) => SlimenvError): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== undefined) throw bad("an unclosed quote");
  if (inWord) words.push(word);
  return words;
}
