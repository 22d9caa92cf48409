/**
 * Differential tests against pypa/packaging (the newest release, installed by
 * test/helpers/packaging.ts): thousands of generated versions, specifiers and
 * (specifier set, version) pairs, each batch answered by ONE python process. The PRNG is
 * seeded so a failure reproduces; a mismatch prints the first offending inputs.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { Specifier, SpecifierSet } from "../../src/standards/specifiers.ts";
import { tryParseVersion, type Version, versionParts } from "../../src/standards/version.ts";
import {
  defaultPackagingPython,
  type PackagingPython,
  runPythonJson,
} from "../helpers/packaging.ts";
import { oracleBefore264, specifierDiffersFrom263 } from "./packaging-26-4.ts";
import { EDGE_SPECS, EDGE_VERSIONS, Gen } from "./pep440-generate.ts";

// --- python side -------------------------------------------------------------------------

const VERSION_SCRIPT = `
import json, sys
from packaging.version import Version, InvalidVersion
inputs = json.load(sys.stdin)
out, valid = [], []
for i, s in enumerate(inputs):
    try:
        v = Version(s)
    except InvalidVersion:
        out.append(None); continue
    valid.append((v, i))
    out.append([str(v), v.public, v.base_version, v.is_prerelease, v.is_postrelease, v.is_devrelease,
                str(v.epoch), [str(x) for x in v.release], None if v.pre is None else [v.pre[0], str(v.pre[1])],
                None if v.post is None else str(v.post), None if v.dev is None else str(v.dev), v.local,
                v.major, v.minor, v.micro])
order = [i for _, i in sorted(valid, key=lambda t: t[0])]
json.dump({"rows": out, "order": order}, sys.stdout)
`;

const SPEC_SCRIPT = `
import json, sys
from packaging.specifiers import SpecifierSet, Specifier, InvalidSpecifier
from packaging.version import Version
data = json.load(sys.stdin)
def pre(x): return None if x is None else bool(x)
res = {"parse": [], "contains": [], "filter": [], "single": []}
for s in data["parse"]:
    try:
        res["parse"].append(str(SpecifierSet(s)))
    except InvalidSpecifier:
        res["parse"].append(None)
# A set slimenv accepts and this packaging refuses is "invalid" (a mismatch), never a crash.
for s, item, as_version, call_pre, set_pre in data["contains"]:
    try:
        ss = SpecifierSet(s, prereleases=set_pre)
    except InvalidSpecifier:
        res["contains"].append("invalid")
        continue
    res["contains"].append(ss.contains(Version(item) if as_version else item, prereleases=call_pre))
for s, items, call_pre, set_pre in data["filter"]:
    try:
        ss = SpecifierSet(s, prereleases=set_pre)
    except InvalidSpecifier:
        res["filter"].append("invalid")
        continue
    got = list(ss.filter(items, prereleases=call_pre))
    res["filter"].append(got)
for s, item, call_pre, spec_pre in data["single"]:
    try:
        sp = Specifier(s, prereleases=spec_pre)
    except InvalidSpecifier:
        res["single"].append("invalid")
        continue
    res["single"].append([sp.contains(item, prereleases=call_pre), sp.prereleases, str(sp)])
json.dump(res, sys.stdout)
`;

function showMismatches<T>(label: string, bad: T[]): string {
  return `${bad.length} ${label} mismatch(es); first ones:\n${bad
    .slice(0, 8)
    .map((b) => JSON.stringify(b))
    .join("\n")}`;
}

let pp: PackagingPython;
beforeAll(() => {
  pp = defaultPackagingPython();
});

describe(`PEP 440 versions vs pypa/packaging`, () => {
  it("agrees on validity, normalized parts, flags and sort order of 6000 generated strings", () => {
    const g = new Gen(440);
    const inputs = [
      ...EDGE_VERSIONS,
      ...Array.from({ length: 6000 }, () => g.maybeInvalidVersion()),
    ];
    const py = runPythonJson<{ rows: (unknown[] | null)[]; order: number[] }>(
      pp,
      VERSION_SCRIPT,
      inputs,
    );
    const bad: unknown[] = [];
    const valid: [Version, number][] = [];
    inputs.forEach((input, i) => {
      const v = tryParseVersion(input);
      const mine =
        v === undefined
          ? null
          : (() => {
              valid.push([v, i]);
              const p = v.toString();
              return [p, v.public, v.baseVersion, v.isPrerelease, v.isPostrelease, v.isDevrelease];
            })();
      const theirs = py.rows[i] ?? null;
      const theirsHead = theirs === null ? null : theirs.slice(0, 6);
      if (JSON.stringify(mine) !== JSON.stringify(theirsHead))
        bad.push({ input, mine, theirs: theirsHead });
      else if (v !== undefined && theirs !== null) {
        const [, , , , , , , release, , , , local, major, minor, micro] = theirs as [...unknown[]];
        const small = (release as string[]).every((x) => x.length < 16);
        if (v.local !== (local ?? undefined)) bad.push({ input, local: [v.local, local] });
        const p = versionParts(v);
        const exact = [p.epoch, p.release, p.pre ?? null, p.post ?? null, p.dev ?? null];
        if (JSON.stringify(exact) !== JSON.stringify(theirs.slice(6, 11))) {
          bad.push({ input, parts: exact, theirs: theirs.slice(6, 11) });
        }
        if (
          small &&
          JSON.stringify([v.major, v.minor, v.micro]) !== JSON.stringify([major, minor, micro])
        ) {
          bad.push({ input, mmm: [v.major, v.minor, v.micro, major, minor, micro] });
        }
      }
    });
    const validCount = py.rows.filter((r) => r !== null).length;
    expect(validCount, "generator must produce both kinds").toBeGreaterThan(2500);
    expect(inputs.length - validCount, "generator must produce both kinds").toBeGreaterThan(500);
    expect(bad, showMismatches("version", bad)).toEqual([]);
    const order = [...valid].sort((a, b) => a[0].compare(b[0])).map(([, i]) => i);
    const firstDiff = order.findIndex((x, k) => x !== py.order[k]);
    expect(
      firstDiff,
      `sort order differs at ${firstDiff}: mine ${JSON.stringify(inputs[order[firstDiff] ?? 0])} vs packaging ${JSON.stringify(inputs[py.order[firstDiff] ?? 0])}`,
    ).toBe(-1);
  });
});

describe("PEP 440 specifiers vs pypa/packaging", () => {
  it("agrees on validity, str(SpecifierSet), contains, filter and single-clause contains", () => {
    const g = new Gen(508);
    const parse = [...EDGE_SPECS, ...Array.from({ length: 5000 }, () => g.specifierSet())];
    const validSets: string[] = [];
    for (const s of parse) {
      try {
        validSets.push(new SpecifierSet(s).toString());
      } catch {
        // validity is compared below
      }
    }
    const pres = [null, true, false] as const;
    const contains: [string, string, boolean, boolean | null, boolean | null][] = [];
    for (let i = 0; i < 9000; i++) {
      const s = validSets.length > 0 && g.chance(0.8) ? g.pick(validSets) : "";
      const item = g.chance(0.05) ? g.pick(["garbage", "1.0 x", "FooBar", ""]) : g.near(s);
      const asVersion = tryParseVersion(item) !== undefined && g.chance(0.3);
      contains.push([s, item, asVersion, g.pick(pres), g.chance(0.7) ? null : g.pick(pres)]);
    }
    const filter: [string, string[], boolean | null, boolean | null][] = [];
    for (let i = 0; i < 2000; i++) {
      const s = g.chance(0.9) && validSets.length > 0 ? g.pick(validSets) : "";
      const items = Array.from({ length: g.int(9) }, () => (g.chance(0.05) ? "foobar" : g.near(s)));
      filter.push([s, items, g.pick(pres), g.chance(0.7) ? null : g.pick(pres)]);
    }
    const single: [string, string, boolean | null, boolean | null][] = [];
    for (let i = 0; i < 4000; i++) {
      const s = g.specifier(true);
      try {
        new Specifier(s);
      } catch {
        continue;
      }
      single.push([s, g.near(s), g.pick(pres), g.chance(0.7) ? null : g.pick(pres)]);
    }
    const py = runPythonJson<{
      parse: (string | null)[];
      contains: boolean[];
      filter: string[][];
      single: [boolean, boolean | null, string][];
    }>(pp, SPEC_SCRIPT, { parse, contains, filter, single });

    const opt = (x: boolean | null) => (x === null ? {} : { prereleases: x });
    const badParse: unknown[] = [];
    parse.forEach((s, i) => {
      let mine: string | null;
      try {
        mine = new SpecifierSet(s).toString();
      } catch {
        mine = null;
      }
      // Against 26.3: an empty `===` is refused, as by 26.4 (packaging-26-4.ts).
      if (oracleBefore264(pp.packagingVersion) && specifierDiffersFrom263(s)) return;
      if (mine !== py.parse[i]) badParse.push({ input: s, mine, theirs: py.parse[i] });
    });
    const validParsed = py.parse.filter((x) => x !== null).length;
    expect(validParsed).toBeGreaterThan(1500);
    expect(parse.length - validParsed).toBeGreaterThan(300);
    expect(badParse, showMismatches("specifier-set parse", badParse)).toEqual([]);

    const badContains: unknown[] = [];
    let trues = 0;
    contains.forEach(([s, item, asVersion, callPre, setPre], i) => {
      const set = new SpecifierSet(s, opt(setPre));
      const target = asVersion ? (tryParseVersion(item) as Version) : item;
      const mine = set.contains(target, opt(callPre));
      if (mine) trues++;
      if (mine !== py.contains[i])
        badContains.push({ set: s, item, asVersion, callPre, setPre, mine });
    });
    expect(trues).toBeGreaterThan(1000);
    expect(contains.length - trues).toBeGreaterThan(1000);
    expect(badContains, showMismatches("contains", badContains)).toEqual([]);

    const badFilter: unknown[] = [];
    filter.forEach(([s, items, callPre, setPre], i) => {
      const mine = new SpecifierSet(s, opt(setPre)).filter(items, opt(callPre));
      if (JSON.stringify(mine) !== JSON.stringify(py.filter[i])) {
        badFilter.push({ set: s, items, callPre, setPre, mine, theirs: py.filter[i] });
      }
    });
    expect(badFilter, showMismatches("filter", badFilter)).toEqual([]);

    const badSingle: unknown[] = [];
    single.forEach(([s, item, callPre, specPre], i) => {
      const spec = new Specifier(s, opt(specPre));
      const mine = [spec.contains(item, opt(callPre)), spec.prereleases ?? null, spec.toString()];
      if (JSON.stringify(mine) !== JSON.stringify(py.single[i])) {
        badSingle.push({ spec: s, item, callPre, specPre, mine, theirs: py.single[i] });
      }
    });
    expect(single.length).toBeGreaterThan(2000);
    expect(badSingle, showMismatches("Specifier.contains", badSingle)).toEqual([]);
  });
});
