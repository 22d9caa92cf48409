import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { RecordEntry } from "../../src/standards/record.ts";
import {
  decodeRecordDigest,
  encodeRecordDigest,
  formatRecord,
  formatRecordHash,
  parseRecord,
  parseRecordHash,
  recordHash,
  verifyRecordHash,
} from "../../src/standards/record.ts";
import { parseCsv } from "../../src/standards/record-csv.ts";
import { thrownCodeAndMessage } from "../helpers/errors.ts";
import { runStdlibPythonJson } from "../helpers/packaging.ts";
import { Rng } from "../helpers/random.ts";

const D1 = "iFlOnL32lIa-RKk-MDihcbJ37wxmRbE4xk6eVYVTTeU";
const D2 = "lCadt4mcU-B67O1gkQVh7-vsKgLpx6ny1le34Jz6UVo";

const WHEEL_RECORD = `black/__init__.py,sha256=${D1},220
black/py.typed,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0
"black/data/a,b.txt",sha256=${D2},221
"black/data/say ""hi"".txt",sha512=${"A".repeat(86)},7
black-23.1.0.dist-info/METADATA,sha256=UN40nGoVVTSpvLrTBwNsXgZdZIwoKFSrrDDHP6B7-A0,58841
black-23.1.0.dist-info/WHEEL,sha256=zuuue4knoyJ-UwPPXg8fezS7VCrXJQrAP7zeNuwvFQg,4
black-23.1.0.dist-info/RECORD,,
`;

