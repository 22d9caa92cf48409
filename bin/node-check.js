// Which Node.js runs slimenv, checked before anything that needs a newer one is imported.
// Plain JavaScript that any Node parses, so an old Node gets one clear line, not a stack trace.

/** node:sqlite (the store index) works without a flag from 22.13 on the 22 line, 23.4 on 23. */
export const NODE_REQUIRED = "22.13 or newer (23.4 or newer on the 23 line)";

/** The sources are TypeScript; Node strips the types without a flag from 22.18 (23.6 on 23). */
export const NODE_REQUIRED_FROM_SOURCE = "22.18 or newer";

/** `major.minor.patch` of a Node version string such as `22.13.0` or `v20.20.2`. */
function parts(version) {
  const [major, minor, patch] = String(version).replace(/^v/, "").split(".").map(Number);
  return [major || 0, minor || 0, patch || 0];
}

/** True when this Node version has an unflagged node:sqlite. */
export function nodeIsSupported(version) {
  const [major, minor] = parts(version);
  return major >= 24 || (major === 23 && minor >= 4) || (major === 22 && minor >= 13);
}

/**
 * The one line to print when this Node cannot run slimenv, or undefined when it can.
 * `node` is process.versions.node; `typescript` is process.features.typescript ("strip",
 * "transform", false, or undefined on Node older than 22.10); `fromSource` says whether the
 * TypeScript sources would run because there is no up-to-date bundle; `root` is the package.
 */
export function nodeProblem({ node, typescript, fromSource, root }) {
  if (!nodeIsSupported(node)) {
    return `slimenv needs Node.js ${NODE_REQUIRED}; this is Node.js ${node}. Install a newer Node.js (https://nodejs.org) and run slimenv again.`;
  }
  if (fromSource && !typescript) {
    return `slimenv has no up-to-date bundle (dist/slimenv.js) here, and running its TypeScript sources needs Node.js ${NODE_REQUIRED_FROM_SOURCE}; this is Node.js ${node}. Run \`npm run build\` in ${root}, or use a newer Node.js.`;
  }
  return undefined;
}

/**
 * node:sqlite (the store index) is still marked experimental before Node 24: a warning on
 * every run that tells a user nothing they can act on. Drop that one warning, keep the rest.
 */
export function silenceSqliteWarning() {
  const emitWarning = process.emitWarning;
  process.emitWarning = (warning, ...rest) => {
    const message = typeof warning === "string" ? warning : warning?.message;
    if (String(message).startsWith("SQLite is an experimental feature")) return;
    emitWarning.call(process, warning, ...rest);
  };
}
