/**
 * Differential tests against pypa/packaging: thousands of generated markers and
 * requirements (seeded, so a failure reproduces) go through packaging in one Python process
 * per batch, and through our parser; validity, error column, canonical text, parts and
 * evaluation results must agree.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { isSlimenvError } from "../../src/base/index.ts";
import { Marker, type MarkerEvaluationEnvironment } from "../../src/standards/markers.ts";
import { Requirement } from "../../src/standards/requirement.ts";
import {
  defaultPackagingPython,
  type PackagingPython,
  runPythonJson,
} from "../helpers/packaging.ts";
import { Rng } from "../helpers/random.ts";
import {
  epochWithoutRelease,
  markerEvaluationDiffersFrom263,
  oracleBefore264,
  specifierDiffersFrom263,
} from "./packaging-26-4.ts";

// --- generators --------------------------------------------------------------------------

const VARIABLES = [
  "python_version",
  "python_full_version",
  "os_name",
  "sys_platform",
  "platform_release",
  "platform_system",
  "platform_version",
  "platform_machine",
  "platform_python_implementation",
  "implementation_name",
  "implementation_version",
  "extra",
  // Legacy spellings packaging still reads.
  "os.name",
  "sys.platform",
  "platform.version",
  "platform.machine",
  "platform.python_implementation",
  "python_implementation",
];
const RARE_VARIABLES = ["extras", "dependency_groups", "python_versions", "platform.release"];
const COMMON_OPS = ["<", "<=", "!=", "==", "==", ">=", ">", "in", "not in"];
const VERSION_VALUES = [
  "3.8",
  "3.11",
  "3.11.7",
  "3.13.0rc1",
  "3.13",
  "2.7",
  "3",
  "3.*",
  "3.11.*",
  "3.1*",
  "1.0.post1",
  "1!2.0",
  "3.11.0+local",
  "3.10.dev0",
  "v3.8",
  "3.12.1+",
  "7.3.13",
  "3.9.0b2",
  "5.15.0",
  "3.12.0a1",
  " 3.8",
  "3.8 ",
  "3.8.0.0",
  "03.08",
];
const STRING_VALUES = [
  "posix",
  "nt",
  "linux",
  "win32",
  "darwin",
  "CPython",
  "PyPy",
  "cpython",
  "pypy",
  "x86_64",
  "aarch64",
  "Linux",
  "Windows",
  "Darwin",
  "",
  "foo bar",
  "Foo.Bar",
  "foo_bar",
  "foo-bar",
  "test",
  "TEST",
  "dev",
  "#1 SMP",
  "NT",
  "5.15.0-91-generic",
  "lin",
  "python_version",
  "os_name",
  "extra",
  "é",
  "ü-x",
];
/** Raw text inside the quotes (already escaped as written in a marker). */
const ODD_RAW = [
  "\\x41",
  "\\n",
  "\\\\",
  "\\t",
  "a\\u00e9",
  "\\U0001F600",
  "\\101",
  "\\8",
  "\\q",
  "\\x4",
  "\\u12",
  "\\N{DASH}",
  "a\\\nb",
  "a\nb",
  "a\\",
  "\\'",
  '\\"',
  "a\u00a0b",
  "\t",
  "(",
  ")",
  "and",
  "or",
  " in ",
];

function quote(rng: Rng, raw: string): string {
  const canSingle = !raw.includes("'");
  const canDouble = !raw.includes('"');
  if (canSingle && canDouble) return rng.chance(0.5) ? `'${raw}'` : `"${raw}"`;
  if (canSingle) return `'${raw}'`;
  if (canDouble) return `"${raw}"`;
  return `'${raw.replaceAll("'", "")}'`;
}

function valueText(rng: Rng): string {
  const r = rng.next();
  if (r < 0.45) return quote(rng, rng.pick(VERSION_VALUES));
  if (r < 0.9) return quote(rng, rng.pick(STRING_VALUES));
  if (r < 0.97) return quote(rng, rng.pick(ODD_RAW));
  return rng.pick(["'it\"s'", `"it's"`, "'a", "posix", "3.8"]);
}

function ws(rng: Rng): string {
  return rng.pick(["", " ", " ", " ", "  ", "\t"]);
}

