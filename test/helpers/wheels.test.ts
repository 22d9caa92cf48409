/**
 * Tests of the wheel and sdist builders used by every index/install test: the bytes are real
 * archives that Python's zipfile/tarfile and pip accept, RECORD is right, and the tamper
 * hooks do what they say.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { unzipSync } from "fflate";
import { afterAll, describe, expect, it } from "vitest";
import { parseMetadata } from "../../src/standards/metadata.ts";
import { parseRecord, verifyRecordHash } from "../../src/standards/record.ts";
import { parseSdistFilename } from "../../src/standards/sdist-filename.ts";
import { parseWheelFile } from "../../src/standards/wheel-file.ts";
import { parseWheelFilename } from "../../src/standards/wheel-filename.ts";
import { buildSdist, buildWheel, sha256Hex, writeWheelDir } from "./wheels.ts";

const PYTHON = process.env.SLIMENV_TEST_PYTHON ?? "python3";
const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});
function temp(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "slimenv-wheels-test-"));
  temps.push(dir);
  return dir;
}

function runPython(script: string, input: unknown, args: string[] = []): unknown {
  const out = spawnSync(PYTHON, ["-c", script, ...args], {
    input: JSON.stringify(input),
    encoding: "utf8",
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
  });
  if (out.status !== 0) throw new Error(`python failed (${out.status}): ${out.stderr}`);
  return JSON.parse(out.stdout);
}

const decoder = new TextDecoder();

const app = buildWheel({
  name: "Demo.App",
  version: "1.2.0",
  files: {
    "demo_app/__init__.py": 'def main():\n    print("demo")\n',
    "demo_app/tool.sh": "#!/bin/sh\necho tool\n",
    "demo_app/data.bin": new Uint8Array([0, 1, 2, 255]),
    "demo_app-1.2.0.data/scripts/demo-script": "#!/bin/sh\necho script\n",
  },
  executable: ["demo_app/tool.sh"],
  requiresDist: ["requests>=2", 'rich; extra == "fancy"'],
  requiresPython: ">=3.8",
  extras: ["fancy"],
  metadataExtra: "Author: Tester\nKeywords: a,b",
  entryPoints: "[console_scripts]\ndemo-app = demo_app:main\n",
});
const plain = buildWheel({ name: "plain", version: "0.1" });
const native = buildWheel({
  name: "native",
  version: "2.0",
  tags: "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
  build: "3abc",
  level: 0,
});

describe("buildWheel", () => {
  it("names the wheel as the specification says", () => {
    expect(app.filename).toBe("demo_app-1.2.0-py3-none-any.whl");
    expect(plain.filename).toBe("plain-0.1-py3-none-any.whl");
    expect(native.filename).toBe(
      "native-2.0-3abc-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    );
    const parsed = parseWheelFilename(native.filename);
    expect(parsed.build).toEqual([3, "abc"]);
    expect(parsed.tags.map(String)).toContain("cp311-cp311-manylinux_2_17_x86_64");
    expect(app.distInfo).toBe("demo_app-1.2.0.dist-info");
  });

  it("is deterministic, and sha256 is of the bytes", () => {
    const again = buildWheel({
      name: "Demo.App",
      version: "1.2.0",
      files: {
        "demo_app/__init__.py": 'def main():\n    print("demo")\n',
        "demo_app/tool.sh": "#!/bin/sh\necho tool\n",
        "demo_app/data.bin": new Uint8Array([0, 1, 2, 255]),
        "demo_app-1.2.0.data/scripts/demo-script": "#!/bin/sh\necho script\n",
      },
      executable: ["demo_app/tool.sh"],
      requiresDist: ["requests>=2", 'rich; extra == "fancy"'],
      requiresPython: ">=3.8",
      extras: ["fancy"],
      metadataExtra: "Author: Tester\nKeywords: a,b",
      entryPoints: "[console_scripts]\ndemo-app = demo_app:main\n",
    });
    expect(Buffer.from(again.bytes).equals(Buffer.from(app.bytes))).toBe(true);
    expect(app.sha256).toBe(sha256Hex(app.bytes));
    expect(buildWheel({ name: "plain", version: "0.2" }).sha256).not.toBe(plain.sha256);
  });

  it("holds METADATA, WHEEL and a RECORD that verifies (slimenv's parsers, fflate's reader)", () => {
    for (const w of [app, plain, native]) {
      const files = unzipSync(w.bytes);
      const names = Object.keys(files);
      expect(names.at(-1)).toBe(`${w.distInfo}/RECORD`);
      const record = parseRecord(decoder.decode(files[`${w.distInfo}/RECORD`]));
      expect(record.map((e) => e.path).sort()).toEqual([...names].sort());
      for (const entry of record) {
        const bytes = files[entry.path];
        if (bytes === undefined) throw new Error(`missing ${entry.path}`);
        if (entry.path.endsWith("/RECORD")) {
          expect(entry.hash).toBeUndefined();
          continue;
        }
        expect(entry.size).toBe(bytes.length);
        expect(entry.hash && verifyRecordHash(bytes, entry.hash)).toBe(true);
      }
      expect(decoder.decode(files[`${w.distInfo}/METADATA`])).toBe(w.metadata);
    }
    const meta = parseMetadata(app.metadata);
    expect(meta.name).toBe("Demo.App");
    expect(meta.version).toBe("1.2.0");
    expect(meta.requiresDist).toEqual(["requests>=2", 'rich; extra == "fancy"']);
    expect(meta.requiresPython).toBe(">=3.8");
    expect(meta.providesExtra).toEqual(["fancy"]);
    const wheel = parseWheelFile(
      decoder.decode(unzipSync(native.bytes)[`${native.distInfo}/WHEEL`]),
    );
    expect(wheel.rootIsPurelib).toBe(false);
    expect(wheel.build).toBe("3abc");
    expect([...wheel.tags].sort()).toEqual([
      "cp311-cp311-manylinux2014_x86_64",
      "cp311-cp311-manylinux_2_17_x86_64",
    ]);
  });

  it("tamper: extra entries outside RECORD, rewritten RECORD, omitted files, no RECORD", () => {
    const evil = buildWheel({
      name: "evil",
      version: "1.0",
      tamper: {
        extraEntries: [
          { path: "../evil.py", data: "boom" },
          { path: "evil/listed.py", data: "x", inRecord: true },
        ],
        omitFromRecord: ["evil/__init__.py"],
        recordOverride: (r) => r.replace(/^(evil-1\.0\.dist-info\/WHEEL,sha256=)./m, "$1A"),
        filename: "evil-1.0-py3-none-any.whl",
      },
    });
    const files = unzipSync(evil.bytes);
    expect(Object.keys(files)).toContain("../evil.py");
    const record = parseRecord(evil.record ?? "");
    const paths = record.map((e) => e.path);
    expect(paths).not.toContain("../evil.py");
    expect(paths).not.toContain("evil/__init__.py");
    expect(paths).toContain("evil/listed.py");
    const wheelEntry = record.find((e) => e.path.endsWith("/WHEEL"));
    const wheelBytes = files["evil-1.0.dist-info/WHEEL"];
    if (wheelEntry?.hash === undefined || wheelBytes === undefined) throw new Error("no WHEEL");
    expect(verifyRecordHash(wheelBytes, wheelEntry.hash)).toBe(false);
    expect(decoder.decode(files["evil-1.0.dist-info/RECORD"])).toBe(evil.record);

    const noRecord = buildWheel({ name: "norec", version: "1", omitRecord: true });
    expect(Object.keys(unzipSync(noRecord.bytes))).not.toContain("norec-1.dist-info/RECORD");
    expect(noRecord.record).toBeUndefined();
    const fixed = buildWheel({ name: "x", version: "1", tamper: { recordOverride: "junk" } });
    expect(fixed.record).toBe("junk");
  });

  it("Python's zipfile reads them: CRCs, dates, modes, RECORD hashes and sizes", () => {
    const dir = writeWheelDir([app, plain, native]);
    temps.push(dir);
    const script = `
import base64, csv, hashlib, io, json, sys, zipfile, email.parser
out = {}
for f in json.load(sys.stdin):
    z = zipfile.ZipFile(f)
    bad = z.testzip()
    infos = z.infolist()
    rec_name = [n for n in z.namelist() if n.endswith(".dist-info/RECORD")][0]
    rows = list(csv.reader(io.StringIO(z.read(rec_name).decode())))
    problems = []
    for path, h, size in rows:
        if path == rec_name:
            continue
        data = z.read(path)
        algo, digest = h.split("=", 1)
        want = base64.urlsafe_b64encode(hashlib.new(algo, data).digest()).rstrip(b"=").decode()
        if digest != want or int(size) != len(data):
            problems.append(path)
    meta = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")][0]
    msg = email.parser.Parser().parsestr(z.read(meta).decode())
    out[f.rsplit("/", 1)[1]] = {
        "bad": bad, "problems": problems, "count": len(rows), "names": z.namelist(),
        "dates": sorted({i.date_time for i in infos}),
        "modes": {i.filename: (i.external_attr >> 16) for i in infos},
        "stored": [i.filename for i in infos if i.compress_type == zipfile.ZIP_STORED],
        "name": msg["Name"], "version": msg["Version"],
        "requires": msg.get_all("Requires-Dist") or [],
    }
print(json.dumps(out))
`;
    const got = runPython(
      script,
      [app, plain, native].map((w) => path.join(dir, w.filename)),
    ) as Record<string, Record<string, unknown>>;
    for (const w of [app, plain, native]) {
      const r = got[w.filename];
      expect(r?.bad).toBeNull();
      expect(r?.problems).toEqual([]);
      expect(r?.dates).toEqual([[2020, 1, 1, 12, 0, 0]]);
    }
    expect(got[app.filename]?.name).toBe("Demo.App");
    expect(got[app.filename]?.requires).toEqual(["requests>=2", 'rich; extra == "fancy"']);
    const modes = got[app.filename]?.modes as Record<string, number>;
    expect(modes["demo_app/tool.sh"]).toBe(0o100755);
    expect(modes["demo_app/__init__.py"]).toBe(0o100644);
    expect(got[native.filename]?.stored).toHaveLength(4);
    expect(got[app.filename]?.stored).toEqual([]);
  });

  it("pip installs them (--no-deps --no-index --target), scripts and modes included", () => {
    const dir = writeWheelDir([app, plain]);
    temps.push(dir);
    const target = temp();
    const pip = spawnSync(
      PYTHON,
      [
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
        "--no-deps",
        "--no-index",
        "--no-compile",
        "--root-user-action=ignore",
        "--target",
        target,
        path.join(dir, app.filename),
        path.join(dir, plain.filename),
      ],
      { encoding: "utf8", env: { ...process.env, PIP_CONFIG_FILE: "/dev/null" } },
    );
    expect(pip.stderr).toBe("");
    expect(pip.status).toBe(0);
    expect(statSync(path.join(target, "demo_app/tool.sh")).mode & 0o777).toBe(0o755);
    expect(readFileSync(path.join(target, "bin/demo-script"), "utf8")).toContain("echo script");
    expect(readFileSync(path.join(target, "bin/demo-app"), "utf8")).toContain("demo_app");
    const run = spawnSync(
      PYTHON,
      [
        "-c",
        "import sys; sys.path.insert(0, sys.argv[1]); import plain, demo_app; from importlib.metadata import version; print(plain.__version__, version('demo-app'))",
        target,
      ],
      { encoding: "utf8" },
    );
    expect(run.stderr).toBe("");
    expect(run.stdout.trim()).toBe("0.1 1.2.0");
  });
});

describe("buildSdist", () => {
  it("is a deterministic .tar.gz with PKG-INFO that Python's tarfile reads", () => {
    const a = buildSdist({ name: "My_Lib", version: "1.0", requiresDist: ["six"] });
    const b = buildSdist({ name: "My_Lib", version: "1.0", requiresDist: ["six"] });
    expect(a.filename).toBe("my_lib-1.0.tar.gz");
    expect(parseSdistFilename(a.filename).name).toBe("my-lib");
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    expect(a.sha256).toBe(sha256Hex(a.bytes));
    const long = `${"d".repeat(90)}/${"f".repeat(60)}.py`;
    const c = buildSdist({ name: "long", version: "2", files: { [long]: "x = 1\n" } });
    const dir = writeWheelDir([a, c]);
    temps.push(dir);
    const got = runPython(
      `
import json, sys, tarfile
out = []
for f in json.load(sys.stdin):
    with tarfile.open(f, "r:gz") as t:
        members = t.getmembers()
        pkg = [m for m in members if m.name.endswith("/PKG-INFO")][0]
        out.append({"names": [m.name for m in members],
                    "pkginfo": t.extractfile(pkg).read().decode(),
                    "mtimes": sorted({m.mtime for m in members})})
print(json.dumps(out))
`,
      [path.join(dir, a.filename), path.join(dir, c.filename)],
    ) as { names: string[]; pkginfo: string; mtimes: number[] }[];
    expect(got[0]?.names).toEqual([
      "my_lib-1.0",
      "my_lib-1.0/PKG-INFO",
      "my_lib-1.0/pyproject.toml",
      "my_lib-1.0/my_lib",
      "my_lib-1.0/my_lib/__init__.py",
    ]);
    expect(got[0]?.pkginfo).toBe(a.metadata);
    expect(got[0]?.mtimes).toEqual([1577880000]);
    expect(got[1]?.names).toContain(`long-2/${long}`);
    expect(parseMetadata(a.metadata).requiresDist).toEqual(["six"]);
  });
});

describe("writeWheelDir", () => {
  it("writes each file under its filename, into a given or fresh folder", () => {
    const dir = writeWheelDir([plain]);
    temps.push(dir);
    expect(readFileSync(path.join(dir, plain.filename)).equals(Buffer.from(plain.bytes))).toBe(
      true,
    );
    const given = path.join(temp(), "nested", "links");
    expect(writeWheelDir([app], given)).toBe(given);
    expect(statSync(path.join(given, app.filename)).size).toBe(app.bytes.length);
  });
});
