import { describe, expect, it } from "vitest";
import { Specifier, SpecifierSet } from "../../src/standards/specifiers.ts";
import { Version } from "../../src/standards/version.ts";
import { thrown } from "../helpers/errors.ts";

const set = (s: string, prereleases?: boolean) =>
  new SpecifierSet(s, prereleases === undefined ? {} : { prereleases });

/** Candidates around the PEP's examples, for equivalence checks between clause groups. */
const GRID = [
  "0.9",
  "1",
  "1.3",
  "1.4",
  "1.4.4",
  "1.4.5a3",
  "1.4.5a4",
  "1.4.5a4.post1",
  "1.4.5",
  "1.4.5.0",
  "1.4.5.1",
  "1.4.6",
  "1.4.99",
  "1.5.dev0",
  "1.5a1",
  "1.5",
  "2.0.dev1",
  "2.0",
  "2.1.9",
  "2.2.dev1",
  "2.2a1",
  "2.2",
  "2.2+local",
  "2.2.post1",
  "2.2.post3",
  "2.2.post4",
  "2.2.0.1",
  "2.3",
  "2.99",
  "3.0.dev0",
  "3.0a1",
  "3.0",
  "1!2.2",
  "3.1",
  "3.1.5",
  "3.2.dev0",
  "3.2",
];

function admitted(s: string): string[] {
  return GRID.filter((g) => set(s).contains(g, { prereleases: true }));
}

describe("compatible release ~= (PEP 440 equivalences)", () => {
  it.each([
    ["~= 2.2", ">= 2.2, == 2.*"],
    ["~= 1.4.5", ">= 1.4.5, == 1.4.*"],
    ["~= 2.2.post3", ">= 2.2.post3, == 2.*"],
    ["~= 1.4.5a4", ">= 1.4.5a4, == 1.4.*"],
    ["~= 2.2.0", ">= 2.2.0, == 2.2.*"],
    ["~= 1.4.5.0", ">= 1.4.5.0, == 1.4.5.*"],
    ["~=3.1.0", "==3.1.*"],
  ])("%s admits what %s admits", (compatible, pair) => {
    expect(admitted(compatible)).toEqual(admitted(pair));
    expect(admitted(compatible).length).toBeGreaterThan(0);
  });

  it.each([
    ["~=3.1", ["3.1", "3.5", "3.99.1"], ["3.0", "4.0", "4.0.dev0"]],
    ["~=3.1.2", ["3.1.2", "3.1.9"], ["3.1.1", "3.2.0", "3.2.0a1"]],
    ["~=3.1a1", ["3.1a1", "3.1", "3.9"], ["3.0", "4.0"]],
    ["~=3.1.0, != 3.1.3", ["3.1.0", "3.1.2", "3.1.4"], ["3.1.3", "3.2.0", "3.0.9"]],
    ["~=1!1.0", ["1!1.0", "1!1.5"], ["1.5", "1!2.0"]],
  ])("%s", (spec, yes, no) => {
    for (const x of yes) expect(set(spec).contains(x), `${x} in ${spec}`).toBe(true);
    for (const x of no) expect(set(spec).contains(x), `${x} not in ${spec}`).toBe(false);
  });
});

describe("version matching == and exclusion != (PEP 440 tables)", () => {
  it.each([
    // candidate 1.1.post1
    ["1.1.post1", "== 1.1", false],
    ["1.1.post1", "== 1.1.post1", true],
    ["1.1.post1", "== 1.1.*", true],
    ["1.1.post1", "!= 1.1", true],
    ["1.1.post1", "!= 1.1.post1", false],
    ["1.1.post1", "!= 1.1.*", false],
    // candidate 1.1a1 (prefix match admits it when pre-releases are requested)
    ["1.1a1", "== 1.1", false],
    ["1.1a1", "== 1.1a1", true],
    ["1.1a1", "== 1.1.*", true],
    // candidate 1.1
    ["1.1", "== 1.1", true],
    ["1.1", "== 1.1.0", true],
    ["1.1", "== 1.1.dev1", false],
    ["1.1", "== 1.1a1", false],
    ["1.1", "== 1.1.post1", false],
    ["1.1", "== 1.1.*", true],
    // == 3.1 excludes pre, post, dev and maintenance releases
    ["3.1.0", "== 3.1", true],
    ["3.1rc1", "== 3.1", false],
    ["3.1.post1", "== 3.1", false],
    ["3.1.dev1", "== 3.1", false],
    ["3.1.1", "== 3.1", false],
    ["3.1.1", "== 3.1.*", true],
    ["3.1", "== 3.*", true],
    ["3", "== 3.0.*", true],
    ["3.10", "== 3.1.*", false],
    ["1!3.1", "== 3.1.*", false],
    ["1!3.1", "== 1!3.1.*", true],
    // local labels: ignored unless the specifier has one, then compared exactly
    ["1.0+downstream1", "== 1.0", true],
    ["1.0+downstream1", "== 1.0+downstream1", true],
    ["1.0+downstream.1", "== 1.0+downstream-1", true],
    ["1.0+downstream2", "== 1.0+downstream1", false],
    ["1.0", "== 1.0+downstream1", false],
    ["1.0+downstream1", "!= 1.0", false],
    ["1.0+downstream2", "!= 1.0+downstream1", true],
    ["1.0+x", "== 1.0.*", true],
  ] as const)("%s against %s: %s", (candidate, spec, expected) => {
    expect(set(spec).contains(candidate, { prereleases: true })).toBe(expected);
    expect(new Specifier(spec).contains(candidate, { prereleases: true })).toBe(expected);
    expect(set(spec).contains(new Version(candidate), { prereleases: true })).toBe(expected);
  });
});

