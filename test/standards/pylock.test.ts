import { parse as parseToml, TomlDate } from "smol-toml";
import { describe, expect, it } from "vitest";
import {
  isPylockFilename,
  type Pylock,
  pylockFilenameName,
  readPylock,
  writePylock,
} from "../../src/standards/pylock.ts";
import { protectDatetimes } from "../../src/standards/toml-text.ts";
import { thrown } from "../helpers/errors.ts";

/** The example from the pylock.toml specification (packaging.python.org). */
const SPEC_EXAMPLE = `lock-version = '1.0'
environments = ["sys_platform == 'win32'", "sys_platform == 'linux'"]
requires-python = '== 3.12.*'
created-by = 'mousebender'

[[packages]]
name = 'attrs'
version = '25.1.0'
requires-python = '>= 3.8'

    [[packages.wheels]]
    name = 'attrs-25.1.0-py3-none-any.whl'
    upload-time = 2025-01-25T11:30:10.164985+00:00
    url = 'https://files.pythonhosted.org/packages/fc/30/d4986a882011f9df997a55e6becd864812ccfcd821d64aac8570ee39f719/attrs-25.1.0-py3-none-any.whl'
    size = 63152
    hashes = {sha256 = 'c75a69e28a550a7e93789579c22aa26b0f5b83b75dc4e08fe092980051e1090a'}

    [[packages.attestation-identities]]
    environment = 'release-pypi'
    kind = 'GitHub'
    repository = 'python-attrs/attrs'
    workflow = 'pypi-package.yml'

[[packages]]
name = 'cattrs'
version = '24.1.2'
requires-python = '>= 3.8'
dependencies = [
    {name = 'attrs'},
]

    [[packages.wheels]]
    name = 'cattrs-24.1.2-py3-none-any.whl'
    upload-time = 2024-09-22T14:58:34.812643+00:00
    url = 'https://files.pythonhosted.org/packages/c8/d5/867e75361fc45f6de75fe277dd085627a9db5ebb511a87f27dc1396b5351/cattrs-24.1.2-py3-none-any.whl'
    size = 66446
    hashes = {sha256 = '67c7495b760168d931a10233f979b28dc04daf853b30752246f4f8471c6d68d0'}

[[packages]]
name = 'numpy'
version = '2.2.3'
requires-python = '>= 3.10'

    [[packages.wheels]]
    name = 'numpy-2.2.3-cp312-cp312-win_amd64.whl'
    upload-time = 2025-02-13T16:51:21.821880+00:00
    url = 'https://files.pythonhosted.org/packages/42/6e/55580a538116d16ae7c9aa17d4edd56e83f42126cb1dfe7a684da7925d2c/numpy-2.2.3-cp312-cp312-win_amd64.whl'
    size = 12626357
    hashes = {sha256 = '83807d445817326b4bcdaaaf8e8e9f1753da04341eceec705c001ff342002e5d'}

    [[packages.wheels]]
    name = 'numpy-2.2.3-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl'
    upload-time = 2025-02-13T16:50:00.079662+00:00
    url = 'https://files.pythonhosted.org/packages/39/04/78d2e7402fb479d893953fb78fa7045f7deb635ec095b6b4f0260223091a/numpy-2.2.3-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl'
    size = 16116679
    hashes = {sha256 = '3b787adbf04b0db1967798dba8da1af07e387908ed1553a0d6e74c084d1ceafe'}

[tool.mousebender]
command = ['.', 'lock', '--platform', 'cpython3.12-windows-x64', '--platform', 'cpython3.12-manylinux2014-x64', 'cattrs', 'numpy']
run-on = 2025-03-06T12:28:57.760769
`;

const H = "a".repeat(64);
const H2 = "b".repeat(64);

