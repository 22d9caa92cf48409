/**
 * sizeReport on generated trees, against `du` (apparent and on disk, to the byte) and against
 * expectations computed here from lstat: hardlinks counted once, symlinks by their own size,
 * ELF files built by gcc with and without -g (debug bytes = readelf's .debug_* sizes), every
 * kind, ownership from RECORD (with ../../../bin entries) and egg-info, and the savings.
 */
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  linkSync,
  lstatSync,
  mkdirSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { RecordingReporter } from "../../src/base/index.ts";
import { blocksFor } from "../../src/report/savings.ts";
import { sizeReport } from "../../src/report/size.ts";
import { SIZE_KINDS, type SizeFigures, type SizeReport } from "../../src/report/types.ts";
import { thrown } from "../helpers/errors.ts";
import { describeWith, GCC } from "../helpers/prereq.ts";
import {
  buildNativeSamples,
  du,
  type NativeSamples,
  readelfDebugBytes,
  tempDir,
  writeTree,
} from "./fixtures.ts";

const SITE = "lib/python3.11/site-packages";

function sum(figs: SizeFigures[]): SizeFigures {
  return figs.reduce(
    (a, f) => ({
      apparent: a.apparent + f.apparent,
      onDisk: a.onDisk + f.onDisk,
      files: a.files + f.files,
    }),
    {
      apparent: 0,
      onDisk: 0,
      files: 0,
    },
  );
}

/** The invariants every report keeps: totals equal du; owners and kinds add up exactly. */
function expectConsistent(report: SizeReport, root: string): void {
  const d = du(root);
  expect({ apparent: report.total.apparent, onDisk: report.total.onDisk }).toEqual(d);
  expect(sum([...report.distributions.map((x) => x.total), report.unowned.total])).toEqual(
    report.total,
  );
  expect(sum(SIZE_KINDS.map((k) => report.byKind[k]))).toEqual(report.total);
  for (const holder of [...report.distributions, report.unowned]) {
    expect(sum(SIZE_KINDS.map((k) => holder.byKind[k]))).toEqual(holder.total);
  }
  for (const k of SIZE_KINDS) {
    expect(
      sum([...report.distributions.map((x) => x.byKind[k]), report.unowned.byKind[k]]),
    ).toEqual(report.byKind[k]);
  }
  const onDisk = report.distributions.map((x) => x.total.onDisk);
  expect(onDisk).toEqual([...onDisk].sort((a, b) => b - a));
}

function recordOf(files: string[]): string {
  return `${files.map((f) => `${f.includes(",") ? `"${f}"` : f},sha256=AAAA,1`).join("\n")}\n`;
}