describe("parseRecord", () => {
  it("reads a wheel RECORD with quoted paths", () => {
    const entries = parseRecord(WHEEL_RECORD);
    expect(entries).toHaveLength(7);
    expect(entries[0]).toEqual({
      path: "black/__init__.py",
      hash: { algorithm: "sha256", digest: D1 },
      size: 220,
    });
    expect(entries[1]?.size).toBe(0);
    expect(entries[2]?.path).toBe("black/data/a,b.txt");
    expect(entries[3]?.path).toBe('black/data/say "hi".txt');
    expect(entries[3]?.hash?.algorithm).toBe("sha512");
    expect(entries[6]).toEqual({ path: "black-23.1.0.dist-info/RECORD" });
  });

  it("round-trips through formatRecord exactly", () => {
    const entries = parseRecord(WHEEL_RECORD);
    expect(formatRecord(entries)).toBe(WHEEL_RECORD);
    expect(parseRecord(formatRecord(entries))).toEqual(entries);
  });

  it("reads CRLF line ends, blank lines, no final newline, a BOM and a newline inside quotes", () => {
    const text = `\uFEFFa.py,sha256=${D1},1\r\n\r\n"multi\nline.txt",sha256=${D2},2\r\nx.dist-info/RECORD,,`;
    const entries = parseRecord(text);
    expect(entries.map((e) => e.path)).toEqual(["a.py", "multi\nline.txt", "x.dist-info/RECORD"]);
    expect(parseRecord(formatRecord(entries))).toEqual(entries);
  });

  it("reads an installed project's RECORD (empty hashes, paths going up, absolute paths)", () => {
    const text = `/usr/bin/black,sha256=${D1},220
../../../bin/blackd,sha256=${D2},221
__pycache__/black.cpython-38.pyc,,
black-19.10b0.dist-info/INSTALLER,sha256=zuuue4knoyJ-UwPPXg8fezS7VCrXJQrAP7zeNuwvFQg,4
legacy.txt,md5=1B2M2Y8AsgTpgAmY7PhCfg,
only-size.txt,,12
`;
    const entries = parseRecord(text, { kind: "installed" });
    expect(entries[2]).toEqual({ path: "__pycache__/black.cpython-38.pyc" });
    expect(entries[4]?.hash?.algorithm).toBe("md5");
    expect(entries[5]).toEqual({ path: "only-size.txt", size: 12 });
    expect(formatRecord(entries)).toBe(text);
    // The same file is not a valid wheel RECORD.
    expect(thrownCodeAndMessage(() => parseRecord(text))).toMatch(
      /line 1: "\/usr\/bin\/black": a wheel's RECORD paths must be relative/,
    );
  });

  const bad: [string, string, RegExp][] = [
    [
      "md5",
      `a.py,md5=1B2M2Y8AsgTpgAmY7PhCfg,1\n`,
      /line 1: hash of "a.py": md5 is not allowed in a wheel's RECORD/,
    ],
    [
      "sha1",
      `ok.py,sha256=${D1},1\na.py,sha1=2jmj7l5rSw0yVb_vlWAYkK_YBwk,1\n`,
      /line 2: hash of "a.py": sha1 is not allowed/,
    ],
    ["sha224", `a.py,sha224=${"A".repeat(38)},1\n`, /line 1: .*sha224 is not allowed/],
    [
      "unknown algorithm",
      `a.py,whirlpool=${D1},1\n`,
      /line 1: .*"whirlpool" is not a hash algorithm Python's hashlib guarantees/,
    ],
    ["upper-case algorithm", `a.py,SHA256=${D1},1\n`, /line 1: .*"SHA256" is not a hash algorithm/],
    ["no '='", `a.py,sha256${D1},1\n`, /line 1: .*expected 'algorithm=digest'/],
    ["padded digest", `a.py,sha256=${D1}=,1\n`, /line 1: .*'=' padding/],
    ["standard base64", `a.py,sha256=${D1.replace("-", "+")},1\n`, /line 1: .*urlsafe base64/],
    [
      "short digest",
      `a.py,sha256=${D1.slice(0, 40)},1\n`,
      /line 1: .*a sha256 digest is 32 bytes, this one is 30/,
    ],
    [
      "missing hash",
      `a.py,,1\n`,
      /line 1: "a.py" has no hash; in a wheel every file but RECORD must have one/,
    ],
    ["missing hash on a .pyc in a wheel", `a.pyc,,\n`, /line 1: "a.pyc" has no hash/],
    [
      "negative size",
      `a.py,sha256=${D1},-1\n`,
      /line 1: size of "a.py" is "-1", not a non-negative integer/,
    ],
    ["size with plus", `a.py,sha256=${D1},+1\n`, /line 1: size of "a.py" is "\+1"/],
    ["size with space", `a.py,sha256=${D1}, 1\n`, /line 1: size of "a.py" is " 1"/],
    ["float size", `a.py,sha256=${D1},1.5\n`, /line 1: size of "a.py" is "1.5"/],
    ["huge size", `a.py,sha256=${D1},99999999999999999999\n`, /line 1: size of "a.py"/],
    ["two fields", `a.py,sha256=${D1}\n`, /line 1: expected 3 fields \(path,hash,size\), got 2/],
    [
      "four fields",
      `ok.py,sha256=${D1},1\n\na.py,sha256=${D1},1,extra\n`,
      /line 3: expected 3 fields .*got 4/,
    ],
    ["empty path", `,sha256=${D1},1\n`, /line 1: the path is empty/],
    ["'..' in a wheel", `pkg/../../etc/passwd,sha256=${D1},1\n`, /line 1: .*must not contain '..'/],
    ["Windows drive", `C:/x.py,sha256=${D1},1\n`, /line 1: .*must be relative/],
    [
      "duplicate path",
      `a.py,sha256=${D1},1\nb.py,sha256=${D1},1\na.py,sha256=${D2},2\n`,
      /line 3: "a.py" is listed again \(first at line 1\)/,
    ],
    [
      "unclosed quote",
      `ok.py,sha256=${D1},1\n"a.py,sha256=${D1},1\n`,
      /line 2: a quoted field is not closed/,
    ],
    ["text after a closing quote", `"a"b.py,sha256=${D1},1\n`, /line 1: "b" after a closing quote/],
  ];
  for (const [what, text, message] of bad) {
    it(`rejects ${what}`, () => {
      const got = thrownCodeAndMessage(() => parseRecord(text));
      expect(got.startsWith("INVALID_RECORD: invalid RECORD at line ")).toBe(true);
      expect(got).toMatch(message);
    });
  }

  it("counts lines inside multi-line quoted fields when reporting errors", () => {
    const text = `"a\nb\nc.txt",sha256=${D1},1\nd.py,sha256=${D1},x\n`;
    expect(thrownCodeAndMessage(() => parseRecord(text))).toMatch(/line 4: size of "d.py"/);
  });
});

describe("hash helpers", () => {
  it("hashes like hashlib + urlsafe_b64encode without padding", () => {
    const bytes = new TextEncoder().encode("hello world\n");
    const h = recordHash(bytes);
    const hex = createHash("sha256").update(bytes).digest();
    expect(h.algorithm).toBe("sha256");
    expect(h.digest).toBe(
      hex.toString("base64").replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, ""),
    );
    expect(h.digest).not.toContain("=");
    expect(Buffer.from(decodeRecordDigest(h.digest)).equals(hex)).toBe(true);
    expect(verifyRecordHash(bytes, h)).toBe(true);
    expect(verifyRecordHash(new TextEncoder().encode("hello"), h)).toBe(false);
    expect(formatRecordHash(h)).toBe(`sha256=${h.digest}`);
    expect(parseRecordHash(formatRecordHash(h))).toEqual(h);
    for (const alg of ["sha384", "sha512", "sha3_256", "sha3_512", "blake2b", "blake2s"]) {
      const x = recordHash(bytes, alg);
      expect(parseRecordHash(formatRecordHash(x))).toEqual(x);
    }
    expect(thrownCodeAndMessage(() => recordHash(bytes, "crc32"))).toMatch(
      /^INVALID_RECORD: .*crc32/,
    );
  });

  it("encodes and decodes digests of every length", () => {
    for (let n = 0; n < 70; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      const text = encodeRecordDigest(bytes);
      expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
      if (n > 0) expect(Array.from(decodeRecordDigest(text))).toEqual(Array.from(bytes));
    }
    // A view into a larger buffer encodes only its own bytes.
    const big = new Uint8Array([1, 2, 3, 4, 5]);
    expect(encodeRecordDigest(big.subarray(1, 3))).toBe(encodeRecordDigest(new Uint8Array([2, 3])));
    for (const bad of ["", "abc=", "ab+c", "a", "ab c"]) {
      expect(thrownCodeAndMessage(() => decodeRecordDigest(bad))).toMatch(/^INVALID_RECORD: /);
    }
  });
});

