/**
 * install --slim --keep-used-by keeps what kept native files need (DT_NEEDED through
 * RUNPATH/RPATH, `$ORIGIN` expanded), whatever the traced run happened to open: when two
 * packages bundle a library with the same soname, the loader reuses the first copy for the
 * second package, so the second copy is never opened in the run; it must stay all the same.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { isSlimenvError } from "../../src/base/index.ts";
import { readElfDynamicFile } from "../../src/elf/index.ts";
import type { InstallRequest } from "../../src/env/install.ts";
import { resolveSettings } from "../../src/settings/load.ts";
import { installSlim } from "../../src/slim/install-slim.ts";
import { slimPolicy } from "../../src/slim/policy.ts";
import { elfClosure, expandOrigin } from "../../src/slim/usage/elf-closure.ts";
import type { UsageOutcome } from "../../src/slim/usage/pruning.ts";
import { runCommandIn } from "../../src/slim/usage/tracer.ts";
import { interpreter } from "../env/env-fixtures.ts";
import { describeWith, GCC, pyenv } from "../helpers/prereq.ts";
import { tempDir } from "../helpers/tmp.ts";
import { cliEnv, slimenv } from "../install/fixtures.ts";
import { type LibSpec, libSource, sharedLib, TWIN_SONAME, twinWheels } from "./elf-fixtures.ts";
import { filesUnder } from "./policy-fixtures.ts";

const PYTHON = pyenv("3.11", "3.12");
const PY = PYTHON.exe;

/**
 * Imports pkga first: pkgb's extension and pkgc's libmid then reuse pkga's libtwin.so.1 (same
 * soname): neither pkgb's copy nor pkgc's is opened.
 */
const USE_AB = "import pkga, pkgb, pkgc\nprint(pkga.value(), pkgb.value(), pkgc.value())\n";

describeWith(PYTHON, GCC)("install --slim --keep-used-by: ELF dependencies", () => {
  let root: string;
  let wheelFiles: string[];
  let n = 0;

  beforeAll(async () => {
    root = tempDir("slimenv-usage-elf-");
    const dir = path.join(root, "wheels");
    mkdirSync(dir);
    wheelFiles = twinWheels(await interpreter(PY as string)).map((w) => {
      const file = path.join(dir, w.filename);
      writeFileSync(file, w.bytes);
      return file;
    });
    writeFileSync(path.join(root, "use_ab.py"), USE_AB);
  });

  function request(envDir: string): InstallRequest {
    return {
      cwd: root,
      env: { ...process.env, PATH: `${path.dirname(PY as string)}:/usr/bin:/bin` },
      settings: resolveSettings({ flags: {}, env: {}, noConfig: true }),
      selection: { kind: "interpreter", request: PY as string },
      layout: { kind: "prefix", dir: envDir },
      inputs: { requirementFiles: [], requirements: [], wheels: wheelFiles },
      noDeps: true,
      userAgent: "slimenv-tests",
      storeRoot: path.join(root, "store"),
      httpCacheDir: null,
    };
  }

  function siteFiles(dir: string): string[] {
    const marker = "site-packages/pkga/__init__.py";
    const found = filesUnder(dir).find((f) => f.endsWith(marker));
    if (found === undefined) throw new Error(`no pkga in ${dir}`);
    return filesUnder(path.join(dir, found.slice(0, -"pkga/__init__.py".length)));
  }

  it("keeps the copy the run never opened, and what it needs; importing pkgb first works", async () => {
    const dir = path.join(root, `env${n++}`);
    const result = await installSlim(request(dir), {
      policy: slimPolicy({ preset: "edge" }),
      keepUsedBy: "python use_ab.py",
    });
    const run = (command: string) =>
      runCommandIn(dir, result.manifest, command, { env: request(dir).env, cwd: root });
    const usage = result.usage;
    expect(usage?.reason).toBeUndefined();
    expect(usage?.kept).toBe(true);
    // A fresh interpreter importing pkgb first loads pkgb's own copy, and libdeep through it.
    const b = await run("python -c 'import pkgb; print(pkgb.value())'");
    expect(b.stderr).toBe("");
    expect(b.stdout).toBe("22\n");
    // pkgc first: libmid finds pkgc's own copy through _ext's RPATH (opencv's layout).
    const c = await run("python -c 'import pkgc, pkga; print(pkgc.value(), pkga.value())'");
    expect(c.stderr).toBe("");
    expect(c.stdout).toBe("330 30\n");
    const files = siteFiles(dir);
    // Pruning did prune: what nothing opened or needs is gone.
    expect(files).not.toContain("pkgb/unused.py");
    expect(files).not.toContain("pkga.libs/libunused.so.1");
    // The run opened pkga's copy only; pkgb's copy and its own dependency are kept back.
    expect(files).toContain(`pkga.libs/${TWIN_SONAME}`);
    expect(files).toContain(`pkgb.libs/${TWIN_SONAME}`);
    expect(files).toContain("pkgb.libs/libdeep.so.1");
    expect(files).toContain(`pkgc.libs/${TWIN_SONAME}`);
    expect(files).toContain("pkgc.libs/libmid.so.1");
    expect(usage?.dependencyFiles).toBe(3);
    expect(result.policy.used).toContain(`pkgb.libs/${TWIN_SONAME}`);
    // libc and friends are the system's: reported, not looked for in the env.
    expect(usage?.systemLibraries).toContain("libc.so.6");
    expect(usage?.systemLibraries).not.toContain(TWIN_SONAME);
    // The traced order still gives its output (pkgb runs pkga's copy: the loader reuses it).
    const ab = await run("python use_ab.py");
    expect(ab.stderr).toBe("");
    expect(ab.stdout).toBe("1 1 301\n");
  }, 120_000);

  it("the CLI says how many files the closure kept back (text and --json)", async () => {
    const env = cliEnv(path.join(root, "home"), {
      PATH: `${path.dirname(PY as string)}:/usr/bin:/bin`,
    });
    const args = [
      "install",
      "--python",
      PY as string,
      "--no-deps",
      ...wheelFiles,
      "--slim",
      "edge",
    ];
    const used = ["--keep-used-by", "python use_ab.py"];
    const text = await slimenv(root, env, ...args, "--prefix", "cli-env", ...used);
    expect(text.stderr).not.toMatch(/warning/);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(
      /keep-used-by: pruned to the \d+ files "python use_ab.py" touched, plus 3 that kept native files need; same output/,
    );
    const json = await slimenv(root, env, ...args, "--prefix", "cli-env-json", "--json", ...used);
    expect(json.status).toBe(0);
    const usage = (JSON.parse(json.stdout) as { slim: { usage: UsageOutcome } }).slim.usage;
    expect(usage.kept).toBe(true);
    expect(usage.dependencyFiles).toBe(3);
    expect(usage.systemLibraries).toContain("libc.so.6");
  }, 120_000);
});