describeWith(GCC)("sizeReport on a generated venv", () => {
  let root: string;
  let samples: NativeSamples;
  let report: SizeReport;
  const st = (rel: string) => lstatSync(path.join(root, rel));
  const apparentOf = (...rels: string[]) => rels.reduce((a, r) => a + st(r).size, 0);
  const onDiskOf = (...rels: string[]) => rels.reduce((a, r) => a + st(r).blocks * 512, 0);

  // Files of the alpha distribution, by the kind each must get.
  const alpha = {
    source: [
      "alpha/__init__.py",
      "alpha/core.py",
      "alpha/core.pyi",
      "alpha/_fast.c",
      "alpha/include/alpha.h",
      "alpha/same.py",
    ],
    bytecode: [
      "alpha/__pycache__/__init__.cpython-311.pyc",
      "alpha/__pycache__/core.cpython-311.pyc",
    ],
    "bytecode-opt1": ["alpha/__pycache__/core.cpython-311.opt-1.pyc"],
    "bytecode-opt2": ["alpha/__pycache__/core.cpython-311.opt-2.pyc"],
    native: [
      "alpha/_native.cpython-311-x86_64-linux-gnu.so",
      "alpha/_plain.cpython-311-x86_64-linux-gnu.so",
      "alpha/libelf-without-suffix",
    ],
    tests: [
      "alpha/tests/__init__.py",
      "alpha/tests/test_core.py",
      "alpha/tests/__pycache__/test_core.cpython-311.pyc",
      "alpha/tests/_helper.so",
    ],
    docs: ["alpha/README.md", "alpha/LICENSE", "alpha/docs/guide.txt"],
    data: ["alpha/data/table.json", "alpha/data/sparse.bin", "alpha/fake.so"],
    metadata: [
      "alpha-1.0.dist-info/METADATA",
      "alpha-1.0.dist-info/WHEEL",
      "alpha-1.0.dist-info/RECORD",
    ],
  };

  beforeAll(() => {
    const base = tempDir("venv");
    samples = buildNativeSamples(path.join(base, "native"));
    root = path.join(base, "venv");
    const S = (rel: string) => `${SITE}/${rel}`;
    writeTree(root, {
      "pyvenv.cfg": "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n",
      "bin/tool": "#!/bin/sh\necho tool\n",
      [S("alpha/__init__.py")]: "from .core import *\n",
      [S("alpha/core.py")]: "def f(x):\n    return x * 2\n".repeat(200),
      [S("alpha/core.pyi")]: "def f(x: int) -> int: ...\n",
      [S("alpha/_fast.c")]: "int f(int x) { return 2 * x; }\n".repeat(300),
      [S("alpha/include/alpha.h")]: "int f(int);\n",
      [S("alpha/same.py")]: "SHARED = 1\n",
      [S("alpha/__pycache__/__init__.cpython-311.pyc")]: "x".repeat(300),
      [S("alpha/__pycache__/core.cpython-311.pyc")]: "x".repeat(5000),
      [S("alpha/__pycache__/core.cpython-311.opt-1.pyc")]: "x".repeat(4900),
      [S("alpha/__pycache__/core.cpython-311.opt-2.pyc")]: "x".repeat(4000),
      [S("alpha/tests/__init__.py")]: "",
      [S("alpha/tests/test_core.py")]: "def test_f():\n    assert True\n",
      [S("alpha/tests/__pycache__/test_core.cpython-311.pyc")]: "x".repeat(700),
      [S("alpha/README.md")]: "# alpha\n".repeat(100),
      [S("alpha/LICENSE")]: "MIT\n",
      [S("alpha/docs/guide.txt")]: "read me\n".repeat(1000),
      [S("alpha/data/table.json")]: JSON.stringify({
        rows: Array.from({ length: 2000 }, (_, i) => i),
      }),
      [S("alpha/fake.so")]: "this is not ELF, whatever the suffix says\n",
      [S("alpha/unlisted.dat")]: "in no RECORD\n",
      [S("alpha-1.0.dist-info/METADATA")]:
        "Metadata-Version: 2.1\nName: Alpha\nVersion: 1.0\n\nlong description\n",
      [S("alpha-1.0.dist-info/WHEEL")]: "Wheel-Version: 1.0\n",
      [S("alpha-1.0.dist-info/INSTALLER")]: "pip\n", // not in RECORD: still alpha's (its dist-info)
      [S("beta/__init__.py")]: "B = 2\n",
      [S("beta-2.0.dist-info/METADATA")]: "Metadata-Version: 2.1\nName: beta\nVersion: 2.0\n",
      [S("old.py")]: "OLD = True\n",
      [S("old-0.1.egg-info/PKG-INFO")]: "Metadata-Version: 1.0\nName: old\nVersion: 0.1\n",
      [S("old-0.1.egg-info/installed-files.txt")]: "../old.py\nPKG-INFO\ninstalled-files.txt\n",
      [S("stray.py")]: "print('nobody owns me')\n",
    });
    const site = path.join(root, SITE);
    copyFileSync(samples.debugSo, path.join(site, alpha.native[0] as string));
    copyFileSync(samples.plainSo, path.join(site, alpha.native[1] as string));
    copyFileSync(samples.plainSo, path.join(site, alpha.native[2] as string));
    copyFileSync(samples.debugSo, path.join(site, "alpha/tests/_helper.so"));
    writeFileSync(path.join(site, "alpha/data/sparse.bin"), "");
    truncateSync(path.join(site, "alpha/data/sparse.bin"), 1 << 20); // 1 MiB apparent, 0 on disk
    // Hardlinks: beta/same.py is alpha/same.py (alpha comes first: counted there once);
    // beta/outside.py's other link lies outside the tree (counted here).
    linkSync(path.join(site, "alpha/same.py"), path.join(site, "beta/same.py"));
    writeFileSync(path.join(base, "outside.py"), "O = 1\n".repeat(50));
    linkSync(path.join(base, "outside.py"), path.join(site, "beta/outside.py"));
    // Symlinks count their own size; the targets are not followed.
    symlinkSync("/usr/bin/python3", path.join(root, "bin/python"));
    symlinkSync("alpha", path.join(site, "alpha-link"));
    symlinkSync("no-such-target", path.join(site, "dangling"));
    const alphaFiles = [...Object.values(alpha).flat(), "alpha-1.0.dist-info/RECORD"];
    writeFileSync(
      path.join(site, "alpha-1.0.dist-info/RECORD"),
      recordOf(
        [...new Set(alphaFiles)]
          .filter((f) => f !== "alpha-1.0.dist-info/RECORD")
          .concat(["../../../bin/tool", "alpha-1.0.dist-info/RECORD"]),
      ),
    );
    writeFileSync(
      path.join(site, "beta-2.0.dist-info/RECORD"),
      recordOf([
        "beta/__init__.py",
        "beta/same.py",
        "beta/outside.py",
        "beta-2.0.dist-info/METADATA",
        "beta-2.0.dist-info/RECORD",
        "alpha/core.py",
      ]),
    );
    report = sizeReport(root);
  });

  it("agrees with du to the byte, and owners and kinds add up to the whole", () => {
    expectConsistent(report, root);
    expect(report.total.apparent).toBeGreaterThan(1 << 20); // the sparse file
  });

  it("says what it measured", () => {
    expect(report).toMatchObject({ version: 1, path: root, layout: "venv", python: "3.11.7" });
  });

  it("finds the distributions by RECORD and egg-info, with names and versions from metadata", () => {
    expect(report.distributions.map((d) => `${d.name} ${d.version}`).sort()).toEqual([
      "Alpha 1.0",
      "beta 2.0",
      "old 0.1",
    ]);
  });

  it("gives each kind its files", () => {
    const a = report.distributions.find((d) => d.name === "Alpha");
    if (a === undefined) throw new Error("no Alpha");
    const S = (r: string) => `${SITE}/${r}`;
    for (const kind of ["source", "bytecode", "bytecode-opt1", "bytecode-opt2"] as const) {
      const files = alpha[kind].map(S);
      // The __pycache__ directory itself is bytecode too (a directory: bytes, not a file).
      const dirs = kind === "bytecode" ? [S("alpha/__pycache__")] : [];
      expect(a.byKind[kind], kind).toEqual({
        apparent: apparentOf(...files, ...dirs),
        onDisk: onDiskOf(...files, ...dirs),
        files: files.length,
      });
    }
    // native-code + native-debug are the three ELF files; the debug part is readelf's .debug_* sum.
    const native = alpha.native.map(S);
    const debug = readelfDebugBytes(samples.debugSo);
    expect(debug).toBeGreaterThan(0);
    expect(a.byKind["native-debug"].apparent).toBe(debug);
    expect(a.byKind["native-code"].apparent).toBe(apparentOf(...native) - debug);
    expect(a.byKind["native-code"].files).toBe(3);
    expect(a.byKind["native-debug"].files).toBe(0);
    expect(a.byKind["native-code"].onDisk + a.byKind["native-debug"].onDisk).toBe(
      onDiskOf(...native),
    );
    const debugSo = S(alpha.native[0] as string);
    expect(a.byKind["native-debug"].onDisk).toBe(
      onDiskOf(debugSo) -
        Math.min(onDiskOf(debugSo), blocksFor(apparentOf(debugSo) - debug, st(debugSo).blksize)),
    );
    // The ELF under tests/ is a test file; the fake .so is data (no ELF magic).
    expect(a.byKind.tests.files).toBe(alpha.tests.length);
    expect(a.byKind.docs.files).toBe(alpha.docs.length);
    // bin/tool is alpha's through the RECORD entry ../../../bin/tool.
    const data = [...alpha.data.map(S), "bin/tool"];
    expect(a.byKind.data).toEqual({
      apparent: apparentOf(...data),
      onDisk: onDiskOf(...data),
      files: 4,
    });
    expect(a.byKind.data.apparent - a.byKind.data.onDisk).toBeGreaterThan((1 << 20) - 40_000);
    // METADATA, WHEEL, RECORD, INSTALLER (in the dist-info though not in RECORD).
    expect(a.byKind.metadata.files).toBe(4);
    // bin/tool via ../../../bin/tool, as data.
    expect(a.total.files).toBe(Object.values(alpha).flat().length + 1 + 1);
  });

  it("counts a hardlinked file once, at the first path the walk reaches", () => {
    const beta = report.distributions.find((d) => d.name === "beta");
    // __init__.py, outside.py, METADATA, RECORD — same.py counted under alpha; alpha/core.py
    // (listed by beta too) stays with the first claimant (alpha sorts first).
    expect(beta?.total.files).toBe(4);
    expect(beta?.byKind.source.apparent).toBe(
      apparentOf(`${SITE}/beta/__init__.py`, `${SITE}/beta/outside.py`),
    );
  });

  it("leaves files in no RECORD unowned, symlinks and directories included", () => {
    const u = report.unowned;
    // pyvenv.cfg, unlisted.dat, stray.py, bin/python, alpha-link, dangling.
    expect(u.total.files).toBe(6);
    expect(u.byKind.other.files).toBe(3);
    expect(u.byKind.other.apparent).toBeGreaterThanOrEqual(
      apparentOf("bin/python", `${SITE}/alpha-link`, `${SITE}/dangling`),
    );
    expect(u.byKind.source.files).toBe(1);
    expect(u.byKind.data.files).toBe(2);
    // alpha/ holds an unlisted file, so the directory itself is unowned; __pycache__ is alpha's.
    const old = report.distributions.find((d) => d.name === "old");
    expect(old?.total.files).toBe(3);
    expect(old?.byKind.metadata.onDisk).toBe(
      onDiskOf(
        `${SITE}/old-0.1.egg-info`,
        `${SITE}/old-0.1.egg-info/PKG-INFO`,
        `${SITE}/old-0.1.egg-info/installed-files.txt`,
      ),
    );
  });

  it("estimates each policy's saving by its formula", () => {
    const saving = (p: string) => report.savings.find((s) => s.policy === p)?.bytes;
    const S = (r: string) => `${SITE}/${r}`;
    expect(report.savings.map((s) => s.policy)).toEqual([
      "strip-debug",
      "drop-tests",
      "drop-docs",
      "drop-bytecode",
      "drop-optimized-bytecode",
      "pyc-only",
      "drop-stubs",
      "drop-c-sources",
    ]);
    expect(saving("strip-debug")).toBe(report.byKind["native-debug"].onDisk);
    expect(saving("drop-tests")).toBe(report.byKind.tests.onDisk);
    expect(saving("drop-tests")).toBe(
      onDiskOf(...["alpha/tests", "alpha/tests/__pycache__", ...alpha.tests].map(S)),
    );
    expect(saving("drop-docs")).toBe(
      onDiskOf(...["alpha/README.md", "alpha/docs", "alpha/docs/guide.txt"].map(S)),
    );
    expect(saving("drop-bytecode")).toBe(
      onDiskOf(
        ...[
          "alpha/__pycache__",
          ...alpha.bytecode,
          ...alpha["bytecode-opt1"],
          ...alpha["bytecode-opt2"],
        ].map(S),
      ) +
        onDiskOf(
          ...["alpha/tests/__pycache__", "alpha/tests/__pycache__/test_core.cpython-311.pyc"].map(
            S,
          ),
        ),
    );
    expect(saving("drop-optimized-bytecode")).toBe(
      onDiskOf(...[...alpha["bytecode-opt1"], ...alpha["bytecode-opt2"]].map(S)),
    );
    expect(saving("drop-stubs")).toBe(onDiskOf(S("alpha/core.pyi")));
    expect(saving("drop-c-sources")).toBe(onDiskOf(S("alpha/_fast.c"), S("alpha/include/alpha.h")));
    for (const s of report.savings) expect(s.description.length).toBeGreaterThan(20);
  });
});

