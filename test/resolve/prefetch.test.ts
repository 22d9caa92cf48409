/**
 * Provider calls overlap: with a provider that answers after a delay, a wide tree keeps many
 * calls in flight (bounded by `concurrency`) instead of asking one at a time, and each answer
 * is asked for once. Measured by calls in flight, not by wall time.
 */
import { describe, expect, test } from "vitest";
import { type Registry, resolveTable, summary, TableProvider } from "./registry.ts";

function wideRegistry(width: number): Registry {
  const registry: Registry = { app: { "1.0": [] } };
  const appDeps: string[] = [];
  for (let i = 0; i < width; i++) {
    appDeps.push(`lib${i}>=1`);
    registry[`lib${i}`] = { "1.0": [], "2.0": [`leaf${i}`] };
    registry[`leaf${i}`] = { "0.5": [] };
  }
  registry.app = { "1.0": appDeps };
  return registry;
}

describe("parallel prefetch", () => {
  test("a wide tree of 50 packages overlaps its provider calls up to the limit", async () => {
    const registry = wideRegistry(25);
    const provider = new TableProvider(registry, { delayMs: 50 });
    const resolution = await resolveTable(registry, ["app"], { provider, concurrency: 16 });
    expect(resolution.packages).toHaveLength(51);
    expect(summary(resolution)).toContain(" leaf7==0.5 ");
    expect(summary(resolution)).toContain(" lib7==2.0 ");
    expect(provider.maxInFlight).toBe(16);
    // The solver takes one package at a time; the metadata of the others is already on its
    // way (without prefetch, at most one dependencies call would ever be in flight).
    expect(provider.maxInFlightOf.get("dependencies")).toBe(16);
    // Every answer is asked for once.
    expect(new Set(provider.calls).size).toBe(provider.calls.length);
    expect(provider.calls.filter((c) => c.startsWith("candidates"))).toHaveLength(51);
    expect(provider.calls.filter((c) => c.startsWith("dependencies"))).toHaveLength(51);
  });

  test("the concurrency option bounds the calls in flight", async () => {
    const registry = wideRegistry(20);
    const provider = new TableProvider(registry, { delayMs: 5 });
    await resolveTable(registry, ["app"], { provider, concurrency: 3 });
    expect(provider.maxInFlight).toBe(3);
  });

  test("dependencies of the likely version are fetched before the solver asks", async () => {
    // app -> mid -> deep: after app's candidates arrive, its metadata is prefetched, which
    // discovers mid, whose candidates and metadata are fetched in the background, and so on.
    const registry: Registry = {
      app: { "1.0": ["mid"] },
      mid: { "1.0": ["deep"] },
      deep: { "1.0": [] },
    };
    const provider = new TableProvider(registry, { delayMs: 20 });
    await resolveTable(registry, ["app"], { provider });
    expect(provider.calls).toEqual([
      "candidates app",
      "dependencies app 1.0",
      "candidates mid",
      "dependencies mid 1.0",
      "candidates deep",
      "dependencies deep 1.0",
    ]);
  });

  test("delays do not change the result", async () => {
    const registry = wideRegistry(10);
    const fast = summary(await resolveTable(registry, ["app"]));
    const provider = new TableProvider(registry, { delayMs: 3 });
    expect(summary(await resolveTable(registry, ["app"], { provider }))).toBe(fast);
  });

  test("a provider failure rejects the resolution with that error", async () => {
    const registry: Registry = { app: { "1.0": ["lib"] }, lib: { "1.0": [] } };
    const provider = new TableProvider(registry);
    const failing = {
      candidates: (name: string) =>
        name === "lib" ? Promise.reject(new Error("index down")) : provider.candidates(name),
      dependencies: provider.dependencies.bind(provider),
    };
    await expect(resolveTable(registry, ["app"], { provider: failing })).rejects.toThrow(
      "index down",
    );
  });
});
