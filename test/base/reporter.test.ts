import { describe, expect, it } from "vitest";
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

  it("silent reporter accepts everything", () => {
    silentReporter.log("warn", "x");
    const t = silentReporter.task("y");
    t.advance(1);
    t.done();
    expect(true).toBe(true);
  });
});
