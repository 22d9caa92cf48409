import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { isSlimenvError } from "../../src/base/index.ts";
import { Store } from "../../src/store/store.ts";
import { GCC, itWith } from "../helpers/prereq.ts";
import { type BuiltWheel, buildWheel } from "../helpers/wheels.ts";
import { filesUnder, tableCounts, tempDir, tempStore } from "./fixtures.ts";

const sha = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");

const DATA = "x".repeat(1000);
const demo1 = buildWheel({
  name: "demo",
  version: "1.0",
  files: {
    "demo/__init__.py": "print('one')\n",
    "demo/data.txt": DATA,
    "demo/tool.sh": DATA,
    "demo-1.0.data/scripts/demo-tool": "#!python\nprint('tool')\n",
  },
  executable: ["demo/tool.sh", "demo-1.0.data/scripts/demo-tool"],
});
const demo2 = buildWheel({
  name: "demo",
  version: "2.0",
  files: { "demo/__init__.py": "print('two')\n", "demo/data.txt": DATA },
});
const other = buildWheel({
  name: "other",
  version: "1.0",
  files: { "other/__init__.py": "print('one')\n" },
});

/** Files of a built wheel by an independent reader: [path, sha256, exec, size]. */
function filesOf(w: BuiltWheel, exec: readonly string[] = []): [string, string, boolean, number][] {
  return Object.entries(unzipSync(w.bytes))
    .filter(([p]) => !p.endsWith("/"))
    .map(([p, b]) => [p, sha(b), exec.includes(p), b.length]);
}

async function rejection(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    if (isSlimenvError(err)) return err;
    throw err;
  }
  throw new Error("expected a rejection");
}

