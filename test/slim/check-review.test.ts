/**
 * The check half of install --slim's review, as a state machine over candidates: which
 * packages are checked when, and what a failure the package has unslimmed too leads to.
 */
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isSlimenvError, RecordingReporter } from "../../src/base/index.ts";
import type { EnvManifest } from "../../src/env/types.ts";
import { checkReview, newlyBroken } from "../../src/slim/check-review.ts";
import { slimPolicy } from "../../src/slim/policy.ts";
import type { SlimCheckFailure } from "../../src/slim/transform-check.ts";

const candidate = { dir: "/nowhere", manifest: {} as EnvManifest };
const fail = (name: string, ...modules: string[]): SlimCheckFailure => ({
  name,
  reason: `${modules[0] ?? name}: ImportError: boom`,
  modules,
});

/** A checker answering from a script, recording what it was asked. */
function scripted(answers: (SlimCheckFailure[] | undefined)[]) {
  const calls: (Readonly<Record<string, readonly string[] | "all">> | undefined)[] = [];
  return {
    calls,
    check: async (_c: unknown, only?: Readonly<Record<string, readonly string[] | "all">>) => {
      calls.push(only);
      return answers.shift();
    },
  };
}

describe("newlyBroken", () => {
  it("is what fails slimmed and not unslimmed", () => {
    expect(newlyBroken(fail("a", "a.x", "a.y"), fail("a", "a.x"))).toEqual(["a.y"]);
    expect(newlyBroken(fail("a", "a.x"), fail("a", "a.x", "a.z"))).toEqual([]);
    expect(newlyBroken(fail("a", "a.x"), undefined)).toEqual(["a.x"]);
    // A failure without modules stands for the whole package.
    expect(newlyBroken({ name: "a", reason: "r" }, undefined)).toEqual(["*"]);
    expect(newlyBroken(fail("a", "a.x"), { name: "a", reason: "r" })).toEqual([]);
  });
});

