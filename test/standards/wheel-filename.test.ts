import { beforeAll, describe, expect, it } from "vitest";
import { SlimenvError } from "../../src/base/index.ts";
import { parseTag, Tag } from "../../src/standards/tags.ts";
import { Version } from "../../src/standards/version.ts";
import {
  compressTags,
  escapeWheelName,
  formatWheelFilename,
  parseWheelFilename,
  tryParseWheelFilename,
} from "../../src/standards/wheel-filename.ts";
import { thrown } from "../helpers/errors.ts";
import {
  defaultPackagingPython,
  type PackagingPython,
  runPythonJson,
} from "../helpers/packaging.ts";
import { Rng } from "../helpers/random.ts";

const simple = (filename: string, validateOrder = false) => {
  const w = parseWheelFilename(filename, { validateOrder });
  return {
    name: w.name,
    version: w.version.toString(),
    build: w.build === undefined ? [] : [...w.build],
    tags: w.tags.map(String).sort(),
  };
};

describe("parseWheelFilename", () => {
  it("parses a plain wheel name", () => {
    const w = parseWheelFilename("foo-1.0-py3-none-any.whl");
    expect(w.name).toBe("foo");
    expect(w.version).toBeInstanceOf(Version);
    expect(w.version.toString()).toBe("1.0");
    expect(w.build).toBeUndefined();
    expect(w.tags.map(String)).toEqual(["py3-none-any"]);
  });

  it("canonicalizes the name and normalizes the version", () => {
    const w = simple("Foo_Bar.baz-01.0.0RC1-py3-none-any.whl");
    expect(w.name).toBe("foo-bar-baz");
    expect(w.version).toBe("1.0.0rc1");
  });

  it("splits the build tag into number and rest", () => {
    expect(simple("foo-1.0-1-py3-none-any.whl").build).toEqual([1, ""]);
    expect(simple("foo-1.0-007abc-py3-none-any.whl").build).toEqual([7, "abc"]);
    expect(simple("foo-1.0-12_x.y-py3-none-any.whl").build).toEqual([12, "_x.y"]);
  });

  it("expands compressed tag sets", () => {
    expect(
      simple("numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl").tags,
    ).toEqual(["cp312-cp312-manylinux2014_x86_64", "cp312-cp312-manylinux_2_17_x86_64"]);
    expect(simple("six-1.16.0-py2.py3-none-any.whl").tags).toEqual([
      "py2-none-any",
      "py3-none-any",
    ]);
  });

  it.each([
    ["foo-1.0-py3-none-any.zip", "extension must be '.whl'", undefined],
    ["foo-1.0-py3-none-any.WHL", "extension must be '.whl'", undefined],
    ["foo-1.0-py3-none.whl", "4 '-'-separated parts", undefined],
    ["foo-bar-1.0-1-py3-none-any.whl", "7 '-'-separated parts", undefined],
    ["-1.0-py3-none-any.whl", "project name is empty at column 1", 0],
    ["foo__bar-1.0-py3-none-any.whl", "'__'", 0],
    ["foo bar-1.0-py3-none-any.whl", "invalid project name", 0],
    ["foo-1.0.x-py3-none-any.whl", 'invalid version "1.0.x" at column 5', 4],
    ["foo-1.0-abc-py3-none-any.whl", "must start with a digit, on one line) at column 9", 8],
    // packaging 26.4 refuses a line break in the build tag (26.3 cut the tag there).
    ["foo-1.0-1\n-py3-none-any.whl", "must start with a digit, on one line) at column 9", 8],
    ["foo-1.0-1a\nb-py3-none-any.whl", "on one line", 8],
    ["foo-1.0-99999999999999999999-py3-none-any.whl", "too large", 8],
    ["foo-1.0-3py-none-any.whl", "invalid tags", 8],
    ["foo-1.0-py3..py2-none-any.whl", "invalid tags", 8],
    ["foo-1.0-py3--any.whl", "invalid tags", 8],
  ])("rejects %j (%s)", (filename, message, column) => {
    const err = thrown(() => parseWheelFilename(filename));
    expect(err.code).toBe("INVALID_WHEEL_FILENAME");
    expect(err.message).toContain(message);
    expect(err.message).toContain(JSON.stringify(filename));
    expect(err.hint).toContain("{name}-{version}");
    if (column !== undefined) expect(err.detail).toBe(`${filename}\n${" ".repeat(column)}^`);
  });

  it("checks tag order on request", () => {
    expect(simple("foo-1.0-py3.py2-none-any.whl").tags).toHaveLength(2);
    const err = thrown(() =>
      parseWheelFilename("foo-1.0-py3.py2-none-any.whl", { validateOrder: true }),
    );
    expect(err.code).toBe("INVALID_WHEEL_FILENAME");
    expect(err.message).toContain("sorted order");
  });

  it("rejects non-strings", () => {
    expect(thrown(() => parseWheelFilename(null as unknown as string)).code).toBe(
      "INVALID_WHEEL_FILENAME",
    );
  });

  it("has a non-throwing form", () => {
    expect(tryParseWheelFilename("foo.whl")).toBeUndefined();
    expect(tryParseWheelFilename("foo-1-py3-none-any.whl")?.name).toBe("foo");
  });
});

