/**
 * Every packse scenario (astral-sh/packse's resolver test suite, in ../shared/packse) locks
 * as its expected.json says: for each scenario and target, an index of generated wheels and
 * sdists is served in-process (test/helpers/packse.ts), `lock` runs for that target, and the
 * locked name→version set must equal the expected one exactly — or the lock must fail with
 * NO_SOLUTION where the scenario is unsatisfiable. With CI=true a missing data folder fails.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { isSlimenvError } from "../../src/base/index.ts";
import { targetFromSpec } from "../../src/python/target-spec.ts";
import { lock } from "../../src/resolve/lock.ts";
import { readLockInputs } from "../../src/resolve/lock-inputs.ts";
import { SpecifierSet } from "../../src/standards/specifiers.ts";
import { Version } from "../../src/standards/version.ts";
import { startIndexServer } from "../helpers/index-server.ts";
import {
  findPackseDir,
  loadPackse,
  lockRequest,
  type PackseTest,
  packseDirFor,
  packseProjects,
  targetSpec,
} from "../helpers/packse.ts";
import { testClient } from "./lock-fixtures.ts";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const dir = findPackseDir(repoRoot);
const ci = process.env.CI === "true";

const client = testClient();
const lockDir = mkdtempSync(path.join(os.tmpdir(), "slimenv-packse-"));
afterAll(async () => {
  await client.close();
  rmSync(lockDir, { recursive: true, force: true });
});

/** The outcome of locking a scenario: "a==1.0.0 b==2.0.0", or "NO_SOLUTION". */
async function outcome(t: PackseTest): Promise<string> {
  const request = lockRequest(t);
  const spec = targetSpec(t.expected.target);
  const server = await startIndexServer({ projects: packseProjects(t.scenario) });
  try {
    const inputs = readLockInputs({ requirements: request.requirements, cwd: lockDir });
    if (request.requiresPython !== undefined) {
      inputs.requiresPython = new SpecifierSet(request.requiresPython);
    }
    const result = await lock(inputs, {
      target: targetFromSpec(spec),
      targetInfo: { kind: "spec", spec },
      settings: {
        indexUrls: [server.url],
        findLinks: [],
        strategy: "first-index",
        onlyBinary: request.onlyBinary,
        noBinary: request.noBinary,
        prerelease: request.prerelease,
        resolution: "highest",
      },
      client,
      lockDir,
    });
    return versionsText(
      Object.fromEntries(result.pylock.packages.map((p) => [p.name, p.version ?? "?"])),
    );
  } catch (err) {
    if (isSlimenvError(err, "NO_SOLUTION")) return "NO_SOLUTION";
    throw err;
  } finally {
    await server.close();
  }
}

function versionsText(packages: Record<string, string>): string {
  return Object.entries(packages)
    .map(([name, v]) => `${name}==${new Version(v).toString()}`)
    .sort()
    .join(" ");
}

function expectedText(t: PackseTest): string {
  return t.expected.satisfiable ? versionsText(t.expected.packages) : "NO_SOLUTION";
}

if (dir === undefined) {
  const missing = `expected.json in ${packseDirFor(repoRoot)}`;
  describe("packse scenarios", () => {
    // Skipped (with this title as the message) outside CI; a failure under CI=true.
    test.skipIf(!ci)(`packse data not found: ${missing} (set SLIMENV_PACKSE_DIR)`, () => {
      throw new Error(
        `the packse scenarios are missing: no ${missing} (CI needs a copy of shared/ beside the clone)`,
      );
    });
  });
} else {
  const suite = loadPackse(dir);
  describe("packse scenarios", () => {
    test("expected.json covers every scenario, one test per scenario and target", () => {
      // loadPackse already refused a scenario without an entry, or an entry without a file.
      expect(suite.tests.length).toBeGreaterThan(100);
      expect(new Set(suite.tests.map((t) => t.title)).size).toBe(suite.tests.length);
    });
    test.each(suite.tests.map((t) => [t.title, t] as const))("%s", async (_title, t) => {
      expect(await outcome(t)).toBe(expectedText(t));
    });
  });
}
