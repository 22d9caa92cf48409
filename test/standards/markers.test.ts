import { describe, expect, it } from "vitest";
import type { MarkerEnvironment } from "../../src/standards/markers.ts";
import { Marker } from "../../src/standards/markers.ts";
import { thrown, thrownAtColumn } from "../helpers/errors.ts";

/** The example environment of the PEP 508 table of marker variables. */
const PEP508_ENV: MarkerEnvironment = {
  os_name: "posix",
  sys_platform: "linux",
  platform_machine: "x86_64",
  platform_python_implementation: "CPython",
  platform_release: "3.14.1-x86_64-linode39",
  platform_system: "Linux",
  platform_version: "#1 SMP Fri Apr 25 13:07:35 EDT 2014",
  python_version: "3.4",
  python_full_version: "3.4.0",
  implementation_name: "cpython",
  implementation_version: "3.4.0",
};

const PY311: MarkerEnvironment = {
  ...PEP508_ENV,
  python_version: "3.11",
  python_full_version: "3.11.7",
  implementation_version: "3.11.7",
};

describe("Marker parsing and canonical text", () => {
  it.each([
    ['python_version < "2.7"', 'python_version < "2.7"'],
    ["python_version<'2.7'", 'python_version < "2.7"'],
    [
      "python_version<'2.7' and platform_version=='2'",
      'python_version < "2.7" and platform_version == "2"',
    ],
    ["os_name=='a' or os_name=='b'", 'os_name == "a" or os_name == "b"'],
    // PEP 508 test examples: and binds tighter than or, parentheses override it.
    [
      "os_name=='a' and os_name=='b' or os_name=='c'",
      'os_name == "a" and os_name == "b" or os_name == "c"',
    ],
    [
      "os_name=='a' and (os_name=='b' or os_name=='c')",
      'os_name == "a" and (os_name == "b" or os_name == "c")',
    ],
    [
      "os_name=='a' or os_name=='b' and os_name=='c'",
      'os_name == "a" or os_name == "b" and os_name == "c"',
    ],
    [
      "(os_name=='a' or os_name=='b') and os_name=='c'",
      '(os_name == "a" or os_name == "b") and os_name == "c"',
    ],
    // Redundant parentheses go away, needed ones stay.
    ["((os_name == 'a'))", 'os_name == "a"'],
    ["(os_name == 'a') and (sys_platform == 'b')", 'os_name == "a" and sys_platform == "b"'],
    [
      "os_name == 'a' and ((sys_platform == 'b' or sys_platform == 'c'))",
      'os_name == "a" and (sys_platform == "b" or sys_platform == "c")',
    ],
    [
      "os_name == 'a' and (sys_platform == 'b' and sys_platform == 'c')",
      'os_name == "a" and (sys_platform == "b" and sys_platform == "c")',
    ],
    // Legacy dotted names and python_implementation are canonicalized.
    ["os.name == 'posix'", 'os_name == "posix"'],
    ["sys.platform == 'linux'", 'sys_platform == "linux"'],
    ["platform.version == 'x'", 'platform_version == "x"'],
    ["platform.machine == 'x86_64'", 'platform_machine == "x86_64"'],
    ["platform.python_implementation == 'CPython'", 'platform_python_implementation == "CPython"'],
    ["python_implementation == 'CPython'", 'platform_python_implementation == "CPython"'],
    // Variables on either side, every operator.
    ["'3.6' <= python_version", '"3.6" <= python_version'],
    ["'linux' in sys_platform", '"linux" in sys_platform'],
    ["'win'not   in\tsys_platform", '"win" not in sys_platform'],
    ["python_version~='3.6'", 'python_version ~= "3.6"'],
    ["python_version==='3.6'", 'python_version === "3.6"'],
    ["python_version!='3.6'", 'python_version != "3.6"'],
    ["python_version>'3.6'", 'python_version > "3.6"'],
    // Quoting: double quotes unless the value holds one.
    [`os_name == '"'`, `os_name == '"'`],
    [`os_name == "it's"`, `os_name == "it's"`],
    // PEP 685: the literal compared with extra is normalized.
    ["extra == 'Foo.Bar'", 'extra == "foo-bar"'],
    ["'Foo_Bar' == extra", '"foo-bar" == extra'],
    ["'Foo_Bar' in extras", '"foo-bar" in extras'],
    ["'Dev_Group' not in dependency_groups", '"dev-group" not in dependency_groups'],
    // Python string escapes in quoted values, as packaging reads them.
    ["os_name == '\\x41\\u00e9'", 'os_name == "Aé"'],
    // Boolean operators need no spaces around quotes or parentheses.
    [
      "os_name=='a'and(sys_platform=='b')or'x'in os_name",
      'os_name == "a" and sys_platform == "b" or "x" in os_name',
    ],
  ])("%s", (text, canonical) => {
    const marker = new Marker(text);
    expect(marker.toString()).toBe(canonical);
    // Canonical text parses back to itself.
    expect(new Marker(canonical).toString()).toBe(canonical);
  });

  it("combines markers with and/or, keeping needed parentheses", () => {
    const a = new Marker("os_name == 'a' or os_name == 'b'");
    const b = new Marker("sys_platform == 'linux'");
    expect(a.and(b).toString()).toBe(
      '(os_name == "a" or os_name == "b") and sys_platform == "linux"',
    );
    expect(b.or(a).toString()).toBe(
      'sys_platform == "linux" or (os_name == "a" or os_name == "b")',
    );
    expect(a.equals(new Marker('os_name=="a" or os_name=="b"'))).toBe(true);
    expect(a.equals(b)).toBe(false);
  });
});