/** A lock using every key, in sorted order, with odd characters where strings go. */
function richLock(): Pylock {
  return {
    lockVersion: "1.0",
    environments: ["sys_platform == 'linux'", 'sys_platform == "darwin"'],
    requiresPython: ">=3.10",
    extras: ["gpu"],
    dependencyGroups: ["dev"],
    defaultGroups: ["default"],
    createdBy: "slimenv",
    packages: [
      {
        name: "editable-app",
        directory: { path: "./apps/it's here", editable: true, subdirectory: "src" },
      },
      {
        name: "from-archive",
        version: "1.0",
        archive: {
          url: "https://example.com/a b/from_archive-1.0.tar.gz?x=1#frag",
          size: 0,
          uploadTime: "2024-01-01T00:00:00Z",
          hashes: { sha256: H, sha512: "c".repeat(128) },
          subdirectory: "pkg",
        },
      },
      {
        name: "numpy",
        version: "1.9.0",
        marker: "python_version < \"3.13\" and platform_machine == 'x86_64'",
        requiresPython: ">=3.9",
        index: "https://pypi.org/simple/",
        sdist: {
          name: "numpy-1.9.0.tar.gz",
          uploadTime: "2020-05-05T05:05:05.123456+00:00",
          url: "https://files.example/numpy-1.9.0.tar.gz",
          size: 123,
          hashes: { sha256: H },
        },
        wheels: [
          {
            name: "numpy-1.9.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            path: "wheels/numpy-1.9.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            hashes: { sha256: H2 },
          },
          {
            url: "https://files.example/numpy-1.9.0-cp312-cp312-win_amd64.whl",
            size: 9_007_199_254_740_991,
            hashes: { sha256: H },
          },
        ],
      },
      {
        name: "numpy",
        version: "1.10.0",
        dependencies: [{ name: "six" }, { name: "weird", vcs: { url: "https://h/x\"y'z" } }],
        wheels: [{ url: "https://h/numpy-1.10.0-py3-none-any.whl", hashes: { sha256: H } }],
        attestationIdentities: [
          {
            kind: "GitHub",
            repository: "numpy/numpy",
            workflow: "release.yml",
            nested: { a: [1, 2] },
          },
        ],
        tool: {
          slimenv: {
            note: "tab\there, quote ' and \" backslash \\ newline\n ctrl \u0001 del \u007f 🐍 é",
            "dotted.key": true,
            "key with space": 1.5,
            list: ["a", 1, false, [2, 3], { inline: "table" }],
            sub: { deeper: { x: -7 } },
            empty: {},
          },
        },
      },
      {
        name: "repo-pkg",
        vcs: {
          type: "git",
          url: "https://github.com/org/repo.git",
          requestedRevision: "main",
          commitId: "0123456789abcdef0123456789abcdef01234567",
          subdirectory: "python",
        },
      },
      {
        name: "six",
        version: "1.16.0",
        wheels: [{ path: "six-1.16.0-py2.py3-none-any.whl", hashes: { sha256: H } }],
      },
    ],
    tool: { slimenv: { target: "cp312-manylinux_2_17_x86_64", policy: { bytecode: "pyc-only" } } },
  };
}

