/** collectGarbage: a full collection on request (src/base/garbage.ts). */
import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { collectGarbage } from "../../src/base/index.ts";

function dropped(): WeakRef<object> {
  return new WeakRef({ payload: new Array(1000).fill("x") });
}

describe("collectGarbage", () => {
  it("collects what nothing references any more, and keeps what is referenced", async () => {
    const gone = dropped();
    const kept = { payload: [1, 2, 3] };
    const held = new WeakRef(kept);
    // A WeakRef's target lives at least to the end of the job that made it.
    await nextTurn();
    collectGarbage();
    collectGarbage(); // a second call reuses the collector
    expect(gone.deref()).toBeUndefined();
    expect(held.deref()).toBe(kept);
  });
});
