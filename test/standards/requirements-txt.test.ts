// biome-ignore-all lint/suspicious/noTemplateCurlyInString: requirements files use ${VAR} in plain strings
import { describe, expect, it } from "vitest";
import { isSlimenvError } from "../../src/base/index.ts";
import {
  type ParseRequirementsTxtOptions,
  parseRequirementsTxt,
  type RequirementsFile,
  resolveIncludedPath,
} from "../../src/standards/requirements-txt.ts";
import {
  breakArgsOptions,
  expandEnvVars,
  joinContinuations,
  shellSplit,
  splitPhysicalLines,
} from "../../src/standards/requirements-txt-lines.ts";
import { thrown } from "../helpers/errors.ts";

/** An in-memory file system: readFile throws for a missing file, as the contract says. */
function fsFrom(files: Record<string, string>): (path: string) => string {
  return (p: string) => {
    const text = files[p];
    if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
    return text;
  };
}

function parse(
  files: Record<string, string>,
  top = "requirements.txt",
  extra: Partial<ParseRequirementsTxtOptions> = {},
): RequirementsFile {
  return parseRequirementsTxt(top, { readFile: fsFrom(files), ...extra });
}

function parseOne(text: string, extra: Partial<ParseRequirementsTxtOptions> = {}) {
  return parse({ "requirements.txt": text }, "requirements.txt", extra);
}

describe("line layer", () => {
  it("splits lines like Python's splitlines", () => {
    expect(splitPhysicalLines("a\nb\r\nc\rd")).toEqual(["a", "b", "c", "d"]);
    expect(splitPhysicalLines("a\n\n")).toEqual(["a", ""]);
    expect(splitPhysicalLines("")).toEqual([]);
    expect(splitPhysicalLines("\uFEFFa\n")).toEqual(["a"]);
    expect(splitPhysicalLines("a\fb\u2028c")).toEqual(["a", "b", "c"]);
  });

  it("joins continuations keeping the first line number and never continues a comment", () => {
    expect(joinContinuations(["foo \\", "  --hash=x", "bar"])).toEqual([
      { line: 1, text: "foo   --hash=x" },
      { line: 3, text: "bar" },
    ]);
    expect(joinContinuations(["# comment \\", "bar"])).toEqual([
      { line: 1, text: " # comment \\" },
      { line: 2, text: "bar" },
    ]);
    expect(joinContinuations(["a\\", "b\\"])).toEqual([{ line: 1, text: "ab" }]);
  });

  it("expands only ${UPPER_CASE} variables that are set and not empty", () => {
    const env = { TOKEN: "t0k", EMPTY: "", lower: "x" };
    expect(expandEnvVars("${TOKEN}/${UNSET}/${EMPTY}/$TOKEN/${lower}", env)).toBe(
      "t0k/${UNSET}/${EMPTY}/$TOKEN/${lower}",
    );
  });

  it("breaks a line at the first space-separated token starting with '-'", () => {
    expect(breakArgsOptions('foo>=1; python_version < "3.8" --hash=a')).toEqual({
      args: 'foo>=1; python_version < "3.8"',
      options: "--hash=a",
    });
    expect(breakArgsOptions("foo\t--hash=a")).toEqual({ args: "foo\t--hash=a", options: "" });
    expect(breakArgsOptions("-r x.txt")).toEqual({ args: "", options: "-r x.txt" });
  });

  it("splits options like shlex", () => {
    expect(shellSplit(`--a "b c" 'd e' f\\ g "h\\"i" ''`)).toEqual([
      "--a",
      "b c",
      "d e",
      "f g",
      'h"i',
      "",
    ]);
    expect(() => shellSplit(`"open`)).toThrow(/no closing quotation/);
    expect(() => shellSplit("x\\")).toThrow(/no escaped character/);
  });

  it("resolves included paths relative to the including file", () => {
    expect(resolveIncludedPath("reqs/prod.txt", "base.txt")).toBe("reqs/base.txt");
    expect(resolveIncludedPath("reqs/prod.txt", "../common.txt")).toBe("common.txt");
    expect(resolveIncludedPath("reqs/prod.txt", "/abs/x.txt")).toBe("/abs/x.txt");
    expect(resolveIncludedPath("https://h/r/a.txt", "b.txt")).toBe("https://h/r/b.txt");
    expect(resolveIncludedPath("a.txt", "https://h/c.txt")).toBe("https://h/c.txt");
  });
});

