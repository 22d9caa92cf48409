import { describe, expect, it } from "vitest";
import { isSlimenvError } from "../../src/base/index.ts";
import type { PythonRequest } from "../../src/python/request.ts";
import { describeRequest, parsePythonRequest } from "../../src/python/request.ts";

const GOOD: [string | undefined, PythonRequest][] = [
  [undefined, { kind: "default" }],
  ["3", { kind: "version", version: [3], freeThreaded: false, text: "3" }],
  ["3.11", { kind: "version", version: [3, 11], freeThreaded: false, text: "3.11" }],
  [" 3.11.7 ", { kind: "version", version: [3, 11, 7], freeThreaded: false, text: "3.11.7" }],
  ["3.13t", { kind: "version", version: [3, 13], freeThreaded: true, text: "3.13t" }],
  [
    "cpython@3.12",
    {
      kind: "version",
      implementation: "cpython",
      version: [3, 12],
      freeThreaded: false,
      text: "cpython@3.12",
    },
  ],
  [
    "CPython@3.12.1",
    {
      kind: "version",
      implementation: "cpython",
      version: [3, 12, 1],
      freeThreaded: false,
      text: "CPython@3.12.1",
    },
  ],
  [
    "cpython3.12",
    {
      kind: "version",
      implementation: "cpython",
      version: [3, 12],
      freeThreaded: false,
      text: "cpython3.12",
    },
  ],
  ["python3.12", { kind: "version", version: [3, 12], freeThreaded: false, text: "python3.12" }],
  ["python3", { kind: "version", version: [3], freeThreaded: false, text: "python3" }],
  ["python", { kind: "version", version: [], freeThreaded: false, text: "python" }],
  ["python@3.9", { kind: "version", version: [3, 9], freeThreaded: false, text: "python@3.9" }],
  [
    "pypy@3.10",
    {
      kind: "version",
      implementation: "pypy",
      version: [3, 10],
      freeThreaded: false,
      text: "pypy@3.10",
    },
  ],
  [
    "pypy3.10",
    {
      kind: "version",
      implementation: "pypy",
      version: [3, 10],
      freeThreaded: false,
      text: "pypy3.10",
    },
  ],
  [
    "pypy",
    { kind: "version", implementation: "pypy", version: [], freeThreaded: false, text: "pypy" },
  ],
  [
    "cp312",
    {
      kind: "version",
      implementation: "cpython",
      version: [3, 12],
      freeThreaded: false,
      text: "cp312",
    },
  ],
  [
    "pp310",
    {
      kind: "version",
      implementation: "pypy",
      version: [3, 10],
      freeThreaded: false,
      text: "pp310",
    },
  ],
  ["/usr/bin/python3", { kind: "path", path: "/usr/bin/python3", text: "/usr/bin/python3" }],
  ["./venv/bin/python", { kind: "path", path: "./venv/bin/python", text: "./venv/bin/python" }],
  [".venv", { kind: "path", path: ".venv", text: ".venv" }],
  ["~/py/bin/python3", { kind: "path", path: "~/py/bin/python3", text: "~/py/bin/python3" }],
  [
    "C:\\Python312\\python.exe",
    { kind: "path", path: "C:\\Python312\\python.exe", text: "C:\\Python312\\python.exe" },
  ],
  ["python3-dbg", { kind: "command", name: "python3-dbg", text: "python3-dbg" }],
  ["mypython", { kind: "command", name: "mypython", text: "mypython" }],
  ["python3.x", { kind: "command", name: "python3.x", text: "python3.x" }],
];

describe("parsePythonRequest", () => {
  for (const [input, want] of GOOD) {
    it(`parses ${JSON.stringify(input)}`, () => {
      expect(parsePythonRequest(input)).toEqual(want);
    });
  }

  const BAD: [string, number, RegExp][] = [
    ["", 0, /empty Python request/],
    ["   ", 0, /empty Python request/],
    ["3.x", 3, /"3\.x" is not a version at column 3/],
    ["3..11", 3, /is not a version at column 3/],
    ["3.11.7.1", 7, /is not a version at column 7/],
    ["3t", 1, /free-threaded request needs a minor version/],
    ["cpython@", 9, /missing version after '@' at column 9/],
    ["@3.11", 1, /missing implementation before '@' at column 1/],
    ["jython@3.11", 1, /unknown implementation "jython"/],
    ["pypy@three", 6, /"three" is not a version at column 6/],
    ["python3..12", 9, /is not a version at column 9/],
    ["py thon", 3, /unexpected character " " at column 3/],
    ["python3;rm", 8, /unexpected character ";" at column 8/],
  ];
  for (const [input, column, message] of BAD) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      let err: unknown;
      try {
        parsePythonRequest(input);
      } catch (e) {
        err = e;
      }
      expect(isSlimenvError(err, "INVALID_OPTION")).toBe(true);
      const e = err as { message: string; hint?: string; detail?: string };
      expect(e.message).toMatch(message);
      expect(e.hint).toMatch(/cpython@3\.12/);
      if (input.trim() !== "") {
        expect(e.message).toContain(`at column ${column}`);
        expect(e.detail).toBe(`${input.trim()}\n${" ".repeat(column - 1)}^`);
      }
    });
  }
});

describe("describeRequest", () => {
  it("says what was asked for", () => {
    expect(describeRequest(parsePythonRequest(undefined))).toBe("any Python");
    expect(describeRequest(parsePythonRequest("3.11"))).toBe("any Python 3.11");
    expect(describeRequest(parsePythonRequest("cpython@3.12"))).toBe("CPython 3.12");
    expect(describeRequest(parsePythonRequest("pypy3.10"))).toBe("PyPy 3.10");
    expect(describeRequest(parsePythonRequest("3.13t"))).toBe("any Python 3.13 (free-threaded)");
    expect(describeRequest(parsePythonRequest("./x"))).toBe("./x");
    expect(describeRequest(parsePythonRequest("mypython"))).toBe("command mypython");
  });
});
