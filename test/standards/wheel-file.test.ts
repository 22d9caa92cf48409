import { describe, expect, it } from "vitest";
import type { WheelFile } from "../../src/standards/wheel-file.ts";
import {
  checkWheelVersion,
  formatWheelFile,
  parseWheelFile,
} from "../../src/standards/wheel-file.ts";
import { thrownCodeAndMessage } from "../helpers/errors.ts";

// What bdist_wheel writes (with the trailing blank line of Python's email generator).
const PURE =
  "Wheel-Version: 1.0\nGenerator: bdist_wheel (0.42.0)\nRoot-Is-Purelib: true\nTag: py2-none-any\nTag: py3-none-any\n\n";
const NUMPY = `Wheel-Version: 1.0
Generator: meson
Root-Is-Purelib: false
Tag: cp312-cp312-manylinux_2_17_x86_64
Tag: cp312-cp312-manylinux2014_x86_64
`;

describe("parseWheelFile", () => {
  it("reads a pure wheel's WHEEL", () => {
    expect(parseWheelFile(PURE)).toEqual({
      wheelVersion: "1.0",
      generator: "bdist_wheel (0.42.0)",
      rootIsPurelib: true,
      tags: ["py2-none-any", "py3-none-any"],
      unknownFields: [],
    });
  });

  it("reads a platform wheel's WHEEL, a build number, unknown fields, CRLF and any case", () => {
    const w = parseWheelFile(`${NUMPY}Build: 1a\nX-Extra: kept\n`);
    expect(w.rootIsPurelib).toBe(false);
    expect(w.tags).toEqual([
      "cp312-cp312-manylinux_2_17_x86_64",
      "cp312-cp312-manylinux2014_x86_64",
    ]);
    expect(w.build).toBe("1a");
    expect(w.unknownFields).toEqual([{ name: "X-Extra", value: "kept" }]);
    const c = parseWheelFile(
      "wheel-version: 1.0\r\nroot-is-purelib: True\r\ntag: py3-none-any\r\n",
    );
    expect(c.rootIsPurelib).toBe(true);
    expect(c.tags).toEqual(["py3-none-any"]);
    expect(c.generator).toBeUndefined();
  });

  it("round-trips through formatWheelFile", () => {
    for (const text of [PURE, NUMPY, `${NUMPY}Build: 7\nX-Extra: kept\n`]) {
      const w = parseWheelFile(text);
      const out = formatWheelFile(w);
      expect(parseWheelFile(out)).toEqual(w);
      expect(formatWheelFile(parseWheelFile(out))).toBe(out);
    }
    expect(formatWheelFile(parseWheelFile(NUMPY))).toBe(NUMPY);
  });

  const bad: [string, string, RegExp][] = [
    [
      "no Wheel-Version",
      "Root-Is-Purelib: true\n",
      /line 1: the required field Wheel-Version is missing/,
    ],
    [
      "a malformed Wheel-Version",
      "Root-Is-Purelib: true\nWheel-Version: one\n",
      /line 2: Wheel-Version "one" is not of the form X.Y/,
    ],
    ["no Root-Is-Purelib", "Wheel-Version: 1.0\n", /the required field Root-Is-Purelib is missing/],
    [
      "a bad Root-Is-Purelib",
      "Wheel-Version: 1.0\nRoot-Is-Purelib: yes\n",
      /line 2: Root-Is-Purelib "yes" is not 'true' or 'false'/,
    ],
    [
      "a repeated Generator",
      "Wheel-Version: 1.0\nGenerator: a\nRoot-Is-Purelib: true\nGenerator: b\n",
      /line 4: field Generator appears again \(first at line 2\)/,
    ],
    [
      "a bad Tag",
      "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none\n",
      /line 3: Tag "py3-none" is not 'interpreter-abi-platform'/,
    ],
    [
      "a Build not starting with a digit",
      "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nBuild: a1\n",
      /line 3: Build "a1" must start with a digit/,
    ],
    [
      "a line that is not a header",
      "Wheel-Version: 1.0\nRoot-Is-Purelib true\n",
      /line 2: expected 'Field: value'/,
    ],
  ];
  for (const [what, text, message] of bad) {
    it(`rejects ${what}`, () => {
      const got = thrownCodeAndMessage(() => parseWheelFile(text));
      expect(got.startsWith("INVALID_WHEEL_FILE: invalid WHEEL at line ")).toBe(true);
      expect(got).toMatch(message);
    });
  }
});

describe("checkWheelVersion", () => {
  it("accepts 1.0 and older, flags a newer 1.x, rejects 2.x and later", () => {
    expect(checkWheelVersion("1.0")).toEqual({ major: 1, minor: 0, newer: false });
    expect(checkWheelVersion("0.9")).toEqual({ major: 0, minor: 9, newer: false });
    expect(checkWheelVersion("1.1")).toEqual({ major: 1, minor: 1, newer: true });
    expect(checkWheelVersion("1.10")).toEqual({ major: 1, minor: 10, newer: true });
    expect(thrownCodeAndMessage(() => checkWheelVersion("2.0"))).toMatch(
      /^INVALID_WHEEL_FILE: Wheel-Version 2.0 is not supported/,
    );
    expect(thrownCodeAndMessage(() => checkWheelVersion("10.0"))).toMatch(
      /^INVALID_WHEEL_FILE: Wheel-Version 10.0/,
    );
    expect(thrownCodeAndMessage(() => checkWheelVersion("1"))).toMatch(
      /^INVALID_WHEEL_FILE: .*"1" is not of the form X.Y/,
    );
    expect(thrownCodeAndMessage(() => checkWheelVersion("1.0.0"))).toMatch(/not of the form X.Y/);
  });
});

describe("formatWheelFile", () => {
  it("refuses what it could not read back", () => {
    const w: WheelFile = {
      wheelVersion: "1.0",
      rootIsPurelib: true,
      tags: ["py3-none-any"],
      unknownFields: [],
    };
    expect(thrownCodeAndMessage(() => formatWheelFile({ ...w, wheelVersion: "x" }))).toMatch(
      /^INVALID_WHEEL_FILE: cannot write WHEEL: Wheel-Version "x"/,
    );
    expect(thrownCodeAndMessage(() => formatWheelFile({ ...w, tags: ["py3"] }))).toMatch(
      /Tag "py3"/,
    );
    expect(thrownCodeAndMessage(() => formatWheelFile({ ...w, generator: "a\nb" }))).toMatch(
      /Generator has a line break/,
    );
    expect(
      thrownCodeAndMessage(() =>
        formatWheelFile({ ...w, unknownFields: [{ name: "Tag", value: "x" }] }),
      ),
    ).toMatch(/"Tag" is not a valid extra field name/);
  });
});