function comparison(rng: Rng): string {
  const variable = rng.chance(0.03) ? rng.pick(RARE_VARIABLES) : rng.pick(VARIABLES);
  // ~= and === fail on non-version variables, which fails the whole marker: keep them rarer.
  let op = rng.chance(0.1) ? rng.pick(["~=", "==="]) : rng.pick(COMMON_OPS);
  if (op === "not in" && rng.chance(0.2)) op = rng.pick(["not\tin", "not  in", "notin", "not"]);
  const shape = rng.next();
  let left: string;
  let right: string;
  if (shape < 0.75) [left, right] = [variable, valueText(rng)];
  else if (shape < 0.93) [left, right] = [valueText(rng), variable];
  else if (shape < 0.97) [left, right] = [variable, rng.pick(VARIABLES)];
  else [left, right] = [valueText(rng), valueText(rng)];
  // Words need a separator from words; quotes need none.
  const sep = (a: string, b: string) => {
    const w = ws(rng);
    return w === "" && /\w$/.test(a) && /^\w/.test(b) ? " " : w;
  };
  return `${left}${sep(left, op)}${op}${sep(op, right)}${right}`;
}

function markerExpr(rng: Rng, depth: number): string {
  const n = 1 + (depth > 2 ? 0 : rng.int(3));
  let out = "";
  for (let i = 0; i < n; i++) {
    const atom =
      depth < 3 && rng.chance(0.25)
        ? `(${ws(rng)}${markerExpr(rng, depth + 1)}${ws(rng)})`
        : comparison(rng);
    if (i > 0) {
      const join = rng.pick(["and", "or"]);
      let before = rng.pick([" ", " ", "  ", "\t", ""]);
      let after = rng.pick([" ", " ", "\t", ""]);
      // A boolean operator glued to a word is not a token: keep that rare.
      if (before === "" && /\w$/.test(out) && rng.chance(0.9)) before = " ";
      if (after === "" && /^\w/.test(atom) && rng.chance(0.9)) after = " ";
      out += `${before}${join}${after}`;
    }
    out += atom;
  }
  return out;
}

const NOISE = [
  " ",
  ";",
  "(",
  ")",
  "'",
  '"',
  "=",
  "<",
  "~",
  "!",
  "a",
  "1",
  ".",
  ",",
  "[",
  "]",
  "@",
  "*",
  "+",
  "\t",
  "é",
];

function corrupt(rng: Rng, text: string): string {
  const at = rng.int(text.length + 1);
  switch (rng.int(4)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + rng.pick(NOISE) + text.slice(at);
    case 2:
      return text.slice(0, at);
    default:
      return text.slice(0, at) + rng.pick(NOISE) + text.slice(at + 1);
  }
}

function generateMarker(rng: Rng): string {
  let text = `${ws(rng)}${markerExpr(rng, 0)}${ws(rng)}`;
  if (rng.chance(0.15)) text = corrupt(rng, text);
  return text;
}

const NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

function nameText(rng: Rng): string {
  if (rng.chance(0.03))
    return rng.pick(["_foo", "-foo", "foo-", "foo.", "fooé", "é", "", "foo_", "1", "a.b_c-d"]);
  let out = "";
  const parts = 1 + rng.int(3);
  for (let p = 0; p < parts; p++) {
    if (p > 0) out += rng.pick([".", "-", "_", "--", "._"]);
    const len = 1 + rng.int(6);
    for (let i = 0; i < len; i++) out += NAME_CHARS[rng.int(NAME_CHARS.length)];
  }
  return out;
}

const SPEC_VERSIONS = [
  "1.0",
  "1",
  "2.8.1",
  "1.0.*",
  "1.*",
  "1.0a1",
  "1.0.0b2",
  "1.0rc1",
  "1.0.post1",
  "1.0-1",
  "1.0.dev3",
  "1.0+local.1",
  "1!1.0",
  "v1.0",
  "1.0RC1",
  "1.0-alpha.2",
  "1.0_post_3",
  "0.9.dev0",
  "2024.1.15",
  "1.0a1.*",
  "1.0+abc.*",
  "foo",
  "1.0.0.0",
];

function specifierClause(rng: Rng): string {
  const op = rng.pick(["==", "!=", "<=", ">=", "<", ">", "~=", "===", "=="]);
  const version =
    op === "===" && rng.chance(0.4)
      ? rng.pick(["foobar", "1.0", "1.0+X", "a,b"])
      : rng.pick(SPEC_VERSIONS);
  return `${op}${rng.pick(["", "", " ", "\t"])}${version}`;
}

function specifierText(rng: Rng): string {
  const n = rng.int(4);
  const clauses: string[] = [];
  for (let i = 0; i < n; i++) clauses.push(specifierClause(rng));
  const joined = clauses.join(`${rng.pick(["", " "])},${rng.pick(["", " ", "\t"])}`);
  if (rng.chance(0.25)) return `${ws(rng)}(${ws(rng)}${joined}${ws(rng)})`;
  return `${ws(rng)}${joined}`;
}

