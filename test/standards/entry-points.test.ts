import { describe, expect, it } from "vitest";
import type { EntryPoint, EntryPointSpec } from "../../src/standards/entry-points.ts";
import {
  consoleScripts,
  formatEntryPoints,
  guiScripts,
  parseEntryPoints,
  parseObjectReference,
} from "../../src/standards/entry-points.ts";
import { thrown, thrownCodeAndMessage } from "../helpers/errors.ts";
import { runStdlibPythonJson } from "../helpers/packaging.ts";
import { Rng } from "../helpers/random.ts";

const SAMPLE = `[console_scripts]
foo = foomod:main
# One which depends on extras:
foobar = foomod:main_bar [bar,baz]
Capital-Name=pkg.cli:App.run

; a configparser-style comment
[gui_scripts]
foo-gui = foomod.gui:start

[pytest11]
nbval = nbval.plugin
[pygments.styles]
dark   =   pkg.styles : Dark   [ fancy , colour ]
`;

describe("parseEntryPoints", () => {
  it("reads groups, names, object references, extras and comments", () => {
    const eps = parseEntryPoints(SAMPLE);
    expect(eps).toEqual([
      {
        group: "console_scripts",
        name: "foo",
        value: "foomod:main",
        module: "foomod",
        attr: "main",
        extras: [],
      },
      {
        group: "console_scripts",
        name: "foobar",
        value: "foomod:main_bar [bar,baz]",
        module: "foomod",
        attr: "main_bar",
        extras: ["bar", "baz"],
      },
      {
        group: "console_scripts",
        name: "Capital-Name",
        value: "pkg.cli:App.run",
        module: "pkg.cli",
        attr: "App.run",
        extras: [],
      },
      {
        group: "gui_scripts",
        name: "foo-gui",
        value: "foomod.gui:start",
        module: "foomod.gui",
        attr: "start",
        extras: [],
      },
      {
        group: "pytest11",
        name: "nbval",
        value: "nbval.plugin",
        module: "nbval.plugin",
        extras: [],
      },
      {
        group: "pygments.styles",
        name: "dark",
        value: "pkg.styles : Dark   [ fancy , colour ]",
        module: "pkg.styles",
        attr: "Dark",
        extras: ["fancy", "colour"],
      },
    ]);
  });

  it("accepts CRLF, indentation, a BOM, empty files and repeated sections", () => {
    expect(parseEntryPoints("")).toEqual([]);
    expect(parseEntryPoints("\n# only a comment\n")).toEqual([]);
    const eps = parseEntryPoints(
      "\uFEFF[a]\r\n  x = m:f\r\n[b]\r\ny = m\r\n[a]\r\nz = m.n:o.p\r\n",
    );
    expect(eps.map((e) => `${e.group}/${e.name}`)).toEqual(["a/x", "b/y", "a/z"]);
  });

  it("accepts non-ASCII identifiers as Python does", () => {
    const [ep] = parseEntryPoints("[g]\nn = paquet.modül:fonction_é\n");
    expect(ep?.module).toBe("paquet.modül");
    expect(ep?.attr).toBe("fonction_é");
  });

  const bad: [string, string, RegExp][] = [
    [
      "an entry before any section",
      "foo = a:b\n",
      /line 1: an entry point comes before any \[group\] section/,
    ],
    [
      "an unclosed section",
      "[console_scripts\nfoo = a:b\n",
      /line 1: a section header must end with '\]'/,
    ],
    ["an empty section name", "[]\n", /line 1: "" is not a valid group name/],
    [
      "a section name with spaces",
      "[ console_scripts ]\n",
      /line 1: " console_scripts " is not a valid group name/,
    ],
    ["a line without '='", "[g]\nfoo = a:b\njust words\n", /line 3: expected 'name = module:attr'/],
    [
      "an indented section after an entry",
      "[g]\nfoo = a:b\n\n    [extra]\n",
      /line 4: an indented '\[...\]' line after an entry is ambiguous/,
    ],
    ["an empty name", "[g]\n = a:b\n", /line 2: the entry point name is empty/],
    ["an empty value", "[g]\nfoo =\n", /line 2: entry point "foo": the module is empty/],
    [
      "a module with a dash",
      "[g]\nfoo = my-mod:main\n",
      /line 2: entry point "foo": "my-mod" is not a dotted Python name/,
    ],
    [
      "a module starting with a digit",
      "[g]\nfoo = 1mod:main\n",
      /line 2: .*"1mod" is not a dotted/,
    ],
    ["an empty attribute", "[g]\nfoo = mod:\n", /line 2: .*nothing after ':'/],
    ["a bad attribute", "[g]\nfoo = mod:ma in\n", /line 2: .*"ma in" is not a dotted/],
    ["two colons", "[g]\nfoo = mod:a:b\n", /line 2: .*"a:b" is not a dotted/],
    [
      "extras not at the end",
      "[g]\nfoo = mod [x]:main\n",
      /line 2: .*extras must be a bracketed list at the end/,
    ],
    [
      "a bad extra",
      "[g]\nfoo = mod:main [ok, -bad]\n",
      /line 2: .*"-bad" is not a valid extra name/,
    ],
    ["an empty extra", "[g]\nfoo = mod:main [a,,b]\n", /line 2: .*"" is not a valid extra name/],
    [
      "a duplicate name",
      "[g]\nfoo = a:b\n\n[h]\nfoo = c:d\n[g]\nfoo = e:f\n",
      /line 7: "foo" is defined again in \[g\] \(first at line 2\)/,
    ],
  ];
  for (const [what, text, message] of bad) {
    it(`rejects ${what}`, () => {
      const got = thrownCodeAndMessage(() => parseEntryPoints(text));
      expect(got.startsWith("INVALID_ENTRY_POINTS: invalid entry_points.txt at line ")).toBe(true);
      expect(got).toMatch(message);
    });
  }

  it("says continuation lines are unsupported when an indented line has no '='", () => {
    const err = thrown(() => parseEntryPoints("[g]\nfoo = a:b\n    more:stuff\n"));
    expect(err.code).toBe("INVALID_ENTRY_POINTS");
    expect(err.message).toMatch(/line 3/);
    expect(err.hint).toMatch(/continuation lines are not supported/);
    expect(err.detail).toBe("    more:stuff");
  });
});