describe("formatWheelFilename", () => {
  it("escapes, normalizes and compresses", () => {
    expect(
      formatWheelFilename({
        name: "Foo.Bar-baz",
        version: "1.0.0-RC1",
        tags: [new Tag("py3", "none", "any"), new Tag("py2", "none", "any")],
      }),
    ).toBe("foo_bar_baz-1.0.0rc1-py2.py3-none-any.whl");
    expect(
      formatWheelFilename({
        name: "x",
        version: new Version("2!1.0+local.1"),
        build: [3, "b"],
        tags: "CP312-cp312-win_amd64",
      }),
    ).toBe("x-2!1.0+local.1-3b-cp312-cp312-win_amd64.whl");
  });

  it("round-trips through parseWheelFilename", () => {
    const tags = parseTag("cp311.cp312-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64");
    const filename = formatWheelFilename({
      name: "My_Pkg",
      version: "3.0.post2",
      build: [10, ""],
      tags,
    });
    const back = parseWheelFilename(filename);
    expect(back.name).toBe("my-pkg");
    expect(back.version.toString()).toBe("3.0.post2");
    expect(back.build).toEqual([10, ""]);
    expect(back.tags.map(String).sort()).toEqual(tags.map(String).sort());
  });

  it("rejects what cannot be written", () => {
    const tags = [new Tag("py3", "none", "any")];
    expect(thrown(() => formatWheelFilename({ name: "-x", version: "1", tags })).code).toBe(
      "INVALID_NAME",
    );
    expect(thrown(() => formatWheelFilename({ name: "x", version: "one", tags })).code).toBe(
      "INVALID_WHEEL_FILENAME",
    );
    expect(
      thrown(() => formatWheelFilename({ name: "x", version: "1", build: [-1, ""], tags })).code,
    ).toBe("INVALID_WHEEL_FILENAME");
    expect(
      thrown(() => formatWheelFilename({ name: "x", version: "1", build: [1, "a-b"], tags })).code,
    ).toBe("INVALID_WHEEL_FILENAME");
    expect(thrown(() => formatWheelFilename({ name: "x", version: "1", tags: [] })).code).toBe(
      "INVALID_TAG",
    );
    expect(
      thrown(() => formatWheelFilename({ name: "x", version: "1", tags: "py3-none" })).code,
    ).toBe("INVALID_TAG");
    const notProduct = [new Tag("py3", "none", "any"), new Tag("cp312", "cp312", "win32")];
    expect(thrown(() => compressTags(notProduct)).code).toBe("INVALID_TAG");
    expect(escapeWheelName("a.b-c__d")).toBe("a_b_c_d");
  });
});

// ---- differential against packaging.utils.parse_wheel_filename ----