describe("readPylock", () => {
  it("reads the specification's example", () => {
    const lock = readPylock(SPEC_EXAMPLE);
    expect(lock.lockVersion).toBe("1.0");
    expect(lock.environments).toEqual(["sys_platform == 'win32'", "sys_platform == 'linux'"]);
    expect(lock.requiresPython).toBe("== 3.12.*");
    expect(lock.createdBy).toBe("mousebender");
    expect(lock.extras).toBeUndefined();
    expect(lock.packages.map((p) => `${p.name}==${p.version}`)).toEqual([
      "attrs==25.1.0",
      "cattrs==24.1.2",
      "numpy==2.2.3",
    ]);
    const [attrs, cattrs, numpy] = lock.packages;
    expect(attrs?.wheels?.[0]).toEqual({
      name: "attrs-25.1.0-py3-none-any.whl",
      uploadTime: "2025-01-25T11:30:10.164985+00:00",
      url: "https://files.pythonhosted.org/packages/fc/30/d4986a882011f9df997a55e6becd864812ccfcd821d64aac8570ee39f719/attrs-25.1.0-py3-none-any.whl",
      size: 63152,
      hashes: { sha256: "c75a69e28a550a7e93789579c22aa26b0f5b83b75dc4e08fe092980051e1090a" },
    });
    expect(attrs?.attestationIdentities).toEqual([
      {
        environment: "release-pypi",
        kind: "GitHub",
        repository: "python-attrs/attrs",
        workflow: "pypi-package.yml",
      },
    ]);
    expect(cattrs?.dependencies).toEqual([{ name: "attrs" }]);
    expect(numpy?.wheels?.map((w) => w.uploadTime)).toEqual([
      "2025-02-13T16:51:21.821880+00:00",
      "2025-02-13T16:50:00.079662+00:00",
    ]);
    const tool = lock.tool?.mousebender as Record<string, unknown>;
    expect(tool.command).toEqual([
      ".",
      "lock",
      "--platform",
      "cpython3.12-windows-x64",
      "--platform",
      "cpython3.12-manylinux2014-x64",
      "cattrs",
      "numpy",
    ]);
    expect(tool["run-on"]).toBeInstanceOf(TomlDate);
  });

  it("keeps date-time text exactly, and leaves look-alikes in strings and comments alone", () => {
    const text = `a = 2025-01-25T11:30:10.164985+00:00 # 2025-01-01T00:00:00Z\nb = "2025-01-25T11:30:10Z"\nc = '''\n1999-01-01 10:00:00\n'''\nd = [1979-05-27 07:32:00Z, 1979-05-27]\n1979-05-27 = 1\n`;
    const parsed = parseToml(protectDatetimes(text)) as Record<string, unknown>;
    expect(parsed.a).toBe("\u0000datetime:2025-01-25T11:30:10.164985+00:00");
    expect(parsed.b).toBe("2025-01-25T11:30:10Z");
    expect(parsed.c).toBe("1999-01-01 10:00:00\n");
    expect((parsed.d as unknown[])[0]).toBe("\u0000datetime:1979-05-27 07:32:00Z");
    expect((parsed.d as unknown[])[1]).toBeInstanceOf(TomlDate);
    expect(parsed["1979-05-27"]).toBe(1);
  });

  it("accepts a newer minor version, warning about unknown keys", () => {
    const warnings: string[] = [];
    const lock = readPylock(
      `lock-version = "1.1"\ncreated-by = "x"\nnew-key = 1\n[[packages]]\nname = "a"\nshiny = true\ndirectory = {path = "."}\n`,
      { onWarning: (m) => warnings.push(m) },
    );
    expect(lock.lockVersion).toBe("1.1");
    expect(warnings).toEqual([
      'pylock.toml: (top level): unknown key "new-key"',
      'pylock.toml: packages[0] (a): unknown key "shiny"',
    ]);
  });
});

