/**
 * What the env layer guarantees on its own, below the store's rules (issue #11): no file
 * slimenv writes into an env ever lands in a store object, a wheel claiming a path the env
 * owns is refused, and a refused or failed build leaves nothing half-made. The FakeStore
 * applies no hostile-wheel rule, so these wheels reach the env layer.
 */
import { createHash } from "node:crypto";
import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import path from "node:path";
import { beforeAll, expect, it } from "vitest";
import { isSlimenvError, silentReporter } from "../../src/base/index.ts";
import { type BuildContext, buildTree } from "../../src/env/build-tree.ts";
import { readEnvManifest } from "../../src/env/manifest.ts";
import {
  defaultInterpreterCommand,
  materialize,
  writeManifest,
} from "../../src/env/materialize.ts";
import { schemePaths } from "../../src/env/scheme.ts";
import type { EnvPlan, LayoutKind, LinkMode } from "../../src/env/types.ts";
import { traceCommand } from "../../src/slim/usage/tracer.ts";
import { HostileWheelError } from "../../src/store/hostile.ts";
import type { StoredWheel } from "../../src/store/types.ts";
import { describeWith, pyenv } from "../helpers/prereq.ts";
import { buildWheel } from "../helpers/wheels.ts";
import { snapshot } from "../install/fixtures.ts";
import { type Interp, interpreter, run, tempDir } from "./env-fixtures.ts";
import { FakeStore } from "./fake-store.ts";

const PY311 = pyenv("3.11");
const PY = PY311.exe;
const EMPTY_SHA = createHash("sha256").update("").digest("hex");

