// biome-ignore-all lint/suspicious/noTemplateCurlyInString: requirements files use ${VAR} in plain strings
/**
 * Differential test of parseRequirementsTxt against pip's own requirements-file parser
 * (pip._internal.req.req_file of the machine's python3), in one Python process for all
 * cases: hand-written tricky files plus files assembled from a pool of lines with a
 * seeded PRNG. Only inputs where this parser intentionally follows pip are used (see the
 * module comment of requirements-txt.ts for where it is stricter).
 */
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SlimenvError } from "../../src/base/index.ts";
import { parseRequirementsTxt } from "../../src/standards/requirements-txt.ts";
import { Rng } from "../helpers/random.ts";

interface Case {
  files: Record<string, string>;
  env: Record<string, string>;
}

interface Outcome {
  error?: boolean;
  requirements?: {
    requirement: string;
    editable: boolean;
    constraint: boolean;
    file: string;
    line: number;
    hashes: Record<string, string[]>;
  }[];
  indexUrls?: string[];
  findLinks?: string[];
  noIndex?: boolean;
  pre?: boolean;
  preferBinary?: boolean;
  noBinary?: string[];
  onlyBinary?: string[];
  trustedHosts?: string[];
  requireHashes?: boolean;
}

const SCRIPT = String.raw`
import json, os, re, sys, tempfile, optparse
from pip._internal.req.req_file import parse_requirements
from pip._internal.models.search_scope import SearchScope
from pip._internal.models.format_control import FormatControl
from pip._vendor.packaging.requirements import Requirement

class Finder:
    def __init__(self):
        self.search_scope = SearchScope(find_links=[], index_urls=[], no_index=False)
        self.format_control = FormatControl(set(), set())
        self.pre = False
        self.prefer_binary = False
    @property
    def find_links(self): return self.search_scope.find_links
    @property
    def index_urls(self): return self.search_scope.index_urls
    def set_allow_all_prereleases(self): self.pre = True
    def set_prefer_binary(self): self.prefer_binary = True

class Session:
    def __init__(self): self.hosts = []
    def update_index_urls(self, urls): pass
    def add_trusted_host(self, host, source=None): self.hosts.append(host)

cases = json.load(sys.stdin)
out = []
for case in cases:
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in case["files"].items():
            p = os.path.join(tmp, name)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w", encoding="utf-8", newline="") as f:
                f.write(text)
        old = os.getcwd()
        os.chdir(tmp)
        for k, v in case["env"].items(): os.environ[k] = v
        finder, session = Finder(), Session()
        options = optparse.Values({"require_hashes": False, "features_enabled": []})
        try:
            reqs = []
            for r in parse_requirements("requirements.txt", session=session, finder=finder, options=options):
                if not r.is_editable and not re.match(r"^[a-z+]+:", r.requirement):
                    Requirement(r.requirement)  # what pip does next with a named requirement
                m = re.match(r"^-[rc] (.*) \(line (\d+)\)$", r.comes_from)
                reqs.append({
                    "requirement": r.requirement.strip(),
                    "editable": r.is_editable,
                    "constraint": r.constraint,
                    "file": os.path.normpath(m.group(1)),
                    "line": int(m.group(2)),
                    "hashes": (r.options or {}).get("hashes", {}),
                })
            out.append({
                "requirements": reqs,
                "indexUrls": list(finder.index_urls),
                "findLinks": list(finder.find_links),
                "noIndex": finder.search_scope.no_index,
                "pre": finder.pre,
                "preferBinary": finder.prefer_binary,
                "noBinary": sorted(finder.format_control.no_binary),
                "onlyBinary": sorted(finder.format_control.only_binary),
                "trustedHosts": session.hosts,
                "requireHashes": bool(options.require_hashes),
            })
        except BaseException as e:
            out.append({"error": True, "message": str(e)})
        finally:
            for k in case["env"]: os.environ.pop(k, None)
            os.chdir(old)
json.dump(out, sys.stdout)
`;

