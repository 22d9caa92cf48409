/**
 * The edge and serverless jobs end to end against the real PyPI (issue 13; `npm run
 * test:e2e`, not `npm test`): lock for CPython 3.11 on manylinux_2_28_aarch64, install that
 * lock `--slim edge`, `size`, move one package in the lock and `sync`; the same for a Lambda
 * `--target` dir for CPython 3.12 on x86_64, ending in a zip under 250 MB.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { e2eWorld } from "./e2e-world.ts";

const world = e2eWorld("slimenv-e2e-edge-");
afterAll(() => world.cleanup());

function ok(args: string[]): string {
  const res = world.slimenv(args);
  expect(res.status, `slimenv ${args.join(" ")}: ${res.stderr}`).toBe(0);
  return res.stdout;
}

describe("the edge job", () => {
  it("locks for aarch64, installs --slim edge, sizes, and syncs a moved package", () => {
    const req = path.join(world.base, "req.txt");
    writeFileSync(req, "numpy\nscipy\npillow\nrequests\npyyaml\n");
    const target = ["--python-version", "3.11", "--platform", "manylinux_2_28_aarch64"];
    ok(["lock", "-r", req, ...target, "-o", "pylock.aarch64.toml"]);
    ok(["install", "pylock.aarch64.toml", "--prefix", "dev", "--slim", "edge"]);
    const size = JSON.parse(ok(["size", "dev", "--json"]));
    expect(size.distributions.map((d: { name: string }) => d.name.toLowerCase())).toEqual(
      expect.arrayContaining(["numpy", "scipy", "pillow", "requests", "pyyaml"]),
    );
    writeFileSync(req, "numpy\nscipy\npillow\nrequests==2.32.5\npyyaml\n");
    // The lock keeps its aarch64 target: no target option is needed to lock again or check.
    ok(["lock", "-r", req, "-o", "pylock.aarch64.toml"]);
    ok(["lock", "--check", "-r", req, "-o", "pylock.aarch64.toml"]);
    const synced = ok(["sync", "dev", "pylock.aarch64.toml"]);
    expect(synced).toMatch(/requests .*-> 2\.32\.5/);
  });

  it("makes a Lambda --target dir for 3.12 x86_64 and zips it under 250 MB after a sync", () => {
    const req = path.join(world.base, "lambda.txt");
    const target = ["--python-version", "3.12", "--platform", "manylinux_2_28_x86_64"];
    writeFileSync(req, "requests\npyyaml\nnumpy\n");
    ok(["install", "-r", req, "--target", "lambda", ...target, "--slim", "edge"]);
    writeFileSync(req, "requests\npyyaml\nnumpy==2.3.5\n");
    ok(["lock", "-r", req, ...target, "-o", "lambda.lock.toml"]);
    expect(ok(["sync", "lambda", "lambda.lock.toml"])).toMatch(/numpy .*-> 2\.3\.5/);
    const zipped = JSON.parse(
      ok(["zip", "lambda", "-o", "lambda.zip", "--max-size", "250M", "--json"]),
    );
    expect(zipped.excluded).toEqual([".slimenv"]);
  });
});