describe("ordered comparisons", () => {
  it.each([
    // inclusive: zero padding, locals of V admitted by <=
    ["1.0.0", "<= 1.0", true],
    ["1.0+local", "<= 1.0", true],
    ["1.0.post1", "<= 1.0", false],
    ["1.0", ">= 1.0.0", true],
    ["1.0a1", ">= 1.0", false],
    // >V: no post-release of V unless V is one, no local of V
    ["1.7.1", ">1.7", true],
    ["1.7.0.post1", ">1.7", false],
    ["1.7+local", ">1.7", false],
    ["1.7.1", ">1.7.post2", true],
    ["1.7.0.post3", ">1.7.post2", true],
    ["1.7.0", ">1.7.post2", false],
    ["1.7.post2+local", ">1.7.post2", false],
    ["1.0a1.post1", ">1.0a1", false],
    ["1.0a2.dev0", ">1.0a1", true],
    ["1.0.dev2", ">1.0.dev1", true],
    ["1.0.dev1+x", ">1.0.dev1", false],
    // <V: no pre-release of V unless V is one
    ["1.0a1", "<1.0", false],
    ["1.0.dev0", "<1.0", false],
    ["0.9.post1", "<1.0", true],
    ["0.9a1", "<1.0", true],
    ["1.0a1", "<1.0rc1", true],
    ["1.0a1", "<1.0a2", true],
    ["1.0.post1.dev0", "<1.0.post1", false],
    ["1.0", "<1.0.post1", true],
    ["0", "<0", false],
  ] as const)("%s against %s: %s", (candidate, spec, expected) => {
    expect(set(spec).contains(candidate, { prereleases: true })).toBe(expected);
  });
});

describe("arbitrary equality ===", () => {
  it("compares the text, case-insensitively, without PEP 440 meaning", () => {
    expect(set("===foobar").contains("foobar")).toBe(true);
    expect(set("===foobar").contains("FooBar")).toBe(true);
    expect(set("===1.0").contains("1.0+downstream1")).toBe(false);
    expect(set("===1.0").contains("1.0.0")).toBe(false);
    expect(set("===1.0").contains(" 1.0")).toBe(false);
    expect(set("===1.0.0").contains(new Version("v1.0.0"))).toBe(true);
    expect(new Specifier("===foobar").contains("FOOBAR")).toBe(true);
    expect(set("===1.0a1").contains("1.0a1", { prereleases: false })).toBe(false);
    expect(set("===1.0,>=0.5").contains("1.0")).toBe(true);
    expect(set("===foobar,>=0.5").contains("foobar")).toBe(false);
  });

  it("needs a version after === (PEP 508; packaging 26.4, where 26.3 took an empty one)", () => {
    for (const text of ["===", "=== ", "===,>1", ">1, ==="]) {
      const err = thrown(() => new SpecifierSet(text));
      expect(err.code).toBe("INVALID_SPECIFIER");
      expect(err.message).toContain("expected a version after ===");
    }
    expect(thrown(() => new Specifier("===")).code).toBe("INVALID_SPECIFIER");
  });
});