describe("formatRecord", () => {
  it("quotes exactly the fields that need it", () => {
    const entries: RecordEntry[] = [
      { path: "plain.py", hash: { algorithm: "sha256", digest: D1 }, size: 3 },
      { path: "with,comma.py", hash: { algorithm: "sha256", digest: D1 }, size: 3 },
      { path: 'with"quote.py', size: 0 },
      { path: "with space.py" },
      { path: "cr\rlf.txt" },
    ];
    expect(formatRecord(entries)).toBe(
      `plain.py,sha256=${D1},3\n"with,comma.py",sha256=${D1},3\n"with""quote.py",,0\nwith space.py,,\n"cr\rlf.txt",,\n`,
    );
    expect(parseRecord(formatRecord(entries), { kind: "installed" })).toEqual(entries);
  });

  it("refuses entries it could not read back", () => {
    expect(thrownCodeAndMessage(() => formatRecord([{ path: "" }]))).toMatch(
      /^INVALID_RECORD: .*empty path/,
    );
    expect(thrownCodeAndMessage(() => formatRecord([{ path: "a", size: -1 }]))).toMatch(
      /size of "a" is -1/,
    );
    expect(thrownCodeAndMessage(() => formatRecord([{ path: "a", size: 1.5 }]))).toMatch(
      /size of "a" is 1.5/,
    );
    expect(
      thrownCodeAndMessage(() =>
        formatRecord([{ path: "a", hash: { algorithm: "sha256", digest: "bad=" } }]),
      ),
    ).toMatch(/hash of "a"/);
  });
});

// ---- differential check against Python's csv module ----

const PY_CSV = `
import csv, io, json, sys
data = json.load(sys.stdin)
read = [[row for row in csv.reader(io.StringIO(t, newline=""))] for t in data["texts"]]
written = []
for rows in data["rows"]:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\\n").writerows(rows)
    written.append(buf.getvalue())
json.dump({"read": read, "written": written}, sys.stdout)
`;

describe("RECORD CSV vs Python's csv module", () => {
  it("reads and writes 500 generated RECORDs like csv.reader / csv.writer", () => {
    const rng = new Rng(424242);
    const pieces = [
      "a",
      "pkg/",
      "x.py",
      ",",
      '"',
      " ",
      "\u00fc",
      "\n",
      "\r\n",
      "_",
      "-",
      "",
      "d\u00e9j\u00e0",
    ];
    const rows: string[][][] = [];
    for (let n = 0; n < 500; n++) {
      const rs: string[][] = [];
      const count = 1 + rng.int(5);
      for (let r = 0; r < count; r++) {
        let path = "p";
        const len = rng.int(6);
        for (let k = 0; k < len; k++) path += rng.pick(pieces);
        rs.push([
          path,
          rng.pick(["", `sha256=${D1}`, `sha512=${"A".repeat(86)}`]),
          rng.pick(["", "0", "17"]),
        ]);
      }
      rows.push(rs);
    }
    const entries = rows.map((rs) =>
      rs.map(([path = "", hash = "", size = ""]) => {
        const e: RecordEntry = { path };
        if (hash !== "") e.hash = parseRecordHash(hash);
        if (size !== "") e.size = Number(size);
        return e;
      }),
    );
    const ours = entries.map((es) => formatRecord(es));
    const py = runStdlibPythonJson<{ read: string[][][]; written: string[] }>(PY_CSV, {
      texts: ours,
      rows,
    });
    ours.forEach((text, i) => {
      // Python writes what we write...
      expect(text, JSON.stringify(rows[i])).toBe(py.written[i]);
      // ...Python reads back the rows we meant...
      expect(py.read[i]).toEqual(rows[i]);
      // ...and we read back the same rows.
      expect(parseCsv(text).map((r) => r.fields)).toEqual(rows[i]);
      expect(parseRecord(text, { kind: "installed" })).toEqual(entries[i]);
    });
  });
});
