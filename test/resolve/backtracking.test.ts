/**
 * How much the solver fetches when it must backtrack: a package decided early that keeps
 * rejecting the versions of a package with hundreds of releases is reconsidered after a few
 * conflicts (instead of walking every release, one metadata fetch each), neighbouring
 * versions with the same dependency merge into one range, and versions the provider calls
 * unavailable are left out with the provider's reason. Counted in provider calls, never time.
 */
import { describe, expect, test } from "vitest";
import { isSlimenvError, RecordingReporter } from "../../src/base/index.ts";
import { CONFLICT_THRESHOLD } from "../../src/resolve/conflict-tracker.ts";
import { unavailableReasons } from "../../src/resolve/incompatibility.ts";
import { SolveFailure } from "../../src/resolve/solver.ts";
import { outcome, type Registry, resolveTable, summary, TableProvider } from "./registry.ts";

/**
 * The shape of PyPI when python-dateutil 4.0 appeared: pandas accepts it, every botocore
 * wants dateutil<3, and each boto3 pins its botocore.
 */
function awsRegistry(releases: number): Registry {
  const registry: Registry = {
    pandas: { "2.2.3": ["python-dateutil>=2.8"] },
    "python-dateutil": { "2.9.0.post0": [], "4.0.0": [] },
    botocore: {},
    boto3: {},
  };
  for (let i = 0; i < releases; i++) {
    (registry.botocore as Record<string, string[]>)[`1.${i}.0`] = ["python-dateutil<3"];
    (registry.boto3 as Record<string, string[]>)[`1.${i}.0`] = [`botocore==1.${i}.0`];
  }
  return registry;
}

function dependencyCalls(provider: TableProvider): string[] {
  return provider.calls.filter((c) => c.startsWith("dependencies "));
}

describe("conflict tracking", () => {
  test("a new dateutil does not make the solver walk 300 boto3 releases", async () => {
    const registry = awsRegistry(300);
    const provider = new TableProvider(registry);
    const reporter = new RecordingReporter();
    const resolution = await resolveTable(registry, ["pandas", "boto3"], { provider, reporter });
    expect(summary(resolution)).toBe(
      "boto3==1.299.0 botocore==1.299.0 pandas==2.2.3 python-dateutil==2.9.0.post0",
    );
    const calls = dependencyCalls(provider);
    // pandas, both dateutils, and boto3 / botocore for the few conflicts before the swap.
    expect(calls.length).toBeLessThan(40);
    expect(calls.filter((c) => c.startsWith("dependencies boto3 "))).toHaveLength(
      CONFLICT_THRESHOLD,
    );
    expect(new Set(provider.calls).size).toBe(provider.calls.length);
    expect(reporter.messages("debug")).toContain(
      `resolver: python-dateutil conflicted with botocore ${CONFLICT_THRESHOLD} times; deciding botocore before python-dateutil`,
    );
  });

  test("the order of the requirements does not matter", async () => {
    const registry = awsRegistry(50);
    const a = summary(await resolveTable(registry, ["pandas", "boto3"]));
    const b = summary(await resolveTable(registry, ["boto3", "pandas"]));
    expect(a).toBe(b);
    expect(a).toBe("boto3==1.49.0 botocore==1.49.0 pandas==2.2.3 python-dateutil==2.9.0.post0");
  });

  test("with few conflicts the usual order stands", async () => {
    // Three boto3 releases do not reach the threshold: the solver backtracks boto3 as
    // before, and finds the one release that accepts the new dateutil.
    const registry = awsRegistry(3);
    (registry.botocore as Record<string, string[]>)["1.0.0"] = [];
    const provider = new TableProvider(registry);
    const resolution = await resolveTable(registry, ["pandas", "boto3"], { provider });
    expect(summary(resolution)).toBe(
      "boto3==1.0.0 botocore==1.0.0 pandas==2.2.3 python-dateutil==4.0.0",
    );
  });

  test("when no version can work, the failure is still explained", async () => {
    // The user pins the new dateutil: no conflict with a decision to undo, every boto3 is
    // tried (each pins its own botocore, so nothing merges across boto3 versions).
    const text = await outcome(awsRegistry(3), ["pandas", "boto3", "python-dateutil>=4"]);
    expect(text).toBe(
      [
        "NO_SOLUTION:",
        "Because boto3==1.0.0 depends on botocore==1.0.0 which depends on python-dateutil<3, boto3==1.0.0 requires python-dateutil<3.",
        "And because boto3==1.1.0 depends on botocore==1.1.0 which depends on python-dateutil<3, boto3<1.2.0 requires python-dateutil<3.",
        "And because boto3==1.2.0 depends on botocore==1.2.0 which depends on python-dateutil<3, every version of boto3 requires python-dateutil<3.",
        "So, because you require both boto3 and python-dateutil>=4, no solution exists.",
      ].join("\n"),
    );
  });
});

