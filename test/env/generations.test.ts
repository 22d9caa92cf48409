import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, expect, it } from "vitest";
import { isSlimenvError } from "../../src/base/index.ts";
import { readEnvManifest } from "../../src/env/manifest.ts";
import { materialize } from "../../src/env/materialize.ts";
import type { EnvPlan } from "../../src/env/types.ts";
import { Store } from "../../src/store/store.ts";
import type { StoredWheel } from "../../src/store/types.ts";
import { describeWith, pyenv } from "../helpers/prereq.ts";
import { Rng } from "../helpers/random.ts";
import { buildWheel } from "../helpers/wheels.ts";
import {
  cextWheel,
  type Interp,
  importAll,
  interpreter,
  pureWheels,
  run,
  tempDir,
} from "./env-fixtures.ts";
import { FakeStore } from "./fake-store.ts";

const PYTHON312 = pyenv("3.12");
const PY312 = PYTHON312.exe;
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const v2Wheels = () => [
  buildWheel({
    name: "alpha",
    version: "2.0",
    files: { "alpha/__init__.py": '__version__ = "2.0"\ndef main():\n    return 0\n' },
    entryPoints: "[console_scripts]\nalpha-cli = alpha:main\n",
  }),
  buildWheel({ name: "beta", version: "1.0" }),
];

const VERSIONS =
  "import importlib.metadata as md, alpha\n" +
  "names = ['alpha', 'beta', 'ns-two', 'cext']\n" +
  "def v(n):\n" +
  "    try:\n        return md.version(n)\n    except md.PackageNotFoundError:\n        return None\n" +
  "print(alpha.__version__, [v(n) for n in names])";

async function expectError(promise: Promise<unknown>, code: string): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (isSlimenvError(err) && err.code === code) return err.message;
    throw err;
  }
  throw new Error(`expected a ${code} error`);
}

