/** The cap on V8's young generation that the CLI process sets (src/cli/young-generation.ts). */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const MODULE = fileURLToPath(new URL("../../src/cli/young-generation.ts", import.meta.url));

/** Young generation size (MB, both semi-spaces) of a Node process that allocates after the cap. */
function youngGenerationAfterWork(env: Record<string, string>, capMb?: number): number {
  const script = `
    import v8 from "node:v8";
    import { capYoungGeneration } from ${JSON.stringify(MODULE)};
    capYoungGeneration(${capMb ?? "undefined"});
    // Objects that live a few rounds: what makes V8 grow its young generation.
    const window = [];
    for (let round = 0; round < 300; round++) {
      const batch = [];
      for (let i = 0; i < 10000; i++) batch.push({ i, s: String(i) });
      window.push(batch);
      if (window.length > 10) window.shift();
      await new Promise((r) => setImmediate(r));
    }
    const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
    process.stdout.write(String(space.space_size / 1048576));
  `;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
  return Number(out);
}

describe("capYoungGeneration", () => {
  it("stops the young generation's growth at the cap", () => {
    const capped = youngGenerationAfterWork({});
    const uncapped = youngGenerationAfterWork({ SLIMENV_YOUNG_GENERATION_MB: "0" });
    // Growth stops at the first garbage collection that finds it at the cap or over.
    expect(capped).toBeGreaterThan(0);
    expect(capped).toBeLessThan(16);
    expect(uncapped).toBeGreaterThanOrEqual(32);
  });

  it("takes its cap from SLIMENV_YOUNG_GENERATION_MB, and ignores a value that is not a number", () => {
    // V8 may still add a page or two past the cap; far from the 32 MB and more it grows to.
    expect(youngGenerationAfterWork({ SLIMENV_YOUNG_GENERATION_MB: "2" })).toBeLessThan(16);
    expect(youngGenerationAfterWork({ SLIMENV_YOUNG_GENERATION_MB: "lots" }, 2)).toBeLessThan(16);
  });
});
