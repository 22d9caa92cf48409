/**
 * How the agent keeps the device store without listing it on every apply: gc after an apply
 * looks only at the objects of the generations it dropped; objects an interrupted apply left
 * are removed by the next run's recovery; a refused bundle leaves nothing in tmp/; the new
 * tree is built in tmp/ and moved into gens/; trees the whole-list check cannot prove valid
 * (non-ASCII paths, symlinks) are checked entry by entry and still applied.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/bundle/hashing.ts";
import { formatPublicKey, generateSigningKey } from "../../src/bundle/keys.ts";
import { tempDir } from "../helpers/tmp.ts";
import {
  type AppSpec,
  appEnv,
  binDir,
  checkCurrent,
  deltaBundle,
  fullBundle,
  headerBytesOf,
  runAgent,
  snapshot,
} from "./agent-helpers.ts";

const key = generateSigningKey();
let dir: string;
let bin: string;
let pub: string;

function agent(root: string, args: string[], env?: Record<string, string>) {
  return runAgent(["--root", root, "--key", pub, ...args], {
    pathDir: bin,
    ...(env === undefined ? {} : { env }),
  });
}

function bundleFile(name: string, bytes: Uint8Array): string {
  const p = path.join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** Every object hash on disk (objects/ and objects-x/). */
function storedObjects(root: string): Set<string> {
  const out = new Set<string>();
  for (const top of ["objects", "objects-x"]) {
    let subs: string[] = [];
    try {
      subs = readdirSync(path.join(root, top));
    } catch {
      continue;
    }
    for (const d of subs) for (const n of readdirSync(path.join(root, top, d))) out.add(d + n);
  }
  return out;
}

function objectsOf(...specs: AppSpec[]): Set<string> {
  return new Set(specs.flatMap((s) => appEnv(s).draft.files.map((f) => f.sha256)));
}

function tmpLeft(root: string): string[] {
  return readdirSync(path.join(root, "tmp")).filter((n) => n !== "downloads");
}

async function verifyClean(root: string) {
  const v = await agent(root, ["verify", "--json"]);
  expect(JSON.parse(v.stdout).problems).toEqual([]);
  expect(v.status).toBe(0);
}

const v1: AppSpec = { sequence: 100 };
const v2: AppSpec = { sequence: 200, files: { "lib/myapp/two.py": "X = 2\n" } };
const v3: AppSpec = { sequence: 300, files: { "lib/myapp/three.py": "X = 3\n" } };

beforeAll(() => {
  dir = tempDir("slimenv-agent-store-");
  bin = binDir(dir);
  pub = path.join(dir, "fleet.pub");
  writeFileSync(pub, formatPublicKey(key.publicKey));
});