describe("parseRequirementsTxt", () => {
  it("reads a realistic file: comments, markers, extras, urls, hashes, continuations", () => {
    const text = [
      "# Production requirements",
      "",
      "requests[security,socks]>=2.31,<3  # http",
      'numpy==1.26.4; python_version < "3.13" and platform_machine == "x86_64"',
      "torch @ https://download.pytorch.org/whl/cpu/torch-2.3.0%2Bcpu-cp311-cp311-linux_x86_64.whl",
      "attrs==23.2.0 \\",
      "    --hash=sha256:99b87a485a5820b23b879f04c2305b44b951b502fd64be915879d77a7e8fc6f1 \\",
      "    --hash sha256:935dc3b529c262f6cf76e50877d35a4bd3c1de194fd41f47a2b7ae8f19971f30",
      "   # indented comment",
      "https://example.com/pkgs/thing-1.0.tar.gz",
      "./vendor/mylib",
      "dist/mine-1.0-py3-none-any.whl",
      "-e ./editable-pkg",
      "--editable=git+https://github.com/org/repo.git@v1#egg=repo",
      "url-with-hash @ https://example.com/x.zip#sha256=abc",
    ].join("\n");
    const r = parseOne(text);
    const entries = r.requirements.map((e) => ({
      raw: e.raw,
      kind: e.kind,
      editable: e.editable,
      line: e.source.line,
      name: e.requirement?.name,
    }));
    expect(entries).toEqual([
      {
        raw: "requests[security,socks]>=2.31,<3",
        kind: "requirement",
        editable: false,
        line: 3,
        name: "requests",
      },
      {
        raw: 'numpy==1.26.4; python_version < "3.13" and platform_machine == "x86_64"',
        kind: "requirement",
        editable: false,
        line: 4,
        name: "numpy",
      },
      {
        raw: "torch @ https://download.pytorch.org/whl/cpu/torch-2.3.0%2Bcpu-cp311-cp311-linux_x86_64.whl",
        kind: "requirement",
        editable: false,
        line: 5,
        name: "torch",
      },
      { raw: "attrs==23.2.0", kind: "requirement", editable: false, line: 6, name: "attrs" },
      {
        raw: "https://example.com/pkgs/thing-1.0.tar.gz",
        kind: "url",
        editable: false,
        line: 10,
        name: undefined,
      },
      { raw: "./vendor/mylib", kind: "path", editable: false, line: 11, name: undefined },
      {
        raw: "dist/mine-1.0-py3-none-any.whl",
        kind: "path",
        editable: false,
        line: 12,
        name: undefined,
      },
      { raw: "./editable-pkg", kind: "path", editable: true, line: 13, name: undefined },
      {
        raw: "git+https://github.com/org/repo.git@v1#egg=repo",
        kind: "url",
        editable: true,
        line: 14,
        name: undefined,
      },
      {
        raw: "url-with-hash @ https://example.com/x.zip#sha256=abc",
        kind: "requirement",
        editable: false,
        line: 15,
        name: "url-with-hash",
      },
    ]);
    const attrs = r.requirements[3];
    expect(attrs?.hashes).toEqual([
      "sha256:99b87a485a5820b23b879f04c2305b44b951b502fd64be915879d77a7e8fc6f1",
      "sha256:935dc3b529c262f6cf76e50877d35a4bd3c1de194fd41f47a2b7ae8f19971f30",
    ]);
    expect(r.requirements[0]?.requirement?.extras).toEqual(["security", "socks"]);
    expect(r.requirements[0]?.requirement?.specifier.toString()).toBe("<3,>=2.31");
    expect(r.requirements[1]?.requirement?.marker?.toString()).toBe(
      'python_version < "3.13" and platform_machine == "x86_64"',
    );
    expect(r.requirements[2]?.requirement?.url).toContain("torch-2.3.0%2Bcpu");
    expect(r.files).toEqual(["requirements.txt"]);
    expect(r.warnings).toEqual([]);
  });

  it("follows nested -r and -c relative to the including file, marking constraints", () => {
    const files = {
      "requirements.txt": "-r reqs/prod.txt\n-c constraints/pins.txt\nlocal-only\n",
      "reqs/prod.txt": "--requirement=base.txt\nflask>=3\n",
      "reqs/base.txt": "click\n-r ../common/shared.txt\n",
      "common/shared.txt": "six\n",
      "constraints/pins.txt": "--constraint more.txt\nclick==8.1.7\n-r ../reqs/base.txt\n",
      "constraints/more.txt": "flask==3.0.3\n",
    };
    const r = parse(files);
    const got = r.requirements.map((e) => [e.raw, e.source.file, e.source.line, e.constraint]);
    expect(got).toEqual([
      ["click", "reqs/base.txt", 1, false],
      ["six", "common/shared.txt", 1, false],
      ["flask>=3", "reqs/prod.txt", 2, false],
      ["flask==3.0.3", "constraints/more.txt", 1, true],
      ["click==8.1.7", "constraints/pins.txt", 2, true],
      // -r inside a constraints file reads a requirements file, as pip does.
      ["click", "reqs/base.txt", 1, false],
      ["six", "common/shared.txt", 1, false],
      ["local-only", "requirements.txt", 3, false],
    ]);
    expect(r.files).toEqual([
      "requirements.txt",
      "reqs/prod.txt",
      "reqs/base.txt",
      "common/shared.txt",
      "constraints/pins.txt",
      "constraints/more.txt",
    ]);
  });

  it("reads the top file as constraints when asked", () => {
    const r = parseOne("a==1\n", { constraint: true });
    expect(r.requirements[0]?.constraint).toBe(true);
  });

  it("reports include cycles with the chain of files", () => {
    const files = {
      "requirements.txt": "a\n-r sub/b.txt\n",
      "sub/b.txt": "b\n-r ../c.txt\n",
      "c.txt": "# comment\n-r requirements.txt\n",
    };
    const err = thrown(() => parse(files));
    expect(err.code).toBe("INVALID_REQUIREMENTS_FILE");
    expect(err.message).toBe(
      "c.txt:2: include cycle: requirements.txt -> sub/b.txt -> c.txt -> requirements.txt",
    );
    const self = thrown(() => parseOne("x\n-r ./requirements.txt\n"));
    expect(self.message).toBe(
      "requirements.txt:2: include cycle: requirements.txt -> requirements.txt",
    );
  });

  it("allows the same file twice when it is not a cycle (diamond)", () => {
    const files = {
      "requirements.txt": "-r a.txt\n-r b.txt\n",
      "a.txt": "-r common.txt\n",
      "b.txt": "-r common.txt\n",
      "common.txt": "x\n",
    };
    expect(parse(files).requirements.map((e) => e.raw)).toEqual(["x", "x"]);
  });

  it("names the including line when a nested file is missing", () => {
    const err = thrown(() => parse({ "requirements.txt": "ok\n\n-r missing.txt\n" }));
    expect(err.code).toBe("IO_ERROR");
    expect(err.message).toMatch(
      /^requirements\.txt:3: cannot read included file missing\.txt: ENOENT/,
    );
    const top = thrown(() => parse({}, "nope.txt"));
    expect(top.code).toBe("IO_ERROR");
    expect(top.message).toContain("nope.txt");
  });

  it("expands ${VAR} from the given env only", () => {
    const text = [
      "--index-url https://${PIP_USER}:${PIP_TOKEN}@pypi.example.com/simple",
      "pkg==${PKG_VERSION}",
      "other @ https://example.com/${UNKNOWN}/other.whl",
    ].join("\n");
    const env = { PIP_USER: "me", PIP_TOKEN: "s3cret", PKG_VERSION: "1.2.3" };
    const r = parseOne(text, { env });
    expect(r.indexUrl).toBe("https://me:s3cret@pypi.example.com/simple");
    expect(r.requirements[0]?.requirement?.specifier.toString()).toBe("==1.2.3");
    expect(r.requirements[1]?.raw).toBe("other @ https://example.com/${UNKNOWN}/other.whl");
    const noEnv = parseOne(text.split("\n")[0] ?? "");
    expect(noEnv.indexUrl).toBe("https://${PIP_USER}:${PIP_TOKEN}@pypi.example.com/simple");
  });

  it("reads index, find-links and install options", () => {
    const text = [
      "-i https://first.example/simple",
      "--extra-index-url https://extra.example/simple",
      "--extra-index=https://extra2.example/simple", // unique prefix, as optparse allows
      "-f https://wheels.example/links.html",
      "--find-links=./wheelhouse",
      "--pre",
      "--prefer-binary",
      "--trusted-host extra.example --trusted-host=10.0.0.1:8080",
      "--require-hashes",
      "--use-feature=truststore",
      "-ihttps://override.example/simple --extra-index-url https://after.example/simple",
    ].join("\n");
    const r = parse({ "sub/requirements.txt": text }, "sub/requirements.txt");
    // -i replaces every index seen before it, extra ones included (as pip).
    expect(r.indexUrl).toBe("https://override.example/simple");
    expect(r.extraIndexUrls).toEqual(["https://after.example/simple"]);
    expect(r.findLinks).toEqual(["https://wheels.example/links.html", "sub/wheelhouse"]);
    expect(r.pre).toBe(true);
    expect(r.preferBinary).toBe(true);
    expect(r.trustedHosts).toEqual(["extra.example", "10.0.0.1:8080"]);
    expect(r.requireHashes).toBe(true);
    expect(r.features).toEqual(["truststore"]);
    expect(r.noIndex).toBe(false);
  });

  it("resolves relative find-links like pip when an exists() callback is given", () => {
    const text = "-f ./here\n-f ./elsewhere\n";
    const r = parse({ "d/r.txt": text }, "d/r.txt", { exists: (p) => p === "d/here" });
    expect(r.findLinks).toEqual(["d/here", "./elsewhere"]);
  });

  it("--no-index drops every index and ignores later ones", () => {
    const r = parseOne(
      "-i https://a/simple\n--no-index\n--extra-index-url https://b/simple\n-i https://c\n",
    );
    expect(r.noIndex).toBe(true);
    expect(r.indexUrl).toBeUndefined();
    expect(r.extraIndexUrls).toEqual([]);
  });

  it("applies --no-binary / --only-binary like pip's format control", () => {
    const r = parseOne(
      [
        "--only-binary=:all:",
        "--no-binary Pillow,lxml",
        "--only-binary lxml",
        "--no-binary :none:,Cython",
      ].join("\n"),
    );
    // A name never removes ":all:" from the other side (pip keeps both).
    expect(r.onlyBinary).toEqual([":all:", "lxml"]);
    expect(r.noBinary).toEqual(["cython"]);
    const all = parseOne("--no-binary numpy\n--only-binary scipy\n--no-binary :all:\n");
    expect(all.noBinary).toEqual([":all:"]);
    expect(all.onlyBinary).toEqual([]);
    const reset = parseOne("--only-binary :all:,:none:,foo\n");
    expect(reset.onlyBinary).toEqual(["foo"]);
  });

  it("keeps per-requirement options and warns about ignored ones", () => {
    const r = parseOne(
      [
        "pkg==1 --hash=sha384:aa --hash=sha512:bb -C key=v1 --config-settings key=v2 --global-option=--quiet",
        "other==2 --pre",
        "--hash=sha256:cc",
        "-e ./x --hash=sha256:dd",
      ].join("\n"),
    );
    const pkg = r.requirements[0];
    expect(pkg?.hashes).toEqual(["sha384:aa", "sha512:bb"]);
    expect(pkg?.configSettings).toEqual({ key: ["v1", "v2"] });
    expect(pkg?.globalOptions).toEqual(["--quiet"]);
    expect(r.pre).toBe(false);
    expect(r.warnings.map((w) => `${w.line}: ${w.message}`)).toEqual([
      "2: --pre is ignored after a requirement; put it on its own line",
      "3: --hash without a requirement on its line is ignored",
      "4: --hash is ignored on an editable (-e) line",
    ]);
  });

  it("handles CRLF files and trailing continuation at end of file", () => {
    const r = parseOne("a==1\r\nb==2 \\\r\n--hash=sha256:ff\\");
    expect(r.requirements.map((e) => [e.raw, e.hashes, e.source.line])).toEqual([
      ["a==1", [], 1],
      ["b==2", ["sha256:ff"], 2],
    ]);
  });

  it("a '#' not after whitespace is not a comment (URL fragments)", () => {
    const r = parseOne("https://example.com/a.tar.gz#egg=a # but this is\n");
    expect(r.requirements[0]?.raw).toBe("https://example.com/a.tar.gz#egg=a");
  });
});

