import { describe, expect, it } from "vitest";
import { Requirement } from "../../src/standards/requirement.ts";
import { thrown, thrownAtColumn } from "../helpers/errors.ts";

interface Expect {
  name: string;
  extras?: string[];
  specifier?: string;
  url?: string;
  marker?: string;
  text: string;
}

describe("Requirement: the PEP 508 examples", () => {
  it.each<[string, Expect]>([
    ["A", { name: "A", text: "A" }],
    ["A.B-C_D", { name: "A.B-C_D", text: "A.B-C_D" }],
    ["aa", { name: "aa", text: "aa" }],
    ["name", { name: "name", text: "name" }],
    ["name<=1", { name: "name", specifier: "<=1", text: "name<=1" }],
    ["name>=3", { name: "name", specifier: ">=3", text: "name>=3" }],
    ["name>=3,<2", { name: "name", specifier: "<2,>=3", text: "name<2,>=3" }],
    ["name@http://foo.com", { name: "name", url: "http://foo.com", text: "name @ http://foo.com" }],
    [
      "name [fred,bar] @ http://foo.com ; python_version=='2.7'",
      {
        name: "name",
        extras: ["bar", "fred"],
        url: "http://foo.com",
        marker: 'python_version == "2.7"',
        text: 'name[bar,fred] @ http://foo.com ; python_version == "2.7"',
      },
    ],
    [
      "name[quux, strange];python_version<'2.7' and platform_version=='2'",
      {
        name: "name",
        extras: ["quux", "strange"],
        marker: 'python_version < "2.7" and platform_version == "2"',
        text: 'name[quux,strange]; python_version < "2.7" and platform_version == "2"',
      },
    ],
    [
      "name; os_name=='a' or os_name=='b'",
      {
        name: "name",
        marker: 'os_name == "a" or os_name == "b"',
        text: 'name; os_name == "a" or os_name == "b"',
      },
    ],
    [
      "name; os_name=='a' and os_name=='b' or os_name=='c'",
      {
        name: "name",
        marker: 'os_name == "a" and os_name == "b" or os_name == "c"',
        text: 'name; os_name == "a" and os_name == "b" or os_name == "c"',
      },
    ],
    [
      "name; os_name=='a' and (os_name=='b' or os_name=='c')",
      {
        name: "name",
        marker: 'os_name == "a" and (os_name == "b" or os_name == "c")',
        text: 'name; os_name == "a" and (os_name == "b" or os_name == "c")',
      },
    ],
    [
      "name; os_name=='a' or os_name=='b' and os_name=='c'",
      {
        name: "name",
        marker: 'os_name == "a" or os_name == "b" and os_name == "c"',
        text: 'name; os_name == "a" or os_name == "b" and os_name == "c"',
      },
    ],
    [
      "name; (os_name=='a' or os_name=='b') and os_name=='c'",
      {
        name: "name",
        marker: '(os_name == "a" or os_name == "b") and os_name == "c"',
        text: 'name; (os_name == "a" or os_name == "b") and os_name == "c"',
      },
    ],
    [
      'requests [security,tests] >= 2.8.1, == 2.8.* ; python_version < "2.7"',
      {
        name: "requests",
        extras: ["security", "tests"],
        specifier: "==2.8.*,>=2.8.1",
        marker: 'python_version < "2.7"',
        text: 'requests[security,tests]==2.8.*,>=2.8.1; python_version < "2.7"',
      },
    ],
    [
      "pip @ https://github.com/pypa/pip/archive/1.3.1.zip#sha1=da9234ee9982d4bbb3c72346a6de940a148ea686",
      {
        name: "pip",
        url: "https://github.com/pypa/pip/archive/1.3.1.zip#sha1=da9234ee9982d4bbb3c72346a6de940a148ea686",
        text: "pip @ https://github.com/pypa/pip/archive/1.3.1.zip#sha1=da9234ee9982d4bbb3c72346a6de940a148ea686",
      },
    ],
    [
      'argparse;python_version<"2.7"',
      {
        name: "argparse",
        marker: 'python_version < "2.7"',
        text: 'argparse; python_version < "2.7"',
      },
    ],
    // Specifiers in parentheses, whitespace around everything, duplicate extras.
    ["  foo ( >= 1.0 , < 2 )  ", { name: "foo", specifier: "<2,>=1.0", text: "foo<2,>=1.0" }],
    [
      "foo\t[ a ,\tb , a ]\t==1.0",
      { name: "foo", extras: ["a", "b"], specifier: "==1.0", text: "foo[a,b]==1.0" },
    ],
    ["foo[]", { name: "foo", text: "foo" }],
    ["foo ()", { name: "foo", text: "foo" }],
    ["foo>=1,", { name: "foo", specifier: ">=1", text: "foo>=1" }],
    ["foo==1.0+local", { name: "foo", specifier: "==1.0+local", text: "foo==1.0+local" }],
    ["foo_", { name: "foo_", text: "foo_" }],
    // Extras are kept as written (PEP 685 normalization is for comparing).
    [
      "foo[Security,tests]",
      { name: "foo", extras: ["Security", "tests"], text: "foo[Security,tests]" },
    ],
    // A URL runs to the first space, so a ';' right after it is part of it.
    [
      "foo@http://x;os_name=='a'",
      { name: "foo", url: "http://x;os_name=='a'", text: "foo @ http://x;os_name=='a'" },
    ],
    ["foo @ http://x \t", { name: "foo", url: "http://x", text: "foo @ http://x" }],
    [
      "foo[extra] @ file:///tmp/foo.whl ; extra == 'Test_X'",
      {
        name: "foo",
        extras: ["extra"],
        url: "file:///tmp/foo.whl",
        marker: 'extra == "test-x"',
        text: 'foo[extra] @ file:///tmp/foo.whl ; extra == "test-x"',
      },
    ],
  ])("%s", (input, want) => {
    const req = new Requirement(input);
    expect(req.name).toBe(want.name);
    expect(req.extras).toEqual(want.extras ?? []);
    expect(req.specifier.toString()).toBe(want.specifier ?? "");
    expect(req.url).toBe(want.url);
    expect(req.marker?.toString()).toBe(want.marker);
    expect(req.toString()).toBe(want.text);
    // The canonical text parses back to the same requirement.
    expect(new Requirement(req.toString()).toString()).toBe(want.text);
  });

  it("evaluates its marker", () => {
    const req = new Requirement('foo; python_version >= "3.8" and extra == "Test"');
    const env = { python_version: "3.11" };
    expect(req.marker?.evaluate({ ...env, extra: "test" })).toBe(true);
    expect(req.marker?.evaluate(env)).toBe(false);
  });
});

