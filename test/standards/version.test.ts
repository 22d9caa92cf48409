import { describe, expect, it } from "vitest";
import { SlimenvError } from "../../src/base/index.ts";
import {
  compareVersions,
  parseVersion,
  tryParseVersion,
  Version,
  versionParts,
} from "../../src/standards/version.ts";
import { thrown } from "../helpers/errors.ts";

const v = (s: string) => new Version(s);

describe("Version normalization (PEP 440 'Normalization' section)", () => {
  it.each([
    // case sensitivity
    ["1.1RC1", "1.1rc1"],
    ["1.0A1", "1.0a1"],
    // integer normalization
    ["00", "0"],
    ["09000", "9000"],
    ["1.0+foo0100", "1.0+foo0100"],
    ["1.0+0100", "1.0+100"],
    ["007!01.002", "7!1.2"],
    // pre-release separators and spellings, implicit number
    ["1.1.a1", "1.1a1"],
    ["1.1-a1", "1.1a1"],
    ["1.1_a1", "1.1a1"],
    ["1.0a.1", "1.0a1"],
    ["1.0a-1", "1.0a1"],
    ["1.1alpha1", "1.1a1"],
    ["1.1beta2", "1.1b2"],
    ["1.1c3", "1.1rc3"],
    ["1.1pre3", "1.1rc3"],
    ["1.1preview3", "1.1rc3"],
    ["1.2a", "1.2a0"],
    // post-release separators, spellings, implicit number, implicit post
    ["1.2-post2", "1.2.post2"],
    ["1.2post2", "1.2.post2"],
    ["1.2_post2", "1.2.post2"],
    ["1.2.post-2", "1.2.post2"],
    ["1.0-r4", "1.0.post4"],
    ["1.0.rev4", "1.0.post4"],
    ["1.0r4", "1.0.post4"],
    ["1.2.post", "1.2.post0"],
    ["1.0-1", "1.0.post1"],
    // development release separators and implicit number
    ["1.2-dev2", "1.2.dev2"],
    ["1.2dev2", "1.2.dev2"],
    ["1.2_dev2", "1.2.dev2"],
    ["1.2.dev", "1.2.dev0"],
    // local version segments
    ["1.0+ubuntu-1", "1.0+ubuntu.1"],
    ["1.0+ubuntu_1", "1.0+ubuntu.1"],
    ["1.0+Ubuntu.1", "1.0+ubuntu.1"],
    // preceding v, surrounding whitespace
    ["v1.0", "1.0"],
    ["V1.0", "1.0"],
    ["1.0\n", "1.0"],
    [" \t\n\r\f\v1.0 \t\n\r\f\v", "1.0"],
    // everything at once
    ["v01!02.003-ALPHA.04_rev-05.DEV06+007-Xy_z", "1!2.3a4.post5.dev6+7.xy.z"],
  ])("%j normalizes to %s", (input, normal) => {
    expect(v(input).toString()).toBe(normal);
    expect(parseVersion(input).toString()).toBe(normal);
    expect(tryParseVersion(input)?.toString()).toBe(normal);
  });

  it("keeps the canonical form unchanged", () => {
    for (const s of ["1.0", "1!2.0rc3.post4.dev5+abc.6", "2012.10", "0.dev0", "1.0.0.0"]) {
      expect(v(s).toString()).toBe(s);
    }
  });
});

