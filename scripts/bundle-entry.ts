/**
 * The bundle's entry: the Node check, then the CLI. bin/slimenv.js imports `main` from the
 * bundle; run directly (`node dist/slimenv.js ARGS`), the bundle runs the CLI itself.
 *
 * Start-up: this file is small. It turns on Node's compile cache (V8 code for the bundle's
 * chunks is kept between runs, in $SLIMENV_HOME/node-compile-cache), answers
 * `--version` and a no-op install or sync (src/cli/fast-path.ts) without loading the CLI, and
 * loads the CLI (a separate chunk) only then.
 */
import "./bundle-guard.ts";
import { realpathSync } from "node:fs";
import module from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { slimenvHome } from "../src/base/dirs.ts";
import { fastPathAnswer, fastPathStart } from "../src/cli/fast-path.ts";

declare const SLIMENV_VERSION: string;

try {
  // In slimenv's own folder (not the system temp folder, which is not ours to fill).
  module.enableCompileCache?.(path.join(slimenvHome(), "node-compile-cache"));
} catch {
  // No cache folder we may write: run without one.
}

export async function main(argv: string[]): Promise<void> {
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    process.stdout.write(`${SLIMENV_VERSION}\n`);
    return;
  }
  // A repeated install / sync that would change nothing is answered before the CLI loads.
  const pending = fastPathStart(argv);
  if (fastPathAnswer(pending)) return;
  const cli = await import("../src/cli/main.ts");
  await cli.main(argv, { pending });
}

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