function python(): string | undefined {
  const exe = process.env.SLIMENV_TEST_PYTHON ?? "python3";
  const probe = spawnSync(exe, ["-c", "import pip._internal.req.req_file"], { encoding: "utf8" });
  return probe.status === 0 ? exe : undefined;
}

const HANDWRITTEN: Case[] = [
  { files: { "requirements.txt": "a\nb==1.0\n" }, env: {} },
  {
    files: {
      "requirements.txt": "# top\n-r sub/x.txt\n-c c.txt\nfoo[bar]>=1 ; python_version>'3'\n",
      "sub/x.txt": "--requirement ../y.txt\nx==1 --hash=sha256:aa --hash sha384:bb\n",
      "y.txt": "y @ https://h.example/y-1.0.tar.gz\n",
      "c.txt": "-r sub/z.txt\nc<2\n",
      "sub/z.txt": "z\n",
    },
    env: {},
  },
  {
    files: {
      "requirements.txt":
        "pkg==1.0 \\\n  --hash=sha256:aaa \\\n  --hash=sha512:bbb\n# c \\\nnext\nend \\",
    },
    env: {},
  },
  {
    files: {
      "requirements.txt":
        "${SLIMENV_T_NAME}==${SLIMENV_T_VER}\nother @ https://h/${SLIMENV_T_UNSET}/$SLIMENV_T_NAME/o.whl\n",
    },
    env: { SLIMENV_T_NAME: "requests", SLIMENV_T_VER: "2.0" },
  },
  {
    files: {
      "requirements.txt":
        "--extra-index-url https://e1/simple\n-i https://main/simple\n--extra-index-url=https://e2/simple\n--pre\n--prefer-binary\n--trusted-host h1\n",
    },
    env: {},
  },
  {
    files: { "requirements.txt": "--no-index\n-i https://x/simple\n-f https://links/\n" },
    env: {},
  },
  {
    files: {
      "requirements.txt":
        "--only-binary=:all:\n--no-binary Pillow,lxml\n--only-binary lxml\n--no-binary :none:,Cython\n",
    },
    env: {},
  },
  { files: { "requirements.txt": "--no-binary a\n--only-binary :all:,:none:,B_c\n" }, env: {} },
  { files: { "requirements.txt": "-e ./local\n--editable git+https://h/r.git#egg=r\n" }, env: {} },
  { files: { "requirements.txt": "a --hash=md5:x\n" }, env: {} },
  { files: { "requirements.txt": "--unknown-thing\n" }, env: {} },
  { files: { "requirements.txt": "a --hash 'sha256:x\n" }, env: {} },
  {
    files: {
      "requirements.txt": "--extra-index https://abbrev/simple\n--pypi-url https://alias\n",
    },
    env: {},
  },
  { files: { "requirements.txt": "a\r\nb \\\r\n  --hash=sha256:1\r\n" }, env: {} },
  {
    files: { "requirements.txt": "https://h/a.tar.gz#egg=a # comment\n\t  \n  b  # x\n" },
    env: {},
  },
  { files: { "requirements.txt": "--require-hashes\nx==1 --hash=sha256:0\n" }, env: {} },
  { files: { "requirements.txt": "-ihttps://clustered/simple\n-fhttps://f/\n" }, env: {} },
];

const POOL = [
  "requests>=2",
  "numpy==1.26.4 ; sys_platform == 'linux'",
  "Django[bcrypt]~=4.2",
  "name @ https://h.example/name-1.0-py3-none-any.whl",
  "x==1 --hash=sha256:abc",
  "y==2 --hash sha256:def --hash=sha512:123",
  "# a comment",
  "",
  "   ",
  "z  # trailing comment",
  "-i https://idx.example/simple",
  "--index-url=https://idx2.example/simple",
  "--extra-index-url https://extra.example/simple",
  "--no-index",
  "-f https://links.example/",
  "--find-links=https://links2.example/",
  "--pre",
  "--prefer-binary",
  "--no-binary=:all:",
  "--no-binary Foo_Bar",
  "--only-binary :all:",
  "--only-binary=baz,:none:,qux",
  "--trusted-host h.example",
  "--require-hashes",
  "-e ./pkg",
  "${SLIMENV_T_PKG}==${SLIMENV_T_V}",
  "pkg-${SLIMENV_T_MISSING}",
  "cont \\",
  "    --hash=sha256:ccc",
  "-r inc.txt",
  "-c cons.txt",
];