describe("Version parts", () => {
  it("exposes epoch, release, pre, post, dev, local", () => {
    const x = v("1!2.3.4rc5.post6.dev7+ubuntu-8");
    expect(x.epoch).toBe(1);
    expect(x.release).toEqual([2, 3, 4]);
    expect(x.pre).toEqual(["rc", 5]);
    expect(x.post).toBe(6);
    expect(x.dev).toBe(7);
    expect(x.local).toBe("ubuntu.8");
    expect(x.public).toBe("1!2.3.4rc5.post6.dev7");
    expect(x.baseVersion).toBe("1!2.3.4");
    expect([x.major, x.minor, x.micro]).toEqual([2, 3, 4]);
    const y = v("5");
    expect([y.epoch, y.pre, y.post, y.dev, y.local]).toEqual([
      0,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect([y.major, y.minor, y.micro]).toEqual([5, 0, 0]);
    expect(y.baseVersion).toBe("5");
  });

  it.each([
    // [version, isPrerelease, isPostrelease, isDevrelease]
    ["1.0", false, false, false],
    ["1.0a1", true, false, false],
    ["1.0b1", true, false, false],
    ["1.0rc1", true, false, false],
    ["1.0.dev1", true, false, true],
    ["1.0.post1", false, true, false],
    ["1.0.post1.dev1", true, true, true],
    ["1.0a1.post1", true, true, false],
    ["1.0+local", false, false, false],
  ])("%s: pre %s, post %s, dev %s", (s, pre, post, dev) => {
    const x = v(s);
    expect([x.isPrerelease, x.isPostrelease, x.isDevrelease]).toEqual([pre, post, dev]);
  });

  it("keeps numbers beyond 2^53 exact in text and order", () => {
    const big = "123456789012345678901234567890";
    const a = v(`${big}.0${big}`);
    expect(a.toString()).toBe(`${big}.${big}`);
    expect(versionParts(a).release).toEqual([big, big]);
    expect(v(`1.${big}1`).compare(v(`1.${big}0`))).toBe(1);
    expect(v(`1.${big}`).compare(v("1.9999999999999999"))).toBe(1);
    expect(v(`${big}!1`).compare(v("99999999999999999999!1"))).toBe(1);
    expect(v(`1.0+${big}`).compare(v("1.0+99999999999999999999999"))).toBe(1);
  });
});

function expectAscending(list: string[]): void {
  for (let i = 1; i < list.length; i++) {
    const a = v(list[i - 1] as string);
    const b = v(list[i] as string);
    expect(a.compare(b), `${a} < ${b}`).toBe(-1);
    expect(b.compare(a), `${b} > ${a}`).toBe(1);
  }
  const shuffled = [...list].reverse().map(v);
  expect(shuffled.sort(compareVersions).map(String)).toEqual(list.map((s) => v(s).toString()));
}

describe("Version ordering (PEP 440 examples)", () => {
  it("orders final releases numerically", () => {
    expectAscending([
      "0.9",
      "0.9.1",
      "0.9.2",
      "0.9.10",
      "0.9.11",
      "1.0",
      "1.0.1",
      "1.1",
      "2.0",
      "2.0.1",
    ]);
  });

  it("orders date based releases", () => {
    expectAscending(["2012.4", "2012.7", "2012.10", "2013.1", "2013.6"]);
    expectAscending(["2012.1", "2012.2", "2012.3", "2012.15", "2013.1", "2013.2"]);
  });

  it("orders epochs before everything else", () => {
    expectAscending(["1.0", "1.1", "2.0", "2013.10", "2014.04"]);
    expectAscending(["2013.10", "2014.04", "1!1.0", "1!1.1", "1!2.0"]);
  });

  it("orders the compliant schemes of the PEP", () => {
    expectAscending(["0.1", "0.2", "0.3", "1.0", "1.1"]);
    expectAscending(["1.1.0", "1.1.1", "1.1.2", "1.2.0"]);
    expectAscending(["0.9", "1.0a1", "1.0a2", "1.0b1", "1.0rc1", "1.0", "1.1a1"]);
    expectAscending([
      "0.9",
      "1.0.dev1",
      "1.0.dev2",
      "1.0.dev3",
      "1.0.dev4",
      "1.0c1",
      "1.0c2",
      "1.0",
      "1.0.post1",
      "1.1.dev1",
    ]);
  });

  it("orders the summary of permitted suffixes", () => {
    expectAscending([
      "1.dev0",
      "1.0.dev456",
      "1.0a1",
      "1.0a2.dev456",
      "1.0a12.dev456",
      "1.0a12",
      "1.0b1.dev456",
      "1.0b2",
      "1.0b2.post345.dev456",
      "1.0b2.post345",
      "1.0rc1.dev456",
      "1.0rc1",
      "1.0",
      "1.0+abc.5",
      "1.0+abc.7",
      "1.0+5",
      "1.0.post456.dev34",
      "1.0.post456",
      "1.0.15",
      "1.1.dev1",
    ]);
  });

  it("pads releases with zeros: X.Y == X.Y.0", () => {
    expect(v("1.1").equals(v("1.1.0"))).toBe(true);
    expect(v("1.0").equals(v("1.0.0.0.0"))).toBe(true);
    expect(v("0").equals(v("0.0"))).toBe(true);
    expect(v("v1.0").equals(v("1.0"))).toBe(true);
    expect(v("1.0c1").equals(v("1.0rc1"))).toBe(true);
    expect(v("1.0").equals(v("1.0+local"))).toBe(false);
    expect(v("1.0.1").equals(v("1.0"))).toBe(false);
    expect(v("1.1").toString()).toBe("1.1");
    expect(v("1.1.0").toString()).toBe("1.1.0");
  });

  it("orders local labels: numbers above words, words case-insensitively, longer above prefix", () => {
    expectAscending([
      "1.0",
      "1.0+a",
      "1.0+a.1",
      "1.0+a.2",
      "1.0+a.10",
      "1.0+b",
      "1.0+z.z",
      "1.0+0",
      "1.0+1",
      "1.0+1.a",
    ]);
    expect(v("1.0+ABC").equals(v("1.0+abc"))).toBe(true);
    expect(v("1.0+01").equals(v("1.0+1"))).toBe(true);
    expect(v("1.0+foo0100").compare(v("1.0+foo100"))).toBe(-1);
  });
});

describe("invalid versions", () => {
  it.each([
    "",
    "   ",
    "1.0-",
    "1..0",
    ".1",
    "1.",
    "v",
    "vv1.0",
    "1.0+",
    "1.0+a..b",
    "1.0+a_",
    "1.0+é",
    "1!",
    "!1",
    "1!2!3",
    "1.0a1a1",
    "1.0.dev1.post1",
    "1.0rc1.a1",
    "1.0.post1.post2",
    "1.0 1",
    "1.0-1-1",
    "1_0",
    "a1",
    "french toast",
    "1.0.*",
    "1.0x",
    "١.0",
    "1.0\u200b",
    "\ufeff1.0",
  ])("%j is rejected with INVALID_VERSION", (input) => {
    const err = thrown(() => new Version(input));
    expect(err.code).toBe("INVALID_VERSION");
    expect(err.message).toMatch(/^Invalid version .*: .* at column \d+$/);
    expect(err.message).not.toContain("\n");
    expect(() => parseVersion(input)).toThrow(SlimenvError);
    expect(tryParseVersion(input)).toBeUndefined();
  });

  it("points at the column where the version stops making sense", () => {
    const err = thrown(() => new Version("1.0.post1x"));
    expect(err.message).toBe('Invalid version "1.0.post1x": unexpected "x" at column 10');
    expect(err.detail).toBe("1.0.post1x\n         ^");
    expect(() => new Version("  ")).toThrow(/the version is empty/);
    expect(() => new Version("abc")).toThrow(/expected a release number .* at column 1/);
    expect(() => new Version(42 as unknown as string)).toThrow(/expected a string/);
    expect(tryParseVersion(undefined as unknown as string)).toBeUndefined();
  });
});

describe("plain releases", () => {
  it("parse to the parts the full grammar gives them (leading zeros, trailing zeros)", () => {
    for (const text of ["0", "00", "1", "1.0", "2.31.0", "01.002.0003", "1.0.0.0.0", "2024.10.1"]) {
      // A leading "v" is allowed and ignored, and takes the grammar's way.
      expect(versionParts(v(text))).toEqual(versionParts(v(`v${text}`)));
      expect(v(text).compare(v(`v${text}`))).toBe(0);
    }
  });

  it("order among every other kind of version as PEP 440 says", () => {
    const list = [
      "0.9.dev1",
      "0.9",
      "1.0.dev0",
      "1.0a1.dev2",
      "1.0a1",
      "1.0a1.post1",
      "1.0b2",
      "1.0rc1",
      "1.0",
      "1.0+local",
      "1.0.post1.dev0",
      "1.0.post1",
      "1.0.1",
      "1!0.5",
    ];
    for (let i = 0; i < list.length; i++) {
      for (let j = 0; j < list.length; j++) {
        const expected = Math.sign(i - j);
        expect([list[i], list[j], v(list[i] as string).compare(v(list[j] as string))]).toEqual([
          list[i],
          list[j],
          expected,
        ]);
      }
    }
  });
});