describe("pyc-only estimate", () => {
  it("reuses existing .pyc sizes, estimates the rest by ratio, keeps legacy .pyc", () => {
    const root = tempDir("pyc");
    writeTree(root, {
      "a.py": "A = 1\n".repeat(2000),
      "__pycache__/a.cpython-311.pyc": "p".repeat(9000),
      "__pycache__/a.cpython-311.opt-1.pyc": "p".repeat(8000),
      "b.py": "B = 2\n".repeat(1500),
      "c.py": "C = 3\n",
      "c.pyc": "legacy",
    });
    const r = sizeReport(root);
    expectConsistent(r, root);
    const s = (rel: string) => lstatSync(path.join(root, rel));
    const disk = (rel: string) => s(rel).blocks * 512;
    const ratio = s("__pycache__/a.cpython-311.pyc").size / s("a.py").size;
    const removed =
      disk("a.py") +
      disk("b.py") +
      disk("c.py") +
      disk("__pycache__") +
      disk("__pycache__/a.cpython-311.pyc") +
      disk("__pycache__/a.cpython-311.opt-1.pyc");
    const added =
      disk("__pycache__/a.cpython-311.pyc") +
      blocksFor(Math.ceil(s("b.py").size * ratio), s("b.py").blksize);
    const pycOnly = r.savings.find((x) => x.policy === "pyc-only");
    expect(pycOnly?.bytes).toBe(removed - added);
    expect(pycOnly?.description).toContain(
      "2 modules reuse their existing .pyc size, 1 estimated at 0.750 × source size",
    );
  });

  it("says unknown when there is no .pyc to estimate from", () => {
    const root = tempDir("nopyc");
    writeTree(root, { "a.py": "A = 1\n", "b.py": "B = 1\n" });
    const pycOnly = sizeReport(root).savings.find((x) => x.policy === "pyc-only");
    expect(pycOnly?.bytes).toBe(0);
    expect(pycOnly?.description).toContain("2 unknown");
  });
});

