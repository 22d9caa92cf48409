/**
 * ~/.netrc (or `$NETRC`): credentials by host, as curl, pip and uv read them.
 *
 * Grammar: whitespace-separated tokens; `machine NAME` starts an entry, `default` starts the
 * catch-all entry; inside an entry `login`, `password` and `account` take one token each;
 * `macdef NAME` is followed by lines up to the next empty line (ignored). A token may be
 * double-quoted, with `\` escaping the next character. A token starting with `#` begins a
 * comment that runs to the end of the line. Host names compare case-insensitively and without
 * the port. The first matching `machine` wins; `default` is used when none matches.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface NetrcEntry {
  /** The machine name (lower-case), or undefined for the `default` entry. */
  machine: string | undefined;
  login: string | undefined;
  password: string | undefined;
  account: string | undefined;
}

export interface ParsedNetrc {
  entries: NetrcEntry[];
  /** Problems found while reading (never credentials). The rest of the file is still used. */
  warnings: string[];
}

interface Token {
  text: string;
  line: number;
}

function tokenize(text: string, warnings: string[]): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const c = text[i] as string;
    if (c === "\n") {
      line++;
      i++;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r" || c === "\f" || c === "\v") {
      i++;
      continue;
    }
    if (c === "#") {
      while (i < n && text[i] !== "\n") i++;
      continue;
    }
    const start = line;
    let value = "";
    if (c === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const d = text[i] as string;
        if (d === "\\" && i + 1 < n) {
          value += text[i + 1];
          if (text[i + 1] === "\n") line++;
          i += 2;
          continue;
        }
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === "\n") line++;
        value += d;
        i++;
      }
      if (!closed) warnings.push(`netrc line ${start}: unterminated quoted token`);
    } else {
      while (i < n) {
        const d = text[i] as string;
        if (/\s/.test(d)) break;
        if (d === "\\" && i + 1 < n) {
          value += text[i + 1];
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
    }
    tokens.push({ text: value, line: start });
    // `macdef NAME` swallows everything up to the next empty line.
    if (value === "macdef" && c !== '"') {
      while (i < n && text[i] !== "\n") i++; // rest of the macdef line (its name)
      if (i < n) {
        i++;
        line++;
      }
      while (i < n) {
        const end = text.indexOf("\n", i);
        const lineText = end < 0 ? text.slice(i) : text.slice(i, end);
        i = end < 0 ? n : end + 1;
        line++;
        if (lineText.trim() === "") break;
      }
    }
  }
  return tokens;
}

/** Parse the text of a netrc file. Never throws; problems are listed in `warnings`. */
export function parseNetrc(text: string): ParsedNetrc {
  const warnings: string[] = [];
  const tokens = tokenize(text, warnings);
  const entries: NetrcEntry[] = [];
  let current: NetrcEntry | undefined;
  let i = 0;
  while (i < tokens.length) {
    const tok = tokens[i] as Token;
    i++;
    switch (tok.text) {
      case "machine": {
        const name = tokens[i];
        i++;
        if (name === undefined) {
          warnings.push(`netrc line ${tok.line}: 'machine' without a name`);
          current = undefined;
          break;
        }
        current = {
          machine: name.text.toLowerCase(),
          login: undefined,
          password: undefined,
          account: undefined,
        };
        entries.push(current);
        break;
      }
      case "default":
        current = { machine: undefined, login: undefined, password: undefined, account: undefined };
        entries.push(current);
        break;
      case "login":
      case "password":
      case "account": {
        const value = tokens[i];
        i++;
        if (value === undefined) {
          warnings.push(`netrc line ${tok.line}: '${tok.text}' without a value`);
          break;
        }
        if (current === undefined) {
          warnings.push(`netrc line ${tok.line}: '${tok.text}' outside a machine entry`);
          break;
        }
        current[tok.text as "login" | "password" | "account"] = value.text;
        break;
      }
      case "macdef":
        break; // body already skipped by the tokenizer
      default:
        warnings.push(`netrc line ${tok.line}: unexpected token`);
    }
  }
  return { entries, warnings };
}

/** The entry for `host` (a host name, port ignored): the first `machine` match, else `default`. */
export function lookupNetrc(netrc: ParsedNetrc, host: string): NetrcEntry | undefined {
  const wanted = host
    .replace(/:\d+$/, "")
    .replace(/^\[|\]$/g, "")
    .toLowerCase();
  const machine = netrc.entries.find((e) => e.machine === wanted);
  if (machine !== undefined) return machine;
  return netrc.entries.find((e) => e.machine === undefined);
}

/** Where the netrc file is: `$NETRC`, else `~/.netrc` (`~/_netrc` on Windows when that exists). */
export function netrcPath(env: NodeJS.ProcessEnv): string {
  if (env.NETRC) return path.resolve(env.NETRC);
  const home = env.HOME || env.USERPROFILE || os.homedir();
  const dotted = path.join(home, ".netrc");
  if (process.platform === "win32" && !fs.existsSync(dotted)) {
    const underscored = path.join(home, "_netrc");
    if (fs.existsSync(underscored)) return underscored;
  }
  return dotted;
}

/** Read and parse the netrc file; undefined when there is none (or it cannot be read). */
export function readNetrc(env: NodeJS.ProcessEnv): ParsedNetrc | undefined {
  let text: string;
  try {
    text = fs.readFileSync(netrcPath(env), "utf8");
  } catch {
    return undefined;
  }
  return parseNetrc(text);
}