/**
 * packse's wrong-backtracking scenarios: `a` is decided first (2.0.0), and every newer `b`
 * (or `b-inner`, behind `b`) wants a==1.0.0, so each is rejected as soon as its dependencies
 * are read, without a backjump. Counting those rejections too, the solver decides the
 * rejected package before `a` after CONFLICT_THRESHOLD of them, as pip and uv lock it,
 * instead of walking down to a `b` old enough not to depend on `a` — unless `a` is a direct
 * requirement and the rejected package is not (then it walks down, as uv does).
 */
function wrongBacktracking(newer: number, indirect: boolean): Registry {
  const b: Record<string, string[]> = { "1.0.0": ["too-old"] };
  for (let i = 0; i < newer; i++) b[`2.0.${i}`] = ["a==1.0.0"];
  return {
    a: { "1.0.0": [], "2.0.0": [] },
    "too-old": { "1.0.0": [] },
    ...(indirect ? { b: { "1.0.0": ["b-inner"] }, "b-inner": b } : { b }),
  };
}

describe("versions rejected by their dependencies count as conflicts", () => {
  test("a is reconsidered instead of walking down to a too old b", async () => {
    const registry = wrongBacktracking(10, false);
    const provider = new TableProvider(registry);
    const reporter = new RecordingReporter();
    const resolution = await resolveTable(registry, ["a", "b"], { provider, reporter });
    expect(summary(resolution)).toBe("a==1.0.0 b==2.0.9");
    expect(dependencyCalls(provider).filter((c) => c.startsWith("dependencies b "))).toHaveLength(
      CONFLICT_THRESHOLD,
    );
    expect(reporter.messages("debug")).toContain(
      `resolver: a conflicted with b ${CONFLICT_THRESHOLD} times; deciding b before a`,
    );
  });

  test("also when the rejected package sits behind another", async () => {
    // a only reaches the solver through x: the priorities change as for b above
    const registry: Registry = { ...wrongBacktracking(10, true), x: { "1.0.0": ["a"] } };
    expect(await outcome(registry, ["x", "b"])).toBe("a==1.0.0 b==1.0.0 b-inner==2.0.9 x==1.0.0");
  });

  test("a direct requirement is not put after a package only another one needs", async () => {
    // packse's wrong-backtracking-indirect: the user asks for a; b-inner comes with b. a keeps
    // its newest version and b-inner walks down, as uv locks it (expected.json)
    const registry = wrongBacktracking(10, true);
    const provider = new TableProvider(registry);
    expect(await outcome(registry, ["a", "b"], { provider })).toBe(
      "a==2.0.0 b==1.0.0 b-inner==1.0.0 too-old==1.0.0",
    );
    // every b-inner 2.0.x was tried once, and nothing twice
    expect(
      dependencyCalls(provider).filter((c) => c.startsWith("dependencies b-inner ")),
    ).toHaveLength(11);
  });

  test("below the threshold the usual order stands", async () => {
    const registry = wrongBacktracking(CONFLICT_THRESHOLD - 1, false);
    expect(await outcome(registry, ["a", "b"])).toBe("a==2.0.0 b==1.0.0 too-old==1.0.0");
  });
});