describe("Requirement errors", () => {
  it.each([
    ["", 1, "project name"],
    ["   ", 4, "project name"],
    ["_foo", 1, "project name"],
    ["fooé", 1, "project name"],
    ["foo-", 4, "after the name"],
    ["foo.", 4, "after the name"],
    ["foo bar", 5, "after the name"],
    ["foo!", 4, "after the name"],
    ["foo>=", 4, "after the name"],
    ["foo[", 5, "close the '[' at column 4"],
    ["foo[bar", 8, "close the '[' at column 4"],
    ["foo[,bar]", 5, "an extra name or ']'"],
    ["foo[bar,", 9, "extra name after the comma"],
    ["foo[bar,]", 9, "extra name after the comma"],
    ["foo[bar baz]", 9, "comma between extras"],
    ["foo[bar]]", 9, "after the name"],
    ["foo>=1.0.*", 10, "only allowed after == or !="],
    ["foo~=1.0.*", 10, "only allowed after == or !="],
    ["foo<=1.0.*", 10, "only allowed after == or !="],
    ["foo==1.0a1.*", 12, "cannot follow a pre-release"],
    ["foo==1.*.*", 10, "cannot follow a pre-release"],
    ["foo ==1.0.dev1.*", 16, "cannot follow a pre-release"],
    ["foo>=1.0+local", 9, "local version label"],
    ["foo==1.0.*+l", 11, "local version label"],
    ["foo>=1.0+LOCAL", 9, "after the version specifier"],
    ["foo(>=1.0", 10, "close the '(' at column 4"],
    ["foo (>=1.0,", 12, "close the '(' at column 5"],
    ["foo (==1.0; os_name=='a')", 11, "close the '(' at column 5"],
    ["foo>=1.0 <2", 10, "after the version specifier"],
    ["foo>=1,,<2", 8, "after the version specifier"],
    ["foo>=1.0abc", 10, "after the version specifier"],
    ["foo >= 1.0 (", 12, "after the version specifier"],
    ["foo (>=1.0))", 12, "after the version specifier"],
    ["foo[bar]>=1@x", 12, "after the version specifier"],
    ["foo;", 5, "marker variable"],
    ["foo ;", 6, "marker variable"],
    ["foo>=1.0;", 10, "marker variable"],
    ["foo>=1.0; os_name", 18, "marker operator"],
    ["foo>1.0 ; python_version>'3' and", 33, "marker variable"],
    ["foo; os_name=='a' bar", 19, "end of the requirement"],
    ["foo @", 6, "URL after '@'"],
    ["foo @ ", 7, "URL after '@'"],
    ["foo[bar] @", 11, "URL after '@'"],
    ["foo @ http://x; os_name=='a'", 17, "after the URL"],
    ["foo @ http://x os_name=='a'", 16, "after the URL"],
    ["foo @ http://x ;", 17, "marker variable"],
  ])("%j fails at column %i", (text, column, words) => {
    const err = thrownAtColumn(() => new Requirement(text), "INVALID_REQUIREMENT", text, column);
    expect(err.message).toContain(words);
  });

  it("says a URL needs a space before ';'", () => {
    const err = thrown(() => new Requirement("foo @ http://x; os_name=='a'"));
    expect(err.hint).toContain("space before ';'");
  });

  it("reports a bad specifier inside an === token", () => {
    const err = thrown(() => new Requirement("foo===1.0,foo"));
    expect(err.code).toBe("INVALID_REQUIREMENT");
    expect(err.message).toContain("at column 4");
  });
});