describe("writePylock", () => {
  it("re-writes the specification's example to the same layout", () => {
    const lock = readPylock(SPEC_EXAMPLE);
    const text = writePylock(lock);
    // Identical except the tool table's local date-time, which keeps milliseconds.
    expect(text).toBe(SPEC_EXAMPLE.replace("12:28:57.760769", "12:28:57.760"));
    expect(readPylock(text)).toEqual(lock);
    expect(writePylock(readPylock(text))).toBe(text);
  });

  it("round-trips every key and odd characters, byte-identical on re-write", () => {
    const lock = richLock();
    const text = writePylock(lock);
    expect(() => parseToml(text)).not.toThrow();
    const back = readPylock(text);
    expect(back).toEqual(lock);
    const note = (back.packages[3]?.tool?.slimenv as Record<string, unknown> | undefined)?.note;
    expect(note).toBe(
      "tab\there, quote ' and \" backslash \\ newline\n ctrl \u0001 del \u007f 🐍 é",
    );
    expect(writePylock(back)).toBe(text);
    expect(writePylock(richLock())).toBe(text);
  });

  it("writes the expected layout", () => {
    const text = writePylock(richLock());
    expect(text).toContain(
      [
        "lock-version = '1.0'",
        `environments = ["sys_platform == 'linux'", 'sys_platform == "darwin"']`,
        "requires-python = '>=3.10'",
        "extras = ['gpu']",
        "dependency-groups = ['dev']",
        "default-groups = ['default']",
        "created-by = 'slimenv'",
        "",
        "[[packages]]",
        "name = 'editable-app'",
        "",
        "    [packages.directory]",
        `    path = "./apps/it's here"`,
        "    editable = true",
        "    subdirectory = 'src'",
        "",
      ].join("\n"),
    );
    expect(text).toContain(
      [
        "[[packages]]",
        "name = 'numpy'",
        "version = '1.9.0'",
        `marker = "python_version < \\"3.13\\" and platform_machine == 'x86_64'"`,
        "requires-python = '>=3.9'",
        "index = 'https://pypi.org/simple/'",
        "",
        "    [packages.sdist]",
        "    name = 'numpy-1.9.0.tar.gz'",
        "    upload-time = 2020-05-05T05:05:05.123456+00:00",
        "    url = 'https://files.example/numpy-1.9.0.tar.gz'",
        "    size = 123",
        `    hashes = {sha256 = '${H}'}`,
        "",
        "    [[packages.wheels]]",
      ].join("\n"),
    );
    expect(text).toContain(
      [
        "dependencies = [",
        "    {name = 'six'},",
        `    {name = 'weird', vcs = {url = "https://h/x\\"y'z"}},`,
        "]",
      ].join("\n"),
    );
    expect(text).toContain(
      '    note = "tab\\there, quote \' and \\" backslash \\\\ newline\\n ctrl \\u0001 del \\u007f 🐍 é"',
    );
    expect(text).toContain('    "dotted.key" = true\n    "key with space" = 1.5\n');
    expect(text).toContain("\n    [packages.tool.slimenv.sub.deeper]\n    x = -7\n");
    expect(text).toContain("\n    [packages.tool.slimenv.empty]\n");
    expect(text.endsWith("\n[tool.slimenv.policy]\nbytecode = 'pyc-only'\n")).toBe(true);
  });

  it("sorts packages by name, then by version order (1.9 before 1.10)", () => {
    const lock = richLock();
    const shuffled = { ...lock, packages: [...lock.packages].reverse() };
    const text = writePylock(shuffled);
    expect(text).toBe(writePylock(lock));
    const order = readPylock(text).packages.map((p) => `${p.name}@${p.version ?? ""}`);
    expect(order).toEqual([
      "editable-app@",
      "from-archive@1.0",
      "numpy@1.9.0",
      "numpy@1.10.0",
      "repo-pkg@",
      "six@1.16.0",
    ]);
  });

  it("writes an empty lock", () => {
    const text = writePylock({
      lockVersion: "1.0",
      createdBy: "slimenv",
      packages: [],
      extras: [],
      dependencyGroups: [],
    });
    expect(text).toBe(
      "lock-version = '1.0'\nextras = []\ndependency-groups = []\ncreated-by = 'slimenv'\npackages = []\n",
    );
    expect(readPylock(text).packages).toEqual([]);
  });

  it("refuses to write what would not read back", () => {
    const bad = richLock();
    const wheel = bad.packages[5]?.wheels?.[0];
    if (wheel) wheel.uploadTime = "2024-01-01T00:00:00Z\nx = 1";
    const err = thrown(() => writePylock(bad));
    expect(err.code).toBe("INVALID_PYLOCK");
    expect(err.message).toMatch(
      /packages\[5\] \(six\)\.wheels\[0\]\.upload-time: .* is not a UTC date-time/,
    );
    const unnormalized = richLock();
    (unnormalized.packages[5] as { name: string }).name = "Six";
    const err2 = thrown(() => writePylock(unnormalized));
    expect(err2.message).toMatch(
      /^cannot write an invalid lock: .*packages\[0\] \(Six\)\.name: "Six" is not normalized/,
    );
  });
});

