import { describe, expect, it } from "vitest";
import { isSlimenvError } from "../../src/base/index.ts";
import { parsePyproject, resolveDependencyGroup } from "../../src/standards/pyproject.ts";
import { thrown } from "../helpers/errors.ts";

const texts = (reqs: { toString(): string }[]) => reqs.map((r) => r.toString());

describe("parsePyproject", () => {
  it("reads [project], [build-system] and keeps the document", () => {
    const doc = parsePyproject(`
[build-system]
requires = ["hatchling>=1.20", "hatch-vcs"]
build-backend = "hatchling.build"

[project]
name = "My_App"
version = "1.0.post1"
requires-python = ">=3.10,<4"
dependencies = [
  "requests[socks] >= 2.31",
  "numpy>=1.26; python_version >= '3.12'",
  "local @ file:///opt/wheels/local-1.0-py3-none-any.whl",
]
dynamic = ["readme"]

[project.optional-dependencies]
Dev_Tools = ["pytest>=8", "ruff"]
gpu = ["torch==2.3.*"]

[tool.slimenv]
policy = "pyc-only"
`);
    expect(doc.name).toBe("My_App");
    expect(doc.version).toBe("1.0.post1");
    expect(doc.requiresPython?.toString()).toBe("<4,>=3.10");
    expect(texts(doc.dependencies)).toEqual([
      "requests[socks]>=2.31",
      'numpy>=1.26; python_version >= "3.12"',
      "local @ file:///opt/wheels/local-1.0-py3-none-any.whl",
    ]);
    expect(Object.keys(doc.optionalDependencies)).toEqual(["dev-tools", "gpu"]);
    expect(texts(doc.optionalDependencies["dev-tools"] ?? [])).toEqual(["pytest>=8", "ruff"]);
    expect(doc.dynamic).toEqual(["readme"]);
    expect(doc.buildSystem?.buildBackend).toBe("hatchling.build");
    expect(texts(doc.buildSystem?.requires ?? [])).toEqual(["hatchling>=1.20", "hatch-vcs"]);
    expect((doc.data.tool as Record<string, Record<string, unknown>>).slimenv?.policy).toBe(
      "pyc-only",
    );
    expect(doc.dependencyGroups).toEqual({});
  });

  it("accepts a file with no [project] (dependency groups only)", () => {
    const doc = parsePyproject(`[dependency-groups]\ndev = ["pytest"]\n`);
    expect(doc.name).toBeUndefined();
    expect(doc.dependencies).toEqual([]);
    expect(texts(doc.dependencyGroups.dev ?? [])).toEqual(["pytest"]);
  });
});

describe("dependency groups (PEP 735)", () => {
  it("expands the spec's examples", () => {
    const doc = parsePyproject(`
[dependency-groups]
docs = ["sphinx"]
coverage = ["coverage[toml]"]
test = ["pytest>7", {include-group = "coverage"}]
`);
    expect(texts(doc.dependencyGroups.test ?? [])).toEqual(["pytest>7", "coverage[toml]"]);
    expect(texts(resolveDependencyGroup(doc, "docs"))).toEqual(["sphinx"]);
  });

  it("keeps duplicates in include order, as the spec says", () => {
    const doc = parsePyproject(`
[dependency-groups]
group-a = ["foo"]
group-b = ["foo>1.0"]
group-c = ["foo<1.0"]
all = [
    "foo",
    {include-group = "group-a"},
    {include-group = "group-b"},
    {include-group = "group-c"},
]
`);
    expect(texts(resolveDependencyGroup(doc, "all"))).toEqual(["foo", "foo", "foo>1.0", "foo<1.0"]);
  });

  it("normalizes group names for keys, includes and lookups; nested includes expand", () => {
    const doc = parsePyproject(`
[dependency-groups]
Type_Check = ["mypy", {include-group = "RUNTIME.deps"}]
"runtime.deps" = ["attrs", {include-group = "base"}]
base = ["six"]
`);
    expect(Object.keys(doc.dependencyGroups).sort()).toEqual([
      "base",
      "runtime-deps",
      "type-check",
    ]);
    expect(texts(resolveDependencyGroup(doc, "type.check"))).toEqual(["mypy", "attrs", "six"]);
  });

  it("a missing group is an error listing the groups there are", () => {
    const doc = parsePyproject(`[dependency-groups]\ndev = []\nlint = ["ruff"]\n`);
    const err = thrown(() => resolveDependencyGroup(doc, "tests"));
    expect(err.code).toBe("INVALID_PYPROJECT");
    expect(err.message).toBe('no dependency group named "tests"');
    expect(err.hint).toBe("groups are: dev, lint");
  });

  it.each([
    [
      "a cycle",
      `[dependency-groups]\na = [{include-group = "b"}]\nb = ["x", {include-group = "C"}]\nc = [{include-group = "a"}]\n`,
      /dependency-groups\.c\[0\]\.include-group: include cycle: a -> b -> c -> a$/,
    ],
    [
      "a self include",
      `[dependency-groups]\nloop = [{include-group = "Loop"}]\n`,
      /dependency-groups\.loop\[0\]\.include-group: include cycle: loop -> loop$/,
    ],
    [
      "duplicate names after normalization",
      `[dependency-groups]\nfoo_bar = []\nFoo-Bar = []\n`,
      /dependency-groups\.Foo-Bar: groups "foo_bar" and "Foo-Bar" are the same name once normalized \(foo-bar\)$/,
    ],
    [
      "an unknown include",
      `[dependency-groups]\ndev = ["a", {include-group = "nope"}]\n`,
      /dependency-groups\.dev\[1\]\.include-group: no dependency group named "nope"$/,
    ],
    [
      "a table that is not an include",
      `[dependency-groups]\nbar = [{set-phasers-to = "stun"}]\n`,
      /dependency-groups\.bar\[0\]: must be a requirement string or a table \{include-group = "name"\}$/,
    ],
    [
      "an include with extra keys",
      `[dependency-groups]\na = []\nb = [{include-group = "a", x = 1}]\n`,
      /dependency-groups\.b\[0\]: must be a requirement string/,
    ],
    [
      "a group that is not an array",
      `[dependency-groups]\ndev = "pytest"\n`,
      /dependency-groups\.dev: must be an array, got a string$/,
    ],
    [
      "an invalid group name",
      `[dependency-groups]\n"bad name" = []\n`,
      /dependency-groups\."bad name": "bad name" is not a valid group name$/,
    ],
    [
      "a name ending in '-'",
      `[dependency-groups]\nbad- = []\n`,
      /dependency-groups\.bad-: "bad-" is not a valid group name$/,
    ],
    [
      "an invalid requirement",
      `[dependency-groups]\ndev = ["ok", "pytest >="]\n`,
      /dependency-groups\.dev\[1\]: invalid requirement "pytest >=": /,
    ],
    [
      "a non-string include",
      `[dependency-groups]\ndev = [{include-group = 3}]\n`,
      /dependency-groups\.dev\[0\]\.include-group: must be a string, got a number$/,
    ],
  ])("rejects %s", (_name, text, pattern) => {
    const err = thrown(() => parsePyproject(text));
    expect(err.code).toBe("INVALID_PYPROJECT");
    expect(err.message).toMatch(/^pyproject\.toml: /);
    expect(err.message).toMatch(pattern);
  });
});