/** `${TOKEN}`: the loader's braced form of a search-path token (not a template placeholder). */
function braced(token: string): string {
  return `$${"{"}${token}}`;
}

describe("expandOrigin", () => {
  it("expands $ORIGIN (bare and braced), and refuses what the loader resolves elsewhere", () => {
    expect(expandOrigin("$ORIGIN/../p.libs", "/env/site/p")).toBe("/env/site/p.libs");
    expect(expandOrigin(`${braced("ORIGIN")}/lib`, "/env/site/p")).toBe("/env/site/p/lib");
    expect(expandOrigin("$ORIGIN", "/env/site/p")).toBe("/env/site/p");
    expect(expandOrigin("/usr/lib", "/env/site/p")).toBe("/usr/lib");
    // Not $ORIGIN; other tokens; relative to the cwd (unknown here).
    expect(expandOrigin("$ORIGINAL/lib", "/env/site/p")).toBeUndefined();
    expect(expandOrigin("$ORIGIN/../$LIB", "/env/site/p")).toBeUndefined();
    expect(expandOrigin(`/opt/${braced("PLATFORM")}`, "/env/site/p")).toBeUndefined();
    expect(expandOrigin("lib", "/env/site/p")).toBeUndefined();
    expect(expandOrigin("", "/env/site/p")).toBeUndefined();
  });
});

/** What the real loader says: dlopen `file` in a fresh CPython ("ok" or the OSError). */
function dlopen(file: string): string {
  const code = `import ctypes\ntry:\n    ctypes.CDLL(${JSON.stringify(file)}); print("ok")\nexcept OSError as e:\n    print(e)`;
  return execFileSync(PY as string, ["-I", "-S", "-c", code], { encoding: "utf8" }).trim();
}

