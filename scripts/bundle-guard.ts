/**
 * First module of the bundle (dist/slimenv.js): a Node too old for slimenv gets one line and
 * exit status 1 before any other module runs. The store's node:sqlite is loaded lazily
 * (scripts/build.ts), so even a Node without it gets this far.
 */
import { nodeProblem, silenceSqliteWarning } from "../bin/node-check.js";

const problem = nodeProblem({
  node: process.versions.node,
  typescript: "bundled",
  fromSource: false,
  root: "",
});
if (problem !== undefined) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
silenceSqliteWarning();