const URLS = [
  "http://foo.com",
  "https://example.com/pkg-1.0.tar.gz#sha256=abc",
  "file:///tmp/foo-1.0-py3-none-any.whl",
  "git+https://github.com/pypa/pip.git@22.0#egg=pip",
  "https://x/y;z",
  "./local/path",
  "https://h/p?q=1&r=2",
];

function generateRequirement(rng: Rng): string {
  let text = `${rng.pick(["", "", "", " ", "\t"])}${nameText(rng)}`;
  if (rng.chance(0.35)) {
    const n = rng.int(4);
    const extras: string[] = [];
    for (let i = 0; i < n; i++)
      extras.push(rng.chance(0.2) && extras.length > 0 ? (extras[0] as string) : nameText(rng));
    text += `${ws(rng)}[${ws(rng)}${extras.join(`${ws(rng)},${ws(rng)}`)}${ws(rng)}]`;
  }
  let hasUrl = false;
  if (rng.chance(0.2)) {
    hasUrl = true;
    text += `${ws(rng)}@${ws(rng)}${rng.pick(URLS)}`;
  } else if (rng.chance(0.75)) {
    text += specifierText(rng);
  }
  if (rng.chance(0.45)) {
    const before = hasUrl ? rng.pick([" ", " ", "\t ", ""]) : ws(rng);
    text += `${before};${ws(rng)}${markerExpr(rng, 1)}`;
  }
  text += rng.pick(["", "", "", " ", "\t"]);
  if (rng.chance(0.12)) text = corrupt(rng, text);
  return text;
}

/** Hand-picked corner cases, checked along with the generated ones. */
const FIXED_REQUIREMENTS = [
  "foo>=\u00a01.0",
  "foo>=\n1.0",
  "foo===\u00a0x",
  "foo ( === x )",
  "foo===x)",
  "foo===1.0,foo",
  "foo~=1",
  "foo>=V1.0",
  "foo==1.0+LOCAL",
  "foo==1!1.0.*",
  "FOO[Bar,bar,BAR]>=1,>=1",
  "foo>=1,>=1.0",
  "foo>=1.0\u2003",
  "foo\u2003>=1",
  "foo==1.0\u212a",
  "foo@http://x;os_name=='a'",
  "foo @ http://x; os_name=='a'",
  "foo @ http://x ;os_name=='a'",
  "foo_",
  "foo_\u00e9",
  "a.b-c_d[x_y.z]",
  "name; (os_name=='a' or os_name=='b') and os_name=='c'",
  "foo; os_name == '\\777'",
];

const FIXED_MARKERS = [
  "os_name == '\\777'",
  'python_version == "\u00a03.8"',
  "os_name == '\\x22\\x27'",
  "os_name == 'a\\\r\nb'",
  "os_name == 'a\rb'",
  "os_name == 'a\u0000'",
  "extra == 'A__B' and 'X.Y' == extra",
  "'Foo' in extras or 'Dev' not in dependency_groups",
  "python_full_version >= '3.12.1'",
  "python_version in '3.10 3.11'",
  "os_name\u00e9 == 'a'",
  "\u00e9os_name == 'a'",
  "os_name == 'a'\u00e9and os_name == 'b'",
];

// --- environments ------------------------------------------------------------------------

type Env = Record<string, string | string[]>;

const BASE_LINUX: Env = {
  implementation_name: "cpython",
  implementation_version: "3.11.7",
  os_name: "posix",
  platform_machine: "x86_64",
  platform_release: "5.15.0-91-generic",
  platform_system: "Linux",
  platform_version: "#101-Ubuntu SMP Tue Nov 14 13:30:08 UTC 2023",
  python_full_version: "3.11.7",
  platform_python_implementation: "CPython",
  python_version: "3.11",
  sys_platform: "linux",
};