describe("checkReview", () => {
  const policy = slimPolicy({ preset: "edge", skip: ["user-skipped"] });

  it("accepts a candidate nothing fails in, after one check", async () => {
    const s = scripted([[]]);
    const r = checkReview({ check: s.check, strict: false, reporter: new RecordingReporter() });
    expect(await r.review(candidate, policy)).toBeUndefined();
    expect(await r.review(candidate, policy)).toBeUndefined();
    expect(s.calls).toEqual([undefined]);
    expect(r.checked()).toBe(true);
    expect(r.unslimmed()).toEqual([]);
    expect(r.checkMs()).toBeLessThan(20);
    const slow = checkReview({
      check: async () => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        return [];
      },
      strict: false,
      reporter: new RecordingReporter(),
    });
    await slow.review(candidate, policy);
    expect(slow.checkMs()).toBeGreaterThanOrEqual(25);
  });

  it("an unchecked (cross-target) candidate is accepted, and says it was not checked", async () => {
    const s = scripted([undefined]);
    const r = checkReview({ check: s.check, strict: false, reporter: new RecordingReporter() });
    expect(await r.review(candidate, policy)).toBeUndefined();
    expect(r.checked()).toBe(false);
  });

  it("failures of packages the policy already leaves unslimmed are not suspects", async () => {
    const s = scripted([[fail("user-skipped", "user_skipped.x")]]);
    const r = checkReview({ check: s.check, strict: false, reporter: new RecordingReporter() });
    expect(await r.review(candidate, policy)).toBeUndefined();
    expect(s.calls).toHaveLength(1);
  });

  it("imports only the suspects' failed modules unslimmed, then slims the pre-existing ones again", async () => {
    const s = scripted([
      [fail("torch", "torch.contrib.x"), fail("sympy", "sympy.galgebra"), fail("b", "b.y")],
      [fail("torch", "torch.contrib.x"), fail("sympy", "sympy.galgebra", "sympy.other")],
    ]);
    const reporter = new RecordingReporter();
    const r = checkReview({ check: s.check, strict: false, reporter });
    const baseline = await r.review(candidate, policy);
    expect(baseline?.skip).toEqual(["b", "sympy", "torch", "user-skipped"]);
    const final = await r.review(candidate, baseline ?? policy);
    expect(s.calls).toEqual([
      undefined,
      { torch: ["torch.contrib.x"], sympy: ["sympy.galgebra"], b: ["b.y"] },
    ]);
    expect(final?.skip).toEqual(["b", "user-skipped"]);
    expect(r.unslimmed().map((f) => f.name)).toEqual(["b"]);
    expect(r.preexisting().map((f) => f.name)).toEqual(["torch", "sympy"]);
    // The final tree is made of checked parts: no third check.
    expect(await r.review(candidate, final ?? policy)).toBeUndefined();
    expect(s.calls).toHaveLength(2);
    const warned = reporter.events.filter((e) => e.kind === "log" && e.level === "warn");
    expect(warned.map((e) => e.label)).toEqual([
      expect.stringMatching(/^b: import check failed after slimming/),
    ]);
  });

  it("when every suspect is broken by slimming, the baseline candidate is the final tree", async () => {
    const s = scripted([[fail("a", "a.x"), { name: "whole", reason: "r" }], []]);
    const r = checkReview({ check: s.check, strict: false, reporter: new RecordingReporter() });
    const baseline = await r.review(candidate, policy);
    expect(await r.review(candidate, baseline ?? policy)).toBeUndefined();
    // A failure that names no modules is checked again as a whole.
    expect(s.calls[1]).toEqual({ a: ["a.x"], whole: "all" });
    expect(r.unslimmed().map((f) => f.name)).toEqual(["a", "whole"]);
  });

  it("a failing package slimming left as its wheel has it fails on its own: no baseline", async () => {
    const summary = (name: string, changes: Record<string, unknown>) => ({
      name,
      version: "1",
      bytecode: "source",
      droppedFiles: 0,
      droppedBytes: 0,
      byRule: {},
      keptByImports: [],
      compiled: 0,
      compileFailures: [],
      stripped: 0,
      ...changes,
    });
    const manifest = {
      slim: {
        summary: {
          packages: [
            summary("plain", {}),
            summary("dropped", { droppedFiles: 3 }),
            summary("stripped", { stripped: 1 }),
            summary("compiled", { bytecode: "pyc-only", compiled: 2 }),
          ],
        },
      },
    } as unknown as EnvManifest;
    // Nothing slimmed at all (--slim none): nothing to prove, no check.
    const nothing = {
      slim: {
        summary: { packages: [summary("plain", {}), summary("kept", { bytecode: "unslimmed" })] },
      },
    } as unknown as EnvManifest;
    const idle = scripted([[fail("plain", "plain.x")]]);
    const r0 = checkReview({ check: idle.check, strict: true, reporter: new RecordingReporter() });
    expect(await r0.review({ dir: "/nowhere", manifest: nothing }, policy)).toBeUndefined();
    expect(idle.calls).toEqual([]);
    expect(r0.checked()).toBe(false);
    const s = scripted([[fail("plain", "plain.x")]]);
    const r = checkReview({ check: s.check, strict: true, reporter: new RecordingReporter() });
    expect(await r.review({ dir: "/nowhere", manifest }, policy)).toBeUndefined();
    expect(s.calls).toEqual([undefined]);
    expect(r.preexisting().map((f) => f.name)).toEqual(["plain"]);
    // Any change makes a failing package a suspect.
    const all = ["dropped", "stripped", "compiled"].map((n) => fail(n, `${n}.x`));
    const t = scripted([all, []]);
    const r2 = checkReview({ check: t.check, strict: false, reporter: new RecordingReporter() });
    const next = await r2.review({ dir: "/nowhere", manifest }, policy);
    expect(next?.skip).toEqual(["compiled", "dropped", "stripped", "user-skipped"]);
  });

  it("strict refuses only a failure slimming caused, after the comparison", async () => {
    const pre = scripted([[fail("a", "a.x")], [fail("a", "a.x")]]);
    const ok = checkReview({ check: pre.check, strict: true, reporter: new RecordingReporter() });
    const next = await ok.review(candidate, policy);
    expect((await ok.review(candidate, next ?? policy))?.skip).toEqual(["user-skipped"]);

    const real = scripted([[fail("a", "a.x"), fail("c", "c.z")], [fail("a", "a.x")]]);
    const strict = checkReview({
      check: real.check,
      strict: true,
      reporter: new RecordingReporter(),
    });
    const base = await strict.review(candidate, policy);
    let err: unknown;
    try {
      await strict.review(candidate, base ?? policy);
    } catch (e) {
      err = e;
    }
    expect(isSlimenvError(err) && err.code).toBe("SLIM_CHECK_FAILED");
    expect((err as Error).message).toMatch(/fails for c \(c\.z: ImportError: boom\)/);
    expect((err as Error).message).not.toMatch(/for a/);
  });
});

