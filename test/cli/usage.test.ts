import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/main.ts";

const BIN = path.resolve(import.meta.dirname, "..", "..", "bin", "slimenv.js");

function commandPaths(): string[][] {
  const out: string[][] = [];
  const walk = (cmd: ReturnType<typeof buildProgram>, prefix: string[]) => {
    for (const sub of cmd.commands) {
      if (sub.name() === "help") continue;
      const here = [...prefix, sub.name()];
      if (sub.commands.length > 0) walk(sub, here);
      else out.push(here);
    }
  };
  walk(buildProgram(), []);
  return out;
}

describe("usage errors", () => {
  const paths = commandPaths();

  it("every command is reachable", () => {
    expect(paths.length).toBeGreaterThan(8);
  });

  it.each(paths.map((p) => [p.join(" "), p]))("`slimenv %s --no-such-option` exits 2", (_, p) => {
    const res = spawnSync(process.execPath, [BIN, ...(p as string[]), "--no-such-option"], {
      encoding: "utf8",
      env: { ...process.env, SLIMENV_FROM_SOURCE: "1", NO_COLOR: "1" },
    });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain("unknown option '--no-such-option'");
  });
});