describe("device store upkeep", () => {
  it("removes only a dropped generation's own objects; a stray object waits for gc", async () => {
    const root = path.join(dir, "dev-gc");
    for (const [name, spec] of [
      ["v1", v1],
      ["v2", v2],
    ] as const) {
      const r = await agent(root, ["apply", bundleFile(`${name}.bundle`, fullBundle(key, spec))]);
      expect(r.status, r.stderr).toBe(0);
    }
    // an object no generation uses, put there by something else than an interrupted apply
    const stray = sha256Hex(new TextEncoder().encode("stray\n"));
    mkdirSync(path.join(root, "objects", stray.slice(0, 2)), { recursive: true });
    const strayPath = path.join(root, "objects", stray.slice(0, 2), stray.slice(2));
    writeFileSync(strayPath, "stray\n");
    chmodSync(strayPath, 0o444);
    // keep 2: applying 300 drops 100; v1's own objects are those neither 200 nor 300 has
    const r3 = await agent(root, ["apply", "--json", bundleFile("v3.bundle", fullBundle(key, v3))]);
    expect(r3.status, r3.stderr).toBe(0);
    const only100 = [...objectsOf(v1)].filter((h) => !objectsOf(v2, v3).has(h));
    expect(only100.length).toBeGreaterThan(0);
    expect(JSON.parse(r3.stdout).objectsRemoved).toBe(only100.length);
    expect(storedObjects(root)).toEqual(new Set([...objectsOf(v2, v3), stray]));
    expect(tmpLeft(root)).toEqual([]);
    // gc looks at every object
    const gc = await agent(root, ["gc", "--json"]);
    expect(JSON.parse(gc.stdout).objectsRemoved).toBe(1);
    expect(storedObjects(root)).toEqual(objectsOf(v2, v3));
    await verifyClean(root);
  });

  it("removes what an interrupted apply stored at the next run that takes the lock", async () => {
    const root = path.join(dir, "dev-crash");
    const r1 = await agent(root, ["apply", bundleFile("c1.bundle", fullBundle(key, v1))]);
    expect(r1.status, r1.stderr).toBe(0);
    // find the step right after the new objects went into objects/, on a copy of the device
    const traceRoot = path.join(dir, "dev-trace");
    const t1 = await agent(traceRoot, ["apply", bundleFile("t1.bundle", fullBundle(key, v1))]);
    expect(t1.status, t1.stderr).toBe(0);
    const trace = path.join(dir, "trace.txt");
    const t2 = await agent(traceRoot, ["apply", bundleFile("c2.bundle", fullBundle(key, v2))], {
      SLIMENV_AGENT_TEST_TRACE: trace,
    });
    expect(t2.status, t2.stderr).toBe(0);
    const steps = readFileSync(trace, "utf8").trim().split("\n");
    const at = steps.findIndex((l) => l.endsWith(" apply:objects")) + 1;
    expect(at).toBeGreaterThan(0);
    const killed = await agent(root, ["apply", path.join(dir, "c2.bundle")], {
      SLIMENV_AGENT_TEST_CRASH_AT: String(at),
    });
    expect(killed.signal).toBe("SIGKILL");
    const added = [...objectsOf(v2)].filter((h) => !objectsOf(v1).has(h));
    for (const h of added) expect(storedObjects(root).has(h)).toBe(true);
    expect(tmpLeft(root).some((n) => n.startsWith("apply-"))).toBe(true);
    // `mount` takes the lock (recovery) and changes nothing else on a device without images
    const m = await agent(root, ["mount", "--json"]);
    expect(m.status, m.stderr).toBe(0);
    expect(checkCurrent(root, "myapp")).toBe(100);
    expect(storedObjects(root)).toEqual(objectsOf(v1));
    expect(tmpLeft(root)).toEqual([]);
    await verifyClean(root);
  });

  it("leaves nothing in tmp/ after a refused bundle", async () => {
    const root = path.join(dir, "dev-refused");
    const r1 = await agent(root, ["apply", bundleFile("r1.bundle", fullBundle(key, v1))]);
    expect(r1.status, r1.stderr).toBe(0);
    const before = snapshot(root);
    const other: AppSpec = { sequence: 1, files: { "lib/myapp/two.py": "other base\n" } };
    const v5: AppSpec = { sequence: 500, files: { "lib/myapp/two.py": "X = 5\n" } };
    const r = await agent(root, [
      "apply",
      bundleFile("r-other.bundle", deltaBundle(key, other, v5, { tree: false })),
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/lacks object/);
    expect(tmpLeft(root)).toEqual([]);
    expect(snapshot(root)).toEqual(before);
  });

  it("builds the same generation with and without helpers, and refuses the same", async () => {
    // a delta with patches: the payload read beside the patching, the tree built beside both
    const tail = "line of the data file\n".repeat(400);
    // with threads the new tree starts as a copy of the current one: a folder goes, a folder
    // becomes a file, a file becomes a folder, an executable becomes a plain file
    const a: AppSpec = {
      sequence: 1,
      files: {
        "lib/myapp/table.txt": `a\n${tail}`,
        "lib/gone/y.py": "Y = 1\n",
        "lib/myapp/sub/x.py": "X = 1\n",
        "lib/myapp/flat": "flat\n",
      },
    };
    const b: AppSpec = {
      sequence: 2,
      files: {
        "lib/myapp/table.txt": `b\n${tail}`,
        "lib/myapp/sub": "now a file\n",
        "lib/myapp/flat/z.py": "Z = 1\n",
        "bin/tool": "not executable now\n",
      },
    };
    const bytes = deltaBundle(key, a, b);
    expect(
      JSON.parse(new TextDecoder().decode(headerBytesOf(bytes))).patches.length,
    ).toBeGreaterThanOrEqual(1);
    const delta = bundleFile("ab.bundle", bytes);
    const trees: Map<string, string>[] = [];
    for (const threads of ["0", "1"]) {
      const root = path.join(dir, `dev-threads-${threads}`);
      const env = { SLIMENV_AGENT_THREADS: threads };
      const r1 = await agent(root, ["apply", bundleFile("a.bundle", fullBundle(key, a))], env);
      expect(r1.status, r1.stderr).toBe(0);
      // the patch source rotted on the device: refused while the payload is still read
      const src = appEnv(a).draft.files.find((f) => f.path === "lib/myapp/table.txt");
      const obj = path.join(
        root,
        "objects",
        src?.sha256.slice(0, 2) ?? "",
        src?.sha256.slice(2) ?? "",
      );
      const good = readFileSync(obj);
      chmodSync(obj, 0o644);
      writeFileSync(obj, `z\n${tail}`);
      const before = snapshot(root);
      const bad = await agent(root, ["apply", delta], env);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(new RegExp(`stored object ${src?.sha256} is corrupt`));
      expect(snapshot(root)).toEqual(before);
      expect(tmpLeft(root)).toEqual([]);
      writeFileSync(obj, good);
      chmodSync(obj, 0o444);
      const r2 = await agent(root, ["apply", "--json", delta], env);
      expect(r2.status, r2.stderr).toBe(0);
      expect(JSON.parse(r2.stdout).objectsAdded).toBeGreaterThan(0);
      expect(checkCurrent(root, "myapp")).toBe(2);
      expect(tmpLeft(root)).toEqual([]);
      await verifyClean(root);
      const gen = path.join(root, "apps/myapp/gens/2");
      expect(readdirSync(path.join(gen, "lib")).sort()).toEqual(["myapp"]);
      expect(readFileSync(path.join(gen, "lib/myapp/sub"), "utf8")).toBe("now a file\n");
      expect(readFileSync(path.join(gen, "lib/myapp/flat/z.py"), "utf8")).toBe("Z = 1\n");
      trees.push(snapshot(gen));
    }
    expect(trees[1]).toEqual(trees[0]);
    expect(trees[0]?.size).toBeGreaterThan(5);
  });

  it("applies trees checked entry by entry: a non-ASCII path, symlinks", async () => {
    const root = path.join(dir, "dev-slow-check");
    const spec: AppSpec = {
      sequence: 10,
      files: { "lib/myapp/caf\u00e9.py": "X = 1\n", "share/d\u00e9j\u00e0/notes.txt": "n\n" },
      symlinks: [
        { path: "lib64", target: "lib" },
        { path: "share/latest", target: "d\u00e9j\u00e0/notes.txt" },
      ],
    };
    const r = await agent(root, ["apply", bundleFile("nfc.bundle", fullBundle(key, spec))]);
    expect(r.status, r.stderr).toBe(0);
    const gen = path.join(root, "apps/myapp/current");
    expect(readFileSync(path.join(gen, "lib/myapp/caf\u00e9.py"), "utf8")).toBe("X = 1\n");
    expect(readFileSync(path.join(gen, "lib64/myapp/caf\u00e9.py"), "utf8")).toBe("X = 1\n");
    expect(readFileSync(path.join(gen, "share/latest"), "utf8")).toBe("n\n");
    await verifyClean(root);
  });
});