describe("ownership edge cases", () => {
  it("the first (shallowest) RECORD keeps a file two list; fixtures under tests/ are not distributions", () => {
    const root = tempDir("own");
    writeTree(root, {
      "x/__init__.py": "X = 1\n",
      "x-1.0.dist-info/METADATA": "Name: x\nVersion: 1.0\n",
      "x-1.0.dist-info/RECORD": recordOf(["x/__init__.py", "x/tests/fix-1.0.dist-info/RECORD"]),
      "y-1.0.dist-info/METADATA": "Name: y\nVersion: 1.0\n",
      "y-1.0.dist-info/RECORD": recordOf(["x/__init__.py", "y-1.0.dist-info/RECORD"]),
      "x/tests/fix-1.0.dist-info/RECORD": recordOf(["../__init__.py"]),
    });
    const r = sizeReport(root);
    expectConsistent(r, root);
    expect(r.distributions.map((d) => d.name).sort()).toEqual(["x", "y"]);
    const x = r.distributions.find((d) => d.name === "x");
    expect(x?.byKind.source.files).toBe(1);
    expect(x?.byKind.tests.files).toBe(1);
    expect(r.layout).toBe("site-packages");
  });

  it("a dist-info another distribution's RECORD lists is vendored, not a distribution", () => {
    const root = tempDir("vendored");
    writeTree(root, {
      "tool/__init__.py": "T = 1\n",
      "tool/_vendor/lib/__init__.py": "L = 1\n",
      "tool/_vendor/lib-2.0.dist-info/METADATA": "Name: lib\nVersion: 2.0\n",
      "tool/_vendor/lib-2.0.dist-info/RECORD": recordOf(["lib/__init__.py"]),
      "tool-1.0.dist-info/METADATA": "Name: tool\nVersion: 1.0\n",
      "tool-1.0.dist-info/RECORD": recordOf([
        "tool/__init__.py",
        "tool/_vendor/lib/__init__.py",
        "tool/_vendor/lib-2.0.dist-info/METADATA",
        "tool/_vendor/lib-2.0.dist-info/RECORD",
        "tool-1.0.dist-info/RECORD",
      ]),
      // Not listed by any RECORD: a distribution of its own, however deep.
      "deep/other-3.0.dist-info/METADATA": "Name: other\nVersion: 3.0\n",
      "deep/other-3.0.dist-info/RECORD": recordOf(["../deep/o.py"]),
      "deep/o.py": "O = 1\n",
    });
    const r = sizeReport(root);
    expectConsistent(r, root);
    expect(r.distributions.map((d) => d.name).sort()).toEqual(["other", "tool"]);
    expect(r.distributions.find((d) => d.name === "tool")?.total.files).toBe(6);
  });

  it("reads a damaged RECORD leniently, with a warning", () => {
    const root = tempDir("badrecord");
    writeTree(root, {
      "z/__init__.py": "Z = 1\n",
      "z-1.0.dist-info/METADATA": "Name: z\nVersion: 1.0\n",
      "z-1.0.dist-info/RECORD": 'z/__init__.py,sha256=AAAA\n"z-1.0.dist-info/RECORD",,\n',
    });
    const reporter = new RecordingReporter();
    const r = sizeReport(root, { reporter });
    expect(
      reporter.events.some((e) => e.level === "warn" && /RECORD.*leniently/.test(e.label)),
    ).toBe(true);
    expect(r.distributions[0]?.byKind.source.files).toBe(1);
    expect(r.unowned.total.files).toBe(0);
  });

  it("counts a damaged ELF file as native code without debug bytes, with a warning", () => {
    const root = tempDir("badelf");
    const bytes = new Uint8Array(200);
    bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1]);
    new DataView(bytes.buffer).setBigUint64(0x28, 99_999n, true);
    writeTree(root, { "broken.so": bytes });
    const reporter = new RecordingReporter();
    const r = sizeReport(root, { reporter });
    expect(r.byKind["native-code"]).toMatchObject({ apparent: 200, files: 1 });
    expect(r.byKind["native-debug"].apparent).toBe(0);
    expect(
      reporter.events.some(
        (e) =>
          e.level === "warn" &&
          /broken\.so: section header size 0 is below 64; counted as native code/.test(e.label),
      ),
    ).toBe(true);
  });
});

