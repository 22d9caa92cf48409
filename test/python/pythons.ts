/**
 * The real interpreters the python tests run against: every CPython 3.6–3.13 under pyenv
 * ($PYENV_ROOT or ~/.pyenv). A machine with fewer fails the tests that need them (naming
 * what is missing) unless SLIMENV_TEST_ALLOW_FEWER_PYTHONS=1 — which CI ignores.
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { inCi, pyenvVersionsDir } from "../helpers/prereq.ts";

export const WANTED_MINORS = [6, 7, 8, 9, 10, 11, 12, 13];

export interface TestPython {
  minor: number;
  /** The pyenv version name, e.g. "3.11.7". */
  name: string;
  exe: string;
}

export { pyenvVersionsDir };

/** Fewer interpreters are allowed only outside CI, and only when asked for. */
export function fewerPythonsAllowed(): boolean {
  return !inCi() && process.env.SLIMENV_TEST_ALLOW_FEWER_PYTHONS === "1";
}

/** The newest pyenv CPython of each wanted minor version. */
export function pyenvPythons(): TestPython[] {
  const dir = pyenvVersionsDir();
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    names = [];
  }
  const out: TestPython[] = [];
  for (const minor of WANTED_MINORS) {
    const candidates = names
      .filter((n) => new RegExp(`^3\\.${minor}\\.\\d+$`).test(n))
      .sort((a, b) => Number(b.split(".")[2]) - Number(a.split(".")[2]));
    for (const name of candidates) {
      const exe = path.join(dir, name, "bin", "python3");
      if (existsSync(exe)) {
        out.push({ minor, name, exe });
        break;
      }
    }
  }
  return out;
}

/** Throw (failing the test) when a wanted minor version is missing, unless allowed. */
export function requireAllPythons(found: TestPython[]): void {
  const missing = WANTED_MINORS.filter((m) => !found.some((p) => p.minor === m));
  if (missing.length > 0 && !fewerPythonsAllowed()) {
    throw new Error(
      `need CPython ${WANTED_MINORS.map((m) => `3.${m}`).join(", ")} under ${pyenvVersionsDir()}; ` +
        `missing: ${missing.map((m) => `3.${m}`).join(", ")}: install them with ` +
        missing.map((m) => `\`pyenv install 3.${m}\``).join(", ") +
        (inCi() ? "" : " (or set SLIMENV_TEST_ALLOW_FEWER_PYTHONS=1 to test fewer)"),
    );
  }
  if (found.length === 0) throw new Error(`no CPython 3.6–3.13 under ${pyenvVersionsDir()}`);
}
