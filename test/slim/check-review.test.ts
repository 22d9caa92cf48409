/**
 * The check half of install --slim's review, as a state machine over candidates: which
 * modules are imported in which candidate, and what a failure the env has unslimmed too — or
 * one another package's slimming causes — leads to.
 */
import { readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RecordingReporter } from "../../src/base/index.ts";
import type { EnvManifest } from "../../src/env/types.ts";
import { checkReview, newlyBroken } from "../../src/slim/check/review.ts";
import type { SlimCheckFailure } from "../../src/slim/check/slim-checker.ts";
import { slimPolicy } from "../../src/slim/policy.ts";
import { tempDir } from "../helpers/tmp.ts";

type Only = Readonly<Record<string, readonly string[] | "all">>;

const PACKAGES = ["a", "b", "c", "user-skipped"];
const manifest = { packages: PACKAGES.map((name) => ({ name })) } as unknown as EnvManifest;
const candidate = { dir: "/nowhere", manifest };
const fail = (name: string, ...modules: string[]): SlimCheckFailure => ({
  name,
  reason: `${modules[0] ?? name}: ImportError: boom`,
  modules,
  causes: modules.map(() => "ImportError"),
});

/** A checker answering from a script, recording what it was asked. */
function scripted(answers: (SlimCheckFailure[] | undefined)[]) {
  const calls: (Only | undefined)[] = [];
  return {
    calls,
    check: async (_c: unknown, only?: Only) => {
      calls.push(only);
      return answers.shift();
    },
  };
}

const policy = slimPolicy({ preset: "edge", skip: ["user-skipped"] });
const ALL = ["a", "b", "c", "user-skipped"];

function review(answers: (SlimCheckFailure[] | undefined)[], strict = false) {
  const s = scripted(answers);
  const reporter = new RecordingReporter();
  const r = checkReview({ check: s.check, strict, reporter });
  return { s, r, reporter };
}

/** Feed candidates until the review accepts one; the policies it asked for. */
async function drive(r: ReturnType<typeof checkReview>, first = policy) {
  const asked: string[][] = [];
  let next: ReturnType<typeof slimPolicy> | undefined = first;
  for (let i = 0; i < 6 && next !== undefined; i++) {
    next = await r.review(candidate, next);
    if (next !== undefined) asked.push(next.skip);
  }
  return asked;
}

describe("newlyBroken", () => {
  it("is what fails slimmed and not unslimmed the same way", () => {
    expect(newlyBroken(fail("a", "a.x", "a.y"), fail("a", "a.x"))).toEqual(["a.y"]);
    expect(newlyBroken(fail("a", "a.x"), fail("a", "a.x", "a.z"))).toEqual([]);
    expect(newlyBroken(fail("a", "a.x"), undefined)).toEqual(["a.x"]);
    // Another exception type unslimmed: slimming changed how it fails.
    const other = { ...fail("a", "a.x"), causes: ["OSError"] };
    expect(newlyBroken(other, fail("a", "a.x"))).toEqual(["a.x"]);
    // A failure without modules stands for the whole package.
    expect(newlyBroken({ name: "a", reason: "r" }, undefined)).toEqual(["*"]);
    expect(newlyBroken(fail("a", "a.x"), { name: "a", reason: "r" })).toEqual([]);
  });
});

