#!/usr/bin/env node
// Runs the bundled CLI (dist/slimenv.js, made by `npm run build`) when it is at least as new
// as every source file; otherwise the TypeScript sources directly, through Node's type
// stripping. An installed copy (under node_modules: `npm install -g`, from a tarball made by
// `npm pack`, whose prepack script builds the bundle) always runs the bundle: extraction
// gives every file a new mtime, and Node does not strip types under node_modules anyway.
// SLIMENV_FROM_SOURCE=1 forces the sources. A Node too old for either gets one
// line on stderr and exit status 1, before anything that needs a newer Node is imported.
import { existsSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { nodeIsSupported, nodeProblem, silenceSqliteWarning } from "./node-check.js";

const bundled = new URL("../dist/slimenv.js", import.meta.url);
const sources = fileURLToPath(new URL("../src", import.meta.url));
const root = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

function bundleIsFresh() {
  if (process.env.SLIMENV_FROM_SOURCE || !existsSync(bundled)) return false;
  if (!existsSync(sources) || root.split(/[\\/]/).includes("node_modules")) return true;
  const built = statSync(bundled).mtimeMs;
  for (const entry of readdirSync(sources, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && statSync(`${entry.parentPath}/${entry.name}`).mtimeMs > built) {
      return false;
    }
  }
  return true;
}

// bundleIsFresh() itself needs Node ≥ 20.12 (Dirent.parentPath): check the version first.
const fresh = nodeIsSupported(process.versions.node) && bundleIsFresh();
const problem = nodeProblem({
  node: process.versions.node,
  typescript: process.features?.typescript,
  fromSource: !fresh,
  root,
});
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}

silenceSqliteWarning();

const { main } = fresh ? await import(bundled.href) : await import("../src/cli/main.ts");
await main(process.argv.slice(2));
