/**
 * `slimenv install --target … --zip` of requests from the real PyPI (run by
 * `npm run test:e2e`, not by `npm test`): the zip is within budget, holds no .slimenv/, is the
 * same bytes as `slimenv zip` of the folder, and Python imports requests with only the zip on
 * sys.path (as AWS Lambda puts its root there).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { e2eWorld } from "./e2e-world.ts";

const PYTHON = process.env.SLIMENV_E2E_PYTHON ?? "python3";
const world = e2eWorld("slimenv-e2e-zip-");
afterAll(() => world.cleanup());

describe("a Lambda-style zip of requests", () => {
  it("installs, zips within 250M, and imports from the zip", () => {
    const res = world.slimenv([
      "install",
      "requests",
      "--target",
      "lambda",
      "--python",
      PYTHON,
      "--zip",
      "lambda.zip",
      "--max-size",
      "250M",
    ]);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(
      /wrote .*lambda\.zip: \d+ files, .* zipped, .* unzipped, .* under the 250\.0 MiB budget/,
    );
    expect(res.stdout).toMatch(/\nrequests +\d/);
    const again = world.slimenv(["zip", "lambda", "-o", "again.zip", "--json"]);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).excluded).toEqual([".slimenv"]);
    const a = readFileSync(path.join(world.base, "lambda.zip"));
    expect(a.equals(readFileSync(path.join(world.base, "again.zip")))).toBe(true);
    const py = world.run(PYTHON, [
      "-I",
      "-c",
      "import sys, zipfile; sys.path.insert(0, 'lambda.zip'); import requests; print(requests.__file__); print(any(n.startswith('.slimenv') for n in zipfile.ZipFile('lambda.zip').namelist()))",
    ]);
    expect(py.stderr).toBe("");
    expect(py.stdout).toBe(`${path.join("lambda.zip", "requests", "__init__.py")}\nFalse\n`);
  });
});
