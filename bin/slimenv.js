#!/usr/bin/env node
// Runs the bundled CLI when it has been built (npm run build), else the TypeScript sources
// directly through Node's type stripping.
import { existsSync } from "node:fs";

const bundled = new URL("../dist/slimenv.js", import.meta.url);
const { main } =
  existsSync(bundled) && !process.env.SLIMENV_FROM_SOURCE
    ? await import(bundled.href)
    : await import("../src/cli/main.ts");
await main(process.argv.slice(2));
