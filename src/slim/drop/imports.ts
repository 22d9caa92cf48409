/**
 * The static import scan that keeps drop candidates code still needs: when a module that is
 * not itself a candidate imports a module inside a candidate's scope (`import numpy.testing`,
 * `from pandas import _testing`, `from . import tests`), the whole scope is kept, and the kept
 * files are scanned in turn.
 *
 * The scan works at the level of tokens, not a parser: strings and comments are blanked out,
 * lines are joined inside brackets and after a backslash, and each statement that starts with
 * `import` or `from` (also after `try:`-style headers on the same line, and after `;`) is
 * read. `importlib.import_module("a.b")` and `__import__("a.b")` with a literal string count
 * too. Limits (documented in docs/slim.md): a module name built at run time, read from data,
 * or imported from C code is not seen; `exec`'d source is not seen. The import check after
 * slimming catches what the scan misses.
 */

/** The module a site-relative path names, or undefined when it is not importable as one. */
export function moduleOfPath(rulePath: string): string | undefined {
  let p = rulePath;
  if (p.endsWith("/__init__.py")) p = p.slice(0, -"/__init__.py".length);
  else if (p.endsWith(".py")) p = p.slice(0, -3);
  const parts = p.split("/");
  if (parts.some((s) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(s))) return undefined;
  return parts.join(".");
}

/** Blank out comments and string literals (keeping newlines), so only code is left. */
export function codeOnly(source: string): string {
  const out: string[] = [];
  let i = 0;
  const n = source.length;
  while (i < n) {
    const ch = source[i] as string;
    if (ch === "#") {
      while (i < n && source[i] !== "\n") {
        out.push(" ");
        i++;
      }
      continue;
    }
    if (ch === '"' || ch === "'") {
      const triple = source.startsWith(ch.repeat(3), i);
      const quote = triple ? ch.repeat(3) : ch;
      out.push(" ".repeat(quote.length));
      i += quote.length;
      while (i < n) {
        const c = source[i] as string;
        if (c === "\\") {
          out.push(" ", source[i + 1] === "\n" ? "\n" : " ");
          i += 2;
          continue;
        }
        if (source.startsWith(quote, i)) {
          out.push(" ".repeat(quote.length));
          i += quote.length;
          break;
        }
        if (c === "\n" && !triple) break;
        out.push(c === "\n" ? "\n" : " ");
        i++;
      }
      continue;
    }
    out.push(ch);
    i++;
  }
  return out.join("");
}

/** Logical lines: physical lines joined inside brackets and after a trailing backslash. */
function logicalLines(code: string): string[] {
  const lines: string[] = [];
  let current = "";
  let depth = 0;
  for (const raw of code.split("\n")) {
    let line = raw;
    const continued = /\\\s*$/.test(line);
    if (continued) line = line.replace(/\\\s*$/, " ");
    for (const c of line) {
      if (c === "(" || c === "[" || c === "{") depth++;
      else if ((c === ")" || c === "]" || c === "}") && depth > 0) depth--;
    }
    current += `${line} `;
    if (depth === 0 && !continued) {
      lines.push(current);
      current = "";
    }
  }
  if (current.trim() !== "") lines.push(current);
  return lines;
}

