/**
 * The import graph of src/: import cycles between files, and imports that do not point down
 * the layers (docs/architecture.md). `node scripts/import-graph.ts` prints both and exits 1
 * when there is any; test/layers.test.ts asserts there is none.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** Folders under src/, lowest first; folders on one line may not import each other. */
export const LAYERS: readonly (readonly string[])[] = [
  ["base"],
  ["standards", "archive", "elf"],
  ["settings"],
  ["python"],
  ["index"],
  ["resolve"],
  ["store"],
  ["build"],
  ["env"],
  ["slim"],
  ["report", "runtime", "bundle"],
  ["cli"],
];

const SPECIFIER =
  /(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?["'](\.{1,2}\/[^"']+)["']/g;

/** Every .ts file under `root` and the files it imports (relative imports only). */
export function importGraph(root: string): Map<string, string[]> {
  const files = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => path.join(e.parentPath, e.name));
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const deps = new Set<string>();
    for (const m of readFileSync(file, "utf8").matchAll(SPECIFIER)) {
      const target = path.resolve(path.dirname(file), m[1] as string);
      if (known.has(target)) deps.add(target);
    }
    graph.set(file, [...deps]);
  }
  return graph;
}

/** Strongly connected components with more than one file (Tarjan). */
export function importCycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

/** Imports from one top folder of `root` into another that is not below it. */
export function layerViolations(root: string, graph: Map<string, string[]>): string[] {
  const folder = (file: string) => {
    const parts = path.relative(root, file).split(path.sep);
    return parts.length > 1 ? parts[0] : undefined;
  };
  const rank = (name: string | undefined) =>
    name === undefined ? -1 : LAYERS.findIndex((layer) => layer.includes(name));
  const out: string[] = [];
  for (const [file, deps] of graph) {
    const from = folder(file);
    if (from === undefined) continue; // src/index.ts: the public API may name any layer
    for (const dep of deps) {
      const to = folder(dep);
      if (to === undefined || to === from) continue;
      if (rank(to) < 0 || rank(from) < 0 || rank(to) >= rank(from)) {
        out.push(`${path.relative(root, file)} → ${path.relative(root, dep)}`);
      }
    }
  }
  return out.sort();
}

if (import.meta.main) {
  const root = path.resolve(import.meta.dirname, "..", "src");
  const graph = importGraph(root);
  const cycles = importCycles(graph);
  const violations = layerViolations(root, graph);
  console.log(
    `${graph.size} files; ${cycles.length} import cycles; ${violations.length} imports that do not point down`,
  );
  for (const c of cycles) console.log(`cycle: ${c.map((f) => path.relative(root, f)).join(" ⇄ ")}`);
  for (const v of violations) console.log(`not down: ${v}`);
  process.exitCode = cycles.length + violations.length > 0 ? 1 : 0;
}
