/** What a Resolution holds beyond the versions, and the errors that are not conflicts. */
import { describe, expect, test } from "vitest";
import { isSlimenvError, RecordingReporter } from "../../src/base/index.ts";
import { countBits, highestBit, lowestBit, Universe } from "../../src/resolve/version-set.ts";
import { Version } from "../../src/standards/version.ts";
import { Rng } from "../helpers/random.ts";
import { type Registry, resolveTable } from "./registry.ts";

const registry: Registry = {
  Web_App: { "1.0": ["Requests[socks]>=2", "idna; python_version >= '3'"] },
  requests: { "2.31.0": ["idna", "certifi", "pysocks; extra == 'socks'"] },
  idna: { "3.6": [] },
  certifi: { "2024.2.2": [] },
  pysocks: { "1.7.1": [] },
};

describe("resolution contents", () => {
  test("names, extras, direct flags and dependencies", async () => {
    const r = await resolveTable(registry, ["web-app"]);
    expect(
      r.packages.map((p) => ({
        name: p.name,
        version: p.version.toString(),
        extras: p.extras,
        direct: p.direct,
        dependencies: p.dependencies,
      })),
    ).toEqual([
      { name: "certifi", version: "2024.2.2", extras: [], direct: false, dependencies: [] },
      { name: "idna", version: "3.6", extras: [], direct: false, dependencies: [] },
      { name: "pysocks", version: "1.7.1", extras: [], direct: false, dependencies: [] },
      {
        name: "requests",
        version: "2.31.0",
        extras: ["socks"],
        direct: false,
        dependencies: ["certifi", "idna", "pysocks"],
      },
      {
        name: "web-app",
        version: "1.0",
        extras: [],
        direct: true,
        dependencies: ["idna", "requests"],
      },
    ]);
    expect(r.packages[0]?.version).toBeInstanceOf(Version);
  });

  test("a URL package records its URL", async () => {
    const url = "https://example.org/b-1.5-py3-none-any.whl";
    const r = await resolveTable({}, [`b @ ${url}`], {
      urls: { [url]: { name: "b", version: "1.5" } },
    });
    expect(r.packages).toEqual([
      { name: "b", version: new Version("1.5"), extras: [], direct: true, url, dependencies: [] },
    ]);
  });

  test("two URLs for one package is NO_SOLUTION naming both", async () => {
    const err = await resolveTable({}, [
      "b @ https://x.org/b1.whl",
      "b @ https://x.org/b2.whl",
    ]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSlimenvError(err, "NO_SOLUTION")).toBe(true);
    if (!isSlimenvError(err)) return;
    expect(err.message).toBe("no version of the requirements can be satisfied");
    expect(err.detail).toBe(
      "b is required from two different URLs: https://x.org/b1.whl and https://x.org/b2.whl",
    );
  });

  test("a URL constraint pins the package when it is needed", async () => {
    const url = "https://x.org/b-3.0.whl";
    const r = await resolveTable({ a: { "1.0": ["b"] }, b: { "1.0": [] } }, ["a"], {
      constraints: [`b @ ${url}`],
      urls: { [url]: { name: "b", version: "3.0" } },
    });
    expect(r.packages.map((p) => [p.name, p.version.toString(), p.url])).toEqual([
      ["a", "1.0", undefined],
      ["b", "3.0", url],
    ]);
  });

  test("preferences and upgrade sets accept any spelling of a name", async () => {
    const reg: Registry = { "zope.interface": { "5.0": [], "6.0": [] } };
    const kept = await resolveTable(reg, ["Zope.Interface"], {
      preferences: { Zope_Interface: "5.0" },
    });
    expect(kept.packages.map((p) => `${p.name}==${p.version}`)).toEqual(["zope-interface==5.0"]);
    const upgraded = await resolveTable(reg, ["zope-interface"], {
      preferences: { "zope.interface": "5.0" },
      upgrade: new Set(["ZOPE_interface"]),
    });
    expect(upgraded.packages.map((p) => `${p.name}==${p.version}`)).toEqual([
      "zope-interface==6.0",
    ]);
  });

  test("the reporter hears which versions were selected", async () => {
    const reporter = new RecordingReporter();
    await resolveTable(registry, ["idna"], { reporter });
    expect(reporter.messages("debug")).toEqual(["resolver: selected idna==3.6"]);
  });

  test("a marker the environment cannot answer is a MARKER_EVALUATION error", async () => {
    const env = { python_version: "3.12" } as never;
    const err = await resolveTable(registry, ["idna; sys_platform == 'linux'"], {
      environment: env,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSlimenvError(err, "MARKER_EVALUATION")).toBe(true);
  });
});

describe("printing version sets", () => {
  const universe = new Universe(
    ["1.0", "2.0", "1.5", "3.0", "1.5.0"].map((v) => {
      const version = new Version(v);
      return { version, candidate: { version, yanked: false, installable: true } };
    }),
  );
  const set = (...indexes: number[]) => ({
    bits: indexes.reduce((b, i) => b | (1n << BigInt(i)), 0n),
  });

  test("versions are sorted and duplicates (1.5 == 1.5.0) dropped", () => {
    expect(universe.entries.map((e) => e.version.toString())).toEqual(["1.0", "1.5", "2.0", "3.0"]);
  });

  test.each([
    [[0, 1, 2, 3], ""],
    [[1], "==1.5"],
    [[0], "==1.0"],
    [[2, 3], ">=2.0"],
    [[0, 1], "<2.0"],
    [[1, 2], ">=1.5, <3.0"],
    [[0, 2, 3], "!=1.5"],
    [[0, 3], "==1.0 || ==3.0"],
    [[], " (no version)"],
  ])("%j prints as %j", (indexes, text) => {
    expect(universe.render(set(...indexes))).toBe(text);
  });

  test("a label wins over ranges", () => {
    expect(universe.render({ bits: 0b1100n, label: ">=2" })).toBe(">=2");
  });
});

describe("version set arithmetic", () => {
  test("countBits counts the versions of sets small and large", () => {
    expect(countBits(0n)).toBe(0);
    expect(countBits(-5n)).toBe(0);
    expect(countBits(1n)).toBe(1);
    expect(countBits(0b1011n)).toBe(3);
    expect(countBits((1n << 5000n) - 1n)).toBe(5000);
    expect(countBits(1n << 4999n)).toBe(1);
    const rng = new Rng(14);
    for (let round = 0; round < 50; round++) {
      const size = 1 + rng.int(3000);
      let bits = 0n;
      let expected = 0;
      for (let i = 0; i < size; i++) {
        if (rng.chance(0.4)) {
          bits |= 1n << BigInt(i);
          expected++;
        }
      }
      expect(countBits(bits)).toBe(expected);
    }
  });

  test("highest and lowest versions of a set", () => {
    expect(highestBit(0n)).toBe(-1);
    expect(lowestBit(0n)).toBe(-1);
    expect(highestBit(0b10110n)).toBe(4);
    expect(lowestBit(0b10110n)).toBe(1);
    expect(highestBit((1n << 3000n) | 1n)).toBe(3000);
    expect(lowestBit(1n << 3000n)).toBe(3000);
  });
});