const ENVS: Env[] = [
  { ...BASE_LINUX, extra: "" },
  {
    implementation_name: "cpython",
    implementation_version: "3.8.10",
    os_name: "nt",
    platform_machine: "AMD64",
    platform_release: "10",
    platform_system: "Windows",
    platform_version: "10.0.19045",
    python_full_version: "3.8.10",
    platform_python_implementation: "CPython",
    python_version: "3.8",
    sys_platform: "win32",
    extra: "Foo.Bar",
  },
  {
    implementation_name: "pypy",
    implementation_version: "7.3.13",
    os_name: "posix",
    platform_machine: "arm64",
    platform_release: "23.1.0",
    platform_system: "Darwin",
    platform_version: "Darwin Kernel Version 23.1.0",
    python_full_version: "3.10.13",
    platform_python_implementation: "PyPy",
    python_version: "3.10",
    sys_platform: "darwin",
    extra: "test",
  },
  {
    ...BASE_LINUX,
    implementation_version: "3.13.0rc1",
    python_full_version: "3.13.0rc1",
    python_version: "3.13",
    extra: "foo_bar",
    extras: ["Foo", "bar_baz"],
    dependency_groups: ["dev", "Test.Group"],
  },
  {
    // No extra at all: packaging treats it as "".
    ...BASE_LINUX,
    implementation_version: "3.12.1+",
    python_full_version: "3.12.1+",
    python_version: "3.12",
    platform_release: "NT",
  },
  {
    ...BASE_LINUX,
    implementation_version: "3.9.0b2",
    python_full_version: "3.9.0b2",
    python_version: "3.9",
    platform_machine: "",
    platform_release: "",
    os_name: "lin",
    extra: "TEST",
  },
];

function toOurEnv(env: Env): MarkerEvaluationEnvironment {
  return env as MarkerEvaluationEnvironment;
}

// --- packaging side ----------------------------------------------------------------------

const PY_MARKERS = `
import json, sys
from packaging.markers import Marker, InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
data = json.load(sys.stdin)
envs = []
for e in data["envs"]:
    envs.append({k: (frozenset(v) if isinstance(v, list) else v) for k, v in e.items()})
out = []
for text in data["markers"]:
    try:
        m = Marker(text)
    except InvalidMarker as e:
        span = getattr(e.__cause__, "span", None)
        out.append({"valid": False, "at": None if span is None else span[1]})
        continue
    try:
        s = str(m)
    except ValueError:
        s = "<str-error>"
    evals = []
    for env in envs:
        try:
            evals.append(m.evaluate(dict(env)))
        except UndefinedEnvironmentName:
            evals.append("undefined-name")
        except UndefinedComparison:
            evals.append("undefined-comparison")
        except Exception as e:
            evals.append("other:" + type(e).__name__)
    out.append({"valid": True, "str": s, "evals": evals})
json.dump(out, sys.stdout)
`;

const PY_REQUIREMENTS = `
import json, sys
from packaging.requirements import Requirement, InvalidRequirement
out = []
for text in json.load(sys.stdin):
    try:
        r = Requirement(text)
    except InvalidRequirement as e:
        span = getattr(e.__cause__, "span", None)
        out.append({"valid": False, "at": None if span is None else span[1]})
        continue
    def safe(f):
        try:
            return f()
        except ValueError:
            return "<str-error>"
    out.append({
        "valid": True,
        "name": r.name,
        "extras": sorted(r.extras),
        "specifier": str(r.specifier),
        "url": r.url,
        "marker": None if r.marker is None else safe(lambda: str(r.marker)),
        "str": safe(lambda: str(r)),
    })
json.dump(out, sys.stdout)
`;

interface Failure {
  valid: false;
  at: number | null;
}

function errorAt(err: unknown): number | null {
  if (!isSlimenvError(err)) throw err;
  const m = /^Invalid \w+ at column (\d+):/.exec(err.message);
  return m === null ? null : Number(m[1]) - 1;
}

function safeString(fn: () => string): string {
  try {
    return fn();
  } catch (err) {
    if (isSlimenvError(err, "INVALID_MARKER")) return "<str-error>";
    throw err;
  }
}

function ours<T>(parse: () => T, describe: (value: T) => object): object {
  let value: T;
  try {
    value = parse();
  } catch (err) {
    return { valid: false, at: errorAt(err) } satisfies Failure;
  }
  return { valid: true, ...describe(value) };
}

function evaluateOurs(marker: Marker, env: Env): boolean | string {
  try {
    return marker.evaluate(toOurEnv(env));
  } catch (err) {
    if (!isSlimenvError(err, "MARKER_EVALUATION")) throw err;
    return err.message.includes("is not defined") ? "undefined-name" : "undefined-comparison";
  }
}

/** packaging gives no column for some errors (a bad specifier inside an === token). */
function comparable(theirs: object, mine: object): [object, object] {
  const t = theirs as { valid: boolean; at?: number | null };
  if (!t.valid && t.at === null) return [theirs, { ...mine, at: null }];
  return [theirs, mine];
}