describe("checkReview", () => {
  it("accepts a candidate nothing fails in, after one check", async () => {
    const { s, r } = review([[]]);
    expect(await drive(r)).toEqual([]);
    expect(s.calls).toEqual([undefined]);
    expect(r.checked()).toBe(true);
    expect(r.unslimmed()).toEqual([]);
    expect(r.checkMs()).toBeGreaterThanOrEqual(0);
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
    const { r } = review([undefined]);
    expect(await drive(r)).toEqual([]);
    expect(r.checked()).toBe(false);
  });

  it("failures the whole env has unslimmed too keep every package slimmed", async () => {
    const { s, r, reporter } = review([
      [fail("a", "a.contrib.x"), fail("b", "b.galgebra")],
      [fail("a", "a.contrib.x"), fail("b", "b.galgebra", "b.other")],
    ]);
    // The baseline (everything unslimmed), then the slimmed tree once more.
    expect(await drive(r)).toEqual([ALL, ["user-skipped"]]);
    expect(s.calls).toEqual([undefined, { a: ["a.contrib.x"], b: ["b.galgebra"] }]);
    expect(r.preexisting().map((f) => f.name)).toEqual(["a", "b"]);
    expect(r.unslimmed()).toEqual([]);
    expect(reporter.events.filter((e) => e.level === "warn")).toEqual([]);
  });

  it("a package broken by its own slimming is unslimmed; its failed modules are proved", async () => {
    const { s, r, reporter } = review([
      [fail("a", "a.x"), fail("b", "b.y"), { name: "whole", reason: "r" }],
      [fail("b", "b.y")],
      [],
    ]);
    expect(await drive(r)).toEqual([ALL, ["a", "user-skipped", "whole"]]);
    expect(s.calls).toEqual([
      undefined,
      { a: ["a.x"], b: ["b.y"], whole: "all" },
      { a: ["a.x"], whole: "all" },
    ]);
    expect(r.unslimmed().map((f) => f.name)).toEqual(["a", "whole"]);
    expect(r.preexisting().map((f) => f.name)).toEqual(["b"]);
    const warned = reporter.events.filter((e) => e.level === "warn").map((e) => e.label);
    expect(warned).toEqual([
      expect.stringMatching(/^a: import check failed after slimming/),
      expect.stringMatching(/^whole: import check failed after slimming/),
    ]);
  });

  it("the final tree imports only what imported unslimmed, not the package's own failures", async () => {
    const { s, r } = review([[fail("a", "a.broken", "a.reader")], [fail("a", "a.broken")], []]);
    expect(await drive(r)).toEqual([ALL, ["a", "user-skipped"]]);
    expect(s.calls[2]).toEqual({ a: ["a.reader"] });
    expect(r.unslimmed().map((f) => f.name)).toEqual(["a"]);
  });

  it("a module another package's slimming breaks: everything unslimmed, and said", async () => {
    // b reads a's source: b fails slimmed, passes with everything unslimmed, and still
    // fails with only b unslimmed.
    const { s, r, reporter } = review([[fail("b", "b.reader")], [], [fail("b", "b.reader")]]);
    expect(await drive(r)).toEqual([ALL, ["b", "user-skipped"], ALL]);
    expect(s.calls).toHaveLength(3);
    expect(r.unslimmed().map((f) => f.name)).toEqual(["a", "b", "c"]);
    expect(r.unslimmed()[0]?.reason).toMatch(/another package's slimming breaks it/);
    expect(reporter.events.some((e) => /every package rebuilt unslimmed/.test(e.label))).toBe(true);
  });

  it("a failure of a package the policy leaves unslimmed is still traced to its cause", async () => {
    const { r } = review([[fail("user-skipped", "user_skipped.x")], [], [fail("user-skipped")]]);
    expect(await drive(r)).toEqual([ALL, ["user-skipped"], ALL]);
    expect(r.unslimmed().map((f) => f.name)).toEqual(["a", "b", "c"]);
  });

  it("--slim none: a tree slimming changed nowhere is not checked", async () => {
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
    const withSummary = (packages: unknown[]) =>
      ({ ...manifest, slim: { summary: { packages } } }) as unknown as EnvManifest;
    const idle = scripted([[fail("a", "a.x")]]);
    const r0 = checkReview({ check: idle.check, strict: true, reporter: new RecordingReporter() });
    const nothing = withSummary([summary("a", {}), summary("b", { bytecode: "unslimmed" })]);
    expect(await r0.review({ dir: "/nowhere", manifest: nothing }, policy)).toBeUndefined();
    expect(idle.calls).toEqual([]);
    expect(r0.checked()).toBe(false);
    // Any change anywhere: checked.
    for (const change of [
      { droppedFiles: 3 },
      { stripped: 1 },
      { bytecode: "pyc-only", compiled: 2 },
    ]) {
      const s = scripted([[]]);
      const r = checkReview({ check: s.check, strict: false, reporter: new RecordingReporter() });
      const some = withSummary([summary("a", {}), summary("b", change)]);
      await r.review({ dir: "/nowhere", manifest: some }, policy);
      expect(s.calls).toEqual([undefined]);
    }
  });

  it("strict refuses only a failure slimming caused, after the comparison", async () => {
    const pre = review([[fail("a", "a.x")], [fail("a", "a.x")]], true);
    expect(await drive(pre.r)).toEqual([ALL, ["user-skipped"]]);

    const real = review([[fail("a", "a.x"), fail("c", "c.z")], [fail("a", "a.x")]], true);
    expect(await real.r.review(candidate, policy)).toBeDefined();
    await expect(real.r.review(candidate, policy)).rejects.toMatchObject({
      code: "SLIM_CHECK_FAILED",
      message: expect.stringMatching(/fails for c \(c\.z: ImportError: boom\)/),
    });
  });
});

describe("checkReview with the check cache", () => {
  const dir = tempDir("slimenv-checkcache-");
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
    const first = cached([[fail("a", "a.x"), fail("b", "b.y")], [fail("b", "b.y")], []], key);
    expect(await drive(first.r)).toEqual([ALL, ["a", "user-skipped"]]);
    expect(first.r.cached()).toBe(false);

    const second = cached([], key);
    expect(await drive(second.r)).toEqual([["a", "user-skipped"]]);
    expect(second.s.calls).toEqual([]);
    expect(second.r.cached()).toBe(true);
    expect(second.r.checked()).toBe(true);
    expect(second.r.unslimmed().map((f) => f.name)).toEqual(["a"]);
    expect(second.r.preexisting().map((f) => f.name)).toEqual(["b"]);
    expect(second.r.checkMs()).toBe(0);
  });

  it("a clean outcome is cached too; strict refuses a cached failure; refresh checks again", async () => {
    const clean = `k${n++}`;
    await drive(cached([[]], clean).r);
    const hit = cached([], clean);
    expect(await drive(hit.r)).toEqual([]);
    expect(hit.s.calls).toEqual([]);

    const bad = `k${n++}`;
    await drive(cached([[fail("a", "a.x")], [], []], bad).r);
    const strict = cached([], bad, { strict: true });
    await expect(strict.r.review(candidate, policy)).rejects.toMatchObject({
      code: "SLIM_CHECK_FAILED",
    });

    const again = cached([[]], bad, { refresh: true });
    expect(await drive(again.r)).toEqual([]);
    expect(again.s.calls).toEqual([undefined]);
    // The refreshed entry now says clean.
    const after = cached([], bad);
    expect(await drive(after.r)).toEqual([]);
    expect(after.r.unslimmed()).toEqual([]);
  });

  it("an outcome with a time-out or a crash is not cached", async () => {
    const key = `k${n++}`;
    const timedOut = { ...fail("a", "a.slow"), causes: ["timeout"] };
    await drive(cached([[timedOut], [], []], key).r);
    const next = cached([[]], key);
    await drive(next.r);
    expect(next.s.calls).toEqual([undefined]);
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
