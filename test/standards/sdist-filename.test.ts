import { beforeAll, describe, expect, it } from "vitest";
import { parseSdistFilename, tryParseSdistFilename } from "../../src/standards/sdist-filename.ts";
import { Version } from "../../src/standards/version.ts";
import { thrown } from "../helpers/errors.ts";
import {
  defaultPackagingPython,
  type PackagingPython,
  runPythonJson,
} from "../helpers/packaging.ts";

describe("parseSdistFilename", () => {
  it.each([
    ["foo-1.0.tar.gz", "foo", "1.0"],
    ["Foo_Bar-2.0rc1.zip", "foo-bar", "2.0rc1"],
    ["zope.interface-6.0.tar.gz", "zope-interface", "6.0"],
    ["my-pkg-name-1.0.post1.tar.gz", "my-pkg-name", "1.0.post1"],
    ["x-1!2.0+local.tar.gz", "x", "1!2.0+local"],
  ])("%s → %s %s", (filename, name, version) => {
    const s = parseSdistFilename(filename);
    expect(s.name).toBe(name);
    expect(s.version).toBeInstanceOf(Version);
    expect(s.version.toString()).toBe(version);
  });

  it.each([
    ["foo-1.0.tar.bz2", "extension must be '.tar.gz' or '.zip'", undefined],
    ["foo-1.0.tgz", "extension must be", undefined],
    ["foo-1.0.TAR.GZ", "extension must be", undefined],
    ["foo.tar.gz", "no '-'", undefined],
    ["-1.0.tar.gz", "project name is empty at column 1", 0],
    ["foo-bar.tar.gz", 'invalid version "bar" at column 5', 4],
    ["foo-1.0-.zip", 'invalid version "" at column 9', 8],
  ])("rejects %j", (filename, message, column) => {
    const err = thrown(() => parseSdistFilename(filename));
    expect(err.code).toBe("INVALID_SDIST_FILENAME");
    expect(err.message).toContain(message);
    expect(err.hint).toContain("{name}-{version}.tar.gz");
    if (column !== undefined) expect(err.detail).toBe(`${filename}\n${" ".repeat(column)}^`);
  });

  it("rejects non-strings and has a non-throwing form", () => {
    expect(thrown(() => parseSdistFilename(1 as unknown as string)).code).toBe(
      "INVALID_SDIST_FILENAME",
    );
    expect(tryParseSdistFilename("foo.tar.gz")).toBeUndefined();
    expect(tryParseSdistFilename("foo-1.tar.gz")?.name).toBe("foo");
  });
});

const ORACLE = `
import json, sys
from packaging.utils import parse_sdist_filename
out = []
for name in json.load(sys.stdin):
    try:
        n, v = parse_sdist_filename(name)
        out.append([n, str(v)])
    except ValueError:
        out.append(None)
json.dump(out, sys.stdout)
`;

describe("parseSdistFilename vs pypa/packaging", () => {
  const names = ["foo", "Foo_Bar", "a.b", "my-pkg", "", "-", "foo bar", "Ünï", "1", "a--b"];
  const versions = ["1.0", "2!1.0", "1.0rc1", "v1.0", "1.0+local", "bad", "", "1.0-1", "1.0.post"];
  const exts = [".tar.gz", ".zip", ".tar.bz2", ".tgz", "", ".tar.gz.zip"];
  const filenames: string[] = [];
  for (const n of names) {
    for (const v of versions) {
      for (const e of exts) filenames.push(`${n}-${v}${e}`);
    }
    filenames.push(`${n}.tar.gz`);
  }
  let pp: PackagingPython;
  let expected: unknown[];
  beforeAll(() => {
    pp = defaultPackagingPython();
    expected = runPythonJson<unknown[]>(pp, ORACLE, filenames);
  });

  it(`agrees on ${filenames.length} filenames`, () => {
    expect(expected).toHaveLength(filenames.length);
    expect(expected.filter((e) => e !== null).length).toBeGreaterThan(50);
    const mismatches: string[] = [];
    filenames.forEach((filename, i) => {
      const s = tryParseSdistFilename(filename);
      const ours = s === undefined ? null : [s.name, s.version.toString()];
      if (JSON.stringify(ours) !== JSON.stringify(expected[i])) {
        mismatches.push(
          `${JSON.stringify(filename)} ours ${JSON.stringify(ours)} packaging ${JSON.stringify(expected[i])}`,
        );
      }
    });
    expect(mismatches.slice(0, 8).join("\n")).toBe("");
  });
});
