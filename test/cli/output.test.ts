import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { SlimenvError } from "../../src/base/index.ts";
import { Output } from "../../src/cli/output.ts";

function capture(tty: boolean, env: NodeJS.ProcessEnv = {}, json = false) {
  const out = Object.assign(new PassThrough(), { isTTY: tty });
  const err = Object.assign(new PassThrough(), { isTTY: tty });
  const chunks = { out: "", err: "" };
  out.on("data", (d: Buffer) => {
    chunks.out += d.toString();
  });
  err.on("data", (d: Buffer) => {
    chunks.err += d.toString();
  });
  return { o: new Output({ stdout: out, stderr: err, env, json }), chunks };
}

describe("Output", () => {
  it("renders a SlimenvError as code, message, detail and hint; exit 1", () => {
    const { o, chunks } = capture(false);
    const code = o.error(
      new SlimenvError("INVALID_REQUIREMENT", "expected a version at column 6", {
        hint: "quote the requirement",
        detail: "name>=\n      ^",
      }),
    );
    expect(code).toBe(1);
    expect(chunks.err).toBe(
      "error: [INVALID_REQUIREMENT] expected a version at column 6\n  name>=\n        ^\nhint: quote the requirement\n",
    );
  });

  it("renders errors as JSON on stdout with --json", () => {
    const { o, chunks } = capture(false, {}, true);
    o.error(new SlimenvError("INVALID_VERSION", "bad version 'x'"));
    expect(JSON.parse(chunks.out)).toEqual({
      error: { code: "INVALID_VERSION", message: "bad version 'x'" },
    });
  });

  it("treats unknown errors as internal (exit 70)", () => {
    const { o, chunks } = capture(false);
    expect(o.error(new TypeError("boom"))).toBe(70);
    expect(chunks.err).toContain("internal error: TypeError: boom");
  });

  it("colours only on a TTY without NO_COLOR", () => {
    const tty = capture(true);
    tty.o.warn("w");
    expect(tty.chunks.err).toContain("\u001b[33m");
    const noColor = capture(true, { NO_COLOR: "1" });
    noColor.o.warn("w");
    expect(noColor.chunks.err).toBe("warning: w\n");
    const pipe = capture(false);
    pipe.o.warn("w");
    expect(pipe.chunks.err).toBe("warning: w\n");
  });

  it("pads table columns", () => {
    const { o, chunks } = capture(false);
    o.table(
      ["name", "version"],
      [
        ["requests", "2.32.3"],
        ["six", "1.16.0"],
      ],
    );
    expect(chunks.out).toBe("name      version\nrequests  2.32.3\nsix       1.16.0\n");
  });
});

describe("progress through the reporter", () => {
  it("draws a status line on a TTY, clears it for log lines, prints finished tasks", () => {
    const { o, chunks } = capture(true, { NO_COLOR: "1" });
    const r = o.reporter();
    const t = r.task("Downloading", 3 * 1024 * 1024, "B");
    t.advance(1024 * 1024);
    r.log("warn", "slow mirror");
    t.done();
    expect(chunks.err).toContain("Downloading 0 B/3.00 MiB");
    expect(chunks.err).toContain("\r\u001b[Kwarning: slow mirror\n");
    expect(chunks.err.endsWith("Downloading 1.00 MiB/3.00 MiB\n")).toBe(true);
  });

  it("prints only one plain line per finished task when not a TTY", () => {
    const { o, chunks } = capture(false);
    const t = o.reporter().task("Resolving", undefined);
    t.advance(5);
    t.setTotal(7);
    t.done();
    t.done();
    expect(chunks.err).toBe("Resolving 5/7\n");
  });

  it("prints nothing for tasks with --json or --quiet", () => {
    const { o, chunks } = capture(true, {}, true);
    const t = o.reporter().task("Resolving", 1);
    t.advance(1);
    t.done();
    expect(chunks.err).toBe("");
  });
});