describe("scripts", () => {
  it("lists console and GUI scripts", () => {
    const eps = parseEntryPoints(SAMPLE);
    expect(consoleScripts(eps).map((s) => `${s.name}=${s.module}:${s.attr}`)).toEqual([
      "foo=foomod:main",
      "foobar=foomod:main_bar",
      "Capital-Name=pkg.cli:App.run",
    ]);
    expect(guiScripts(eps)).toEqual([
      { name: "foo-gui", module: "foomod.gui", attr: "start", extras: [] },
    ]);
  });

  it("rejects a script without a function or with a path for a name", () => {
    expect(
      thrownCodeAndMessage(() => consoleScripts(parseEntryPoints("[console_scripts]\nx = mod\n"))),
    ).toMatch(
      /^INVALID_ENTRY_POINTS: console_scripts entry "x" = "mod" names a module, not a function/,
    );
    expect(
      thrownCodeAndMessage(() => guiScripts(parseEntryPoints("[gui_scripts]\n../evil = m:f\n"))),
    ).toMatch(/^INVALID_ENTRY_POINTS: gui_scripts entry "..\/evil" is not a usable script name/);
  });
});

describe("formatEntryPoints", () => {
  it("writes sorted groups and names, and reads back the same set", () => {
    const eps = parseEntryPoints(SAMPLE);
    const text = formatEntryPoints(eps);
    expect(text).toBe(`[console_scripts]
Capital-Name = pkg.cli:App.run
foo = foomod:main
foobar = foomod:main_bar [bar,baz]

[gui_scripts]
foo-gui = foomod.gui:start

[pygments.styles]
dark = pkg.styles:Dark [fancy,colour]

[pytest11]
nbval = nbval.plugin
`);
    const again = parseEntryPoints(text);
    const key = (e: EntryPoint) => `${e.group}\u0000${e.name}`;
    const canonical = (list: EntryPoint[]) =>
      list
        .map(({ value: _value, ...rest }) => rest)
        .sort((a, b) => (key({ ...a, value: "" }) < key({ ...b, value: "" }) ? -1 : 1));
    expect(canonical(again)).toEqual(canonical(eps));
    expect(formatEntryPoints([...eps].reverse())).toBe(text);
    expect(formatEntryPoints(again)).toBe(text);
    expect(formatEntryPoints([])).toBe("");
  });

  it("refuses entries that would not read back", () => {
    const ok: EntryPointSpec = { group: "g", name: "n", module: "m", attr: "f" };
    expect(thrownCodeAndMessage(() => formatEntryPoints([{ ...ok, group: "bad group" }]))).toMatch(
      /^INVALID_ENTRY_POINTS: .*"bad group"/,
    );
    expect(thrownCodeAndMessage(() => formatEntryPoints([{ ...ok, name: "a=b" }]))).toMatch(
      /"a=b" is not a name that reads back/,
    );
    expect(thrownCodeAndMessage(() => formatEntryPoints([{ ...ok, name: " padded" }]))).toMatch(
      /not a name that reads back/,
    );
    expect(thrownCodeAndMessage(() => formatEntryPoints([{ ...ok, name: "#x" }]))).toMatch(
      /not a name that reads back/,
    );
    expect(thrownCodeAndMessage(() => formatEntryPoints([{ ...ok, module: "a-b" }]))).toMatch(
      /"a-b" is not a dotted Python name/,
    );
    expect(thrownCodeAndMessage(() => formatEntryPoints([{ ...ok, extras: ["x y"] }]))).toMatch(
      /"x y" is not a valid extra name/,
    );
    expect(thrownCodeAndMessage(() => formatEntryPoints([ok, { ...ok, module: "other" }]))).toMatch(
      /"n" is given twice in \[g\]/,
    );
  });

  it("parseObjectReference returns a reason for bad references", () => {
    expect(parseObjectReference("a.b:c.d [e]")).toEqual({
      module: "a.b",
      attr: "c.d",
      extras: ["e"],
    });
    expect(parseObjectReference("a []")).toEqual({ module: "a", extras: [] });
    expect(parseObjectReference("a:b [x")).toBeTypeOf("string");
    expect(parseObjectReference("a:b [x]]")).toBeTypeOf("string");
  });
});