function mismatches(inputs: string[], theirs: object[], mine: object[]): string[] {
  const bad: string[] = [];
  inputs.forEach((input, i) => {
    const [t, m] = comparable(theirs[i] as object, mine[i] as object);
    if (JSON.stringify(t) !== JSON.stringify(m)) {
      bad.push(
        `${JSON.stringify(input)}\n  packaging: ${JSON.stringify(t)}\n  slimenv:   ${JSON.stringify(m)}`,
      );
    }
  });
  return bad;
}

function report(bad: string[], total: number): string {
  return `${bad.length} of ${total} differ from packaging; first ones:\n${bad.slice(0, 6).join("\n")}`;
}

// --- tests -------------------------------------------------------------------------------

describe("PEP 508 against pypa/packaging", () => {
  let pp: PackagingPython;
  beforeAll(() => {
    pp = defaultPackagingPython();
  });

  it("agrees on >= 3000 generated markers: validity, column, str() and evaluation in 6 environments", () => {
    const rng = new Rng(0x508);
    const markers = [...FIXED_MARKERS, ...Array.from({ length: 3500 }, () => generateMarker(rng))];
    const theirs = runPythonJson<object[]>(pp, PY_MARKERS, { markers, envs: ENVS });
    const mine = markers.map((text) =>
      ours(
        () => new Marker(text),
        (m) => ({
          str: safeString(() => m.toString()),
          evals: ENVS.map((env) => evaluateOurs(m, env)),
        }),
      ),
    );
    const valid = theirs.filter((t) => (t as { valid: boolean }).valid).length;
    // The generator must exercise both sides.
    expect(valid).toBeGreaterThan(1500);
    expect(markers.length - valid).toBeGreaterThan(200);
    // Against 26.3: `=== ""` is false there and refused here (as by 26.4); see packaging-26-4.ts.
    let onPurpose = 0;
    if (oracleBefore264(pp.packagingVersion)) {
      markers.forEach((text, i) => {
        const t = theirs[i] as { evals?: unknown[] };
        const m = mine[i] as { evals?: unknown[] };
        ENVS.forEach((env, j) => {
          if (markerEvaluationDiffersFrom263(text, env, t.evals?.[j], m.evals?.[j])) {
            (m.evals as unknown[])[j] = t.evals?.[j];
            onPurpose++;
          }
        });
      });
    }
    expect(onPurpose).toBeLessThan(markers.length / 50);
    const bad = mismatches(markers, theirs, mine);
    expect(bad.length, report(bad, markers.length)).toBe(0);
  });

  it("agrees on >= 3000 generated requirements: validity, column, name, extras, specifier, url, marker, str()", () => {
    const rng = new Rng(0x685);
    const reqs = [
      ...FIXED_REQUIREMENTS,
      ...Array.from({ length: 3500 }, () => generateRequirement(rng)),
    ];
    const theirs = runPythonJson<object[]>(pp, PY_REQUIREMENTS, reqs);
    const mine = reqs.map((text) =>
      ours(
        () => new Requirement(text),
        (r) => ({
          name: r.name,
          extras: r.extras,
          specifier: r.specifier.toString(),
          url: r.url ?? null,
          marker: r.marker === undefined ? null : safeString(() => (r.marker as Marker).toString()),
          str: safeString(() => r.toString()),
        }),
      ),
    );
    const valid = theirs.filter((t) => (t as { valid: boolean }).valid).length;
    expect(valid).toBeGreaterThan(1500);
    expect(reqs.length - valid).toBeGreaterThan(200);
    // Against 26.3: empty `===` and `===X, >=Y` are answered as by 26.4 (packaging-26-4.ts).
    const skip = oracleBefore264(pp.packagingVersion) ? reqs.map(specifierDiffersFrom263) : [];
    const keep = (_: unknown, i: number) => skip[i] !== true;
    if (!oracleBefore264(pp.packagingVersion)) {
      reqs.forEach((text, i) => {
        const t = theirs[i] as { valid: boolean; at?: number | null };
        const m = mine[i] as { valid: boolean; at?: number | null };
        if (!t.valid && !m.valid && epochWithoutRelease(text)) m.at = t.at ?? null;
      });
    }
    expect(skip.filter(Boolean).length).toBeLessThan(reqs.length / 20);
    const bad = mismatches(reqs.filter(keep), theirs.filter(keep), mine.filter(keep));
    expect(bad.length, report(bad, reqs.length)).toBe(0);
  });
});
