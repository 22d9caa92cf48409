/**
 * Loaded before every test file (vitest.config.ts setupFiles): a fresh TMPDIR per test file,
 * the folders made through tempDir removed after it, and a failure naming whatever else the
 * file (its tests, or slimenv code they ran) left in the temp folder.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll } from "vitest";
import { removeTempDirs } from "./tmp.ts";

const outer = process.env.TMPDIR;
const fileTmp = mkdtempSync(path.join(tmpdir(), "slimenv-test-"));
process.env.TMPDIR = fileTmp;

afterAll(() => {
  removeTempDirs();
  let left: string[] = [];
  try {
    left = readdirSync(fileTmp);
  } finally {
    if (outer === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = outer;
    rmSync(fileTmp, { recursive: true, force: true });
  }
  if (left.length > 0) {
    throw new Error(
      `this test file left ${left.length} entr${left.length === 1 ? "y" : "ies"} in the temp ` +
        `folder: ${left.sort().join(", ")} (make temp folders with test/helpers/tmp.ts tempDir, ` +
        "or remove them in afterEach/afterAll; slimenv itself must not leave any)",
    );
  }
});