describe("layouts", () => {
  it("tells env, stdlib, site-packages, dir and a single file", () => {
    const base = tempDir("layouts");
    writeTree(base, {
      "env/.slimenv/manifest.json": JSON.stringify({
        version: 1,
        target: { pythonVersion: [3, 12, 1] },
      }),
      "lib/python3.13/os.py": "",
      "lib/python3.13/encodings/__init__.py": "",
      "lib/python3.13/site-packages/README.txt": "",
      "plain/file.bin": "1234",
    });
    expect(sizeReport(path.join(base, "env"))).toMatchObject({ layout: "env", python: "3.12.1" });
    expect(sizeReport(path.join(base, "lib/python3.13"))).toMatchObject({
      layout: "stdlib",
      python: "3.13",
    });
    expect(sizeReport(path.join(base, "lib/python3.13/site-packages"))).toMatchObject({
      layout: "site-packages",
      python: "3.13",
    });
    const plain = sizeReport(path.join(base, "plain"));
    expect(plain.layout).toBe("dir");
    expect(plain.python).toBeUndefined();
    const one = sizeReport(path.join(base, "plain/file.bin"));
    expect(one).toMatchObject({ layout: "dir", total: { apparent: 4, files: 1 } });
    expectConsistent(one, path.join(base, "plain/file.bin"));
  });

  it("a root given as a symlink is followed (as du PATH/ does)", () => {
    const base = tempDir("rootlink");
    writeTree(base, { "real/a.txt": "hello" });
    symlinkSync("real", path.join(base, "link"));
    const r = sizeReport(path.join(base, "link"));
    expect({ apparent: r.total.apparent, onDisk: r.total.onDisk }).toEqual(
      du(`${path.join(base, "link")}/`),
    );
    expect(r.path).toBe(path.join(base, "link"));
  });

  it("a path that does not exist is IO_ERROR", () => {
    const err = thrown(() => sizeReport("/nonexistent/slimenv/size"));
    expect(err.code).toBe("IO_ERROR");
    expect(err.message).toContain("/nonexistent/slimenv/size");
  });
});

describe("a real venv made by python3 -m venv", () => {
  it("agrees with du and owns nothing (no pip inside)", () => {
    const base = tempDir("realvenv");
    const venv = path.join(base, "v");
    execFileSync("python3", ["-m", "venv", "--without-pip", venv]);
    mkdirSync(path.join(venv, "extra"));
    const r = sizeReport(venv);
    expectConsistent(r, venv);
    expect(r.layout).toBe("venv");
    expect(r.python).toMatch(/^3\.\d+\.\d+$/);
    expect(r.distributions).toEqual([]);
  });
});
