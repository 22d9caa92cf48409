/**
 * Bundle the CLI into one ESM file (dist/slimenv.js) for fast start-up. bin/slimenv.js
 * prefers it when present; the sources still run without it. `node dist/slimenv.js ARGS`
 * runs the CLI too, and on a Node too old for slimenv prints one line (scripts/bundle-guard.ts):
 * for that, node:sqlite — the one built-in module an old Node lacks — is loaded with
 * require() when the store's module first runs, not by a static import every Node must link
 * before running any code.
 */
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { build, type Plugin } from "esbuild";

const LAZY_BUILTINS = /^node:sqlite$/;

const lazyBuiltins: Plugin = {
  name: "lazy-builtins",
  setup(b) {
    b.onResolve({ filter: LAZY_BUILTINS }, (args) =>
      args.namespace === "lazy-builtin"
        ? { path: args.path, external: true }
        : { path: args.path, namespace: "lazy-builtin" },
    );
    b.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: "js",
    }));
  },
};

const root = path.resolve(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
  version: string;
};

rmSync(path.join(root, "dist"), { recursive: true, force: true });
const result = await build({
  entryPoints: {
    slimenv: path.join(root, "scripts/bundle-entry.ts"),
    // The store's unpacking worker thread, found beside the chunk that starts it
    // (src/store/unpack-pool.ts).
    "chunks/unpack-worker": path.join(root, "src/store/unpack-worker.ts"),
  },
  outdir: path.join(root, "dist"),
  // The entry stays small; the CLI and what only some commands need are chunks loaded on use.
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22.13",
  minify: true,
  sourcemap: "linked",
  legalComments: "external",
  define: { SLIMENV_VERSION: JSON.stringify(pkg.version) },
  // Some bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __slimenvCreateRequire } from 'node:module'; const require = __slimenvCreateRequire(import.meta.url);",
  },
  plugins: [lazyBuiltins],
  metafile: true,
  logLevel: "warning",
});

// The device agent is a Python file the CLI reads next to itself (src/bundle/agent-source.ts):
// next to the CLI's chunk, and next to the entry as before.
for (const dir of ["dist", "dist/chunks"]) {
  copyFileSync(
    path.join(root, "src/bundle/agent/slimenv-agent.py"),
    path.join(root, dir, "slimenv-agent.py"),
  );
}

const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`built dist/slimenv.js and its chunks (${(bytes / 1024).toFixed(0)} KiB with maps)`);
