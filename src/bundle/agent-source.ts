/**
 * The device agent's text (one stdlib-only Python file). Its code lives next to this module in
 * the sources (agent/slimenv-agent.py) and next to the bundled CLI in dist/ (scripts/build.ts
 * copies it there); what devices get (`slimenv agent`, a bundle's agent.py) is that code held
 * in a string by a short runner that keeps it compiled (agentRunner).
 */
import { readFileSync } from "node:fs";
import { SlimenvError } from "../base/index.ts";

const CANDIDATES = ["./agent/slimenv-agent.py", "./slimenv-agent.py"];

let code: string | undefined;
let cached: string | undefined;

/** The agent's code, as in agent/slimenv-agent.py. */
export function agentCode(): string {
  if (code !== undefined) return code;
  for (const rel of CANDIDATES) {
    try {
      code = readFileSync(new URL(rel, import.meta.url), "utf8");
      return code;
    } catch {
      // try the next place
    }
  }
  throw new SlimenvError("INTERNAL", "the device agent (slimenv-agent.py) is missing", {
    hint: "reinstall slimenv, or run `npm run build` again",
  });
}

const RUNNER_HEAD = `#!/usr/bin/env python3
# slimenv-agent: applies signed slimenv bundles on a device (docs/fleet.md). One file, Python
# standard library only, CPython >= 3.8; runs under \`python3 -I -S\`; \`--help\` says how.
#
# The agent's code is the string below. Python compiles the script it runs anew each time
# (only imported modules get a __pycache__): about 25 ms of every run on a fast CPU. So this
# runner keeps the compiled code in __pycache__/ beside this file, named by the interpreter's
# cache tag and the code's sha256, and compiles it only when that file is missing or
# unreadable (nothing is written under -B or PYTHONDONTWRITEBYTECODE, or where it cannot be).
import sys

_SOURCE = r'''`;

const RUNNER_TAIL = `'''


def _slimenv_agent_code():
    import hashlib
    import marshal
    import os

    tag = getattr(sys.implementation, "cache_tag", None)
    key = hashlib.sha256(_SOURCE.encode("utf-8")).hexdigest()[:32]
    here = os.path.dirname(os.path.abspath(__file__))
    cache = os.path.join(here, "__pycache__", "slimenv-agent.%s.%s.code" % (tag, key)) if tag else None
    if cache:
        try:
            with open(cache, "rb") as f:
                return marshal.loads(f.read())
        except (OSError, ValueError, EOFError, TypeError):
            pass
    # blank lines first: tracebacks give this file's line numbers
    code = compile("\\n" * (_LINE - 1) + _SOURCE, __file__, "exec")
    if cache and not sys.dont_write_bytecode:
        try:
            os.makedirs(os.path.dirname(cache), exist_ok=True)
            tmp = "%s.tmp.%d" % (cache, os.getpid())
            with open(tmp, "wb") as f:
                f.write(marshal.dumps(code))
            os.replace(tmp, cache)
        except OSError:
            pass
    return code


exec(_slimenv_agent_code())
`;

/** The runner around `source` (the agent's code): one Python file, what devices run. */
export function agentRunner(source: string): string {
  if (source.includes("'''") || source.endsWith("\\")) {
    throw new SlimenvError("INTERNAL", "the agent's code cannot be held in a r'''…''' string");
  }
  const line = RUNNER_HEAD.split("\n").length;
  return `${RUNNER_HEAD}${source}${RUNNER_TAIL.replace("(_LINE - 1)", `(${line} - 1)`)}`;
}

/** The agent's text, as devices get it (agentRunner around agentCode). */
export function agentSource(): string {
  if (cached === undefined) cached = agentRunner(agentCode());
  return cached;
}

/** The agent's bytes (what a bundle carries as agent.py). */
export function agentBytes(): Uint8Array {
  return new TextEncoder().encode(agentSource());
}