describeWith(PY311)("the env layer on its own (issue #11)", () => {
  let py: Interp;
  let store: FakeStore;
  let good: StoredWheel;
  let emptyObject: string;

  beforeAll(async () => {
    py = await interpreter(PY as string);
    store = new FakeStore();
    good = await store.importWheel(
      buildWheel({
        name: "good",
        version: "1.0",
        files: { "good/__init__.py": "", "good/mod.py": "VALUE = 42\n" },
        entryPoints: "[console_scripts]\ngood-cli = good.mod:main\n",
      }),
    );
    emptyObject = store.objectPath(EMPTY_SHA, false);
    expect(statSync(emptyObject).size).toBe(0);
  });

  function plan(dir: string, kind: LayoutKind, wheels: StoredWheel[], more: Partial<EnvPlan> = {}) {
    return {
      layout: { kind, dir },
      target: py.target,
      probe: py.probe,
      wheels,
      requested: wheels.map((w) => w.name),
      linkMode: "hardlink" as LinkMode,
      ...more,
    } as EnvPlan;
  }

  function expectEmptyObjectIntact(): void {
    expect(statSync(emptyObject).size).toBe(0);
    expect(createHash("sha256").update(readFileSync(emptyObject)).digest("hex")).toBe(EMPTY_SHA);
  }

  const cases: [LayoutKind, Partial<EnvPlan>][] = [
    ["prefix", { isolated: true }],
    ["venv", {}],
    ["target", {}],
    ["prefix", { linkMode: "pth" }],
  ];
  for (const [kind, more] of cases) {
    it(`no slimenv write lands in a store object: every generated file of a ${kind} env${more.linkMode === "pth" ? " (pth)" : ""} written over a hard link to one`, async () => {
      const base = tempDir("writes");
      const p = plan(path.join(base, "unused"), kind, [good], more);
      const ctx: BuildContext = {
        store,
        plan: p,
        kind,
        scheme: schemePaths(kind, py.target, py.probe),
        interpreterCommand: defaultInterpreterCommand(p),
        reporter: silentReporter,
      };
      const manifestRel = kind === "target" ? ".slimenv/manifest.json" : "manifest.json";
      // 1. Which files does slimenv generate (not link) in such a tree?
      const first = path.join(base, "first");
      mkdirSync(first);
      const built = await buildTree(first, ctx);
      const linked = new Set(
        built.packages
          .flatMap((pkg) => pkg.files.map((f) => f.path))
          .filter((f) => {
            const st = statSync(path.join(first, f));
            return st.nlink > 1;
          }),
      );
      const generated = [
        ...built.envFiles.map((f) => f.path),
        ...built.packages.flatMap((pkg) => pkg.files.map((f) => f.path)),
      ].filter((f) => !linked.has(f));
      expect(generated.some((f) => f.endsWith("/RECORD"))).toBe(true);
      expect(generated.some((f) => f.endsWith("/INSTALLER"))).toBe(true);
      expect(generated.some((f) => f.endsWith("/REQUESTED"))).toBe(true);
      expect(generated.some((f) => f.endsWith("bin/good-cli"))).toBe(true);
      // 2. The same tree again where each of those paths (and the manifest) already is a hard
      //    link to a store object: slimenv writes every one of them.
      const second = path.join(base, "second");
      for (const rel of [...generated, manifestRel]) {
        mkdirSync(path.dirname(path.join(second, rel)), { recursive: true });
        linkSync(emptyObject, path.join(second, rel));
      }
      const again = await buildTree(second, ctx);
      await writeManifest(path.join(second, manifestRel), { ...again, generation: 1 });
      expectEmptyObjectIntact();
      const objectIno = statSync(emptyObject).ino;
      for (const rel of [...generated, manifestRel]) {
        const st = statSync(path.join(second, rel));
        expect(st.ino, rel).not.toBe(objectIno);
      }
      expect(readFileSync(path.join(second, manifestRel), "utf8")).toContain('"packages"');
    });
  }

  it("no slimenv write lands in a store object: the usage tracer's files in an existing env", async () => {
    const dir = path.join(tempDir("tracer"), "env");
    const manifest = await materialize(store, plan(dir, "prefix", [good]));
    const site = path.join(dir, manifest.scheme.purelib);
    linkSync(emptyObject, path.join(site, "_slimenv_trace.py"));
    linkSync(emptyObject, path.join(site, "_slimenv_trace.pth"));
    await traceCommand(dir, manifest, "python -c 'import good'", {
      env: { PATH: `${path.join(dir, "bin")}:${py.path}`, HOME: process.env.HOME ?? "/root" },
    });
    expectEmptyObjectIntact();
  });

  it("a wheel claiming the manifest is refused by the env layer too, before anything is made", async () => {
    const evil = await store.importWheel(
      buildWheel({
        name: "evil",
        version: "1.0",
        files: { "evil/__init__.py": "", "evil-1.0.data/data/manifest.json": "" },
      }),
    );
    for (const kind of ["prefix", "venv"] as const) {
      const base = tempDir("claim");
      const existing = path.join(base, "existing");
      await materialize(store, plan(existing, kind, [good]));
      const before = snapshot(existing);
      for (const dir of [path.join(base, "fresh"), existing]) {
        const err = await materialize(store, plan(dir, kind, [good, evil])).catch((e) => e);
        expect(err).toBeInstanceOf(HostileWheelError);
        expect((err as HostileWheelError).rule).toBe("slimenv-path");
      }
      expect(readdirSync(base).sort()).toEqual(["existing"]);
      expect(snapshot(existing)).toEqual(before);
      expectEmptyObjectIntact();
      expect(
        run(path.join(existing, "bin", "python"), ["-c", "import good"], { PATH: py.path }).status,
      ).toBe(0);
    }
  });

  it("a refused script name (../../evil) leaves no generation, no sibling, no new dir", async () => {
    const evil = await store.importWheel(
      buildWheel({
        name: "evil2",
        version: "1.0",
        files: { "evil2/__init__.py": "def main():\n    pass\n" },
        entryPoints: "[console_scripts]\n../../evil = evil2:main\n",
      }),
    );
    for (const kind of ["prefix", "venv", "target"] as const) {
      const base = tempDir("skeleton");
      const existing = path.join(base, "existing");
      await materialize(store, plan(existing, kind, [good]));
      const before = snapshot(existing);
      for (const dir of [path.join(base, "fresh"), existing]) {
        const err = await materialize(store, plan(dir, kind, [good, evil])).catch((e) => e);
        expect(isSlimenvError(err, "INVALID_ENTRY_POINTS"), String(err)).toBe(true);
      }
      expect(readdirSync(base).sort()).toEqual(["existing"]);
      expect(snapshot(existing)).toEqual(before);
    }
  });

  it("a build that fails half-way (an object gone from the store) leaves nothing half-made", async () => {
    const fragile = new FakeStore();
    const goodHere = await fragile.importWheel(
      buildWheel({ name: "good", version: "1.0", files: { "good/__init__.py": "" } }),
    );
    const gone = await fragile.importWheel(
      buildWheel({ name: "gone", version: "1.0", files: { "gone/__init__.py": "# gone\n" } }),
    );
    const base = tempDir("halfway");
    const existing = path.join(base, "existing");
    await materialize(fragile, plan(existing, "prefix", [goodHere]));
    await materialize(fragile, plan(path.join(base, "texisting"), "target", [goodHere]));
    const init = gone.files.find((f) => f.path === "gone/__init__.py");
    rmSync(fragile.objectPath(init?.hash as string, false));
    // The lock and the abandoned generation come and go inside .slimenv: only that
    // folder's mtime may change; every entry, inode, size and file mtime stays.
    const state = () =>
      [existing, path.join(base, "texisting")].map((d) =>
        snapshot(d).map((line) =>
          line.startsWith(".slimenv d ") ? line.replace(/ [\d.]+$/, "") : line,
        ),
      );
    const before = state();
    for (const [dir, kind] of [
      [path.join(base, "fresh"), "prefix"],
      [existing, "prefix"],
      [path.join(base, "tfresh"), "target"],
      [path.join(base, "texisting"), "target"],
    ] as const) {
      const err = await materialize(fragile, plan(dir, kind, [goodHere, gone])).catch((e) => e);
      expect(err, dir).toBeInstanceOf(Error);
    }
    expect(readdirSync(base).sort()).toEqual(["existing", "texisting"]);
    expect(state()).toEqual(before);
    expect(readEnvManifest(existing)?.generation).toBe(1);
    expect(existsSync(path.join(existing, ".slimenv", "gen-2"))).toBe(false);
  });
});