describe("Requirement: arbitrary equality (packaging 26.4, PEP 508)", () => {
  it("reads `===X, >=Y` as two clauses, with or without spaces or parentheses", () => {
    for (const text of ["a===1.0, >=1", "a===1.0,>=1", "a (===1.0, >=1)", "a===\t1.0, > 1"]) {
      const r = new Requirement(text);
      expect(r.specifier.toString(), text).toBe(text.includes("> 1") ? "===1.0,>1" : "===1.0,>=1");
    }
    expect(new Requirement("a===1.0,==2, >3").toString()).toBe("a==2,===1.0,>3");
    expect(new Requirement("a===1.0, ; python_version > '3'").toString()).toBe(
      'a===1.0; python_version > "3"',
    );
  });

  it("refuses an `===` without a version", () => {
    for (const text of ["a===", "a ===  ", "a=== ; os_name == 'x'", "a ===,>=1"]) {
      expect(thrown(() => new Requirement(text)).code, text).toBe("INVALID_REQUIREMENT");
    }
  });
});

describe("Requirement: a URL has no whitespace, Unicode's included (packaging 26.4)", () => {
  it("refuses a no-break space or an ideographic space inside the URL", () => {
    for (const space of ["\u00a0", "\u3000", "\u2009"]) {
      const err = thrown(() => new Requirement(`a @ https://example.com/a${space}b.whl`));
      expect(err.code).toBe("INVALID_REQUIREMENT");
      expect(err.message).toContain(
        "at column 26: expected ';' (then a marker) or the end after the URL",
      );
    }
    expect(new Requirement("a @ https://example.com/a.whl ; os_name == 'x'").url).toBe(
      "https://example.com/a.whl",
    );
  });
});