describe("readPylock errors", () => {
  const head = `lock-version = "1.0"\ncreated-by = "t"\n`;
  const pkg = (body: string) => `${head}[[packages]]\n${body}\n`;
  const wheel = (name: string, extra = `hashes = {sha256 = "${H}"}`) =>
    `[[packages.wheels]]\nname = "${name}"\nurl = "https://h/${name}"\n${extra}`;
  const cases: [string, string, string][] = [
    ["no lock-version", `created-by = "t"\npackages = []\n`, "lock-version: is required"],
    [
      "lock-version of wrong type",
      `lock-version = 1.0\ncreated-by = "t"\npackages = []\n`,
      "lock-version: must be a string, got a number",
    ],
    [
      "a bad lock-version",
      `lock-version = "one"\ncreated-by = "t"\npackages = []\n`,
      'lock-version: "one" is not a MAJOR.MINOR version',
    ],
    [
      "an unsupported major version",
      `lock-version = "2.0"\ncreated-by = "t"\npackages = []\n`,
      "lock-version: 2.0 is not supported (this reads 1.x)",
    ],
    ["no created-by", `lock-version = "1.0"\npackages = []\n`, "created-by: is required"],
    ["no packages", head, "packages: is required"],
    [
      "packages not an array",
      `${head}packages = {}\n`,
      "packages: must be an array of tables, got a table",
    ],
    [
      "an unknown top-level key in 1.0",
      `${head}packages = []\nextra-stuff = 1\n`,
      '(top level): unknown key "extra-stuff"',
    ],
    [
      "a bad environment marker",
      `${head}environments = ["os_name == 'nt'", "os_name ="]\npackages = []\n`,
      "environments[1]: invalid marker",
    ],
    [
      "a bad requires-python",
      `${head}requires-python = ">=3.x"\npackages = []\n`,
      'requires-python: invalid specifier ">=3.x"',
    ],
    [
      "extras not strings",
      `${head}extras = [1]\npackages = []\n`,
      "extras[0]: must be a string, got a number",
    ],
    ["a package without a name", pkg(`version = "1"`), "packages[0].name: is required"],
    [
      "an unnormalized name",
      pkg(`name = "Foo_Bar"\ndirectory = {path = "."}`),
      'packages[0] (Foo_Bar).name: "Foo_Bar" is not normalized (write "foo-bar")',
    ],
    [
      "an invalid name",
      pkg(`name = "-x"\ndirectory = {path = "."}`),
      'packages[0] (-x).name: "-x" is not a valid name',
    ],
    [
      "an invalid version",
      pkg(`name = "a"\nversion = "1.0-foo-bar"\ndirectory = {path = "."}`),
      'packages[0] (a).version: invalid version "1.0-foo-bar"',
    ],
    [
      "an invalid marker",
      pkg(`name = "a"\nmarker = "python_version >"\ndirectory = {path = "."}`),
      "packages[0] (a).marker: invalid marker",
    ],
    [
      "an invalid package requires-python",
      pkg(`name = "a"\nrequires-python = "=>3"\ndirectory = {path = "."}`),
      "packages[0] (a).requires-python: invalid specifier",
    ],
    [
      "an unknown package key",
      pkg(`name = "a"\nsource = "x"\ndirectory = {path = "."}`),
      'packages[0] (a): unknown key "source"',
    ],
    ["no source", pkg(`name = "a"\nversion = "1"`), "packages[0] (a): has no source"],
    [
      "vcs and wheels",
      pkg(
        `name = "a"\nvcs = {type = "git", url = "u", commit-id = "c"}\n${wheel("a-1-py3-none-any.whl")}`,
      ),
      "packages[0] (a): has vcs and wheels: a package has one kind of source",
    ],
    [
      "archive and sdist",
      pkg(
        `name = "a"\narchive = {url = "u", hashes = {sha256 = "${H}"}}\nsdist = {url = "u", hashes = {sha256 = "${H}"}}`,
      ),
      "packages[0] (a): has archive and sdist",
    ],
    [
      "directory and archive",
      pkg(
        `name = "a"\ndirectory = {path = "."}\narchive = {url = "u", hashes = {sha256 = "${H}"}}`,
      ),
      "packages[0] (a): has directory and archive",
    ],
    [
      "vcs without commit-id",
      pkg(`name = "a"\nvcs = {type = "git", url = "u"}`),
      "packages[0] (a).vcs.commit-id: is required",
    ],
    [
      "vcs of unknown type",
      pkg(`name = "a"\nvcs = {type = "cvs", url = "u", commit-id = "c"}`),
      'packages[0] (a).vcs.type: "cvs" is not one of git, hg, bzr, svn',
    ],
    [
      "vcs without url or path",
      pkg(`name = "a"\nvcs = {type = "git", commit-id = "c"}`),
      "packages[0] (a).vcs: needs a url or a path",
    ],
    [
      "directory without path",
      pkg(`name = "a"\ndirectory = {editable = true}`),
      "packages[0] (a).directory.path: is required",
    ],
    [
      "editable not a boolean",
      pkg(`name = "a"\ndirectory = {path = ".", editable = "yes"}`),
      "packages[0] (a).directory.editable: must be a boolean, got a string",
    ],
    [
      "archive without hashes",
      pkg(`name = "a"\narchive = {url = "u"}`),
      "packages[0] (a).archive.hashes: is required",
    ],
    [
      "empty hashes",
      pkg(`name = "a"\n${wheel("a-1-py3-none-any.whl", "hashes = {}")}`),
      "packages[0] (a).wheels[0].hashes: must hold at least one hash",
    ],
    [
      "a short sha256",
      pkg(`name = "a"\n${wheel("a-1-py3-none-any.whl", 'hashes = {sha256 = "abc"}')}`),
      'packages[0] (a).wheels[0].hashes.sha256: "abc" is not a 64-digit hex digest',
    ],
    [
      "a non-hex digest",
      pkg(`name = "a"\n${wheel("a-1-py3-none-any.whl", 'hashes = {blake2b = "xyz"}')}`),
      'packages[0] (a).wheels[0].hashes.blake2b: "xyz" is not a hex digest',
    ],
    [
      "a wheel for another project",
      pkg(`name = "a"\nversion = "1"\n${wheel("b-1-py3-none-any.whl")}`),
      "packages[0] (a).wheels[0]: wheel b-1-py3-none-any.whl is for b, not a",
    ],
    [
      "a wheel of another version",
      pkg(`name = "a"\nversion = "1.0"\n${wheel("a-1.0.1-py3-none-any.whl")}`),
      "packages[0] (a).wheels[0]: wheel a-1.0.1-py3-none-any.whl is version 1.0.1, not 1.0",
    ],
    [
      "an invalid wheel filename",
      pkg(`name = "a"\n${wheel("a-1.whl")}`),
      "packages[0] (a).wheels[0].name: invalid wheel filename",
    ],
    [
      "a wheel url that is no wheel",
      pkg(
        `name = "a"\n[[packages.wheels]]\nurl = "https://h/a-1.tar.gz"\nhashes = {sha256 = "${H}"}`,
      ),
      "packages[0] (a).wheels[0].url: invalid wheel filename",
    ],
    [
      "a wheel without url or path",
      pkg(
        `name = "a"\n[[packages.wheels]]\nname = "a-1-py3-none-any.whl"\nhashes = {sha256 = "${H}"}`,
      ),
      "packages[0] (a).wheels[0]: needs a url or a path",
    ],
    [
      "a negative size",
      pkg(`name = "a"\n${wheel("a-1-py3-none-any.whl", `size = -1\nhashes = {sha256 = "${H}"}`)}`),
      "packages[0] (a).wheels[0].size: must be a non-negative integer, got a number",
    ],
    [
      "a size string",
      pkg(
        `name = "a"\n${wheel("a-1-py3-none-any.whl", `size = "12"\nhashes = {sha256 = "${H}"}`)}`,
      ),
      "packages[0] (a).wheels[0].size: must be a non-negative integer, got a string",
    ],
    [
      "an upload-time string",
      pkg(
        `name = "a"\n${wheel("a-1-py3-none-any.whl", `upload-time = "2025-01-01T00:00:00Z"\nhashes = {sha256 = "${H}"}`)}`,
      ),
      "packages[0] (a).wheels[0].upload-time: must be a TOML date-time, got a string",
    ],
    [
      "a non-UTC upload-time",
      pkg(
        `name = "a"\n${wheel("a-1-py3-none-any.whl", `upload-time = 2025-01-01T00:00:00+02:00\nhashes = {sha256 = "${H}"}`)}`,
      ),
      "packages[0] (a).wheels[0].upload-time: 2025-01-01T00:00:00+02:00 must be in UTC (Z or +00:00)",
    ],
    [
      "a local upload-time",
      pkg(
        `name = "a"\n${wheel("a-1-py3-none-any.whl", `upload-time = 2025-01-01T00:00:00\nhashes = {sha256 = "${H}"}`)}`,
      ),
      "packages[0] (a).wheels[0].upload-time: 2025-01-01T00:00:00 must be in UTC",
    ],
    [
      "an attestation without kind",
      pkg(
        `name = "a"\ndirectory = {path = "."}\n[[packages.attestation-identities]]\nrepository = "r"`,
      ),
      "packages[0] (a).attestation-identities[0].kind: is required",
    ],
    [
      "wheels not an array",
      pkg(`name = "a"\nwheels = {name = "x"}`),
      "packages[0] (a).wheels: must be an array of tables, got a table",
    ],
    [
      "a string where a table goes",
      pkg(`name = "a"\ndirectory = "."`),
      "packages[0] (a).directory: must be a table, got a string",
    ],
    [
      "dependencies not tables",
      pkg(`name = "a"\ndependencies = ["b"]\ndirectory = {path = "."}`),
      "packages[0] (a).dependencies[0]: must be a table, got a string",
    ],
    ["tool not a table", `${head}packages = []\ntool = 3\n`, "tool: must be a table, got a number"],
  ];
  it.each(cases)("%s", (_name, text, message) => {
    const err = thrown(() => readPylock(text));
    expect(err.code).toBe("INVALID_PYLOCK");
    expect(err.message.startsWith(`pylock.toml: ${message}`)).toBe(true);
  });

  it("names the second package of several", () => {
    const text = `${head}[[packages]]\nname = "ok"\ndirectory = {path = "."}\n[[packages]]\nname = "bad"\nversion = "2"\n${wheel("bad-3-py3-none-any.whl")}\n`;
    const err = thrown(() => readPylock(text, { file: "locks/pylock.dev.toml" }));
    expect(err.message).toBe(
      "locks/pylock.dev.toml: packages[1] (bad).wheels[0]: wheel bad-3-py3-none-any.whl is version 3, not 2",
    );
  });

  it("reports TOML syntax errors with line and column, also on lines holding date-times", () => {
    const err = thrown(() =>
      readPylock(`lock-version = "1.0"\ncreated-by = "t"\nx = 2025-01-01T00:00:00Z y\n`),
    );
    expect(err.code).toBe("INVALID_PYLOCK");
    expect(err.message).toMatch(/^pylock\.toml:3:(\d+): invalid TOML at line 3, column \1: /);
    const col = Number(/^pylock\.toml:3:(\d+)/.exec(err.message)?.[1]);
    expect(col).toBeLessThanOrEqual(27);
    expect(err.detail?.split("\n")[0]).toBe("x = 2025-01-01T00:00:00Z y");
    const unclosed = thrown(() => readPylock(`lock-version = "1.0\n`));
    expect(unclosed.message).toMatch(/^pylock\.toml:1:\d+: invalid TOML at line 1/);
  });

  it("does not show credentials from URLs in messages", () => {
    const text = pkg(
      `name = "a"\n[[packages.wheels]]\nurl = "https://user:hunter2@h.example/b-1-py3-none-any.whl"\nhashes = {sha256 = "${H}"}`,
    );
    const err = thrown(() => readPylock(text));
    expect(err.message).toContain("wheel b-1-py3-none-any.whl is for b, not a");
    const bad = pkg(
      `name = "a"\nmarker = "https://user:hunter2@h.example/"\ndirectory = {path = "."}`,
    );
    const err2 = thrown(() => readPylock(bad));
    expect(err2.message).toContain("packages[0] (a).marker");
    expect(err2.message).not.toContain("hunter2");
  });
});

describe("isPylockFilename", () => {
  it.each([
    ["pylock.toml", true, undefined],
    ["pylock.dev.toml", true, "dev"],
    ["some/dir/pylock.spam.toml", true, "spam"],
    ["C:\\proj\\pylock.win.toml", true, "win"],
    ["pylock..toml", false, undefined],
    ["pylock.a.b.toml", false, undefined],
    ["Pylock.toml", false, undefined],
    ["pylock.TOML", false, undefined],
    ["pylock.tom", false, undefined],
    ["xpylock.toml", false, undefined],
    ["pylock.toml.bak", false, undefined],
    ["requirements.txt", false, undefined],
  ])("%s", (name, valid, lockName) => {
    expect(isPylockFilename(name)).toBe(valid);
    expect(pylockFilenameName(name)).toBe(lockName);
  });
});