describeWith(GCC, PYTHON)("elfClosure", () => {
  let root: string;
  let site: string;
  const lib = (rel: string, spec: LibSpec) => sharedLib(path.join(site, rel), spec);

  beforeAll(() => {
    root = tempDir("slimenv-elf-closure-");
    site = path.join(root, "site");
    mkdirSync(site);
  });

  it("follows DT_RPATH when there is no RUNPATH, and a braced $ORIGIN", async () => {
    const q = lib("r.libs/libq.so.1", { source: libSource("q", 1), soname: "libq.so.1" });
    lib("r/old.so", {
      source: "int q(void);\nint o(void) { return q(); }\n",
      links: [q],
      searchPath: "$ORIGIN/../r.libs",
      oldTags: true,
    });
    lib("r/brace.so", {
      source: "int q(void);\nint b(void) { return q(); }\n",
      links: [q],
      searchPath: `${braced("ORIGIN")}/../r.libs`,
    });
    const old = await readElfDynamicFile(path.join(site, "r/old.so"));
    expect(old?.searchPaths.map((s) => s.tag)).toEqual(["RPATH"]);
    expect((await elfClosure(site, ["r/old.so"])).added).toEqual(["r.libs/libq.so.1"]);
    expect((await elfClosure(site, ["r/brace.so"])).added).toEqual(["r.libs/libq.so.1"]);
    // Already used: kept, not counted as kept back.
    expect((await elfClosure(site, ["r/old.so", "r.libs/libq.so.1"])).added).toEqual([]);
  });

  it("follows the RPATH a library inherits from its loaders, past a RUNPATH one; not RUNPATH", async () => {
    // ext (RPATH $ORIGIN/i.libs) -> libimid (RUNPATH $ORIGIN/m) -> libileaf (none) -> libigl,
    // which only ext's RPATH finds (glibc searches the loaders' RPATHs when there is no RUNPATH).
    const gl = lib("i.libs/libigl.so.1", { source: libSource("gl", 7), soname: "libigl.so.1" });
    const leaf = lib("i.libs/m/libileaf.so.1", {
      source: libSource("leaf", 0, "gl"),
      soname: "libileaf.so.1",
      links: [gl],
    });
    const mid = lib("i.libs/libimid.so.1", {
      source: libSource("imid", 0, "leaf"),
      soname: "libimid.so.1",
      links: [leaf],
      searchPath: "$ORIGIN/m",
    });
    const extSource = "int imid(void);\nint e(void) { return imid(); }\n";
    lib("i/ext.so", {
      source: extSource,
      links: [mid],
      searchPath: "$ORIGIN/../i.libs",
      oldTags: true,
    });
    const closure = await elfClosure(site, ["i/ext.so"]);
    expect(closure.added).toEqual([
      "i.libs/libigl.so.1",
      "i.libs/libimid.so.1",
      "i.libs/m/libileaf.so.1",
    ]);
    expect(closure.system).not.toContain("libigl.so.1");
    // Each used library is also looked at alone (loaders unknown): libileaf alone cannot find
    // libigl, but ext's chain does, so it is not reported as the system's.
    const both = await elfClosure(site, ["i.libs/m/libileaf.so.1", "i/ext.so"]);
    expect(both.system).not.toContain("libigl.so.1");
    expect((await elfClosure(site, ["i.libs/m/libileaf.so.1"])).system).toContain("libigl.so.1");
    // The same chain under a RUNPATH: not inherited, libigl is not found (nor kept).
    lib("i/ext_runpath.so", { source: extSource, links: [mid], searchPath: "$ORIGIN/../i.libs" });
    const runpath = await elfClosure(site, ["i/ext_runpath.so"]);
    expect(runpath.added).toEqual(["i.libs/libimid.so.1", "i.libs/m/libileaf.so.1"]);
    expect(runpath.system).toContain("libigl.so.1");
    // As the loader has it.
    expect(dlopen(path.join(site, "i/ext.so"))).toBe("ok");
    expect(dlopen(path.join(site, "i/ext_runpath.so"))).toMatch(/libigl\.so\.1: cannot open/);
  });

  it("keeps a cycle of libraries once each, and stops", async () => {
    const stub = path.join(root, "stub", "libx.so.1");
    sharedLib(stub, { source: libSource("x0", 0), soname: "libx.so.1" });
    const y = lib("c.libs/liby.so.1", {
      source: libSource("y", 1, "x0"),
      soname: "liby.so.1",
      links: [stub],
      searchPath: "$ORIGIN",
    });
    const x = lib("c.libs/libx.so.1", {
      source: libSource("x0", 2, "y"),
      soname: "libx.so.1",
      links: [y],
      searchPath: "$ORIGIN",
    });
    lib("c/ext.so", {
      source: "int x0(void);\nint e(void) { return x0(); }\n",
      links: [x],
      searchPath: "$ORIGIN/../c.libs",
    });
    const closure = await elfClosure(site, ["c/ext.so"]);
    expect(closure.added).toEqual(["c.libs/libx.so.1", "c.libs/liby.so.1"]);
    expect(closure.system).toContain("libc.so.6");
  });

  it("takes the first match of the search path; a match outside the site dir keeps nothing", async () => {
    const inFirst = lib("f.libs/first/libm2.so.1", {
      source: libSource("m2", 1),
      soname: "libm2.so.1",
    });
    lib("f.libs/second/libm2.so.1", { source: libSource("m2", 2), soname: "libm2.so.1" });
    lib("f/ext.so", {
      source: "int m2(void);\nint e(void) { return m2(); }\n",
      links: [inFirst],
      searchPath: "$ORIGIN/../f.libs/first:$ORIGIN/../f.libs/second",
    });
    expect((await elfClosure(site, ["f/ext.so"])).added).toEqual(["f.libs/first/libm2.so.1"]);
    // Escaping the site dir: the copy outside is the one the loader takes, the site's is not needed.
    sharedLib(path.join(root, "outside", "libm2.so.1"), {
      source: libSource("m2", 3),
      soname: "libm2.so.1",
    });
    lib("f/escape.so", {
      source: "int m2(void);\nint e(void) { return m2(); }\n",
      links: [inFirst],
      searchPath: "$ORIGIN/../../outside:$ORIGIN/../f.libs/first",
    });
    const escaped = await elfClosure(site, ["f/escape.so"]);
    expect(escaped.added).toEqual([]);
    expect(escaped.system).toContain("libm2.so.1");
  });

  it("reports names found nowhere in the site dir, and a copy the search path does not name stays out", async () => {
    const gone = path.join(root, "gone", "libgone.so.1");
    sharedLib(gone, { source: libSource("g", 1), soname: "libgone.so.1" });
    // A same-named file exists in the site dir, but not where the search path looks.
    lib("elsewhere.libs/libgone.so.1", { source: libSource("g", 2), soname: "libgone.so.1" });
    lib("m/ext.so", {
      source: "int g(void);\nint e(void) { return g(); }\n",
      links: [gone],
      searchPath: "$ORIGIN/../m.libs:$ORIGIN/../$LIB:relative/dir",
    });
    const closure = await elfClosure(site, ["m/ext.so"]);
    expect(closure.added).toEqual([]);
    expect(closure.system).toEqual(expect.arrayContaining(["libc.so.6", "libgone.so.1"]));
  });

  it("a DT_NEEDED path (no soname, linked by path) is taken as the path it is", async () => {
    const abs = lib("p.libs/libnoso.so", { source: libSource("n", 1) });
    lib("p/ext.so", { source: "int n(void);\nint e(void) { return n(); }\n", flags: [abs] });
    const dyn = await readElfDynamicFile(path.join(site, "p/ext.so"));
    expect(dyn?.needed).toContain(abs);
    expect((await elfClosure(site, ["p/ext.so"])).added).toEqual(["p.libs/libnoso.so"]);
  });

  it("$ORIGIN is the folder in the env, not that of the object a link points at", async () => {
    const q = lib("s.libs/libsq.so.1", { source: libSource("sq", 1), soname: "libsq.so.1" });
    const object = sharedLib(path.join(root, "store", "obj"), {
      source: "int sq(void);\nint e(void) { return sq(); }\n",
      links: [q],
      searchPath: "$ORIGIN/../s.libs",
    });
    mkdirSync(path.join(site, "s"));
    symlinkSync(object, path.join(site, "s", "ext.so"));
    expect((await elfClosure(site, ["s/ext.so"])).added).toEqual(["s.libs/libsq.so.1"]);
  });

  it("ignores what is not ELF, damaged or missing, and changes nothing", async () => {
    mkdirSync(path.join(site, "bad"));
    writeFileSync(path.join(site, "bad", "junk.so"), "not an ELF file at all\n");
    writeFileSync(path.join(site, "bad", "empty.so"), "");
    const real = readFileSync(lib("bad/real.so", { source: libSource("r", 1) }));
    writeFileSync(path.join(site, "bad", "truncated.so"), real.subarray(0, 100));
    const garbled = Buffer.from(real);
    garbled.fill(0xff, 64);
    writeFileSync(path.join(site, "bad", "garbled.so"), garbled);
    const before = filesUnder(site).sort();
    const used = [
      "bad/junk.so",
      "bad/empty.so",
      "bad/truncated.so",
      "bad/garbled.so",
      "bad/gone.so",
      "bad/m.py",
      "bad",
    ];
    const closure = await elfClosure(site, used);
    expect(closure.added).toEqual([]);
    expect(filesUnder(site).sort()).toEqual(before);
    const missing = await elfClosure(path.join(root, "no-such-site"), used).catch((e) => e);
    expect(isSlimenvError(missing, "IO_ERROR") && missing.message).toMatch(
      /cannot list the site dir .*no-such-site: ENOENT/,
    );
  });

  it("refuses, clearly, load chains past its guard", async () => {
    // i/ext.so's chain looks at 4 (file, inherited path) pairs: a guard of 2 is passed.
    const err = await elfClosure(site, ["i/ext.so"], { maxVisits: 2 }).catch((e) => e);
    expect(isSlimenvError(err, "SLIM_FAILED") && err.message).toMatch(
      /too many to follow \(over 2\)/,
    );
    expect(isSlimenvError(err) && err.hint).toMatch(/slim-skip/);
    expect((await elfClosure(site, ["i/ext.so"], { maxVisits: 4 })).added).toHaveLength(3);
  });
});