describe("importWheel", () => {
  it("stores every file as a read-only object named by its sha256, and registers the wheel", async () => {
    const store = tempStore();
    const w = await store.importWheel({ bytes: demo1.bytes }, { filename: demo1.filename });
    expect(w.sha256).toBe(demo1.sha256);
    expect(w).toMatchObject({ name: "demo", version: "1.0", tags: ["py3-none-any"] });
    expect(w.rootIsPurelib).toBe(true);
    expect(w.record).toBe(demo1.record);
    const expected = filesOf(demo1, ["demo/tool.sh", "demo-1.0.data/scripts/demo-tool"]);
    expect(w.files.map((f) => [f.path, f.hash, f.exec, f.size])).toEqual(expected);
    for (const f of w.files) {
      const p = store.objectPath(f.hash, f.exec);
      expect(p).toBe(
        path.join(
          store.root,
          "objects",
          f.hash.slice(0, 2),
          f.hash.slice(2) + (f.exec ? ".x" : ""),
        ),
      );
      const st = statSync(p);
      expect(st.mode & 0o777).toBe(f.exec ? 0o555 : 0o444);
      expect(sha(readFileSync(p))).toBe(f.hash);
    }
    expect(filesUnder(path.join(store.root, "tmp"))).toEqual([]);
    expect(store.findWheel(demo1.sha256)).toEqual(w);
    expect(store.findWheel(demo1.sha256.toUpperCase())).toEqual(w);
    expect(store.findWheel("0".repeat(64))).toBeUndefined();
  });

  it("keeps the same bytes with and without the executable bit as two objects (twins)", async () => {
    const store = tempStore();
    const w = await store.importWheel({ bytes: demo1.bytes }, { filename: demo1.filename });
    const data = w.files.find((f) => f.path === "demo/data.txt");
    const tool = w.files.find((f) => f.path === "demo/tool.sh");
    expect(data?.hash).toBe(sha(DATA));
    expect(tool?.hash).toBe(sha(DATA));
    expect([data?.exec, tool?.exec]).toEqual([false, true]);
    const plain = store.objectPath(sha(DATA), false);
    const x = store.objectPath(sha(DATA), true);
    expect(x).toBe(`${plain}.x`);
    expect(lstatSync(plain).ino).not.toBe(lstatSync(x).ino);
    expect(statSync(x).mode & 0o777).toBe(0o555);
  });

  it("dedupes across wheels and versions; status figures are exact", async () => {
    const store = tempStore();
    for (const w of [demo1, demo2, other]) {
      await store.importWheel({ bytes: w.bytes }, { filename: w.filename });
    }
    const all = [
      ...filesOf(demo1, ["demo/tool.sh", "demo-1.0.data/scripts/demo-tool"]).map(
        (f) => ["demo", ...f] as const,
      ),
      ...filesOf(demo2).map((f) => ["demo", ...f] as const),
      ...filesOf(other).map((f) => ["other", ...f] as const),
    ];
    const logical = all.reduce((n, f) => n + f[4], 0);
    const distinct = new Map(all.map((f) => [`${f[2]}:${f[3]}`, f[4]]));
    const unique = [...distinct.values()].reduce((n, s) => n + s, 0);
    // Shared between demo 1.0 and 2.0: data.txt (1000 bytes) and the identical WHEEL file.
    const wheelFileSize = filesOf(demo1).find((f) => f[0] === "demo-1.0.dist-info/WHEEL")?.[3] ?? 0;
    const status = store.status();
    expect(status).toMatchObject({
      objects: distinct.size,
      wheels: 3,
      envs: 0,
      logicalBytes: logical,
      uniqueBytes: unique,
      apparentBytes: unique,
      savedByDedupe: logical - unique,
      savedAcrossVersions: 1000 + wheelFileSize,
    });
    // hand-checked: demo/__init__.py of demo 1.0 and other/__init__.py share one object
    expect(distinct.has(`${sha("print('one')\n")}:false`)).toBe(true);
    expect(status.diskBytes).toBeGreaterThanOrEqual(0);
    expect(filesUnder(path.join(store.root, "objects")).filter((p) => p.includes("/")).length).toBe(
      distinct.size,
    );
  });

  it("is idempotent and also imports from a file path", async () => {
    const store = tempStore();
    const dir = tempDir();
    const file = path.join(dir, demo2.filename);
    writeFileSync(file, demo2.bytes);
    const a = await store.importWheel({ path: file }, { filename: demo2.filename });
    const before = tableCounts(store.root);
    const b = await store.importWheel({ bytes: demo2.bytes }, { filename: demo2.filename });
    const c = await store.importWheel(
      { path: file },
      { filename: demo2.filename, sha256: demo2.sha256 },
    );
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(tableCounts(store.root)).toEqual(before);
  });

  it("checks the expected sha256 before anything else", async () => {
    const store = tempStore();
    const err = await rejection(
      store.importWheel({ bytes: demo1.bytes }, { filename: demo1.filename, sha256: demo2.sha256 }),
    );
    expect(err.code).toBe("HASH_MISMATCH");
    expect(err.message).toContain(demo1.filename);
    expect(err.message).toContain(demo2.sha256);
    expect(filesUnder(path.join(store.root, "objects"))).toEqual([]);
    expect(tableCounts(store.root).wheels).toBe(0);
  });

  it("refuses a bad filename with INVALID_WHEEL_FILENAME", async () => {
    const store = tempStore();
    const err = await rejection(
      store.importWheel({ bytes: demo1.bytes }, { filename: "demo.zip" }),
    );
    expect(err.code).toBe("INVALID_WHEEL_FILENAME");
  });

  it("reopens an existing store and sees its wheels", async () => {
    const store = tempStore();
    await store.importWheel({ bytes: other.bytes }, { filename: other.filename });
    store.close();
    const again = Store.open({ root: store.root });
    try {
      expect(again.findWheel(other.sha256)?.filename).toBe(other.filename);
      expect((await again.verify()).ok).toBe(true);
    } finally {
      again.close();
    }
  });

  it("builds per-wheel trees of hard links atomically, once", async () => {
    const store = tempStore();
    const w = await store.importWheel({ bytes: demo1.bytes }, { filename: demo1.filename });
    const tree = await store.wheelTree(w);
    expect(tree).toBe(path.join(store.root, "trees", w.sha256));
    expect(filesUnder(tree).filter((p) => !statSync(path.join(tree, p)).isDirectory())).toEqual(
      w.files.map((f) => f.path).sort(),
    );
    for (const f of w.files) {
      expect(lstatSync(path.join(tree, f.path)).ino).toBe(
        lstatSync(store.objectPath(f.hash, f.exec)).ino,
      );
    }
    expect(await store.wheelTree(w)).toBe(tree);
    expect(filesUnder(path.join(store.root, "tmp"))).toEqual([]);
  });

  it("registers and unregisters envs", async () => {
    const store = tempStore();
    const w = await store.importWheel({ bytes: demo2.bytes }, { filename: demo2.filename });
    const env = tempDir();
    store.registerEnv(env, [w], path.join(env, "manifest.json"));
    store.registerEnv(env, [w], path.join(env, "manifest.json"));
    expect(store.status().envs).toBe(1);
    expect(tableCounts(store.root).env_wheels).toBe(1);
    const missing = { ...w, sha256: "f".repeat(64) };
    expect(() => store.registerEnv(env, [missing], path.join(env, "m"))).toThrow(
      /not in the store/,
    );
    store.unregisterEnv(env);
    expect(tableCounts(store.root)).toMatchObject({ envs: 0, env_wheels: 0 });
  });

  it("uses $SLIMENV_HOME/store/v1 by default", () => {
    const home = tempDir();
    const store = Store.open({ env: { SLIMENV_HOME: home } });
    try {
      expect(store.root).toBe(path.join(home, "store", "v1"));
      for (const d of ["objects", "tmp", "trees", "index.sqlite"]) {
        expect(existsSync(path.join(store.root, d))).toBe(true);
      }
    } finally {
      store.close();
    }
  });

  itWith(GCC)("keeps a C extension's bytes and executable bit", async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "ext.c"), "int answer(void) { return 42; }\n");
    const so = path.join(dir, "_ext.cpython-312-x86_64-linux-gnu.so");
    execFileSync("gcc", ["-shared", "-fPIC", "-O1", "-o", so, path.join(dir, "ext.c")]);
    const bytes = new Uint8Array(readFileSync(so));
    const wheel = buildWheel({
      name: "cext",
      version: "0.1",
      tags: "cp312-cp312-linux_x86_64",
      files: { "cext/__init__.py": "", "cext/_ext.cpython-312-x86_64-linux-gnu.so": bytes },
      executable: ["cext/_ext.cpython-312-x86_64-linux-gnu.so"],
    });
    const store = tempStore();
    const w = await store.importWheel({ bytes: wheel.bytes }, { filename: wheel.filename });
    expect(w.rootIsPurelib).toBe(false);
    const f = w.files.find((x) => x.path.endsWith(".so"));
    expect(f).toMatchObject({ exec: true, size: bytes.length, hash: sha(bytes) });
    const obj = store.objectPath(sha(bytes), true);
    expect(statSync(obj).mode & 0o777).toBe(0o555);
    const stored = readFileSync(obj);
    expect(stored.subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    expect(Buffer.compare(stored, Buffer.from(bytes))).toBe(0);
    const nm = execFileSync("nm", ["-D", obj], { encoding: "utf8" });
    expect(nm).toMatch(/ T answer/);
  });
});

