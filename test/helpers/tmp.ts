/**
 * Temp folders for tests, removed after the test file (by test/helpers/tmp-setup.ts, which
 * every test file loads through vitest.config.ts).
 *
 * The setup also points TMPDIR at a fresh folder for each test file (so the CLI processes a
 * test starts use it too) and, after the file, FAILS the file when anything is left in it
 * that was not made through `tempDir`: a test, or slimenv itself, that leaves temp folders
 * behind is a bug the suite reports.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const made: string[] = [];

/** A fresh folder `<tmpdir>/<prefix>XXXXXX` (or under `base`), removed after the test file. */
export function tempDir(prefix: string, base = tmpdir()): string {
  const dir = mkdtempSync(path.join(base, prefix));
  made.push(dir);
  return dir;
}

/** Remove every folder `tempDir` made (the setup's afterAll calls it). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