// ---- differential check against importlib.metadata's own parsing ----

const PY_EP = `
import json, sys
from importlib.metadata import EntryPoints
out = []
for text in json.load(sys.stdin):
    eps = EntryPoints._from_text(text)
    out.append([[e.group, e.name, e.value, e.module, e.attr, e.extras] for e in eps])
json.dump(out, sys.stdout)
`;

describe("entry_points.txt vs importlib.metadata", () => {
  it("reads 300 generated files the way importlib.metadata does", () => {
    const rng = new Rng(777);
    const groups = ["console_scripts", "gui_scripts", "pytest11", "flake8.extension", "a.b_c"];
    const modules = ["mod", "pkg.mod", "_private.x1", "a.b.c"];
    const attrs = ["", ":main", ":Cls.method", " : spaced", ":run_1"];
    const extrasList = ["", " [a]", "[a,b]", " [ x , y_z ]", "  [one]"];
    const texts: string[] = [];
    for (let n = 0; n < 300; n++) {
      const lines: string[] = [];
      const usedGroups = new Set<string>();
      const sections = 1 + rng.int(3);
      for (let s = 0; s < sections; s++) {
        const g = rng.pick(groups);
        if (usedGroups.has(g)) continue;
        usedGroups.add(g);
        lines.push(`${s === 0 ? rng.pick(["", "  "]) : ""}[${g}]`);
        const count = rng.int(4);
        for (let k = 0; k < count; k++) {
          if (rng.chance(0.2)) lines.push(rng.pick(["# comment", "", "   ", "#x = y:z"]));
          lines.push(
            `${rng.pick(["", " ", "\t"])}name${k}${rng.pick(["", "-x", ".y"])}${rng.pick([" = ", "=", "  =  "])}${rng.pick(modules)}${rng.pick(attrs)}${rng.pick(extrasList)}${rng.pick(["", " "])}`,
          );
        }
      }
      texts.push(lines.join(rng.pick(["\n", "\r\n"])) + rng.pick(["", "\n"]));
    }
    const py = runStdlibPythonJson<[string, string, string, string, string | null, string[]][][]>(
      PY_EP,
      texts,
    );
    texts.forEach((text, i) => {
      const ours = parseEntryPoints(text).map((e) => [
        e.group,
        e.name,
        e.value,
        e.module,
        e.attr ?? null,
        e.extras,
      ]);
      expect(ours, JSON.stringify(text)).toEqual(py[i]);
    });
  });
});