describe("store bookkeeping", () => {
  it("writes last use and download URLs once, on close (or before a reader needs them)", async () => {
    let clock = 1000;
    const root = path.join(tempDir(), "store");
    const store = Store.open({ root, now: () => clock });
    await store.importWheel({ bytes: demo1.bytes }, { filename: demo1.filename });
    await store.importWheel({ bytes: other.bytes }, { filename: other.filename });
    const rows = () => {
      const db = new DatabaseSync(path.join(root, "index.sqlite"), { readOnly: true });
      try {
        return db.prepare("SELECT sha256, last_used, url FROM wheels ORDER BY sha256").all();
      } finally {
        db.close();
      }
    };
    const before = rows();
    clock = 5000;
    expect(store.findWheel(demo1.sha256)?.name).toBe("demo");
    store.rememberUrl(demo1.sha256, "https://files.example/demo-1.0-py3-none-any.whl");
    store.rememberUrl(demo1.sha256, "https://elsewhere.example/demo.whl");
    store.rememberUrl("f".repeat(64), "https://files.example/unknown.whl");
    // nothing written yet: no write transaction per wheel
    expect(rows()).toEqual(before);
    store.close();
    const after = rows() as { sha256: string; last_used: number; url: string | null }[];
    const demo = after.find((r) => r.sha256 === demo1.sha256);
    expect(demo).toMatchObject({
      last_used: 5000,
      url: "https://files.example/demo-1.0-py3-none-any.whl",
    });
    expect(after.find((r) => r.sha256 === other.sha256)).toMatchObject({
      last_used: 1000,
      url: null,
    });
    expect(after).toHaveLength(2);
  });

  it("prune sees the last uses not written yet", async () => {
    let clock = 1000;
    const store = tempStore({ now: () => clock });
    await store.importWheel({ bytes: demo1.bytes }, { filename: demo1.filename });
    clock = 2000;
    await store.importWheel({ bytes: other.bytes }, { filename: other.filename });
    clock = 3000;
    store.findWheel(demo1.sha256); // demo is now the most recently used
    const report = store.prune({ maxSize: 1, dryRun: true });
    // least recently used first
    expect(report.wheelsEvicted.map((w) => w.filename)).toEqual([other.filename, demo1.filename]);
  });
});
