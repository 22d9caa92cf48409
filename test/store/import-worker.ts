/**
 * A child process for the store's multi-process tests: imports the wheel files given on the
 * command line into the store at argv[2], in order, printing "start" first and one line per
 * wheel imported. With SLIMENV_TEST_LOOP=1 it starts over until killed.
 */
import path from "node:path";
import { Store } from "../../src/store/store.ts";

const [root, ...files] = process.argv.slice(2);
if (root === undefined) throw new Error("usage: import-worker.ts STORE WHEEL…");
const store = Store.open({ root });
process.stdout.write("start\n");
do {
  for (const file of files) {
    const wheel = await store.importWheel({ path: file }, { filename: path.basename(file) });
    process.stdout.write(`${wheel.sha256}\n`);
  }
} while (process.env.SLIMENV_TEST_LOOP === "1");
store.close();
