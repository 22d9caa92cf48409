/**
 * The device agent's text (one stdlib-only Python file). It lives next to this module in the
 * sources (agent/slimenv-agent.py) and next to the bundled CLI in dist/ (scripts/build.ts
 * copies it there).
 */
import { readFileSync } from "node:fs";
import { SlimenvError } from "../base/index.ts";

const CANDIDATES = ["./agent/slimenv-agent.py", "./slimenv-agent.py"];

let cached: string | undefined;

/** The agent's source text. */
export function agentSource(): string {
  if (cached !== undefined) return cached;
  for (const rel of CANDIDATES) {
    try {
      cached = readFileSync(new URL(rel, import.meta.url), "utf8");
      return cached;
    } catch {
      // try the next place
    }
  }
  throw new SlimenvError("INTERNAL", "the device agent (slimenv-agent.py) is missing", {
    hint: "reinstall slimenv, or run `npm run build` again",
  });
}

/** The agent's bytes (what a bundle carries as agent.py). */
export function agentBytes(): Uint8Array {
  return new TextEncoder().encode(agentSource());
}