describe("parsePyproject errors", () => {
  it("reports TOML syntax errors with line and column", () => {
    const err = thrown(() =>
      parsePyproject(`[project]\nname = "x"\ndependencies = ["a",\n  "b" "c"]\n`, {
        file: "app/pyproject.toml",
      }),
    );
    expect(err.code).toBe("INVALID_PYPROJECT");
    expect(err.message).toMatch(
      /^app\/pyproject\.toml:4:\d+: invalid TOML at line 4, column \d+: /,
    );
    expect(err.detail?.split("\n")[0]).toBe('  "b" "c"]');
    const dup = thrown(() => parsePyproject(`[project]\nname = "a"\nname = "b"\n`));
    expect(dup.message).toMatch(/^pyproject\.toml:3:\d+: invalid TOML at line 3/);
  });

  it.each([
    ["project is not a table", `project = 1\n`, "project: must be a table, got a number"],
    ["missing name", `[project]\nversion = "1"\n`, "project.name: is required in [project]"],
    ["name of wrong type", `[project]\nname = 1\n`, "project.name: must be a string, got a number"],
    ["invalid name", `[project]\nname = "-x-"\n`, 'project.name: "-x-" is not a valid name'],
    [
      "invalid version",
      `[project]\nname = "x"\nversion = "one"\n`,
      'project.version: "one" is not a valid PEP 440 version',
    ],
    [
      "dependencies not an array",
      `[project]\nname = "x"\ndependencies = "requests"\n`,
      "project.dependencies: must be an array, got a string",
    ],
    [
      "a dependency of wrong type",
      `[project]\nname = "x"\ndependencies = ["a", "b", 3]\n`,
      "project.dependencies[2]: must be a string, got a number",
    ],
    [
      "an optional-dependencies extra that is not a list",
      `[project]\nname = "x"\n[project.optional-dependencies]\ndev = {a = 1}\n`,
      "project.optional-dependencies.dev: must be an array, got a table",
    ],
    [
      "duplicate extras after normalization",
      `[project]\nname = "x"\n[project.optional-dependencies]\nDev = []\ndev = []\n`,
      'project.optional-dependencies.dev: extras "Dev" and "dev" are the same name',
    ],
    [
      "dynamic name",
      `[project]\nname = "x"\ndynamic = ["version", "name"]\n`,
      "project.dynamic[1]: project.name cannot be dynamic",
    ],
    [
      "dynamic and static at once",
      `[project]\nname = "x"\nversion = "1"\ndynamic = ["version"]\n`,
      'project.dynamic[0]: "version" is listed as dynamic but also given in [project]',
    ],
    [
      "unknown dynamic field",
      `[project]\nname = "x"\ndynamic = ["colour"]\n`,
      'project.dynamic[0]: "colour" is not a [project] field',
    ],
    [
      "build requires of wrong type",
      `[build-system]\nrequires = "setuptools"\n`,
      "build-system.requires: must be an array, got a string",
    ],
  ])("%s", (_name, text, message) => {
    const err = thrown(() => parsePyproject(text));
    expect(err.code).toBe("INVALID_PYPROJECT");
    expect(err.message).toBe(`pyproject.toml: ${message}`);
  });

  it("wraps an invalid requirement with its key path and cause", () => {
    const err = thrown(() =>
      parsePyproject(`[project]\nname = "x"\ndependencies = ["ok", "fine>=1", "bad[extra"]\n`),
    );
    expect(err.message).toMatch(
      /^pyproject\.toml: project\.dependencies\[2\]: invalid requirement "bad\[extra": .*column \d+/,
    );
    expect(isSlimenvError(err.cause, "INVALID_REQUIREMENT")).toBe(true);
  });

  it("wraps an invalid requires-python", () => {
    const err = thrown(() => parsePyproject(`[project]\nname = "x"\nrequires-python = ">=3.x"\n`));
    expect(err.message).toMatch(
      /^pyproject\.toml: project\.requires-python: invalid specifier ">=3\.x": /,
    );
    expect(isSlimenvError(err.cause, "INVALID_SPECIFIER")).toBe(true);
  });
});
