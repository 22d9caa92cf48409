/**
 * Usage errors: every command refuses an unknown option with exit 2 (in-process, through
 * runCli), and the real binary exits 2 too (one process).
 */
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/main.ts";
import { cliInProcess, cliProcess } from "../helpers/cli.ts";

/** A command path, and whether the command has options commander requires (checked first). */
function commandPaths(): string[][] {
  const out: string[][] = [];
  const walk = (cmd: ReturnType<typeof buildProgram>, prefix: string[]) => {
    for (const sub of cmd.commands) {
      if (sub.name() === "help") continue;
      const here = [...prefix, sub.name()];
      if (sub.commands.length > 0) walk(sub, here);
      else out.push(sub.options.some((o) => o.mandatory) ? [...here, "!"] : here);
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

  it.each(paths.map((p) => [p.filter((x) => x !== "!").join(" "), p]))(
    "`slimenv %s --no-such-option` exits 2",
    async (_, p) => {
      const required = (p as string[]).includes("!");
      const argv = (p as string[]).filter((x) => x !== "!");
      const res = await cliInProcess([...argv, "--no-such-option"]);
      expect(res.status).toBe(2);
      // commander reports a missing required option before an unknown one.
      expect(res.stderr).toMatch(
        required
          ? /unknown option '--no-such-option'|error: required option '.+' not specified/
          : /unknown option '--no-such-option'/,
      );
      expect(res.stdout).toBe("");
    },
  );

  it("leaves process.exitCode alone when run in-process", async () => {
    const before = process.exitCode;
    expect((await cliInProcess(["lock", "--no-such-option"])).status).toBe(2);
    expect((await cliInProcess(["--version"])).status).toBe(0);
    expect(process.exitCode).toBe(before);
  });

  it("--version and help print on stdout with exit 0", async () => {
    const version = await cliInProcess(["--version"]);
    expect(version).toEqual({
      status: 0,
      stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/),
      stderr: "",
    });
    const help = await cliInProcess(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Usage: slimenv [options] [command]");
    expect(help.stderr).toBe("");
  });

  it("the real binary exits 2 on a usage error, and 0 for --version", async () => {
    const bad = await cliProcess(["lock", "--no-such-option"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("unknown option '--no-such-option'");
    const version = await cliProcess(["--version"]);
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