describeWith(PYTHON312)("generations and crash safety", () => {
  let py: Interp;
  let store: FakeStore;
  let v1: StoredWheel[];
  let v2: StoredWheel[];

  beforeAll(async () => {
    py = await interpreter(PY312 as string);
    store = new FakeStore();
    v1 = await importAll(store, [...pureWheels(), cextWheel(py)]);
    const cext = v1.find((w) => w.name === "cext") as StoredWheel;
    v2 = [...(await importAll(store, v2Wheels())), cext];
  });

  const plan = (
    dir: string,
    wheels: StoredWheel[],
    kind: "prefix" | "venv" | "target" = "prefix",
  ): EnvPlan => ({
    layout: { kind, dir },
    target: py.target,
    probe: py.probe,
    wheels,
    requested: [],
    linkMode: "auto",
  });
  const versions = (dir: string) =>
    run(path.join(dir, "bin", "python"), ["-c", VERSIONS], { PATH: py.path });

  it("v1 → v2 flips current, removes the old generation and stale top-level links", async () => {
    const dir = path.join(tempDir("gen"), "env");
    await materialize(store, plan(dir, v1));
    expect(versions(dir).stdout).toBe("1.0 ['1.0', None, '2.0', '1.0']\n");
    expect(readlinkSync(path.join(dir, "share"))).toBe(".slimenv/current/share");
    const m2 = await materialize(store, plan(dir, v2));
    expect(m2.generation).toBe(2);
    expect(readlinkSync(path.join(dir, ".slimenv", "current"))).toBe("gen-2");
    expect(readdirSync(path.join(dir, ".slimenv")).filter((n) => n.startsWith("gen-"))).toEqual([
      "gen-2",
    ]);
    expect(versions(dir).stdout).toBe("2.0 ['2.0', '1.0', None, '1.0']\n");
    // v2 has no data files or headers: their top-level links are gone.
    expect(existsSync(path.join(dir, "share"))).toBe(false);
    expect(existsSync(path.join(dir, "include"))).toBe(false);
    expect(readEnvManifest(dir)?.generation).toBe(2);
    expect(run(path.join(dir, "bin", "alpha-cli"), [], { PATH: py.path }).status).toBe(0);
  });

  it("a crash after building gen-2, before the switch, leaves v1 fully working", async () => {
    const dir = path.join(tempDir("crash"), "env");
    await materialize(store, plan(dir, v1));
    await expect(
      materialize(store, plan(dir, v2), {
        beforeSwitch: () => {
          throw new Error("simulated crash");
        },
      }),
    ).rejects.toThrow("simulated crash");
    expect(existsSync(path.join(dir, ".slimenv", "gen-2", "manifest.json"))).toBe(true);
    expect(readlinkSync(path.join(dir, ".slimenv", "current"))).toBe("gen-1");
    expect(versions(dir).stdout).toBe("1.0 ['1.0', None, '2.0', '1.0']\n");
    expect(run(path.join(dir, "bin", "alpha-cli"), [], { PATH: py.path }).status).toBe(3);
    expect(readEnvManifest(dir)?.generation).toBe(1);
    // The next run removes the leftover and switches.
    const m = await materialize(store, plan(dir, v2));
    expect(m.generation).toBe(2);
    expect(versions(dir).stdout).toBe("2.0 ['2.0', '1.0', None, '1.0']\n");
  });

  it("target layout: rename swap, and recovery of the one window", async () => {
    const dir = path.join(tempDir("tswap"), "out");
    const { fresh, old } = { fresh: `${dir}.slimenv-new`, old: `${dir}.slimenv-old` };
    const tv = () =>
      run(path.join(dir, "bin", "python"), ["-c", "import alpha; print(alpha.__version__)"], {
        PATH: py.path,
      }).stdout;
    await materialize(store, plan(dir, v1, "target"));
    expect(tv()).toBe("1.0\n");
    // Crash before the swap: DIR untouched, the fresh tree is a leftover.
    await materialize(store, plan(dir, v2, "target"), {
      beforeSwitch: () => {
        throw new Error("simulated crash");
      },
    }).catch(() => undefined);
    expect(existsSync(fresh)).toBe(true);
    expect(tv()).toBe("1.0\n");
    expect(readEnvManifest(dir)?.packages.find((p) => p.name === "alpha")?.version).toBe("1.0");
    expect(existsSync(fresh)).toBe(false);
    // Crash between the two renames: DIR missing, old present → put back.
    renameSync(dir, old);
    expect(readEnvManifest(dir)?.layout).toBe("target");
    expect(existsSync(old)).toBe(false);
    expect(tv()).toBe("1.0\n");
    await materialize(store, plan(dir, v2, "target"));
    expect(tv()).toBe("2.0\n");
    expect(existsSync(old) || existsSync(fresh)).toBe(false);
    expect(existsSync(path.join(dir, "nsp"))).toBe(false);
  });

  it("refuses directories it must not touch, with clear errors", async () => {
    const base = tempDir("errors");
    const foreign = path.join(base, "foreign");
    mkdirSync(foreign);
    writeFileSync(path.join(foreign, "notes.txt"), "mine");
    expect(await expectError(materialize(store, plan(foreign, v1)), "INVALID_ENV")).toContain(
      "not a slimenv environment",
    );
    expect(existsSync(path.join(foreign, ".slimenv"))).toBe(false);
    await expectError(materialize(store, plan(foreign, v1, "target")), "INVALID_ENV");
    const venv = path.join(base, "venv");
    await materialize(store, plan(venv, v2, "venv"));
    expect(await expectError(materialize(store, plan(venv, v2)), "INVALID_ENV")).toContain(
      "is a venv environment",
    );
    const { probe: _probe, ...noProbe } = plan(path.join(base, "v2"), v2, "venv");
    await expectError(materialize(store, noProbe), "INVALID_ENV");
    await expectError(
      materialize(store, { ...plan(path.join(base, "x"), v2), linkMode: "reflink" as never }),
      "INVALID_OPTION",
    );
    // A user's directory where a generation needs a top-level link.
    const env = path.join(base, "env");
    await materialize(store, plan(env, v2));
    mkdirSync(path.join(env, "share"));
    expect(await expectError(materialize(store, plan(env, v1)), "INVALID_ENV")).toContain(
      "in the way",
    );
    expect(versions(env).stdout).toBe("2.0 ['2.0', '1.0', None, '1.0']\n");
    // A damaged manifest.
    writeFileSync(path.join(env, ".slimenv", "current", "manifest.json"), "{");
    expect(() => readEnvManifest(env)).toThrow(/not valid JSON/);
  });
});

