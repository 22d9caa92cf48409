/**
 * The agent runs under every CPython of the machine from 3.8 to 3.13 with -I (and -I -S), imports
 * nothing outside the standard library, and older interpreters refuse with a clear message.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makePatch, patchCodec } from "../../src/bundle/bsdiff.ts";
import { PATCH_CODEC } from "../../src/bundle/compress.ts";
import { formatPublicKey, generateSigningKey } from "../../src/bundle/keys.ts";
import { writeBundle } from "../../src/bundle/wire.ts";
import {
  AGENT,
  appEnv,
  binDir,
  checkCurrent,
  deltaBundle,
  fullBundle,
  headerBytesOf,
  pythons,
  runAgent,
} from "./agent-helpers.ts";

const key = generateSigningKey();
let dir: string;
let bin: string;
let pub: string;
const all = pythons();
const supported = [...all].filter(
  ([v]) => Number(v.split(".")[1]) >= 8 && Number(v.split(".")[1]) <= 13,
);
const old = [...all].filter(([v]) => Number(v.split(".")[1]) < 8);

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "slimenv-pythons-"));
  bin = binDir(dir);
  pub = path.join(dir, "fleet.pub");
  writeFileSync(pub, formatPublicKey(key.publicKey));
  writeFileSync(path.join(dir, "v1.bundle"), fullBundle(key, { sequence: 100 }));
  writeFileSync(
    path.join(dir, "v2.bundle"),
    // a delta: its tree an sldiff against v1's, which the agent patches under every CPython
    deltaBundle(key, { sequence: 100 }, { sequence: 200, files: { "lib/myapp/x.py": "" } }),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// v1 (with a big module) → v3: a grown module patched with raw streams, a new module carried (x86 target: the
// payload is an x86 block of objects, then a plain block of patches).
const BIG = "lib/myapp/big.py";
const bigOld = Array.from({ length: 3000 }, (_, i) => `V${i} = ${i * 7}\n`).join("");
const bigNew = bigOld.replace("V1500 = ", "V1500 = 1 + ").concat("TAIL = True\n");
let rawDelta: string;
beforeAll(() => {
  const a = appEnv({ sequence: 100, files: { [BIG]: bigOld } });
  writeFileSync(
    path.join(dir, "v1-big.bundle"),
    fullBundle(key, { sequence: 100, files: { [BIG]: bigOld } }),
  );
  const b = appEnv({ sequence: 300, files: { [BIG]: bigNew, "lib/myapp/new.py": "NEW = 1\n" } });
  const src = a.draft.files.find((f) => f.path === BIG)?.sha256 as string;
  const dst = b.draft.files.find((f) => f.path === BIG)?.sha256 as string;
  const patch = makePatch(
    a.objects.get(src) as Uint8Array,
    b.objects.get(dst) as Uint8Array,
    PATCH_CODEC.raw,
  ) as Uint8Array;
  expect(patchCodec(patch)).toBe(PATCH_CODEC.raw);
  const objects = new Map([...b.objects].filter(([sha]) => !a.objects.has(sha) && sha !== dst));
  expect(objects.size).toBeGreaterThan(0);
  const base = { app: "myapp", sequence: 100, objects: "0".repeat(64) };
  rawDelta = path.join(dir, "v3-raw.bundle");
  writeFileSync(
    rawDelta,
    writeBundle(
      {
        manifest: { ...b.draft, base },
        objects,
        patches: [{ source: src, target: dst, data: patch }],
      },
      key,
    ).bytes,
  );
});

const STDLIB_ONLY = `
import importlib.util, json, os, sys, sysconfig
spec = importlib.util.spec_from_file_location("slimenv_agent", sys.argv[1])
agent = importlib.util.module_from_spec(spec)
spec.loader.exec_module(agent)
codes = [agent.main(["--root", sys.argv[2], "--key", sys.argv[3], "--json", "apply", sys.argv[4]]),
         agent.main(["--root", sys.argv[2], "--json", "status"])]
dirs = set(os.path.realpath(sysconfig.get_paths()[k]) for k in ("stdlib", "platstdlib"))
outside = []
for name, mod in sorted(sys.modules.items()):
    f = getattr(mod, "__file__", None)
    if not f or name == "slimenv_agent":
        continue
    real = os.path.realpath(f)
    if not any(real.startswith(d + os.sep) for d in dirs) or "site-packages" in real:
        outside.append(name + " " + real)
sys.stderr.write(json.dumps({"codes": codes, "outside": outside, "count": len(sys.modules)}) + "\\n")
`;

describe.each(supported)("CPython %s", (version, exe) => {
  it("applies, reports, rolls back, collects and verifies with -I", async () => {
    const root = path.join(dir, `device-${version}`);
    const run = (args: string[]) =>
      runAgent(["--root", root, "--key", pub, ...args], { pathDir: bin, python: exe });
    for (const args of [
      ["apply", path.join(dir, "v1.bundle")],
      ["apply", path.join(dir, "v2.bundle")],
      ["status", "--json"],
      ["verify"],
      ["rollback", "myapp"],
      ["gc"],
      ["verify"],
    ]) {
      const r = await run(args);
      expect(r.status, `${args[0]}: ${r.stderr}`).toBe(0);
    }
    expect(checkCurrent(root, "myapp")).toBe(100);
  });

  it("applies a delta of raw (codec 0) patches and objects in a two-block payload", async () => {
    const root = path.join(dir, `raw-${version}`);
    const run = (args: string[]) =>
      runAgent(["--root", root, "--key", pub, ...args], { pathDir: bin, python: exe });
    expect((await run(["apply", path.join(dir, "v1-big.bundle")])).status).toBe(0);
    const r = await run(["apply", rawDelta]);
    expect(r.status, r.stderr).toBe(0);
    expect(checkCurrent(root, "myapp")).toBe(300);
    expect(readFileSync(path.join(root, "apps/myapp/current", BIG), "utf8")).toBe(bigNew);
    expect((await run(["verify"])).status).toBe(0);
  });

  it("needs nothing outside the standard library (-I -S, empty PYTHONPATH)", () => {
    const root = path.join(dir, `stdlib-${version}`);
    const r = spawnSync(
      exe,
      ["-I", "-S", "-B", "-c", STDLIB_ONLY, AGENT, root, pub, path.join(dir, "v1.bundle")],
      {
        env: { PATH: `${bin}:/usr/bin:/bin`, PYTHONPATH: "" },
      },
    );
    const lines = r.stderr.toString().trim().split("\n");
    const report = JSON.parse(lines.at(-1) ?? "{}") as {
      codes: number[];
      outside: string[];
      count: number;
    };
    expect(report.codes, r.stderr.toString()).toEqual([0, 0]);
    expect(report.outside).toEqual([]);
    expect(report.count).toBeGreaterThan(20);
    expect(checkCurrent(root, "myapp")).toBe(100);
  });
});

it("applies gzip bundles, and refuses xz ones clearly, on a CPython built without lzma", () => {
  const py = pythons().get("3.11") as string;
  const gz = path.join(dir, "gz.bundle");
  const { draft, objects } = appEnv({ sequence: 100 });
  writeFileSync(gz, writeBundle({ manifest: draft, objects, compression: "gzip" }, key).bytes);
  const code = `
import importlib.util, sys
sys.modules["lzma"] = None  # as if CPython was built without _lzma
spec = importlib.util.spec_from_file_location("slimenv_agent", sys.argv[1])
agent = importlib.util.module_from_spec(spec)
spec.loader.exec_module(agent)
assert agent.lzma is None
base = ["--root", sys.argv[2], "--key", sys.argv[3], "apply"]
sys.exit(agent.main(base + [sys.argv[4]]) * 10 + agent.main(base + [sys.argv[5]]))
`;
  const root = path.join(dir, "no-lzma");
  const r = spawnSync(
    py,
    ["-I", "-B", "-c", code, AGENT, root, pub, gz, path.join(dir, "v2.bundle")],
    {
      env: { PATH: `${bin}:/usr/bin:/bin` },
    },
  );
  expect(r.status, r.stderr.toString()).toBe(1);
  expect(r.stderr.toString()).toMatch(
    /an xz payload or tree needs the lzma module, which this python3 lacks/,
  );
  expect(checkCurrent(root, "myapp")).toBe(100);
});

describe.each(old)("CPython %s (unsupported)", (_version, exe) => {
  it("refuses with a clear message", () => {
    const r = spawnSync(exe, ["-I", AGENT, "status"]);
    expect(r.status).toBe(1);
    expect(r.stderr.toString()).toMatch(
      /^slimenv-agent: needs CPython 3\.8 or newer \(this is 3\.\d\)\n$/,
    );
  });
});

it("tests a delta whose tree is an sldiff (v2.bundle)", () => {
  const header = Buffer.from(headerBytesOf(readFileSync(path.join(dir, "v2.bundle"))));
  expect(JSON.parse(header.toString()).tree.encoding).toBe("sldiff");
});

it("found CPython 3.8 to 3.13 on this machine", () => {
  const minors = supported
    .map(([v]) => v)
    .sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]));
  expect(minors).toEqual(["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]);
});