describe("merged ranges", () => {
  test("versions with the same dependency are explained as one range", async () => {
    const registry: Registry = {
      x: { "1.0": ["y<2"], "1.1": ["y<2"], "1.2": ["y<2"] },
      y: { "1.0": [], "2.0": [] },
    };
    expect(await outcome(registry, ["y==2.0", "x"])).toBe(
      [
        "NO_SOLUTION:",
        "Because every version of x depends on y<2 and you require y==2.0, every version of x is forbidden.",
        "So, because you require x, no solution exists.",
      ].join("\n"),
    );
  });

  test("a different dependency splits the range", async () => {
    const registry: Registry = {
      x: { "1.0": ["y<2"], "1.1": ["y<2"], "1.2": ["y<3"], "1.3": ["y<2"] },
      y: { "1.0": [], "2.0": [], "3.0": [] },
    };
    expect(await outcome(registry, ["y==3.0", "x"])).toBe(
      [
        "NO_SOLUTION:",
        "Because x<1.2 depends on y<2 and x==1.2 depends on y<3, x<1.3 requires y<3.",
        "And because x==1.3 depends on y<2, every version of x requires y<3.",
        "So, because you require both y==3.0 and x, no solution exists.",
      ].join("\n"),
    );
  });
});

describe("versions the provider calls unavailable", () => {
  const registry: Registry = {
    app: { "1.0": ["lib"] },
    lib: {
      "1.0": { unavailable: "its metadata cannot be read" },
      "1.1": { unavailable: "its metadata cannot be read" },
      "1.2": { unavailable: "its metadata cannot be read" },
      "2.0": { unavailable: "only a build of its sdist would tell its dependencies" },
      "2.1": { deps: ["missing"] },
    },
  };

  test("are skipped for an older usable version", async () => {
    const reg: Registry = { ...registry, lib: { ...registry.lib, "0.9": [] } };
    expect(await outcome(reg, ["app"])).toBe("app==1.0 lib==0.9");
  });

  test("are explained with the reason, neighbours with one reason as one range", async () => {
    expect(await outcome(registry, ["app"])).toBe(
      [
        "NO_SOLUTION:",
        "Because lib==2.0 is unavailable (only a build of its sdist would tell its dependencies) and lib<2.0 are unavailable (its metadata cannot be read), lib<2.1 is forbidden.",
        "And because every version of app depends on lib and lib==2.1 depends on missing, every version of app requires missing.",
        "So, because there is no version of missing and you require app, no solution exists.",
      ].join("\n"),
    );
  });

  test("a failure names the reasons it involves, and only those", async () => {
    const reasonsOf = async (reg: Registry, roots: string[]) => {
      const err = await resolveTable(reg, roots).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (!isSlimenvError(err, "NO_SOLUTION") || !(err.cause instanceof SolveFailure)) {
        throw new Error("expected NO_SOLUTION caused by a SolveFailure");
      }
      return unavailableReasons(err.cause.incompatibility);
    };
    expect(await reasonsOf(registry, ["app"])).toEqual([
      "only a build of its sdist would tell its dependencies",
      "its metadata cannot be read",
    ]);
    // lib 2.0 is unavailable and left out, but the failure is other's alone.
    const unrelated: Registry = {
      lib: { "1.0": [], "2.0": { unavailable: "its metadata cannot be read" } },
      other: { "1.0": ["missing"], "1.1": ["missing"], "1.2": ["missing"] },
    };
    expect(await outcome(unrelated, ["lib", "other"])).toBe(
      [
        "NO_SOLUTION:",
        "Because every version of other depends on missing and there is no version of missing, every version of other is forbidden.",
        "So, because you require other, no solution exists.",
      ].join("\n"),
    );
    expect(await reasonsOf(unrelated, ["lib", "other"])).toEqual([]);
  });
});
