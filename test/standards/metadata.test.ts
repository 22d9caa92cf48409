import { describe, expect, it } from "vitest";
import { parseEmailHeaders } from "../../src/standards/email-headers.ts";
import type { CoreMetadata } from "../../src/standards/metadata.ts";
import {
  emptyMetadata,
  formatMetadata,
  parseMetadata,
  parseMetadataBytes,
  requiresDist,
  requiresPython,
} from "../../src/standards/metadata.ts";
import { licenseExpressionProblem } from "../../src/standards/metadata-values.ts";
import { thrownCodeAndMessage } from "../helpers/errors.ts";
import {
  defaultPackagingPython,
  runPythonJson,
  runStdlibPythonJson,
} from "../helpers/packaging.ts";
import { Rng } from "../helpers/random.ts";

const REQUESTS = `Metadata-Version: 2.1
Name: requests
Version: 2.31.0
Summary: Python HTTP for Humans.
Home-page: https://requests.readthedocs.io
Author: Kenneth Reitz
Author-email: me@kennethreitz.org
License: Apache 2.0
Project-URL: Documentation, https://requests.readthedocs.io
Project-URL: Source, https://github.com/psf/requests
Classifier: Development Status :: 5 - Production/Stable
Classifier: Programming Language :: Python :: 3
Requires-Python: >=3.7
Description-Content-Type: text/markdown
License-File: LICENSE
Requires-Dist: charset-normalizer (<4,>=2)
Requires-Dist: idna (<4,>=2.5)
Requires-Dist: urllib3 (<3,>=1.21.1)
Requires-Dist: certifi (>=2017.4.17)
Provides-Extra: security
Provides-Extra: socks
Requires-Dist: PySocks (!=1.5.7,>=1.5.6) ; extra == 'socks'
Provides-Extra: use_chardet_on_py3
Requires-Dist: chardet (<6,>=3.0.2) ; extra == 'use_chardet_on_py3'

# Requests

**Requests** is a simple, yet elegant, HTTP library.

\`\`\`python
>>> import requests
\`\`\`
`;

const NUMPY = `Metadata-Version: 2.1
Name: numpy
Version: 1.26.4
Summary: Fundamental package for array computing in Python
Home-page: https://numpy.org
Author: Travis E. Oliphant et al.
Maintainer-Email: NumPy Developers <numpy-discussion@python.org>
License: Copyright (c) 2005-2023, NumPy Developers.
        All rights reserved.
        
        Redistribution and use in source and binary forms, with or without
        modification, are permitted provided that the following conditions are
        met:
        
            * Redistributions of source code must retain the above copyright
               notice, this list of conditions and the following disclaimer.
Classifier: Development Status :: 5 - Production/Stable
Classifier: Programming Language :: C
Classifier: Operating System :: POSIX
Project-URL: Homepage, https://numpy.org
Project-URL: Issue tracker, https://github.com/numpy/numpy/issues
Requires-Python: >=3.9
Description-Content-Type: text/markdown

<h1 align="center">
<img src="https://raw.githubusercontent.com/numpy/numpy/main/branding/logo/primary/numpylogo.svg" width="300">
</h1><br>

NumPy is the fundamental package for scientific computing with Python.
`;

const MODERN = `Metadata-Version: 2.4
Name: slim-demo
Version: 3.0.0rc1
Dynamic: Requires-Dist
Dynamic: classifier
Summary: A demo with licence metadata
Keywords: edge,packaging, venv
Author-email: Jane Doe <jane@example.org>
License-Expression: MIT OR (Apache-2.0 WITH LLVM-exception)
License-File: LICENSE
License-File: licenses/NOTICE.txt
Requires-Python: >=3.10
Requires-Dist: numpy>=1.26
Requires-Dist: rich[jupyter]>=13; extra == "cli"
Provides-Extra: cli
Provides-Extra: dev-tools
X-Custom-Thing: keep me
`;

const OLD_PKG_INFO = `Metadata-Version: 1.0
Name: Old.Package
Version: 0.9
Summary: An old package
Home-page: UNKNOWN
Author: Someone
Author-email: someone@example.com
License: UNKNOWN
Description: Old Package
        ===========
        
        An indented description, written by distutils.
        
            code block
Platform: UNKNOWN
`;

