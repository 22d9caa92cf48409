/**
 * The bundle's entry: the Node check, then the CLI. bin/slimenv.js imports `main` from the
 * bundle; run directly (`node dist/slimenv.js ARGS`), the bundle runs the CLI itself.
 */
import "./bundle-guard.ts";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { main } from "../src/cli/main.ts";

export { main };

function runDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (runDirectly()) await main(process.argv.slice(2));