describe("parseRequirementsTxt errors", () => {
  const cases: [string, string, RegExp][] = [
    [
      "unknown long option",
      "ok\n--frobnicate\n",
      /^requirements\.txt:2: unknown option --frobnicate$/,
    ],
    ["unknown short option", "-x foo\n", /^requirements\.txt:1: unknown option -x$/],
    ["ambiguous prefix", "--no-\n", /^requirements\.txt:1: ambiguous option --no- \(could be /],
    ["missing value", "\n\n-r\n", /^requirements\.txt:3: -r needs a value$/],
    ["flag with value", "--pre=yes\n", /^requirements\.txt:1: --pre takes no value$/],
    [
      "bad hash algorithm",
      "a --hash=md5:abc\n",
      /^requirements\.txt:1: --hash algorithm "md5" is not allowed/,
    ],
    [
      "hash without colon",
      "a --hash=abc\n",
      /^requirements\.txt:1: --hash needs a hash name and a value/,
    ],
    ["unclosed quote", "a --hash 'sha256:x\n", /^requirements\.txt:1: cannot split options/],
    ["text after options", "--pre foo\n", /^requirements\.txt:1: unexpected "foo" after options/],
    ["two editables", "-e ./a -e ./b\n", /^requirements\.txt:1: only one -e\/--editable per line$/],
    ["config setting without =", "a -C key\n", /^requirements\.txt:1: -C needs KEY=VALUE/],
    [
      "format control without a value",
      "--no-binary --pre\n",
      /^requirements\.txt:1: --no-binary \/ --only-binary needs a value/,
    ],
  ];
  it.each(cases)("%s", (_name, text, pattern) => {
    const err = thrown(() => parseOne(text));
    expect(err.code).toBe("INVALID_REQUIREMENTS_FILE");
    expect(err.message).toMatch(pattern);
  });

  it("an invalid requirement names file:line, points at the column and chains the cause", () => {
    const files = {
      "requirements.txt": "-r sub/more.txt\n",
      "sub/more.txt": "ok\n\nfoo >= 1.0 ; bad_marker\n",
    };
    const err = thrown(() => parse(files));
    expect(err.code).toBe("INVALID_REQUIREMENTS_FILE");
    expect(err.message).toMatch(
      /^sub\/more\.txt:3: invalid requirement "foo >= 1\.0 ; bad_marker": .*at column 14/,
    );
    expect(isSlimenvError(err.cause, "INVALID_REQUIREMENT")).toBe(true);
    expect(err.detail).toBe("foo >= 1.0 ; bad_marker\n             ^");
  });

  it("a requirement joined from continuation lines reports its first line", () => {
    const err = thrown(() => parseOne("a\n\nfoo[bar \\\n  ==1\n"));
    expect(err.message).toMatch(/^requirements\.txt:3: invalid requirement/);
  });

  it("never shows credentials in messages", () => {
    const text = "bad @@ https://alice:hunter2@private.example/simple/x.whl\n";
    const err = thrown(() => parseOne(text));
    expect(err.message).toContain("requirements.txt:1:");
    expect(err.message).not.toContain("hunter2");
    expect(err.detail ?? "").not.toContain("hunter2");
    expect(JSON.stringify(err.toJSON())).not.toContain("hunter2");
    const viaEnv = thrown(() =>
      parseOne("-i https://bob:${TOKEN}@h/simple --bogus\n", { env: { TOKEN: "xyzzy-secret" } }),
    );
    expect(viaEnv.message).toMatch(/^requirements\.txt:1: unknown option --bogus$/);
    expect(JSON.stringify(viaEnv.toJSON())).not.toContain("xyzzy-secret");
    const nested = thrown(() =>
      parse({ "requirements.txt": "-r https://carol:pw123@h.example/r.txt\n" }),
    );
    expect(nested.code).toBe("IO_ERROR");
    expect(nested.message).not.toContain("pw123");
    expect(nested.message).toContain("https://carol:***@h.example/r.txt");
  });
});