function roundTrip(meta: CoreMetadata): void {
  const text = formatMetadata(meta);
  const again = parseMetadata(text);
  expect(again).toEqual(meta);
  expect(formatMetadata(again)).toBe(text);
}

describe("parseMetadata: realistic samples", () => {
  it("reads a requests-like 2.1 METADATA with its body as the description", () => {
    const warnings: string[] = [];
    const m = parseMetadata(REQUESTS, { onWarning: (w) => warnings.push(w) });
    expect(m.name).toBe("requests");
    expect(m.version).toBe("2.31.0");
    expect(m.summary).toBe("Python HTTP for Humans.");
    expect(m.homePage).toBe("https://requests.readthedocs.io");
    expect(m.requiresDist).toHaveLength(6);
    expect(m.requiresDist[4]).toBe("PySocks (!=1.5.7,>=1.5.6) ; extra == 'socks'");
    expect(m.providesExtra).toEqual(["security", "socks", "use_chardet_on_py3"]);
    expect(m.projectUrls).toEqual([
      { label: "Documentation", url: "https://requests.readthedocs.io" },
      { label: "Source", url: "https://github.com/psf/requests" },
    ]);
    expect(m.classifiers).toHaveLength(2);
    expect(m.requiresPython).toBe(">=3.7");
    expect(m.description?.startsWith("# Requests\n\n**Requests**")).toBe(true);
    expect(m.description?.endsWith("```\n")).toBe(true);
    // use_chardet_on_py3 is valid in 2.1 but not normalized; License-File is a 2.4 field.
    expect(warnings.some((w) => w.includes("use_chardet_on_py3"))).toBe(true);
    expect(warnings.some((w) => w.includes("License-File") && w.includes("line 15"))).toBe(true);
    const reqs = requiresDist(m);
    expect(reqs.map((r) => r.name)).toEqual([
      "charset-normalizer",
      "idna",
      "urllib3",
      "certifi",
      "PySocks",
      "chardet",
    ]);
    expect(reqs[4]?.marker?.toString()).toBe('extra == "socks"');
    expect(requiresPython(m)?.contains("3.11.2")).toBe(true);
    expect(requiresPython(m)?.contains("3.6")).toBe(false);
    roundTrip(m);
  });

  it("reads a numpy-like METADATA with a multi-line License and case-insensitive names", () => {
    const m = parseMetadata(NUMPY);
    expect(m.maintainerEmail).toBe("NumPy Developers <numpy-discussion@python.org>");
    expect(m.license).toBe(
      [
        "Copyright (c) 2005-2023, NumPy Developers.",
        "All rights reserved.",
        "",
        "Redistribution and use in source and binary forms, with or without",
        "modification, are permitted provided that the following conditions are",
        "met:",
        "",
        "    * Redistributions of source code must retain the above copyright",
        "       notice, this list of conditions and the following disclaimer.",
      ].join("\n"),
    );
    expect(m.projectUrls[1]).toEqual({
      label: "Issue tracker",
      url: "https://github.com/numpy/numpy/issues",
    });
    expect(m.description?.startsWith('<h1 align="center">')).toBe(true);
    roundTrip(m);
    // The multi-line License is written with the specification's "7 spaces and |" prefix.
    expect(formatMetadata(m)).toContain(
      "License: Copyright (c) 2005-2023, NumPy Developers.\n       |All rights reserved.\n       |\n",
    );
  });

  it("reads a 2.4 METADATA with License-Expression, License-File and Dynamic", () => {
    const warnings: string[] = [];
    const m = parseMetadata(MODERN, { onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([]);
    expect(m.licenseExpression).toBe("MIT OR (Apache-2.0 WITH LLVM-exception)");
    expect(m.licenseFiles).toEqual(["LICENSE", "licenses/NOTICE.txt"]);
    expect(m.dynamic).toEqual(["Requires-Dist", "Classifier"]);
    expect(m.keywords).toEqual(["edge", "packaging", "venv"]);
    expect(m.authorEmail).toBe("Jane Doe <jane@example.org>");
    expect(m.unknownFields).toEqual([{ name: "X-Custom-Thing", value: "keep me" }]);
    expect(m.description).toBeUndefined();
    expect(requiresDist(m)[1]?.extras).toEqual(["jupyter"]);
    roundTrip(m);
  });

  it("reads an old 1.0 PKG-INFO with a distutils-indented Description header", () => {
    const m = parseMetadata(OLD_PKG_INFO);
    expect(m.name).toBe("Old.Package");
    expect(m.platforms).toEqual(["UNKNOWN"]);
    expect(m.description).toBe(
      "Old Package\n===========\n\nAn indented description, written by distutils.\n\n    code block",
    );
    const text = formatMetadata(m);
    // Before 2.1 there is no body: the description stays a header.
    expect(text).toContain("Description: Old Package\n       |===========\n");
    roundTrip(m);
  });

  it("reads the 7-spaces-and-pipe Description escape of the specification", () => {
    const m = parseMetadata(
      "Metadata-Version: 1.2\nName: x\nVersion: 1\nDescription: This project provides\n       |For example:\n       |\n       |    >>> sum(1, 2)\n       |    3\n       |\n",
    );
    expect(m.description).toBe("This project provides\nFor example:\n\n    >>> sum(1, 2)\n    3\n");
    roundTrip(m);
  });

  it("reads Metadata 2.5 Import-Name and Import-Namespace", () => {
    const m = parseMetadata(
      "Metadata-Version: 2.5\nName: pkg\nVersion: 1.0\nImport-Name: pkg\nImport-Name: pkg._private; private\nImport-Namespace: ns\n",
    );
    expect(m.importNames).toEqual(["pkg", "pkg._private; private"]);
    expect(m.importNamespaces).toEqual(["ns"]);
    roundTrip(m);
  });

  it("accepts CRLF line ends, a BOM, folded one-line fields and the body when Description is absent", () => {
    const m = parseMetadata(
      "\uFEFFMetadata-Version: 2.2\r\nName: folded\r\nVersion: 1.0.post1\r\nSummary: a summary that\r\n   was folded\r\n\r\nBody line 1\r\nBody line 2\r\n",
    );
    expect(m.summary).toBe("a summary that was folded");
    expect(m.description).toBe("Body line 1\nBody line 2\n");
    roundTrip(m);
  });

  it("accepts every known Metadata-Version and warns for unknown 1.x/2.x ones", () => {
    for (const v of ["1.0", "1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "2.5"]) {
      const warnings: string[] = [];
      const m = parseMetadata(`Metadata-Version: ${v}\nName: a\nVersion: 1\n`, {
        onWarning: (w) => warnings.push(w),
      });
      expect(m.metadataVersion).toBe(v);
      expect(warnings).toEqual([]);
    }
    for (const v of ["2.0", "1.3", "2.9"]) {
      const warnings: string[] = [];
      parseMetadata(`Metadata-Version: ${v}\nName: a\nVersion: 1\n`, {
        onWarning: (w) => warnings.push(w),
      });
      expect(warnings.join("\n")).toContain(`Metadata-Version ${v}`);
    }
  });

  it("keeps a same-text Description header and body, and an empty description", () => {
    const m = parseMetadata(
      "Metadata-Version: 2.1\nName: a\nVersion: 1\nDescription: same\n\nsame",
    );
    expect(m.description).toBe("same");
    const empty = parseMetadata("Metadata-Version: 2.1\nName: a\nVersion: 1\nDescription:\n");
    expect(empty.description).toBe("");
    roundTrip(empty);
  });
});

describe("formatMetadata", () => {
  it("writes a built object in specification order and reads it back", () => {
    const m = emptyMetadata("2.4", "built", "1.0");
    m.requiresDist = ["b>=1", 'c; python_version < "3.11"'];
    m.summary = "Built";
    m.licenseExpression = "Apache-2.0";
    m.keywords = ["a", "b"];
    m.projectUrls = [{ label: "Home", url: "https://example.org" }];
    m.description = "Line 1\n\n  indented\n";
    const text = formatMetadata(m);
    expect(text).toBe(
      'Metadata-Version: 2.4\nName: built\nVersion: 1.0\nSummary: Built\nKeywords: a,b\nLicense-Expression: Apache-2.0\nRequires-Dist: b>=1\nRequires-Dist: c; python_version < "3.11"\nProject-URL: Home, https://example.org\n\nLine 1\n\n  indented\n',
    );
    roundTrip(m);
  });

  it("refuses values it cannot write back", () => {
    const m = emptyMetadata("2.1", "a", "1");
    m.summary = "two\nlines";
    expect(thrownCodeAndMessage(() => formatMetadata(m))).toMatch(/^INVALID_METADATA: .*Summary/);
    const n = emptyMetadata("2.1", "a", "1");
    n.unknownFields = [{ name: "Bad Name", value: "x" }];
    expect(thrownCodeAndMessage(() => formatMetadata(n))).toMatch(/^INVALID_METADATA: .*Bad Name/);
  });
});

describe("parseMetadata: bad input", () => {
  const base = "Metadata-Version: 2.3\nName: good\nVersion: 1.0\n";
  const cases: [string, string, RegExp][] = [
    ["empty file", "", /line 1: the required field Metadata-Version is missing/],
    ["no Metadata-Version", "Name: a\nVersion: 1\n", /Metadata-Version is missing/],
    [
      "major 3",
      "Metadata-Version: 3.0\nName: a\nVersion: 1\n",
      /line 1: Metadata-Version 3.0 has major version 3/,
    ],
    [
      "major 10 even with other errors",
      "Metadata-Version: 10.1\nName: -bad-\n",
      /line 1: Metadata-Version 10.1/,
    ],
    [
      "malformed version",
      "Metadata-Version: two\nName: a\nVersion: 1\n",
      /line 1: Metadata-Version "two" is not of the form X.Y/,
    ],
    [
      "version 0.9",
      "Metadata-Version: 0.9\nName: a\nVersion: 1\n",
      /line 1: Metadata-Version 0.9 does not exist/,
    ],
    ["no Name", "Metadata-Version: 2.1\nVersion: 1\n", /Name is missing/],
    [
      "bad Name",
      "Metadata-Version: 2.1\nName: -bad-\nVersion: 1\n",
      /line 2: Name "-bad-" is not a valid/,
    ],
    ["no Version", "Metadata-Version: 2.1\nName: a\n", /Version is missing/],
    [
      "bad Version",
      "Metadata-Version: 2.1\nName: a\nVersion: 1.0-what-is-this\n",
      /line 3: Version "1.0-what-is-this" is not a valid PEP 440/,
    ],
    [
      "repeated Summary",
      `${base}Summary: a\nSummary: b\n`,
      /line 5: field Summary appears again \(first at line 4\)/,
    ],
    ["repeated Name, other case", `${base}name: other\n`, /line 4: field Name appears again/],
    [
      "line without colon",
      `${base}Summary: a\nthis is not a header\n`,
      /line 5: expected 'Field: value' \(no colon\)/,
    ],
    [
      "space in field name",
      `${base}Bad Field: x\n`,
      /line 4: the field name "Bad Field" has a character/,
    ],
    ["empty field name", `${base}: x\n`, /line 4: the field name is empty/],
    ["continuation first", "  Metadata-Version: 2.1\n", /line 1: a continuation line/],
    [
      "Dynamic: Name",
      `${base.replace("2.3", "2.2")}Dynamic: Name\n`,
      /line 4: Dynamic may not name Name/,
    ],
    [
      "Dynamic: Version lower-case",
      `${base}Dynamic: version\n`,
      /line 4: Dynamic may not name Version/,
    ],
    [
      "Dynamic: unknown",
      `${base}Dynamic: Colour\n`,
      /line 4: Dynamic "Colour" does not name a core metadata field/,
    ],
    [
      "Provides-Extra not normalized in 2.3",
      `${base}Provides-Extra: Foo_Bar\n`,
      /line 4: Provides-Extra "Foo_Bar" is not a normalized extra name/,
    ],
    [
      "Provides-Extra invalid in 2.1",
      "Metadata-Version: 2.1\nName: a\nVersion: 1\nProvides-Extra: -x\n",
      /line 4: Provides-Extra "-x" is not a valid extra name/,
    ],
    [
      "Project-URL without label",
      `${base}Project-URL: https://example.org\n`,
      /line 4: Project-URL "https:\/\/example.org" is not 'label, url'/,
    ],
    [
      "License-Expression dangling AND",
      `${base}License-Expression: MIT AND\n`,
      /line 4: License-Expression "MIT AND": the expression ends/,
    ],
    [
      "License-Expression unclosed",
      `${base}License-Expression: (MIT OR BSD-3-Clause\n`,
      /line 4: License-Expression .*'\(' is not closed/,
    ],
    [
      "License-Expression bad id",
      `${base}License-Expression: MIT/X11\n`,
      /line 4: License-Expression .*not a license identifier/,
    ],
    [
      "License-Expression empty",
      `${base}License-Expression:\n`,
      /line 4: License-Expression "": the expression is empty/,
    ],
    [
      "License-File going up",
      `${base}License-File: ../LICENSE\n`,
      /line 4: License-File "..\/LICENSE": the path must not contain '..'/,
    ],
    [
      "License-File absolute",
      `${base}License-File: /etc/LICENSE\n`,
      /line 4: License-File .*must be relative/,
    ],
    [
      "License-File backslash",
      `${base}License-File: lic\\LICENSE\n`,
      /line 4: License-File .*'\/' as the separator/,
    ],
    ["empty Requires-Dist", `${base}Requires-Dist:\n`, /line 4: Requires-Dist is empty/],
    [
      "Description and a different body",
      `${base}Description: one\n\nanother\n`,
      /line 6: the file has both a Description field \(line 4\)/,
    ],
  ];
  for (const [what, text, message] of cases) {
    it(`rejects ${what}`, () => {
      const got = thrownCodeAndMessage(() => parseMetadata(text));
      expect(got.startsWith("INVALID_METADATA: invalid METADATA at line ")).toBe(true);
      expect(got).toMatch(message);
    });
  }

  it("rejects bytes that are not UTF-8", () => {
    const bytes = new Uint8Array([...new TextEncoder().encode(base), 0x53, 0x3a, 0x20, 0xff, 0x0a]);
    expect(thrownCodeAndMessage(() => parseMetadataBytes(bytes))).toMatch(
      /^INVALID_METADATA: .*UTF-8/,
    );
    expect(
      parseMetadataBytes(new TextEncoder().encode(`${base}Summary: Ünïcode ✓\n`)).summary,
    ).toBe("Ünïcode ✓");
  });

  it("names the bad Requires-Dist entry when parsing requirements", () => {
    const m = parseMetadata(`${base}Requires-Dist: good>=1\nRequires-Dist: bad>=>1\n`);
    const err = thrownCodeAndMessage(() => requiresDist(m));
    expect(err).toMatch(/^INVALID_METADATA: invalid METADATA: Requires-Dist "bad>=>1": /);
    const p = parseMetadata(`${base}Requires-Python: >=3.7,<<4\n`);
    expect(thrownCodeAndMessage(() => requiresPython(p))).toMatch(
      /^INVALID_METADATA: .*Requires-Python ">=3.7,<<4"/,
    );
  });

  it("warns for fields newer than the file's Metadata-Version", () => {
    const warnings: string[] = [];
    parseMetadata(
      "Metadata-Version: 2.1\nName: a\nVersion: 1\nLicense-Expression: MIT\nDynamic: Summary\n",
      {
        onWarning: (w) => warnings.push(w),
      },
    );
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/line 5: field Dynamic is from metadata 2.2/);
    expect(warnings[1]).toMatch(/line 4: field License-Expression is from metadata 2.4/);
  });
});

describe("licenseExpressionProblem", () => {
  it("accepts SPDX expressions and rejects malformed ones", () => {
    for (const ok of [
      "MIT",
      "GPL-2.0+",
      "LicenseRef-Proprietary",
      "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2",
      "MIT OR Apache-2.0",
      "mit or apache-2.0",
      "(MIT AND BSD-2-Clause) OR GPL-3.0-only WITH Classpath-exception-2.0",
      "((MIT))",
    ]) {
      expect(licenseExpressionProblem(ok), ok).toBeUndefined();
    }
    for (const bad of [
      "",
      "OR MIT",
      "MIT OR",
      "MIT MIT",
      "(MIT",
      "MIT)",
      "MIT WITH",
      "MIT WITH (X)",
      "()",
      "MIT AND AND BSD",
      "M!T",
    ]) {
      expect(licenseExpressionProblem(bad), bad).toBeTypeOf("string");
    }
  });
});

// ---- differential check of the header layer against Python's email.parser (compat32) ----

const PY_EMAIL = `
import json, sys
from email.parser import Parser
from email import policy
out = []
for text in json.load(sys.stdin):
    msg = Parser(policy=policy.compat32).parsestr(text)
    out.append({
        "headers": [[k, v] for k, v in msg.raw_items()],
        "body": msg.get_payload(),
        "defects": [type(d).__name__ for d in msg.defects],
    })
json.dump(out, sys.stdout)
`;

describe("email header layer vs Python's email.parser", () => {
  it("splits 400 generated messages the same way", () => {
    const rng = new Rng(20240611);
    const names = [
      "Name",
      "Summary",
      "X-Thing",
      "requires-dist",
      "Description",
      "Classifier",
      "A.b_c",
    ];
    const words = [
      "alpha",
      "b\u00e9ta",
      "x=1",
      "a: b",
      "  spaced",
      "tab\there",
      "",
      "|pipe",
      ">=3.8",
      "\u2713",
    ];
    const texts: string[] = [];
    for (let n = 0; n < 400; n++) {
      const lines: string[] = [];
      const count = 1 + rng.int(6);
      for (let h = 0; h < count; h++) {
        lines.push(`${rng.pick(names)}:${rng.pick(["", " ", "  ", "\t"])}${rng.pick(words)}`);
        const conts = rng.int(3);
        for (let c = 0; c < conts; c++) {
          lines.push(`${rng.pick([" ", "\t", "        ", "       |"])}${rng.pick(words)}`);
        }
      }
      const eol = rng.pick(["\n", "\r\n"]);
      let text = lines.join(eol) + eol;
      const bodyKind = rng.next();
      if (bodyKind < 0.4) text += `${eol}body ${rng.pick(words)}${eol}more${eol}`;
      else if (bodyKind < 0.5) text += eol;
      texts.push(text);
    }
    const py = runStdlibPythonJson<
      { headers: [string, string][]; body: string; defects: string[] }[]
    >(PY_EMAIL, texts);
    expect(py).toHaveLength(texts.length);
    texts.forEach((text, i) => {
      const want = py[i];
      if (want === undefined) throw new Error("missing python result");
      expect(want.defects, text).toEqual([]);
      const ours = parseEmailHeaders(text, "INVALID_METADATA", "METADATA");
      const normalize = (s: string) => s.replace(/\r\n/g, "\n");
      expect(
        ours.headers.map((h) => [h.name, h.lines.join("\n")]),
        JSON.stringify(text),
      ).toEqual(want.headers.map(([k, v]) => [k, normalize(v)]));
      expect(ours.body ?? "", JSON.stringify(text)).toBe(normalize(want.body));
    });
  });
});

// ---- differential check of field values against pypa/packaging's metadata reader ----

const PY_PACKAGING = `
import json, sys
from packaging.metadata import Metadata, parse_email
out = []
for text in json.load(sys.stdin):
    raw, unparsed = parse_email(text)
    try:
        Metadata.from_email(text, validate=True)
        error = None
    except Exception as e:
        error = repr(e)
    out.append({"raw": raw, "unparsed": {k: v for k, v in unparsed.items()}, "error": error})
json.dump(out, sys.stdout)
`;

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function squash(v: unknown): unknown {
  if (typeof v === "string")
    return v
      .split(/\s+/)
      .filter((w) => w !== "")
      .join(" ");
  if (Array.isArray(v)) return v.map(squash);
  return v;
}

describe("field values vs pypa/packaging", () => {
  it("reads samples and 200 generated files as packaging.metadata does", () => {
    const pp = defaultPackagingPython();
    const rng = new Rng(99);
    const pool: [string, string[]][] = [
      ["Summary", ["A thing", "Folded\n  summary text"]],
      ["Home-page", ["https://example.org"]],
      ["Author", ["Ann <ann@example.org>"]],
      ["author-email", ["ann@example.org, bob@example.org"]],
      ["License", ["MIT", "Line one\n        line two\n        \n        line four"]],
      ["Classifier", ["Programming Language :: Python", "License :: OSI Approved :: MIT License"]],
      [
        "Requires-Dist",
        [
          "numpy>=1.20",
          "idna (<4,>=2.5)",
          'pywin32>=1; sys_platform == "win32"',
          "x[a,b]==1.0; extra == 'dev'",
        ],
      ],
      ["Requires-Python", [">=3.8", ">=3.7,<4"]],
      ["Project-URL", ["Home, https://example.org", "Bug Tracker, https://example.org/issues"]],
      ["Provides-Extra", ["dev", "docs", "test-all"]],
      ["Platform", ["any", "linux"]],
      ["Keywords", ["a,b,c", "one, two"]],
      ["Description-Content-Type", ["text/markdown", "text/x-rst; charset=UTF-8"]],
      ["Requires-External", ["libpng (>=1.5)"]],
      ["Provides-Dist", ["OtherProject"]],
      ["Obsoletes-Dist", ["Gorgon"]],
    ];
    const texts = [REQUESTS, NUMPY, MODERN, OLD_PKG_INFO];
    for (let n = 0; n < 200; n++) {
      const lines = [
        `Metadata-Version: ${rng.pick(["2.1", "2.2", "2.3"])}`,
        `Name: pkg-${n}`,
        `Version: 1.${n}`,
      ];
      const used = new Set<string>();
      for (let k = 0; k < 8; k++) {
        const [field, values] = rng.pick(pool);
        const multi = [
          "Classifier",
          "Requires-Dist",
          "Project-URL",
          "Provides-Extra",
          "Platform",
          "Requires-External",
          "Provides-Dist",
          "Obsoletes-Dist",
        ].includes(field);
        if (!multi && used.has(field)) continue;
        let value = rng.pick(values);
        if (multi && used.has(`${field}=${value}`)) continue;
        used.add(field);
        used.add(`${field}=${value}`);
        if (field === "Project-URL") value = value.replace("Home", `Home${k}`);
        lines.push(`${field}: ${value}`);
      }
      let text = `${lines.join("\n")}\n`;
      if (rng.chance(0.5)) text += `\n# Title ${n}\n\nSome *markdown*.\n`;
      texts.push(text);
    }
    const py = runPythonJson<
      { raw: Record<string, unknown>; unparsed: Record<string, unknown>; error: string | null }[]
    >(pp, PY_PACKAGING, texts);
    texts.forEach((text, i) => {
      const want = py[i];
      if (want === undefined) throw new Error("missing python result");
      // Where packaging's validation refuses the file, we read it with a warning (or, for a
      // field outside the specification, keep it in unknownFields).
      const warnings: string[] = [];
      const ours = parseMetadata(text, { onWarning: (w) => warnings.push(w) }) as unknown as Record<
        string,
        unknown
      >;
      const unknownFields = (ours.unknownFields as { name: string; value: string }[]).map((f) => [
        f.name.toLowerCase(),
        [f.value],
      ]);
      expect(want.unparsed, text).toEqual(Object.fromEntries(unknownFields));
      expect(want.error !== null, `${text}\n${want.error}\n${warnings.join("\n")}`).toBe(
        warnings.length > 0 || unknownFields.length > 0,
      );
      const mine: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(ours)) {
        if (key === "unknownFields") continue;
        if (Array.isArray(value) && value.length === 0) continue;
        if (key === "projectUrls") {
          mine.project_urls = Object.fromEntries(
            (value as { label: string; url: string }[]).map((u) => [u.label, u.url]),
          );
        } else if (key === "dynamic") {
          mine.dynamic = (value as string[]).map((d) => d.toLowerCase());
        } else {
          mine[snake(key)] = squash(value);
        }
      }
      const theirs: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(want.raw)) {
        theirs[key] =
          key === "project_urls"
            ? value
            : key === "dynamic"
              ? (value as string[]).map((d) => d.toLowerCase())
              : squash(value);
      }
      expect(mine, text).toEqual(theirs);
    });
  });
});
