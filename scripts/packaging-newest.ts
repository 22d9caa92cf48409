/**
 * Opt-in, never run by CI: what would change if the differential tests compared slimenv with
 * the newest pypa/packaging instead of the pinned oracle (test/helpers/packaging.ts).
 *
 *   npm run test:packaging-newest                 # newest packaging from the index
 *   npm run test:packaging-newest -- 26.4         # a given version
 *
 * Runs the differential test files twice (pinned, then SLIMENV_TEST_PACKAGING=<version>) with
 * vitest's JSON reporter and prints every test whose outcome changed, with the new failure's
 * first lines. Exit 0 when nothing changed, 1 when something did, 2 when a run did not finish.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
const VITEST = path.join(ROOT, "node_modules", "vitest", "vitest.mjs");

/** The test files that compare slimenv with packaging. */
export const DIFFERENTIAL_FILES = [
  "test/standards/pep440-differential.test.ts",
  "test/standards/pep508-differential.test.ts",
  "test/standards/requirements-txt-differential.test.ts",
  "test/standards/tags-differential.test.ts",
  "test/standards/wheel-filename.test.ts",
  "test/standards/sdist-filename.test.ts",
  "test/standards/metadata.test.ts",
  "test/python/target-spec.test.ts",
  "test/python/target-probe.test.ts",
  "test/python/probe-packaging.test.ts",
];

interface JsonAssertion {
  fullName: string;
  status: string;
  failureMessages?: string[];
}
interface JsonReport {
  testResults: {
    name: string;
    status: string;
    message?: string;
    assertionResults: JsonAssertion[];
  }[];
}

export interface Outcome {
  status: string;
  failure: string;
}

/** Test id ("file > full name") → outcome; a file that failed to load is one "(file)" entry. */
export function outcomes(report: JsonReport): Map<string, Outcome> {
  const out = new Map<string, Outcome>();
  for (const file of report.testResults) {
    const rel = path.relative(ROOT, file.name);
    // vitest's JSON has no place for a failed beforeAll: its tests show as skipped and only the
    // file says "failed". Keep that as a "(file)" outcome.
    const failedTests = file.assertionResults.some((a) => a.status === "failed");
    out.set(`${rel} > (file)`, {
      status: file.status === "failed" && !failedTests ? "failed outside its tests" : "ran",
      failure:
        file.message ||
        `a hook (beforeAll) or the collection failed: run SLIMENV_TEST_PACKAGING=<version> npx vitest run ${rel}`,
    });
    for (const a of file.assertionResults) {
      out.set(`${rel} > ${a.fullName}`, {
        status: a.status,
        failure: (a.failureMessages ?? []).join("\n"),
      });
    }
  }
  return out;
}

function run(label: string, packaging: string | undefined, work: string): Map<string, Outcome> {
  const outputFile = path.join(work, `${label}.json`);
  const env = { ...process.env };
  delete env.CI; // a missing interpreter skips here: this compares outcomes, it is not CI
  if (packaging === undefined) delete env.SLIMENV_TEST_PACKAGING;
  else env.SLIMENV_TEST_PACKAGING = packaging;
  console.error(`running the differential tests with packaging ${packaging ?? "pinned"}…`);
  const res = spawnSync(
    process.execPath,
    [VITEST, "run", "--reporter=json", `--outputFile=${outputFile}`, ...DIFFERENTIAL_FILES],
    { cwd: ROOT, env, stdio: ["ignore", "ignore", "inherit"] },
  );
  let report: JsonReport;
  try {
    report = JSON.parse(readFileSync(outputFile, "utf8")) as JsonReport;
  } catch {
    console.error(
      `vitest (packaging ${packaging ?? "pinned"}) wrote no report (exit ${res.status})`,
    );
    process.exit(2);
  }
  return outcomes(report);
}

function firstLines(text: string, n = 6): string {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(0, n)
    .map((l) => `      ${l}`)
    .join("\n");
}

function main(): void {
  const version = process.argv[2] ?? "latest";
  const work = mkdtempSync(path.join(tmpdir(), "slimenv-packaging-newest-"));
  try {
    const pinned = run("pinned", undefined, work);
    const newest = run("newest", version, work);
    const ids = [...new Set([...pinned.keys(), ...newest.keys()])].sort();
    const changed = ids.filter((id) => pinned.get(id)?.status !== newest.get(id)?.status);
    console.log(
      `packaging ${version} vs the pinned oracle: ${ids.length} tests, ${changed.length} changed outcome`,
    );
    for (const id of changed) {
      const a = pinned.get(id);
      const b = newest.get(id);
      console.log(`  ${id}: ${a?.status ?? "absent"} -> ${b?.status ?? "absent"}`);
      const failure = b?.status === "failed" ? b.failure : a?.failure;
      if (failure) console.log(firstLines(failure));
    }
    process.exitCode = changed.length === 0 ? 0 : 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
