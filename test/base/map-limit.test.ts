import { describe, expect, it } from "vitest";
import { mapLimit } from "../../src/base/map-limit.ts";

const tick = () => new Promise((r) => setTimeout(r, 1));

describe("mapLimit", () => {
  it("keeps the input order and never runs more than the limit at once", async () => {
    let running = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n, i) => {
      running++;
      most = Math.max(most, running);
      for (let k = 0; k < n; k++) await tick();
      running--;
      return n * 10 + i;
    });
    expect(out).toEqual([50, 11, 42, 23, 34]);
    expect(most).toBe(2);
  });

  it("runs one at a time under a limit of 0, and nothing for no items", async () => {
    expect(await mapLimit([1, 2], 0, async (n) => n)).toEqual([1, 2]);
    expect(await mapLimit([], 4, async (n) => n)).toEqual([]);
  });

  it("starts nothing after a failure, lets the ones in flight finish, throws the first", async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const run = mapLimit([0, 1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      if (n === 0) throw new Error("first");
      await tick();
      await tick();
      finished.push(n);
      return n;
    });
    await expect(run).rejects.toThrow("first");
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([1]);
  });
});