const DOTTED = /^[A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*$/;
const STATEMENT =
  /^\s*(?:(?:try|else|finally|if\b[^:]*|elif\b[^:]*|except\b[^:]*)\s*:\s*)?(import|from)\s+(.*)$/s;
const DYNAMIC = /\b(?:import_module|__import__)\s*\(\s*(?:[rRuU]?)(["'])([A-Za-z_][\w.]*)\1/g;

function names(list: string): string[] {
  return list
    .replace(/[()]/g, " ")
    .split(",")
    .map(
      (part) =>
        part
          .trim()
          .split(/\s+as\s+/)[0]
          ?.trim() ?? "",
    )
    .filter((name) => DOTTED.test(name))
    .map((name) => name.replace(/\s+/g, ""));
}

/**
 * Modules a source file imports, absolute names. `module` is the file's own module name
 * and `isPackage` says whether it is a package's `__init__` (for relative imports).
 * `from a import b` gives both `a` and `a.b` (b may be a submodule).
 */
export function importedModules(source: string, module: string, isPackage: boolean): string[] {
  const found = new Set<string>();
  for (const m of source.matchAll(DYNAMIC)) found.add(m[2] as string);
  const pkgParts = module.split(".");
  if (!isPackage) pkgParts.pop();
  for (const line of logicalLines(codeOnly(source))) {
    for (const statement of line.split(";")) {
      const m = STATEMENT.exec(statement);
      if (m === null) continue;
      const rest = (m[2] as string).trim();
      if (m[1] === "import") {
        for (const name of names(rest)) found.add(name);
        continue;
      }
      const fm = /^(\.*)\s*([A-Za-z_][\w.\s]*?)?\s+import\s+(.*)$/s.exec(rest);
      if (fm === null) continue;
      const level = (fm[1] as string).length;
      let base = (fm[2] ?? "").replace(/\s+/g, "");
      if (level > 0) {
        const keep = pkgParts.length - (level - 1);
        if (keep <= 0) continue;
        const prefix = pkgParts.slice(0, keep).join(".");
        base = base === "" ? prefix : `${prefix}.${base}`;
      }
      if (base === "" || !DOTTED.test(base)) continue;
      found.add(base);
      const imported = (fm[3] as string).trim();
      if (imported.startsWith("*")) continue;
      for (const name of names(imported)) found.add(`${base}.${name}`);
    }
  }
  return [...found];
}

/** One Python file the scan may read. */
export interface ScanFile {
  /** Site-relative path. */
  rulePath: string;
  read(): Promise<string>;
}

/** A drop candidate Python file, with the scope its rule matched. */
export interface ScanCandidate extends ScanFile {
  scope: string;
}

export interface ScanResult {
  /** Candidate files kept: imported (directly or through kept code), or a package on the way. */
  files: Set<string>;
  /** Scopes holding a kept file: their other files (data) are kept too. */
  scopes: Set<string>;
}

/**
 * What code outside every candidate imports among the candidates, directly or through kept
 * code. `code` is every non-candidate Python file of the environment. Importing `a.b.c`
 * keeps the candidate modules `a`, `a.b` and `a.b.c` (packages' `__init__` on the way);
 * a package's submodules stay candidates unless something imports them.
 */
export async function keptByImports(
  code: readonly ScanFile[],
  candidates: readonly ScanCandidate[],
): Promise<ScanResult> {
  const byModule = new Map<string, ScanCandidate>();
  for (const c of candidates) {
    const module = moduleOfPath(c.rulePath);
    if (module !== undefined) byModule.set(module, c);
  }
  const result: ScanResult = { files: new Set(), scopes: new Set() };
  if (byModule.size === 0) return result;
  // Code outside the candidates can only reach a scope by naming it (absolute or relative
  // imports alike): files that do not mention any scope's last name are not parsed.
  const scopeNames = new Set<string>();
  for (const c of candidates) {
    const last = c.scope.slice(c.scope.lastIndexOf("/") + 1).replace(/\.py$/, "");
    if (/^[A-Za-z_]\w*$/.test(last)) scopeNames.add(last);
  }
  const quick = new RegExp(`\\b(?:${[...scopeNames].join("|") || "(?!)"})\\b`);
  const queue: { file: ScanFile; candidate: boolean }[] = code.map((file) => ({
    file,
    candidate: false,
  }));
  const scanned = new Set<string>();
  while (queue.length > 0) {
    const { file, candidate } = queue.pop() as { file: ScanFile; candidate: boolean };
    if (scanned.has(file.rulePath)) continue;
    scanned.add(file.rulePath);
    const module = moduleOfPath(file.rulePath);
    if (module === undefined) continue;
    const source = await file.read();
    if (!candidate && !quick.test(source)) continue;
    for (const imported of importedModules(source, module, file.rulePath.endsWith("__init__.py"))) {
      const parts = imported.split(".");
      for (let i = 1; i <= parts.length; i++) {
        const hit = byModule.get(parts.slice(0, i).join("."));
        if (hit === undefined || result.files.has(hit.rulePath)) continue;
        result.files.add(hit.rulePath);
        result.scopes.add(hit.scope);
        queue.push({ file: hit, candidate: true });
      }
    }
  }
  return result;
}