const ORACLE = `
import json, sys
from packaging.utils import parse_wheel_filename
out = []
for name, order in json.load(sys.stdin):
    try:
        n, v, b, t = parse_wheel_filename(name, validate_order=order)
        out.append({"name": n, "version": str(v), "build": list(b), "tags": sorted(str(x) for x in t)})
    except ValueError:
        out.append(None)
json.dump(out, sys.stdout)
`;

const NAMES = [
  "foo",
  "Foo_Bar",
  "foo.bar",
  "a",
  "1",
  "_foo",
  "foo_",
  "foo__bar",
  "foo..bar",
  "numpy",
  "ünïcode",
  "名字",
  "foo bar",
  "",
  ".",
  "zope.interface",
  "Django",
  "x²",
  "a\u0301b",
];
const VERSIONS = [
  "1.0",
  "1.0.post1",
  "2!1.0",
  "1.0+local.7",
  "1.0+Local_7",
  "v1.0",
  "1.0.0a1",
  "1.0dev",
  "1.0RC2",
  "bad",
  "01.02",
  "1.0_1",
  "",
  "1.0.",
  "0",
  "1.0 ",
  "1.0.post",
  "1!",
];
const BUILDS = [undefined, "1", "0", "1abc", "abc", "123_x", "", "00042.x", "1 2"];
const TAGS = [
  "py3-none-any",
  "py2.py3-none-any",
  "py3.py2-none-any",
  "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
  "CP311-ABI3-WIN_AMD64",
  "cp313-cp313t-macosx_11_0_arm64",
  "pp310-pypy310_pp73-win_amd64",
  "3py-none-any",
  "py3-none-",
  "py3..py2-none-any",
  "py3-none",
  "py3-none-any-x",
  ".-.-.",
  "py_3-no ne-any",
  "ünï-none-any",
];

function generateFilenames(count: number): string[] {
  const rng = new Rng(20240601);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const build = rng.pick(BUILDS);
    let filename = [
      rng.pick(NAMES),
      rng.pick(VERSIONS),
      ...(build === undefined ? [] : [build]),
      rng.pick(TAGS),
    ].join("-");
    filename += rng.chance(0.92) ? ".whl" : rng.pick([".zip", ".WHL", "", ".whl.whl"]);
    if (rng.chance(0.25)) {
      // Mutate: insert, delete or replace one character.
      const chars = "-._ aZ9+!";
      const at = rng.int(filename.length);
      const op = rng.int(3);
      const c = rng.pick([...chars]);
      if (op === 0) filename = filename.slice(0, at) + c + filename.slice(at);
      else if (op === 1) filename = filename.slice(0, at) + filename.slice(at + 1);
      else filename = filename.slice(0, at) + c + filename.slice(at + 1);
    }
    out.push(filename);
  }
  return out;
}

describe("parseWheelFilename vs pypa/packaging", () => {
  const filenames = generateFilenames(1500);
  const cases: [string, boolean][] = filenames.map((f, i) => [f, i % 3 === 0]);
  let pp: PackagingPython;
  let expected: unknown[];
  beforeAll(() => {
    pp = defaultPackagingPython();
    expected = runPythonJson<unknown[]>(pp, ORACLE, cases);
  });

  it(`agrees on ${cases.length} filenames`, () => {
    expect(expected).toHaveLength(cases.length);
    const valid = expected.filter((e) => e !== null).length;
    // Both kinds must be well represented, or the test proves little.
    expect(valid).toBeGreaterThan(200);
    expect(cases.length - valid).toBeGreaterThan(200);
    const mismatches: string[] = [];
    cases.forEach(([filename, order], i) => {
      let ours: unknown;
      try {
        ours = simple(filename, order);
      } catch (err) {
        if (!(err instanceof SlimenvError) || err.code !== "INVALID_WHEEL_FILENAME") throw err;
        ours = null;
      }
      if (JSON.stringify(ours) !== JSON.stringify(expected[i])) {
        mismatches.push(
          `${JSON.stringify(filename)} order=${order}\n  ours:      ${JSON.stringify(ours)}\n  packaging: ${JSON.stringify(expected[i])}`,
        );
      }
    });
    expect(mismatches.slice(0, 8).join("\n")).toBe("");
  });
});
