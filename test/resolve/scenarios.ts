/**
 * Resolver scenarios from situations users hit, each with its exact expected outcome: the
 * resolved set ("a==1.0 b==2.0") or "NO_SOLUTION:" and the exact explanation.
 */
import { environment, type Registry, type SolveOptions } from "./registry.ts";

export interface Scenario {
  name: string;
  registry: Registry;
  requirements: string[];
  options?: SolveOptions;
  expected: string;
}

const TAGS_REASON = "no wheel for the target: available tags are cp312-cp312-win_amd64";

export const scenarios: Scenario[] = [
  // ---- basics -------------------------------------------------------------------------
  {
    name: "empty requirements",
    registry: { a: { "1.0": [] } },
    requirements: [],
    expected: "",
  },
  {
    name: "simple chain takes the newest of each",
    registry: {
      a: { "1.0": ["b>=1"], "2.0": ["b>=2"] },
      b: { "1.0": ["c"], "2.0": ["c<2"], "3.0": ["c"] },
      c: { "1.0": [], "1.5": [], "2.0": [] },
    },
    requirements: ["a"],
    expected: "a==2.0 b==3.0 c==2.0",
  },
  {
    name: "diamond agrees on a shared version",
    registry: {
      app: { "1.0": ["left", "right"] },
      left: { "1.0": ["shared>=1.2"] },
      right: { "1.0": ["shared<2"] },
      shared: { "1.0": [], "1.2": [], "1.9": [], "2.0": [] },
    },
    requirements: ["app"],
    expected: "app==1.0 left==1.0 right==1.0 shared==1.9",
  },
  {
    name: "diamond conflict needs backtracking to an older left",
    registry: {
      app: { "1.0": ["left", "right"] },
      left: { "1.0": ["shared<2"], "2.0": ["shared>=2"] },
      right: { "1.0": ["shared<2"] },
      shared: { "1.0": [], "2.0": [] },
    },
    requirements: ["app"],
    expected: "app==1.0 left==1.0 right==1.0 shared==1.0",
  },
  {
    name: "diamond conflict with no way out",
    registry: {
      left: { "1.0": ["shared>=2"] },
      right: { "1.0": ["shared<2"] },
      shared: { "1.0": [], "2.0": [] },
    },
    requirements: ["left", "right"],
    expected: [
      "NO_SOLUTION:",
      "Because every version of left depends on shared>=2 and every version of right depends on shared<2, every version of left is incompatible with every version of right.",
      "So, because you require both left and right, no solution exists.",
    ].join("\n"),
  },
  {
    name: "deep backtracking through three levels",
    registry: {
      a: { "1.0": ["b"], "2.0": ["b>=2"] },
      b: { "1.0": ["c"], "2.0": ["c>=2"] },
      c: { "1.0": ["d"], "2.0": ["d>=2"] },
      d: { "1.0": [], "2.0": ["e"] },
      e: {},
    },
    requirements: ["a"],
    expected: "a==1.0 b==1.0 c==1.0 d==1.0",
  },
  {
    name: "cycle resolves",
    registry: { a: { "1.0": ["b"] }, b: { "1.0": ["a"] } },
    requirements: ["a"],
    expected: "a==1.0 b==1.0",
  },
  {
    name: "cycle with a version constraint back",
    registry: { a: { "1.0": ["b"], "2.0": ["b"] }, b: { "1.0": ["a<2"], "2.0": ["a>=3"] } },
    requirements: ["a"],
    expected: "a==1.0 b==1.0",
  },
  {
    name: "self-dependency is ignored",
    registry: { a: { "1.0": ["a>=5", "b"] }, b: { "1.0": [] } },
    requirements: ["a"],
    expected: "a==1.0 b==1.0",
  },
  {
    name: "unknown package",
    registry: {},
    requirements: ["nope>=1"],
    expected: [
      "NO_SOLUTION:",
      "Because there is no version of nope and you require nope>=1, no solution exists.",
    ].join("\n"),
  },
  {
    name: "unknown transitive package",
    registry: { a: { "1.0": ["ghost"] } },
    requirements: ["a"],
    expected: [
      "NO_SOLUTION:",
      "Because every version of a depends on ghost and there is no version of ghost, every version of a is forbidden.",
      "So, because you require a, no solution exists.",
    ].join("\n"),
  },
  {
    name: "requirement matching no listed version",
    registry: { a: { "1.0": [], "2.0": [] } },
    requirements: ["a>=3"],
    expected: [
      "NO_SOLUTION:",
      "Because no version of a matches >=3 and you require a>=3, no solution exists.",
    ].join("\n"),
  },
  {
    name: "names are compared canonically",
    registry: { "Foo.Bar": { "1.0": ["Zope_Interface"] }, "zope-interface": { "5.0": [] } },
    requirements: ["foo_bar"],
    expected: "foo-bar==1.0 zope-interface==5.0",
  },
  // ---- classic PubGrub examples (Pub's solver documentation) -------------------------
  {
    name: "pubgrub: no conflict",
    registry: {
      foo: { "1.0.0": ["bar>=1,<2"] },
      bar: { "1.0.0": [], "2.0.0": [] },
    },
    requirements: ["foo>=1,<2"],
    expected: "bar==1.0.0 foo==1.0.0",
  },
  {
    name: "pubgrub: avoiding conflict during decision making",
    registry: {
      foo: { "1.0.0": [], "1.1.0": ["bar>=2,<3"] },
      bar: { "1.0.0": [], "1.1.0": [], "2.0.0": [] },
    },
    requirements: ["foo>=1,<2", "bar>=1,<2"],
    expected: "bar==1.1.0 foo==1.0.0",
  },
  {
    name: "pubgrub: performing conflict resolution",
    registry: {
      foo: { "1.0.0": [], "2.0.0": ["bar>=1,<2"] },
      bar: { "1.0.0": ["foo>=1,<2"] },
    },
    requirements: ["foo>=1"],
    expected: "foo==1.0.0",
  },
  {
    name: "pubgrub: conflict resolution with a partial satisfier",
    registry: {
      foo: { "1.0.0": [], "1.1.0": ["left>=1,<2", "right>=1,<2"] },
      left: { "1.0.0": ["shared>=1"] },
      right: { "1.0.0": ["shared<2"] },
      shared: { "1.0.0": ["target>=1,<2"], "2.0.0": [] },
      target: { "1.0.0": [], "2.0.0": [] },
    },
    requirements: ["foo>=1,<2", "target>=2,<3"],
    expected: "foo==1.0.0 target==2.0.0",
  },
  {
    name: "pubgrub: linear error reporting",
    registry: {
      foo: { "1.0.0": ["bar>=2,<3"] },
      bar: { "2.0.0": ["baz>=3,<4"] },
      baz: { "1.0.0": [], "3.0.0": [] },
    },
    requirements: ["foo>=1,<2", "baz>=1,<2"],
    expected: [
      "NO_SOLUTION:",
      "Because every version of foo depends on bar>=2, <3 which depends on baz>=3, <4, every version of foo requires baz>=3, <4.",
      "So, because you require both foo>=1, <2 and baz>=1, <2, no solution exists.",
    ].join("\n"),
  },
  {
    name: "pubgrub: branching error reporting",
    registry: {
      foo: { "1.0.0": ["a>=1,<2", "b>=1,<2"], "1.1.0": ["x>=1,<2", "y>=1,<2"] },
      a: { "1.0.0": ["b>=2,<3"] },
      b: { "1.0.0": [], "2.0.0": [] },
      x: { "1.0.0": ["y>=2,<3"] },
      y: { "1.0.0": [], "2.0.0": [] },
    },
    requirements: ["foo>=1,<2"],
    expected: [
      "NO_SOLUTION:",
      "    Because foo==1.0.0 depends on a>=1, <2 which depends on b>=2, <3, foo==1.0.0 requires b>=2, <3.",
      "(1) So, because foo==1.0.0 depends on b>=1, <2, foo==1.0.0 is forbidden.",
      "",
      "    Because foo==1.1.0 depends on x>=1, <2 which depends on y>=2, <3, foo==1.1.0 requires y>=2, <3.",
      "    And because foo==1.1.0 depends on y>=1, <2, foo==1.1.0 is forbidden.",
      "    And because foo==1.0.0 is forbidden (1), every version of foo is forbidden.",
      "    So, because you require foo>=1, <2, no solution exists.",
    ].join("\n"),
  },
  // ---- markers ------------------------------------------------------------------------
  {
    name: "marker false for the target drops the dependency",
    registry: {
      a: { "1.0": ["pywin32; sys_platform == 'win32'", "uvloop; sys_platform == 'linux'"] },
      uvloop: { "0.19": [] },
    },
    requirements: ["a"],
    expected: "a==1.0 uvloop==0.19",
  },
  {
    name: "python_version marker picks the backport only on old Pythons",
    registry: {
      a: { "1.0": ["tomli>=1; python_version < '3.11'"] },
      tomli: { "2.0": [] },
    },
    requirements: ["a"],
    options: { python: "3.10.12" },
    expected: "a==1.0 tomli==2.0",
  },
  {
    name: "python_version marker false on a new Python",
    registry: {
      a: { "1.0": ["tomli>=1; python_version < '3.11'"] },
      tomli: { "2.0": [] },
    },
    requirements: ["a"],
    expected: "a==1.0",
  },
  {
    name: "platform_machine marker on aarch64",
    registry: {
      a: {
        "1.0": [
          "simd-x86; platform_machine == 'x86_64'",
          "simd-arm; platform_machine == 'aarch64'",
        ],
      },
      "simd-x86": { "1.0": [] },
      "simd-arm": { "1.0": [] },
    },
    requirements: ["a"],
    options: { environment: environment("3.11.9", { platform_machine: "aarch64" }) },
    expected: "a==1.0 simd-arm==1.0",
  },
  {
    name: "top-level requirement with a false marker is skipped",
    registry: { a: { "1.0": [] } },
    requirements: ["a", "colorama; os_name == 'nt'"],
    expected: "a==1.0",
  },
  // ---- extras -------------------------------------------------------------------------
  {
    name: "extra adds its requirements",
    registry: {
      requests: { "2.31.0": ["idna", "pysocks>=1.5; extra == 'socks'"] },
      idna: { "3.6": [] },
      pysocks: { "1.7.1": [] },
    },
    requirements: ["requests[socks]"],
    expected: "idna==3.6 pysocks==1.7.1 requests[socks]==2.31.0",
  },
  {
    name: "extra not asked adds nothing",
    registry: {
      requests: { "2.31.0": ["idna", "pysocks>=1.5; extra == 'socks'"] },
      idna: { "3.6": [] },
      pysocks: { "1.7.1": [] },
    },
    requirements: ["requests"],
    expected: "idna==3.6 requests==2.31.0",
  },
  {
    name: "extra behind a marker false for the target",
    registry: {
      a: {
        "1.0": [
          "winlib; extra == 'full' and sys_platform == 'win32'",
          "extra-lib; extra == 'full'",
        ],
      },
      winlib: { "1.0": [] },
      "extra-lib": { "1.0": [] },
    },
    requirements: ["a[full]"],
    expected: "a[full]==1.0 extra-lib==1.0",
  },
  {
    name: "extra pulled in transitively, and an extra naming other extras",
    registry: {
      app: { "1.0": ["lib[all]>=1"] },
      lib: {
        "1.0": [
          "lib[x]; extra == 'all'",
          "lib[y]; extra == 'all'",
          "xdep; extra == 'x'",
          "ydep; extra == 'y'",
        ],
      },
      xdep: { "1.0": [] },
      ydep: { "2.0": [] },
    },
    requirements: ["app"],
    expected: "app==1.0 lib[all,x,y]==1.0 xdep==1.0 ydep==2.0",
  },
  {
    name: "extra and base agree on one version",
    registry: {
      a: { "1.0": ["b[fast]<2"] },
      b: { "1.0": ["speedups; extra == 'fast'"], "2.0": ["speedups; extra == 'fast'"] },
      speedups: { "1.0": [] },
    },
    requirements: ["a", "b"],
    expected: "a==1.0 b[fast]==1.0 speedups==1.0",
  },
  {
    name: "extra requirement conflicts and forces an older version",
    registry: {
      b: { "1.0": ["c<2; extra == 'x'"], "2.0": ["c>=3; extra == 'x'"] },
      c: { "1.0": [], "2.0": [] },
    },
    requirements: ["b[x]"],
    expected: "b[x]==1.0 c==1.0",
  },
  // ---- requires-python ----------------------------------------------------------------
  {
    name: "requires-python excludes the newest versions",
    registry: {
      numpy: {
        "1.26.4": { requiresPython: ">=3.9" },
        "2.0.0": { requiresPython: ">=3.9" },
        "2.3.0": { requiresPython: ">=3.11" },
        "2.3.1": { requiresPython: ">=3.11" },
      },
    },
    requirements: ["numpy"],
    options: { python: "3.10.14" },
    expected: "numpy==2.0.0",
  },
  {
    name: "requires-python making it impossible",
    registry: {
      a: { "1.0": ["b>=2"], "2.0": ["b>=2"] },
      b: { "1.0": [], "2.0": { requiresPython: ">=3.12" }, "3.0": { requiresPython: ">=3.12" } },
    },
    requirements: ["a>=2"],
    options: { python: "3.11.4" },
    expected: [
      "NO_SOLUTION:",
      "Because a==2.0 depends on b>=2 which requires Python >=3.12, a==2.0 is forbidden.",
      "So, because you require a>=2, no solution exists.",
    ].join("\n"),
  },
  {
    name: "requires-python found only in the metadata",
    registry: {
      a: { "1.0": [], "2.0": { metadataRequiresPython: ">=3.13" } },
    },
    requirements: ["a"],
    expected: "a==1.0",
  },
  // ---- yanked -------------------------------------------------------------------------
  {
    name: "yanked version skipped",
    registry: { a: { "1.0": [], "1.1": { yanked: true } } },
    requirements: ["a"],
    expected: "a==1.0",
  },
  {
    name: "yanked version taken by an exact pin",
    registry: { a: { "1.0": [], "1.1": { yanked: true } } },
    requirements: ["a==1.1"],
    expected: "a==1.1",
  },
  {
    name: "only yanked versions match",
    registry: { a: { "1.0": [], "1.1": { yanked: true } } },
    requirements: ["a>1.0"],
    expected: [
      "NO_SOLUTION:",
      "Because a==1.1 is yanked (a yanked version is used only when pinned with ==) and you require a>1.0, no solution exists.",
    ].join("\n"),
  },
  // ---- pre-releases -------------------------------------------------------------------
  {
    name: "pre-releases excluded by default",
    registry: { a: { "1.0": [], "2.0b1": [] } },
    requirements: ["a"],
    expected: "a==1.0",
  },
  {
    name: "pre-release used when asked for explicitly",
    registry: { a: { "1.0": [], "2.0b1": [], "2.0rc1": [] } },
    requirements: ["a>=2.0b1"],
    expected: "a==2.0rc1",
  },
  {
    name: "pre-release used when nothing else satisfies",
    registry: { a: { "1.0": [], "2.1rc1": [] } },
    requirements: ["a>=2"],
    expected: "a==2.1rc1",
  },
  {
    name: "package with only pre-releases",
    registry: { app: { "1.0": ["tool"] }, tool: { "0.1a1": [], "0.1a2": [] } },
    requirements: ["app"],
    expected: "app==1.0 tool==0.1a2",
  },
  {
    name: "pre-release needed by a transitive requirement is not taken",
    registry: { app: { "1.0": ["lib>=2"] }, lib: { "1.0": [], "2.1b1": [] } },
    requirements: ["app"],
    expected: [
      "NO_SOLUTION:",
      "Because every version of app depends on lib>=2 and lib==2.1b1 is a pre-release (pre-releases of lib were not asked for), every version of app is forbidden.",
      "So, because you require app, no solution exists.",
    ].join("\n"),
  },
  {
    name: "prereleases=allow takes the newest pre-release",
    registry: { a: { "1.0": [], "2.0b1": [] } },
    requirements: ["a"],
    options: { prereleases: "allow" },
    expected: "a==2.0b1",
  },
  {
    name: "prereleases=disallow refuses even an explicit one",
    registry: { a: { "1.0": [], "2.0b1": [] } },
    requirements: ["a>=2.0b1"],
    options: { prereleases: "disallow" },
    expected: [
      "NO_SOLUTION:",
      "Because a==2.0b1 is a pre-release (pre-releases are disallowed) and you require a>=2.0b1, no solution exists.",
    ].join("\n"),
  },
  // ---- local versions -----------------------------------------------------------------
  {
    name: "local version satisfies ==public and is the highest",
    registry: { torch: { "2.1.0": [], "2.1.0+cpu": [], "2.0.0": [] } },
    requirements: ["torch==2.1.0"],
    expected: "torch==2.1.0+cpu",
  },
  {
    name: "exact local pin",
    registry: { torch: { "2.1.0": [], "2.1.0+cpu": [], "2.1.0+cu121": [] } },
    requirements: ["torch==2.1.0+cpu"],
    expected: "torch==2.1.0+cpu",
  },
  {
    name: "> excludes local versions of the same release",
    registry: { torch: { "2.1.0": [], "2.1.0+cpu": [] } },
    requirements: ["torch>2.1.0"],
    expected: [
      "NO_SOLUTION:",
      "Because no version of torch matches >2.1.0 and you require torch>2.1.0, no solution exists.",
    ].join("\n"),
  },
  // ---- direct URLs --------------------------------------------------------------------
  {
    name: "direct URL requirement pins the package",
    registry: { a: { "1.0": ["b>=1"] }, b: { "9.0": [] }, c: { "1.0": [] } },
    requirements: ["a", "b @ https://example.org/b-1.5-py3-none-any.whl"],
    options: {
      urls: {
        "https://example.org/b-1.5-py3-none-any.whl": { name: "b", version: "1.5", deps: ["c"] },
      },
    },
    expected: "a==1.0 b @ https://example.org/b-1.5-py3-none-any.whl c==1.0",
  },
  {
    name: "direct URL version conflicts with a dependency",
    registry: { a: { "1.0": ["b>=2"] }, b: { "9.0": [] } },
    requirements: ["a", "b @ https://example.org/b-1.5-py3-none-any.whl"],
    options: {
      urls: { "https://example.org/b-1.5-py3-none-any.whl": { name: "b", version: "1.5" } },
    },
    expected: [
      "NO_SOLUTION:",
      "Because you require a which depends on b>=2, b>=2 is required.",
      "So, because you require b @ https://example.org/b-1.5-py3-none-any.whl, no solution exists.",
    ].join("\n"),
  },
  {
    name: "transitive URL requirement not given at the top level",
    registry: { a: { "1.0": ["b @ https://example.org/b.whl"] }, b: { "1.0": [] } },
    requirements: ["a"],
    expected: [
      "NO_SOLUTION:",
      "Because every version of a depends on b @ https://example.org/b.whl and b @ https://example.org/b.whl is not available (a URL must be given by a top-level requirement or constraint), every version of a is forbidden.",
      "So, because you require a, no solution exists.",
    ].join("\n"),
  },
  // ---- constraints --------------------------------------------------------------------
  {
    name: "constraint restricts a transitive version",
    registry: { a: { "1.0": ["b"] }, b: { "1.0": [], "2.0": [], "3.0": [] } },
    requirements: ["a"],
    options: { constraints: ["b<3"] },
    expected: "a==1.0 b==2.0",
  },
  {
    name: "constraint on an absent package adds nothing",
    registry: { a: { "1.0": [] }, django: { "5.0": [] } },
    requirements: ["a"],
    options: { constraints: ["django<4"] },
    expected: "a==1.0",
  },
  {
    name: "constraint that cannot be met",
    registry: { a: { "1.0": ["b>=2"] }, b: { "1.0": [], "2.0": [] } },
    requirements: ["a"],
    options: { constraints: ["b<2"] },
    expected: [
      "NO_SOLUTION:",
      "Because every version of a depends on b>=2 and b==2.0 is forbidden by the constraint b<2, every version of a is forbidden.",
      "So, because you require a, no solution exists.",
    ].join("\n"),
  },
  // ---- platform-only packages ---------------------------------------------------------
  {
    name: "platform-only newest version falls back to an older installable one",
    registry: {
      a: { "1.0": [], "2.0": { installable: false, reason: TAGS_REASON } },
    },
    requirements: ["a"],
    expected: "a==1.0",
  },
  {
    name: "platform-only package shows the available tags",
    registry: {
      app: { "1.0": ["winonly"] },
      winonly: {
        "1.0": { installable: false, reason: TAGS_REASON },
        "1.1": { installable: false, reason: TAGS_REASON },
      },
    },
    requirements: ["app"],
    expected: [
      "NO_SOLUTION:",
      "Because every version of app depends on winonly and every version of winonly is unavailable (no wheel for the target: available tags are cp312-cp312-win_amd64), every version of app is forbidden.",
      "So, because you require app, no solution exists.",
    ].join("\n"),
  },
  // ---- preferences and upgrades -------------------------------------------------------
  {
    name: "locked version kept",
    registry: { a: { "1.0": ["b"], "2.0": ["b"] }, b: { "1.0": [], "2.0": [] } },
    requirements: ["a"],
    options: { preferences: { a: "1.0", b: "1.0" } },
    expected: "a==1.0 b==1.0",
  },
  {
    name: "locked version given up when the requirements moved",
    registry: { a: { "1.0": ["b"], "2.0": ["b>=2"] }, b: { "1.0": [], "2.0": [], "3.0": [] } },
    requirements: ["a>=2"],
    options: { preferences: { a: "1.0", b: "1.0" } },
    expected: "a==2.0 b==3.0",
  },
  {
    name: "upgrade ignores the lock",
    registry: { a: { "1.0": ["b"], "2.0": ["b"] }, b: { "1.0": [], "2.0": [] } },
    requirements: ["a"],
    options: { preferences: { a: "1.0", b: "1.0" }, upgrade: true },
    expected: "a==2.0 b==2.0",
  },
  {
    name: "upgrade-package moves only that package",
    registry: { a: { "1.0": ["b"], "2.0": ["b"] }, b: { "1.0": [], "2.0": [] } },
    requirements: ["a"],
    options: { preferences: { a: "1.0", B: "1.0" }, upgrade: new Set(["B"]) },
    expected: "a==1.0 b==2.0",
  },
  // ---- strategies ---------------------------------------------------------------------
  {
    name: "strategy lowest",
    registry: { a: { "1.0": ["b>=1.5"], "2.0": ["b"] }, b: { "1.0": [], "1.5": [], "2.0": [] } },
    requirements: ["a"],
    options: { strategy: "lowest" },
    expected: "a==1.0 b==1.5",
  },
  {
    name: "strategy lowest-direct",
    registry: { a: { "1.0": ["b>=1.5"], "2.0": ["b"] }, b: { "1.0": [], "1.5": [], "2.0": [] } },
    requirements: ["a"],
    options: { strategy: "lowest-direct" },
    expected: "a==1.0 b==2.0",
  },
];