describe("Marker errors", () => {
  it.each([
    ["", 1, "marker variable"],
    ["   ", 4, "marker variable"],
    ["python_version", 15, "operator"],
    ["python_version >= ", 19, "marker variable"],
    ["python_version >= 3.6", 19, "marker variable"],
    ["os_name = 'a'", 9, "operator"],
    ["os_name == 'a' xor os_name == 'b'", 16, "end of the marker"],
    ["os_name == 'a' and", 19, "marker variable"],
    ["os_name == 'a' or or", 19, "marker variable"],
    ["(os_name == 'a'", 16, "close the '(' at column 1"],
    ["os_name == 'a')", 15, "end of the marker"],
    [
      "os_name == 'a' and (sys_platform == 'x' or (os_name == 'b')",
      60,
      "close the '(' at column 20",
    ],
    ["os_name notin 'a'", 9, "operator"],
    ["os_name not 'a'", 13, "'in' after 'not'"],
    ["os_name not", 12, "whitespace after 'not'"],
    ["os_name == 'a", 12, "quoted string"],
    ["os_name == \"a'", 12, "quoted string"],
    ["python_versions == '3'", 1, "marker variable"],
    ["platform.release == 'x'", 1, "marker variable"],
    ["os_namé == 'x'", 1, "marker variable"],
    ["os_name == 'a'andos_name == 'b'", 15, "end of the marker"],
    ["os_name == '\\x4'", 17, "invalid quoted string"],
    ["os_name == 'a\\'", 16, "invalid quoted string"],
    ["os_name == 'a\nb'", 17, "invalid quoted string"],
    ["os_name == posix", 12, "marker variable"],
    ["os_name == 'a';", 15, "end of the marker"],
    ["() ", 2, "marker variable"],
  ])("%j fails at column %i", (text, column, words) => {
    const err = thrownAtColumn(() => new Marker(text), "INVALID_MARKER", text, column);
    expect(err.message).toContain(words);
  });
});