function generated(count: number, seed: number): Case[] {
  const rng = new Rng(seed);
  const file = (n: number) =>
    Array.from({ length: n }, () => rng.pick(POOL).replaceAll(/-[rc] \S+/g, "")).join("\n");
  const out: Case[] = [];
  for (let i = 0; i < count; i++) {
    const lines = Array.from({ length: 3 + rng.int(10) }, () => rng.pick(POOL));
    const eol = rng.chance(0.2) ? "\r\n" : "\n";
    out.push({
      files: {
        "requirements.txt": lines.join(eol) + (rng.chance(0.5) ? eol : ""),
        "inc.txt": file(3),
        "cons.txt": file(2),
      },
      env: { SLIMENV_T_PKG: "pkgname", SLIMENV_T_V: "3.1" },
    });
  }
  return out;
}

function ours(c: Case): Outcome {
  const readFile = (p: string) => {
    const text = c.files[path.normalize(p)];
    if (text === undefined) throw new Error(`no file ${p}`);
    return text;
  };
  try {
    const r = parseRequirementsTxt("requirements.txt", {
      readFile,
      env: c.env,
      exists: () => false,
    });
    return {
      requirements: r.requirements.map((e) => {
        const hashes: Record<string, string[]> = {};
        for (const h of e.hashes) {
          const [algo, digest] = [h.slice(0, h.indexOf(":")), h.slice(h.indexOf(":") + 1)];
          hashes[algo] = [...(hashes[algo] ?? []), digest];
        }
        return {
          requirement: e.raw,
          editable: e.editable,
          constraint: e.constraint,
          file: path.normalize(e.source.file),
          line: e.source.line,
          hashes,
        };
      }),
      indexUrls: [...(r.indexUrl === undefined ? [] : [r.indexUrl]), ...r.extraIndexUrls],
      findLinks: r.findLinks,
      noIndex: r.noIndex,
      pre: r.pre,
      preferBinary: r.preferBinary,
      noBinary: r.noBinary,
      onlyBinary: r.onlyBinary,
      trustedHosts: r.trustedHosts,
      requireHashes: r.requireHashes,
    };
  } catch (err) {
    if (err instanceof SlimenvError) return { error: true };
    throw err;
  }
}

const exe = python();

describe("requirements.txt vs pip", () => {
  it("matches pip's parser on tricky and generated files", () => {
    if (exe === undefined) throw new Error("python3 with pip is needed for this test");
    const cases = [...HANDWRITTEN, ...generated(300, 20240751)];
    const pipVersion = execFileSync(exe, ["-c", "import pip;print(pip.__version__)"], {
      encoding: "utf8",
    }).trim();
    const res = spawnSync(exe, ["-c", SCRIPT], {
      input: JSON.stringify(cases),
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, PIP_NO_INPUT: "1" },
    });
    if (res.status !== 0) throw new Error(`python failed: ${res.stderr.slice(-3000)}`);
    const theirs = JSON.parse(res.stdout) as (Outcome & { message?: string })[];
    expect(theirs).toHaveLength(cases.length);
    let errors = 0;
    cases.forEach((c, i) => {
      const pip = theirs[i] as Outcome & { message?: string };
      if (pip.error) errors++;
      const { message: _m, ...pipOutcome } = pip;
      expect(
        ours(c),
        `case ${i} (pip ${pipVersion}): ${JSON.stringify(c.files)}\npip: ${pip.message ?? ""}`,
      ).toEqual(pipOutcome);
    });
    // The generated set must exercise both accepted and rejected files.
    expect(errors).toBeGreaterThan(10);
    expect(errors).toBeLessThan(cases.length / 2);
  });
});
