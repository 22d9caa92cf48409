import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isSlimenvError, RecordingReporter } from "../../src/base/index.ts";
import { formatRecordHash, recordHash } from "../../src/standards/record.ts";
import { type HostileRule, HostileWheelError } from "../../src/store/hostile.ts";
import type { Store } from "../../src/store/store.ts";
import type { WheelLimits } from "../../src/store/types.ts";
import { buildWheel, type WheelSpec } from "../helpers/wheels.ts";
import { filesUnder, tableCounts, tempStore } from "./fixtures.ts";
import {
  centralFields,
  dropCentralEntry,
  editEntry,
  findHeaders,
  moveCentralLast,
  renameEntry,
  setPlainCount,
  toZip64,
} from "./zip-edit.ts";

const base = (spec: Partial<WheelSpec> = {}): WheelSpec => ({
  name: "demo",
  version: "1.0",
  files: { "demo/__init__.py": "x = 1\n", "demo/a.py": "a = 1\n" },
  ...spec,
});

function wheel(spec: Partial<WheelSpec> = {}) {
  return buildWheel(base(spec));
}

async function refused(
  bytes: Uint8Array,
  filename: string,
  rule: HostileRule,
  limits: Partial<WheelLimits> = {},
  store: Store = tempStore({ limits }),
): Promise<HostileWheelError> {
  let err: unknown;
  try {
    await store.importWheel({ bytes }, { filename });
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${rule}`).toBeInstanceOf(HostileWheelError);
  const e = err as HostileWheelError;
  expect(isSlimenvError(e, "HOSTILE_WHEEL")).toBe(true);
  expect(e.rule).toBe(rule);
  expect(e.message).toContain(filename);
  expect(e.message).toContain(rule);
  // nothing visible: no object, no row, no temp left
  expect(filesUnder(path.join(store.root, "objects"))).toEqual([]);
  expect(filesUnder(path.join(store.root, "tmp"))).toEqual([]);
  expect(tableCounts(store.root)).toMatchObject({ wheels: 0, wheel_files: 0, objects: 0 });
  return e;
}

const FN = "demo-1.0-py3-none-any.whl";

describe("hostile wheels are refused and leave nothing behind", () => {
  const pathCases: [string, HostileRule][] = [
    ["/etc/evil.py", "absolute-path"],
    ["../evil.py", "parent-component"],
    ["demo/../../evil.py", "parent-component"],
    ["demo\\evil.py", "backslash-or-drive"],
    ["C:/evil.py", "backslash-or-drive"],
    ["demo//evil.py", "bad-path"],
    ["demo/./evil.py", "bad-path"],
    ["demo/ev\u0001il.py", "bad-path"],
  ];
  for (const [p, rule] of pathCases) {
    it(`${rule}: ${JSON.stringify(p)}`, async () => {
      const w = wheel({ tamper: { extraEntries: [{ path: p, data: "evil", inRecord: true }] } });
      await refused(w.bytes, FN, rule);
    });
  }

  it("symlink entries", async () => {
    const w = wheel({
      tamper: {
        extraEntries: [{ path: "demo/link", data: "/etc/passwd", mode: 0o120777, inRecord: true }],
      },
    });
    const e = await refused(w.bytes, FN, "symlink");
    expect(e.message).toContain("demo/link");
  });

  it("special files (a fifo)", async () => {
    const w = wheel({
      tamper: { extraEntries: [{ path: "demo/fifo", data: "", mode: 0o010644, inRecord: true }] },
    });
    await refused(w.bytes, FN, "special-file");
  });

  it("duplicate entries (same name twice)", async () => {
    const w = wheel({ files: { "demo/__init__.py": "", "demo/a.py": "1", "demo/b.py": "2" } });
    const bytes = renameEntry(w.bytes, "demo/b.py", "demo/a.py", "both");
    await refused(bytes, FN, "duplicate-entry");
  });

  it("entries that differ only by case or Unicode normalization", async () => {
    const w = wheel({ files: { "demo/__init__.py": "", "demo/a.py": "1", "demo/A.py": "2" } });
    await refused(w.bytes, FN, "case-duplicate");
    const nfc = "demo/\u00e9.py";
    const nfd = "demo/e\u0301.py";
    const n = wheel({ files: { "demo/__init__.py": "", [nfc]: "1", [nfd]: "2" } });
    await refused(n.bytes, FN, "case-duplicate");
  });

  it("a file that is also a directory", async () => {
    const w = wheel({ files: { "demo/__init__.py": "", "demo/x": "1", "demo/x/y.py": "2" } });
    await refused(w.bytes, FN, "file-directory-conflict");
  });

  const places: [string, HostileRule][] = [
    ["demo-1.0.data/other/x", "outside-allowed-places"],
    ["demo-1.0.data/scripts", "outside-allowed-places"],
    ["demo-1.0.data/x", "outside-allowed-places"],
    ["evil-1.0.data/scripts/x", "outside-allowed-places"],
    ["demo-2.0.dist-info", "outside-allowed-places"],
    ["evil-1.0.dist-info/METADATA", "second-dist-info"],
  ];
  for (const [p, rule] of places) {
    it(`${rule}: ${p}`, async () => {
      const w = wheel({ tamper: { extraEntries: [{ path: p, data: "evil", inRecord: true }] } });
      await refused(w.bytes, FN, rule);
    });
  }

  it("a .dist-info directory of another project than the filename's", async () => {
    const w = wheel({ tamper: { filename: "demo-2.0-py3-none-any.whl" } });
    await refused(w.bytes, "demo-2.0-py3-none-any.whl", "dist-info-name");
  });

  it("an unsupported Wheel-Version", async () => {
    const w = wheel({
      tamper: { wheelFileOverride: (t) => t.replace("Wheel-Version: 1.0", "Wheel-Version: 2.0") },
    });
    const e = await refused(w.bytes, FN, "wheel-version");
    expect(e.message).toContain("2.0");
  });

  it("METADATA naming another project or version than the filename", async () => {
    const n = wheel({
      tamper: { metadataOverride: (t) => t.replace("Name: demo", "Name: other") },
    });
    await refused(n.bytes, FN, "name-mismatch");
    const v = wheel({
      tamper: { metadataOverride: (t) => t.replace("Version: 1.0", "Version: 1.1") },
    });
    await refused(v.bytes, FN, "version-mismatch");
  });

  it("accepts a METADATA name in another spelling of the same project", async () => {
    const w = wheel({ tamper: { metadataOverride: (t) => t.replace("Name: demo", "Name: DEMO") } });
    const store = tempStore();
    await expect(store.importWheel({ bytes: w.bytes }, { filename: FN })).resolves.toMatchObject({
      name: "demo",
    });
  });

  it("RECORD missing", async () => {
    await refused(wheel({ omitRecord: true }).bytes, FN, "record-missing");
  });

  it("RECORD unreadable", async () => {
    await refused(wheel({ tamper: { recordOverride: "a,b\n" } }).bytes, FN, "invalid-record");
  });

  it("a RECORD entry with no file", async () => {
    const ghost = `demo/ghost.py,${formatRecordHash(recordHash(new TextEncoder().encode("g")))},1\n`;
    const w = wheel({ tamper: { recordOverride: (r) => ghost + r } });
    const e = await refused(w.bytes, FN, "record-entry-without-file");
    expect(e.message).toContain("demo/ghost.py");
  });

  it("a file missing from RECORD", async () => {
    const w = wheel({ tamper: { omitFromRecord: ["demo/a.py"] } });
    const e = await refused(w.bytes, FN, "file-not-in-record");
    expect(e.message).toContain("demo/a.py");
  });

  it("a hash mismatch (found while writing) — even in the last file", async () => {
    const other = formatRecordHash(recordHash(new TextEncoder().encode("b = 2\n")));
    const w = wheel({
      files: {
        "demo/__init__.py": "x = 1\n",
        "demo/big.bin": new Uint8Array(300_000).fill(7),
        "demo/z.py": "a = 1\n",
      },
      tamper: { recordOverride: (r) => r.replace(/^(demo\/z\.py),[^,]+,/m, `$1,${other},`) },
    });
    const e = await refused(w.bytes, FN, "hash-mismatch");
    expect(e.message).toContain("demo/z.py");
  });

  it("a hash mismatch for a file whose object already exists", async () => {
    const store = tempStore();
    const good = buildWheel({
      name: "good",
      version: "1.0",
      files: { "good/__init__.py": "a = 1\n" },
    });
    await store.importWheel({ bytes: good.bytes }, { filename: good.filename });
    const before = filesUnder(path.join(store.root, "objects"));
    const liar = formatRecordHash(recordHash(new TextEncoder().encode("a = 1\n")));
    const w = wheel({
      tamper: {
        recordOverride: (r) => r.replace(/^(demo\/__init__\.py),[^,]+,\d+/m, `$1,${liar},6`),
      },
    });
    await expect(store.importWheel({ bytes: w.bytes }, { filename: FN })).rejects.toMatchObject({
      rule: "hash-mismatch",
    });
    expect(filesUnder(path.join(store.root, "objects"))).toEqual(before);
    expect(tableCounts(store.root).wheels).toBe(1);
  });

  it("a size mismatch between RECORD and the archive", async () => {
    const w = wheel({
      tamper: { recordOverride: (r) => r.replace(/^(demo\/a\.py,[^,]+),\d+/m, "$1,99") },
    });
    await refused(w.bytes, FN, "size-mismatch");
  });

  it("zip bombs: a high compression ratio", async () => {
    const w = wheel({
      files: { "demo/__init__.py": "", "demo/zeros.bin": new Uint8Array(8 * 1024 * 1024) },
    });
    const e = await refused(w.bytes, FN, "compression-ratio", { ratioMinSize: 1024 * 1024 });
    expect(e.message).toContain("limit 200");
  });

  it("accepts a small, very compressible file by default (as real wheels ship)", async () => {
    const w = wheel({
      files: { "demo/__init__.py": "", "demo/zeros.bin": new Uint8Array(8 * 1024 * 1024) },
    });
    const store = tempStore();
    await expect(store.importWheel({ bytes: w.bytes }, { filename: FN })).resolves.toMatchObject({
      name: "demo",
    });
  });

  it("zip bombs: total size, entry size and entry count limits", async () => {
    const w = wheel({
      files: { "demo/__init__.py": "", "demo/x.bin": new Uint8Array(5000).fill(1) },
    });
    await refused(w.bytes, FN, "too-large", { maxTotalSize: 4000 });
    await refused(w.bytes, FN, "too-large", { maxEntrySize: 4000 });
    await refused(w.bytes, FN, "too-many-entries", { maxEntries: 4 });
    await refused(w.bytes, FN, "too-large", { maxMetadataSize: 20 });
  });

  it("zip bombs: an entry that inflates past its declared size", async () => {
    const w = wheel({
      files: { "demo/__init__.py": "", "demo/x.txt": "y".repeat(5000) },
      tamper: { recordOverride: (r) => r.replace(/^(demo\/x\.txt,[^,]+),\d+/m, "$1,100") },
    });
    const bytes = editEntry(w.bytes, "demo/x.txt", { size: 100 }, "both");
    const e = await refused(bytes, FN, "zip-structure");
    expect(e.message).toContain("demo/x.txt");
  });

  it("central directory and local header disagreeing on the name", async () => {
    const w = wheel();
    await refused(
      renameEntry(w.bytes, "demo/a.py", "demo/b.py", "local"),
      FN,
      "local-header-mismatch",
    );
  });

  it("central directory and local header disagreeing on sizes, method or CRC", async () => {
    const w = wheel({ files: { "demo/__init__.py": "", "demo/a.py": "a".repeat(400) } });
    const c = centralFields(w.bytes, "demo/a.py");
    expect(c.method).toBe(8);
    for (const edit of [
      { size: c.size + 1 },
      { compressedSize: c.compressedSize - 1 },
      { method: 0 },
      { crc: c.crc ^ 1 },
    ]) {
      await refused(editEntry(w.bytes, "demo/a.py", edit, "local"), FN, "local-header-mismatch");
    }
  });

  it("overlapping entries", async () => {
    const w = wheel({ level: 0 });
    const c = centralFields(w.bytes, "demo/__init__.py");
    const bytes = editEntry(
      w.bytes,
      "demo/__init__.py",
      { size: c.size + 40, compressedSize: c.size + 40 },
      "both",
    );
    await refused(bytes, FN, "overlapping-entries");
  });

  it("data outside the archive's entries", async () => {
    const w = wheel({ level: 0 });
    const record = `demo-1.0.dist-info/RECORD`;
    const c = centralFields(w.bytes, record);
    const bytes = editEntry(
      w.bytes,
      record,
      { size: c.size + 5000, compressedSize: c.size + 5000 },
      "both",
    );
    await refused(bytes, FN, "data-outside-archive");
  });

  it("encrypted entries and unknown compression methods", async () => {
    const w = wheel();
    const flags = centralFields(w.bytes, "demo/a.py").flags;
    await refused(editEntry(w.bytes, "demo/a.py", { flags: flags | 1 }, "both"), FN, "encrypted");
    await refused(
      editEntry(w.bytes, "demo/a.py", { method: 12 }, "both"),
      FN,
      "compression-method",
    );
  });

  it("a damaged archive", async () => {
    const w = wheel();
    await refused(w.bytes.subarray(0, w.bytes.length - 30), FN, "zip-structure");
    const h = findHeaders(w.bytes, "demo/a.py");
    const broken = w.bytes.slice();
    broken[h.local] = 0; // local header signature
    await refused(broken, FN, "zip-structure");
  });

  it("full case folding and NFC: σ/ς, ß/SS, K (Kelvin)/k collide", async () => {
    for (const [a, b] of [
      ["demo/σ.py", "demo/ς.py"],
      ["demo/straße.py", "demo/STRASSE.py"],
      ["demo/\u212a.py", "demo/k.py"],
    ]) {
      const w = wheel({
        files: { "demo/__init__.py": "", [a as string]: "1", [b as string]: "2" },
      });
      await refused(w.bytes, FN, "case-duplicate");
    }
    const dir = wheel({ files: { "demo/__init__.py": "", "demo/σ": "1", "demo/ς/x.py": "2" } });
    await refused(dir.bytes, FN, "file-directory-conflict");
  });

  it("end records that disagree with the central directory or each other", async () => {
    const w = wheel({ tamper: { extraEntries: [{ path: "hidden.pth", data: "import os\n" }] } });
    const last = moveCentralLast(w.bytes, "hidden.pth");
    const entries = 5;
    await refused(toZip64(last, { zip64Count: entries - 1 }), FN, "end-record-mismatch");
    await refused(setPlainCount(last, entries - 1), FN, "end-record-mismatch");
    await refused(toZip64(last, { plainCount: entries - 1 }), FN, "end-record-mismatch");
    // an honest ZIP64 end is accepted
    const ok = toZip64(wheel().bytes);
    await expect(tempStore().importWheel({ bytes: ok }, { filename: FN })).resolves.toMatchObject({
      name: "demo",
    });
  });

  it("accepts entries with data descriptors (a zip streamed by Python's zipfile)", async () => {
    const w = wheel();
    // zipfile writing to a pipe cannot seek back: every entry gets a data descriptor.
    const res = spawnSync(
      "python3",
      [
        "-c",
        [
          "import io, sys, zipfile",
          "src = zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))",
          "with zipfile.ZipFile(sys.stdout.buffer, 'w', zipfile.ZIP_DEFLATED) as out:",
          "    for info in src.infolist():",
          "        with src.open(info) as f, out.open(info, 'w') as g:",
          "            g.write(f.read())",
        ].join("\n"),
      ],
      { input: w.bytes, maxBuffer: 1 << 24 },
    );
    expect(res.status, String(res.stderr)).toBe(0);
    const streamed = new Uint8Array(res.stdout);
    expect(centralFields(streamed, "demo/a.py").flags & 0x8).toBe(0x8);
    await expect(
      tempStore().importWheel({ bytes: streamed }, { filename: FN }),
    ).resolves.toMatchObject({
      name: "demo",
    });
  });

  it("a local entry the central directory does not list", async () => {
    const w = wheel({ tamper: { extraEntries: [{ path: "hidden.pth", data: "import os\n" }] } });
    const e = await refused(dropCentralEntry(w.bytes, "hidden.pth"), FN, "unlisted-data");
    expect(e.message).toContain("no entry");
  });

  const claims = [
    "demo-1.0.data/data/manifest.json",
    "demo-1.0.data/data/pyvenv.cfg",
    "demo-1.0.data/data/.slimenv/manifest.json",
    ".slimenv/manifest.json",
    "demo-1.0.data/purelib/.slimenv/x",
    "demo-1.0.data/scripts/python",
    "demo-1.0.data/scripts/Python3.11",
    "demo-1.0.data/data/bin/python3",
    "bin/python3.13t",
    "_slimenv_isolated.pth",
    "demo/_slimenv_trace.py",
  ];
  for (const p of claims) {
    it(`slimenv-path: ${p}`, async () => {
      const w = wheel({ tamper: { extraEntries: [{ path: p, data: "", inRecord: true }] } });
      await refused(w.bytes, FN, "slimenv-path");
    });
  }

  it("accepts near misses of the paths slimenv owns", async () => {
    const w = wheel({
      files: {
        "demo/__init__.py": "",
        "demo/bin/python3": "",
        "demo-1.0.data/scripts/python-config-demo": "",
        "demo-1.0.data/data/share/manifest.json": "",
        "demo/manifest.json": "",
        "manifest.json": "",
      },
    });
    await expect(
      tempStore().importWheel({ bytes: w.bytes }, { filename: FN }),
    ).resolves.toMatchObject({
      name: "demo",
    });
  });

  it("console and GUI script names: paths (script-name) and launcher names (slimenv-path)", async () => {
    for (const [entryPoints, rule] of [
      ["[console_scripts]\n../../evil = demo:main\n", "script-name"],
      ["[gui_scripts]\nsub/evil = demo:main\n", "script-name"],
      ["[console_scripts]\n.. = demo:main\n", "script-name"],
      ["[console_scripts]\npython3 = demo:main\n", "slimenv-path"],
      ["[gui_scripts]\npython3.11 = demo:main\n", "slimenv-path"],
    ] as const) {
      await refused(wheel({ entryPoints }).bytes, FN, rule);
    }
    // other groups may name what they like
    const ok = wheel({ entryPoints: "[demo.plugins]\npython3 = demo:main\n" });
    await expect(
      tempStore().importWheel({ bytes: ok.bytes }, { filename: FN }),
    ).resolves.toBeDefined();
  });

  it("warns when the WHEEL file's tags are not the filename's", async () => {
    const reporter = new RecordingReporter();
    const w = wheel({
      tamper: {
        wheelFileOverride: (t) => t.replace("Tag: py3-none-any", "Tag: cp311-cp311-linux_x86_64"),
      },
    });
    const store = tempStore({ reporter });
    let facts: unknown;
    await store.importWheel(
      { bytes: w.bytes },
      {
        filename: FN,
        accept: (f) => {
          facts = f;
        },
      },
    );
    expect(reporter.events.map((e) => e.label).join("\n")).toContain("cp311-cp311-linux_x86_64");
    expect(facts).toMatchObject({
      tags: ["py3-none-any"],
      wheelTags: ["cp311-cp311-linux_x86_64"],
    });
  });
});