describe("checkReview with the check cache", () => {
  const policy = slimPolicy({ preset: "edge" });
  const dir = mkdtempSync(path.join(tmpdir(), "slimenv-checkcache-"));
  let n = 0;

  function cached(
    answers: (SlimCheckFailure[] | undefined)[],
    key: string,
    extra: { strict?: boolean; refresh?: boolean } = {},
  ) {
    const s = scripted(answers);
    const r = checkReview({
      check: s.check,
      strict: extra.strict ?? false,
      reporter: new RecordingReporter(),
      cache: { dir, key: async () => key, ...(extra.refresh ? { refresh: true } : {}) },
    });
    return { s, r };
  }

  it("a second review of the same key imports nothing and reaches the same outcome", async () => {
    const key = `k${n++}`;
    const first = cached([[fail("a", "a.x"), fail("b", "b.y")], [fail("b", "b.y")]], key);
    const base = await first.r.review(candidate, policy);
    const final = await first.r.review(candidate, base ?? policy);
    expect(final?.skip).toEqual(["a"]);
    expect(first.r.cached()).toBe(false);

    const second = cached([], key);
    const next = await second.r.review(candidate, policy);
    expect(second.s.calls).toEqual([]);
    expect(next?.skip).toEqual(["a"]);
    expect(await second.r.review(candidate, next ?? policy)).toBeUndefined();
    expect(second.r.cached()).toBe(true);
    expect(second.r.checked()).toBe(true);
    expect(second.r.unslimmed().map((f) => f.name)).toEqual(["a"]);
    expect(second.r.preexisting().map((f) => f.name)).toEqual(["b"]);
    expect(second.r.checkMs()).toBe(0);
  });

  it("a clean outcome is cached too; strict refuses a cached failure; refresh checks again", async () => {
    const clean = `k${n++}`;
    await cached([[]], clean).r.review(candidate, policy);
    const hit = cached([], clean);
    expect(await hit.r.review(candidate, policy)).toBeUndefined();
    expect(hit.s.calls).toEqual([]);

    const bad = `k${n++}`;
    const first = cached([[fail("a", "a.x")], []], bad);
    await first.r.review(
      candidate,
      await first.r.review(candidate, policy).then((p) => p ?? policy),
    );
    const strict = cached([], bad, { strict: true });
    await expect(strict.r.review(candidate, policy)).rejects.toMatchObject({
      code: "SLIM_CHECK_FAILED",
    });

    const again = cached([[]], bad, { refresh: true });
    expect(await again.r.review(candidate, policy)).toBeUndefined();
    expect(again.s.calls).toEqual([undefined]);
    // The refreshed entry now says clean.
    const after = cached([], bad);
    expect(await after.r.review(candidate, policy)).toBeUndefined();
    expect(after.r.unslimmed()).toEqual([]);
  });

  it("a damaged or foreign entry is a miss; no key means no cache", async () => {
    const key = `k${n++}`;
    writeFileSync(path.join(dir, `${key}.json`), "{ not json");
    const damaged = cached([[]], key);
    await damaged.r.review(candidate, policy);
    expect(damaged.s.calls).toEqual([undefined]);
    const other = `k${n++}`;
    writeFileSync(
      path.join(dir, `${other}.json`),
      JSON.stringify({ version: 99, unslimmed: [], preexisting: [] }),
    );
    const foreign = cached([[]], other);
    await foreign.r.review(candidate, policy);
    expect(foreign.s.calls).toEqual([undefined]);
    const s = scripted([[]]);
    const r = checkReview({
      check: s.check,
      strict: false,
      reporter: new RecordingReporter(),
      cache: { dir, key: async () => undefined },
    });
    await r.review(candidate, policy);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});