describe("Marker evaluation", () => {
  it.each([
    // Version comparisons through PEP 440.
    ['python_version >= "3.8"', PY311, true],
    ['python_version < "3.8"', PY311, false],
    ['python_version > "3.9"', PY311, true], // would be false as strings
    ['python_version == "3.11.0"', PY311, true], // zero padding, as versions
    ['python_version == "3.*"', PY311, true],
    ['python_version != "3.11.*"', PY311, false],
    ['python_full_version ~= "3.11.1"', PY311, true],
    ['python_full_version === "3.11.7"', PY311, true],
    ['"3.6" < python_version', PY311, true],
    ['"3.12" < python_version', PY311, false],
    // Pre-releases match (prereleases=True), and order before the final release.
    ['python_full_version >= "3.13"', { ...PY311, python_full_version: "3.13.0rc1" }, false],
    ['python_full_version >= "3.13.0a1"', { ...PY311, python_full_version: "3.13.0rc1" }, true],
    // A Python built from an untagged commit reports "3.13.0+": read as a local version.
    ['python_full_version >= "3.13"', { ...PY311, python_full_version: "3.13.0+" }, true],
    // A value that is not a version falls back to string comparison.
    ['platform_release >= "3.14.1-x86_64-linode39"', PEP508_ENV, true],
    ['platform_release > "3"', PEP508_ENV, false],
    ['implementation_version == "cpython"', PEP508_ENV, false],
    // Non-version variables: strings; < and > are never true, <= and >= mean ==.
    ['os_name == "posix"', PEP508_ENV, true],
    ['os_name <= "posix"', PEP508_ENV, true],
    ['os_name < "zzz"', PEP508_ENV, false],
    ['os_name > "a"', PEP508_ENV, false],
    ['os_name != "nt"', PEP508_ENV, true],
    ['"linux" in sys_platform', PEP508_ENV, true],
    ['"SMP" in platform_version', PEP508_ENV, true],
    ['"win" not in sys_platform', PEP508_ENV, true],
    ['sys_platform in "linux2 linux"', PEP508_ENV, true],
    ['"" in os_name', PEP508_ENV, true],
    // Precedence: and before or.
    ['os_name == "nt" and os_name == "nt" or os_name == "posix"', PEP508_ENV, true],
    ['os_name == "posix" or os_name == "nt" and os_name == "nt"', PEP508_ENV, true],
    ['(os_name == "posix" or os_name == "nt") and os_name == "nt"', PEP508_ENV, false],
    ['os_name == "nt" and (os_name == "nt" or os_name == "posix")', PEP508_ENV, false],
    // Legacy names read the canonical variables.
    ['os.name == "posix" and python_implementation == "CPython"', PEP508_ENV, true],
    // extra: normalized on both sides; absent means "".
    ['extra == "Foo.Bar"', { ...PEP508_ENV, extra: "foo_bar" }, true],
    ['extra == "test"', { ...PEP508_ENV, extra: "TEST" }, true],
    ['extra == "test"', PEP508_ENV, false],
    ['extra == ""', PEP508_ENV, true],
    ['extra != "test"', { ...PEP508_ENV, extra: "" }, true],
    // Set-valued variables of lock files.
    ['"Dev" in dependency_groups', { ...PEP508_ENV, dependency_groups: ["dev"] }, true],
    ['"foo_bar" in extras', { ...PEP508_ENV, extras: new Set(["Foo.Bar"]) }, true],
    ['"x" not in extras', { ...PEP508_ENV, extras: [] }, true],
    ['"x" == extras', { ...PEP508_ENV, extras: ["x"] }, false],
    // Both sides variables: the right one is taken as its name, as packaging does.
    ["os_name == sys_platform", { ...PEP508_ENV, sys_platform: "posix" }, false],
    ["os_name == os_name", { ...PEP508_ENV, os_name: "os_name" }, true],
  ] as const)("%s", (text, env, expected) => {
    expect(new Marker(text).evaluate(env)).toBe(expected);
  });

  it("needs an environment", () => {
    const err = thrown(() => new Marker('os_name == "posix"').evaluate());
    expect(err.code).toBe("MARKER_EVALUATION");
  });

  it("names a variable missing from the environment", () => {
    const err = thrown(() => new Marker('python_version >= "3"').evaluate({ os_name: "posix" }));
    expect(err.code).toBe("MARKER_EVALUATION");
    expect(err.message).toContain('"python_version"');
    const sets = thrown(() => new Marker('"a" in extras').evaluate(PEP508_ENV));
    expect(sets.message).toContain('"extras"');
  });

  it("rejects ~= and === on values that are not versions", () => {
    expect(thrown(() => new Marker('os_name ~= "posix"').evaluate(PEP508_ENV)).code).toBe(
      "MARKER_EVALUATION",
    );
    expect(thrown(() => new Marker('extra === "x"').evaluate(PEP508_ENV)).code).toBe(
      "MARKER_EVALUATION",
    );
    // packaging evaluates every comparison, so the error shows even after a true "or".
    expect(
      thrown(() => new Marker('os_name == "posix" or os_name ~= "x"').evaluate(PEP508_ENV)).code,
    ).toBe("MARKER_EVALUATION");
  });

  it("rejects a set-valued variable on the left", () => {
    const err = thrown(() =>
      new Marker('extras == "a"').evaluate({ ...PEP508_ENV, extras: ["a"] }),
    );
    expect(err.code).toBe("MARKER_EVALUATION");
    expect(err.message).toContain("extras");
  });

  it("refuses to write a value holding both quote characters", () => {
    const marker = new Marker("os_name == '\\x22\\x27'");
    expect(marker.evaluate({ ...PEP508_ENV, os_name: "\"'" })).toBe(true);
    expect(thrown(() => marker.toString()).code).toBe("INVALID_MARKER");
  });
});

describe("Marker nesting (packaging 26.4)", () => {
  it("allows 200 levels of parentheses and refuses 201 with the column, never overflowing the stack", () => {
    const nested = (n: number) => `${"(".repeat(n)}os_name == "a"${")".repeat(n)}`;
    expect(new Marker(nested(200)).toString()).toBe('os_name == "a"');
    for (const n of [201, 100_000]) {
      const err = thrown(() => new Marker(nested(n)));
      expect(err.code).toBe("INVALID_MARKER");
      expect(err.message).toBe(
        "Invalid marker at column 201: the marker is nested more than 200 levels deep",
      );
    }
  });
});
