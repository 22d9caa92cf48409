import { describe, expect, it, vi } from "vitest";
import { RecordingReporter, silentReporter } from "../../src/base/index.ts";

describe("reporters", () => {
  it("records logs and task progress in order", () => {
    const r = new RecordingReporter();
    r.log("info", "hello");
    const t = r.task("fetch", 10, "B");
    t.advance(4);
    t.setTotal(12);
    t.done();
    r.log("warn", "careful");
    expect(r.events.map((e) => `${e.kind}:${e.label}:${e.value ?? ""}`)).toEqual([
      "log:hello:",
      "task-start:fetch:10",
      "task-advance:fetch:4",
      "task-total:fetch:12",
      "task-done:fetch:",
      "log:careful:",
    ]);
    expect(r.messages("warn")).toEqual(["careful"]);
  });

  it("silent reporter accepts everything and prints nothing", () => {
    const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const consoleCalls = (["log", "info", "warn", "error", "debug"] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation(() => {}),
    );
    try {
      for (const level of ["debug", "info", "warn"] as const) {
        expect(silentReporter.log(level, "x")).toBe(undefined);
      }
      const t = silentReporter.task("y", 10, "B");
      const u = silentReporter.task("z");
      for (const task of [t, u]) {
        expect(task.advance(1)).toBe(undefined);
        expect(task.setTotal(2)).toBe(undefined);
        expect(task.done()).toBe(undefined);
        // A task may be used after done() (core code finishes tasks in finally blocks).
        expect(() => task.advance(1)).not.toThrow();
      }
      expect(out).not.toHaveBeenCalled();
      expect(err).not.toHaveBeenCalled();
      for (const spy of consoleCalls) expect(spy).not.toHaveBeenCalled();
    } finally {
      vi.restoreAllMocks();
    }
  });
});
