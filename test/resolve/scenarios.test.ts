import { describe, expect, test } from "vitest";
import { outcome } from "./registry.ts";
import { scenarios } from "./scenarios.ts";

describe("resolver scenarios", () => {
  test("there are at least 40 scenarios, with distinct names", () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(40);
    expect(new Set(scenarios.map((s) => s.name)).size).toBe(scenarios.length);
  });

  test.each(scenarios.map((s) => [s.name, s] as const))("%s", async (_name, s) => {
    expect(await outcome(s.registry, s.requirements, s.options)).toBe(s.expected);
  });
});