describe("pre-release handling (packaging 26 semantics)", () => {
  it("contains admits a lone pre-release unless pre-releases are off", () => {
    expect(set(">=1.0").contains("2.0a1")).toBe(true);
    expect(set(">=1.0").contains("2.0a1", { prereleases: false })).toBe(false);
    expect(set(">=1.0", false).contains("2.0a1")).toBe(false);
    expect(set(">=1.0", false).contains("2.0a1", { prereleases: true })).toBe(true);
    expect(set(">=1.0", true).contains("2.0a1", { prereleases: false })).toBe(false);
    expect(new Specifier(">=1.0").contains("2.0a1")).toBe(true);
    expect(new Specifier(">=1.0", { prereleases: false }).contains("2.0a1")).toBe(false);
    expect(new Specifier(">=1.0a1", { prereleases: false }).contains("2.0a1")).toBe(false);
  });

  it("derives the policy from clauses that name a pre-release", () => {
    expect(set(">=1.0a1").prereleases).toBe(true);
    expect(set(">=1.0.dev0").prereleases).toBe(true);
    expect(set(">=1.0").prereleases).toBeUndefined();
    expect(set("!=1.0a1").prereleases).toBeUndefined();
    expect(set("").prereleases).toBeUndefined();
    expect(set("", false).prereleases).toBe(false);
    expect(new Specifier("!=1.0a1").prereleases).toBe(false);
    expect(new Specifier("==1.*").prereleases).toBe(false);
    expect(new Specifier("===foo").prereleases).toBeUndefined();
    expect(new Specifier("===1.0a1").prereleases).toBe(true);
  });

  it("filter drops pre-releases when a final matches and falls back to them otherwise", () => {
    expect(set(">=1.0").filter(["0.9", "1.0", "2.0a1", "x"])).toEqual(["1.0"]);
    expect(set(">=1.0").filter(["0.9", "2.0a1", "2.1b1", "x"])).toEqual(["2.0a1", "2.1b1"]);
    expect(set(">=1.0").filter(["1.0", "2.0a1"], { prereleases: true })).toEqual(["1.0", "2.0a1"]);
    expect(set(">=1.0", true).filter(["1.0", "2.0a1"])).toEqual(["1.0", "2.0a1"]);
    expect(set(">=1.0").filter(["2.0a1"], { prereleases: false })).toEqual([]);
    expect(set(">=1.0a1").filter(["1.0", "2.0a1"])).toEqual(["1.0", "2.0a1"]);
    const versions = [new Version("1.0"), new Version("1.1")];
    expect(set(">1.0").filter(versions)).toEqual([versions[1]]);
  });

  it("an empty set admits everything, including strings that are not versions", () => {
    expect(set("").isEmpty).toBe(true);
    expect(set(" , ").isEmpty).toBe(true);
    expect(set("").contains("1.0a1")).toBe(true);
    expect(set("").contains("garbage")).toBe(true);
    expect(set("", false).contains("1.0a1")).toBe(false);
    expect(set("").filter(["1.0", "2.0a1", "x"])).toEqual(["1.0", "x"]);
    expect(set("").filter(["2.0a1", "x"])).toEqual(["2.0a1", "x"]);
    expect(set(">=0").contains("garbage")).toBe(false);
  });
});

describe("text forms", () => {
  it("Specifier keeps the version as written, without whitespace", () => {
    const s = new Specifier("  >=  V1.0  ");
    expect([s.operator, s.version, s.toString()]).toEqual([">=", "V1.0", ">=V1.0"]);
    expect(new Specifier("== 1.0.*").toString()).toBe("==1.0.*");
    expect(new Specifier("==1.0").equals(new Specifier("== 1.0.0"))).toBe(true);
    expect(new Specifier("~=1.0").equals(new Specifier("~=1.0.0"))).toBe(false);
    expect(new Specifier("==1.0").equals(new Specifier("==1.1"))).toBe(false);
  });

  it.each([
    [" <2.0 , >=1.0,!=1.5 , ==1.0.0, ==1.0", "!=1.5,<2.0,==1.0,>=1.0"],
    ["~= 0.9, >= 1.0, != 1.3.4.*, < 2.0", "!=1.3.4.*,<2.0,>=1.0,~=0.9"],
    [">=1.0,>=1.0.0,>=v1", ">=1.0"],
    ["===FooBar,===foobar", "===FooBar,===foobar"],
    ["", ""],
    [",,", ""],
  ])("SpecifierSet(%j) prints %j", (input, text) => {
    expect(set(input).toString()).toBe(text);
    expect(JSON.stringify(set(input))).toBe(JSON.stringify(text));
  });

  it("keeps clauses in input order in .specifiers", () => {
    expect(set("<2, >=1").specifiers.map(String)).toEqual(["<2", ">=1"]);
  });

  it("and() joins clauses and pre-release settings", () => {
    const both = set(">=1.0").and(set("<2,!=1.5"));
    expect(both.toString()).toBe("!=1.5,<2,>=1.0");
    expect(both.contains("1.5")).toBe(false);
    expect(both.contains("1.6")).toBe(true);
    expect(set(">=1", true).and(set("<2")).prereleases).toBe(true);
    expect(set(">=1").and(set("<2", false)).prereleases).toBe(false);
    expect(set(">=1", true).and(set("<2", true)).prereleases).toBe(true);
    expect(() => set(">=1", true).and(set("<2", false))).toThrow(/Cannot combine/);
  });
});

