#!/usr/bin/env node
// Runs the bundled CLI (dist/slimenv.js, made by `npm run build`) when it is at least as new
// as every source file; otherwise the TypeScript sources directly, through Node's type
// stripping. SLIMENV_FROM_SOURCE=1 forces the sources.
import { existsSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const bundled = new URL("../dist/slimenv.js", import.meta.url);
const sources = fileURLToPath(new URL("../src", import.meta.url));

function bundleIsFresh() {
  if (process.env.SLIMENV_FROM_SOURCE || !existsSync(bundled)) return false;
  if (!existsSync(sources)) return true;
  const built = statSync(bundled).mtimeMs;
  for (const entry of readdirSync(sources, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && statSync(`${entry.parentPath}/${entry.name}`).mtimeMs > built) {
      return false;
    }
  }
  return true;
}

const { main } = bundleIsFresh() ? await import(bundled.href) : await import("../src/cli/main.ts");
await main(process.argv.slice(2));
