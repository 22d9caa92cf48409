import path from "node:path";
import { describe, expect, it } from "vitest";
import { importCycles, importGraph, layerViolations } from "../scripts/import-graph.ts";

const root = path.resolve(import.meta.dirname, "..", "src");

describe("the import graph of src/", () => {
  const graph = importGraph(root);

  it("has no import cycle", () => {
    expect(importCycles(graph).map((c) => c.map((f) => path.relative(root, f)))).toEqual([]);
  });

  it("only imports down the layers (docs/architecture.md)", () => {
    expect(layerViolations(root, graph)).toEqual([]);
  });
});