describe("invalid specifiers", () => {
  it.each([
    ["", /empty/],
    ["   ", /empty/],
    ["lolwat", /expected a comparison operator/],
    ["1.0", /expected a comparison operator/],
    ["=>1.0", /expected a comparison operator/],
    ["=<1.0", /expected a comparison operator/],
    ["<>1.0", /invalid version/],
    ["~1.0", /expected a comparison operator/],
    ["!1.0", /expected a comparison operator/],
    ["==", /expected a version after ==/],
    [">=", /expected a version after >=/],
    ["~=1", /at least two release numbers/],
    ["~=1a1", /at least two release numbers/],
    ["~=1.0+local", /local version label/],
    ["~=1.0.*", /prefix match/],
    ["==1.0.*+local", /invalid version/],
    ["==1.0+local.*", /prefix match \(\.\*\) must follow a release number/],
    ["==1.0a1.*", /prefix match/],
    ["==1.0.post1.*", /prefix match/],
    ["==1.0.dev1.*", /prefix match/],
    ["<1.0.*", /only allowed with == and !=/],
    [">=1.0.*", /only allowed with == and !=/],
    [">1.0+local", /local version label/],
    ["<=1.0+local", /local version label/],
    ["==1.0 .*", /unexpected whitespace/],
    ["==1.0 1", /unexpected " "/],
    ["==1.0.*.*", /invalid version/],
    ["===1.0;", /unexpected ";"/],
    ["===1.0)", /unexpected "\)"/],
    ["=== a b", /unexpected " "/],
    [">=1.0;python_version<'3'", /invalid version/],
    [">=french toast", /invalid version/],
    [">=1.0 <2", /unexpected " "/],
  ])("%j is rejected: %s", (input, reason) => {
    // An empty clause is skipped inside a set, so it is only an error on its own.
    const makers: (() => unknown)[] = [() => new Specifier(input)];
    if (input.trim() !== "") makers.push(() => new SpecifierSet(`>=0.1, ${input}`));
    for (const make of makers) {
      const err = thrown(make);
      expect(err.code).toBe("INVALID_SPECIFIER");
      expect(err.message).toMatch(reason);
      expect(err.message).toMatch(/at column \d+$/);
    }
  });

  it("reports the column inside the whole set", () => {
    const err = thrown(() => new SpecifierSet(">=1.0, <2.0.*"));
    expect(err.message).toBe(
      'Invalid specifier " <2.0.*" in ">=1.0, <2.0.*": a prefix match (.*) is only allowed with == and != at column 12',
    );
    expect(err.detail).toBe(">=1.0, <2.0.*\n           ^");
    expect(() => new SpecifierSet(42 as unknown as string)).toThrow(/expected a string/);
    expect(() => new Specifier(undefined as unknown as string)).toThrow(/expected a string/);
  });
});

describe("SpecifierSet.contains agrees with filter", () => {
  it("for every kind of clause, pre-release policy and version", () => {
    const sets = [
      "",
      ">=1.0",
      "<2.0,>=1.0",
      "!=1.5.*",
      "~=1.4",
      "==1.0a1",
      ">=1.0a1",
      "==1.*",
      ">1.0",
      "<=2.0.post1",
      "==1.0+local",
      "===1.0",
    ];
    const versions = [
      "0.9",
      "1.0a1",
      "1.0",
      "1.0+local",
      "1.4",
      "1.5.1",
      "1.5rc1",
      "2.0",
      "2.0.post1",
      "3.0.dev1",
    ];
    for (const text of sets) {
      for (const prereleases of [undefined, true, false]) {
        const set = new SpecifierSet(text);
        for (const version of versions) {
          const v = new Version(version);
          const options = prereleases === undefined ? {} : { prereleases };
          expect([text, prereleases, version, set.contains(v, options)]).toEqual([
            text,
            prereleases,
            version,
            set.filter([v], options).length === 1,
          ]);
        }
      }
    }
  });
});
