import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Store } from "../../src/store/store.ts";
import { Rng } from "../helpers/random.ts";
import { type BuiltWheel, buildWheel } from "../helpers/wheels.ts";
import { tempDir } from "./fixtures.ts";

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), "import-worker.ts");

function run(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ["--no-warnings", WORKER, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function finished(child: ChildProcess): Promise<{ code: number | null; out: string; err: string }> {
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    err += d;
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, out, err })));
}

/** Wheels sharing files: wheel i holds shared files and files of its own. */
function wheelSet(count: number, filesEach: number, seed: number): BuiltWheel[] {
  const rng = new Rng(seed);
  const blob = (n: number) => {
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(97 + rng.int(26));
    return s;
  };
  const shared = Array.from({ length: filesEach }, () => blob(1500));
  return Array.from({ length: count }, (_, i) => {
    const files: Record<string, string> = { [`p${i}/__init__.py`]: "" };
    for (let j = 0; j < filesEach; j++) {
      files[`p${i}/s${j}.py`] = shared[(i + j) % shared.length] as string;
      files[`p${i}/own${j}.py`] = blob(1500);
    }
    return buildWheel({ name: `p${i}`, version: "1.0", files });
  });
}

function writeWheels(wheels: BuiltWheel[]): string[] {
  const dir = tempDir();
  return wheels.map((w) => {
    const file = path.join(dir, w.filename);
    writeFileSync(file, w.bytes);
    return file;
  });
}

async function expectComplete(root: string, wheels: BuiltWheel[]) {
  const store = Store.open({ root, orphanGraceMs: 0 });
  try {
    expect(readdirSync(path.join(root, "tmp"))).toEqual([]);
    const report = await store.verify();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    for (const w of wheels) {
      const stored = store.findWheel(w.sha256);
      expect(stored?.files.length, w.filename).toBeGreaterThan(3);
    }
    return store.status();
  } finally {
    store.close();
  }
}

describe("many processes, one store", () => {
  it("6 processes importing overlapping wheels at once leave a clean, complete store", async () => {
    const wheels = wheelSet(8, 40, 7);
    const files = writeWheels(wheels);
    const root = path.join(tempDir(), "store");
    const rng = new Rng(11);
    const children = Array.from({ length: 6 }, (_, k) => {
      const order = files.filter((_, i) => (i + k) % 3 !== 0).sort(() => rng.next() - 0.5);
      return finished(run([root, ...order]));
    });
    const results = await Promise.all(children);
    for (const r of results) expect(r.code, r.err).toBe(0);
    const status = await expectComplete(root, wheels);
    expect(status.wheels).toBe(8);
    expect(status.apparentBytes).toBe(status.uniqueBytes);
  });

  it("kill -9 in the middle of imports leaves a store that opens clean and imports again", async () => {
    const wheels = wheelSet(6, 150, 99);
    const files = writeWheels(wheels);
    const root = path.join(tempDir(), "store");
    const rng = new Rng(5);
    let killedMidImport = 0;
    for (let round = 0; round < 6; round++) {
      const child = run([root, ...files.slice(round % 3)], { SLIMENV_TEST_LOOP: "1" });
      const done = finished(child);
      await new Promise<void>((resolve) => {
        child.stdout?.on("data", (d: Buffer) => {
          if (d.toString().includes("start")) resolve();
        });
      });
      await new Promise((r) => setTimeout(r, 5 + rng.next() * 120));
      child.kill("SIGKILL");
      const r = await done;
      expect(r.code).toBe(null);
      if (readdirSync(path.join(root, "tmp")).length > 0) killedMidImport++;
    }
    // the kills did land while a wheel was being unpacked (temp files left behind)
    expect(killedMidImport).toBeGreaterThan(0);
    const store = Store.open({ root, orphanGraceMs: 0 });
    try {
      expect(readdirSync(path.join(root, "tmp"))).toEqual([]);
      const report = await store.verify();
      expect(report.problems).toEqual([]);
      for (const file of files) {
        await store.importWheel({ path: file }, { filename: path.basename(file) });
      }
    } finally {
      store.close();
    }
    await expectComplete(root, wheels);
  });

  it("kill -9 while wheels are unpacked on worker threads leaves no object that fails verification", async () => {
    const rng = new Rng(21);
    const noise = (n: number) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = rng.int(256);
      return out;
    };
    // big incompressible files, so a kill often lands while one is being written
    const wheels = Array.from({ length: 4 }, (_, w) => {
      const files: Record<string, Uint8Array | string> = { [`u${w}/__init__.py`]: "" };
      for (let j = 0; j < 60; j++) files[`u${w}/f${j}.bin`] = noise(20_000);
      files[`u${w}/big.bin`] = noise(6 * 1024 * 1024);
      return buildWheel({ name: `u${w}`, version: "1.0", files, level: 1 });
    });
    const files = writeWheels(wheels);
    let midUnpack = 0;
    let withObjects = 0;
    /** Starts the import; resolves once it says "start", with its end (exit) promise. */
    const started = async (root: string) => {
      const child = run([root, ...files]);
      const done = finished(child);
      await new Promise<void>((resolve) => {
        child.stdout?.on("data", (d: Buffer) => {
          if (d.toString().includes("start")) resolve();
        });
      });
      return { child, done };
    };
    // how long a whole import takes on this machine, now: the kills are spread over it (a fixed
    // span missed the unpacking on a loaded machine)
    const t0 = Date.now();
    await (await started(path.join(tempDir(), "store"))).done;
    const span = Math.max(100, Date.now() - t0);
    for (
      let round = 0;
      round < 6 || (round < 18 && (midUnpack === 0 || withObjects === 0));
      round++
    ) {
      const root = path.join(tempDir(), "store");
      const { child, done } = await started(root);
      const at = ((round % 6) + 0.25 + 0.5 * rng.next()) / 6; // a sixth of the span each
      await new Promise((r) => setTimeout(r, at * span));
      child.kill("SIGKILL");
      await done;
      const imports = readdirSync(path.join(root, "tmp")).filter((n) => n.endsWith(".import"));
      if (imports.some((n) => readdirSync(path.join(root, "tmp", n)).length > 0)) midUnpack++;
      // every object on disk, registered or not, holds exactly the bytes its name says
      const objects = path.join(root, "objects");
      const names = (readdirSync(objects, { recursive: true }) as string[]).filter((f) =>
        statSync(path.join(objects, f)).isFile(),
      );
      if (names.length > 0) withObjects++;
      for (const f of names) {
        const bytes = readFileSync(path.join(objects, f));
        expect(createHash("sha256").update(bytes).digest("hex"), f).toBe(
          f.replace("/", "").replace(/\.x$/, ""),
        );
        expect(statSync(path.join(objects, f)).mode & 0o222).toBe(0);
      }
      const store = Store.open({ root, orphanGraceMs: 0 });
      try {
        expect((await store.verify()).problems).toEqual([]);
      } finally {
        store.close();
      }
    }
    // the kills landed while temp files were being written, and after objects were made
    expect(midUnpack).toBeGreaterThan(0);
    expect(withObjects).toBeGreaterThan(0);
  });
});