describeWith(PYTHON312)("kill -9 at random moments", () => {
  it("leaves the env at v1 or v2, complete, and the store verifiable", async () => {
    const py = await interpreter(PY312 as string);
    const base = tempDir("kill");
    const storeRoot = path.join(base, "store");
    const store = Store.open({ root: storeRoot });
    const importReal = async (ws: ReturnType<typeof buildWheel>[]) => {
      const out: StoredWheel[] = [];
      for (const w of ws)
        out.push(await store.importWheel({ bytes: w.bytes }, { filename: w.filename }));
      return out;
    };
    const a = await importReal([...pureWheels(), cextWheel(py)]);
    const b = [...(await importReal(v2Wheels())), a.find((w) => w.name === "cext") as StoredWheel];
    const dir = path.join(base, "env");
    const mk = (wheels: StoredWheel[], kind: "prefix" | "target"): EnvPlan => ({
      layout: { kind, dir: kind === "prefix" ? dir : `${dir}-t` },
      target: py.target,
      probe: py.probe,
      wheels,
      requested: [],
      linkMode: "auto",
    });
    await materialize(store, mk(a, "prefix"));
    await materialize(store, mk(a, "target"));
    store.close();
    const input = path.join(base, "plans.json");
    writeFileSync(
      input,
      JSON.stringify({
        storeRoot,
        plans: [mk(b, "prefix"), mk(a, "prefix"), mk(b, "target"), mk(a, "target")],
      }),
    );
    const script = path.join(base, "loop.ts");
    writeFileSync(
      script,
      [
        `import { readFileSync } from "node:fs";`,
        `import { materialize } from ${JSON.stringify(path.join(REPO, "src/env/materialize.ts"))};`,
        `import { Store } from ${JSON.stringify(path.join(REPO, "src/store/store.ts"))};`,
        `const input = JSON.parse(readFileSync(process.argv[2], "utf8"));`,
        `const store = Store.open({ root: input.storeRoot });`,
        `process.stdout.write("ready\\n");`,
        `for (let i = 0; ; i++) await materialize(store, input.plans[i % 4]);`,
      ].join("\n"),
    );
    const rng = new Rng(4242);
    const check = (d: string) =>
      run(path.join(d, "bin", "python"), ["-c", "import alpha, cext; print(alpha.__version__)"], {
        PATH: py.path,
      });
    for (let round = 0; round < 6; round++) {
      const child = spawn(process.execPath, [script, input], { stdio: ["ignore", "pipe", "pipe"] });
      await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
      await new Promise((r) => setTimeout(r, 20 + rng.int(300)));
      child.kill("SIGKILL");
      await new Promise((r) => child.once("close", r));
      for (const d of [dir, `${dir}-t`]) {
        const manifest = readEnvManifest(d);
        const want = manifest?.packages.find((p) => p.name === "alpha")?.version;
        expect(want === "1.0" || want === "2.0").toBe(true);
        const res = check(d);
        expect(res.stderr).toBe("");
        expect(res.stdout).toBe(`${want}\n`);
      }
    }
    const reopened = Store.open({ root: storeRoot });
    try {
      const report = await reopened.verify();
      expect(report.problems).toEqual([]);
    } finally {
      reopened.close();
    }
  });
});
