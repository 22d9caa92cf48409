import { describe, expect, it } from "vitest";
import { isSlimenvError, pointAt, redact, SlimenvError } from "../../src/base/index.ts";

describe("redact", () => {
  it.each([
    ["https://user:s3cret@example.com/simple", "https://user:***@example.com/simple"],
    ["https://tok3n@example.com/simple", "https://***@example.com/simple"],
    ["see http://a:b@h/x and https://c:d@h/y", "see http://a:***@h/x and https://c:***@h/y"],
    ["Authorization: Bearer abc.def", "Authorization: ***"],
    ["https://h/x?token=abc&x=1", "https://h/x?token=***&x=1"],
    ["no secrets at user@example.com", "no secrets at user@example.com"],
  ])("%s", (input, expected) => {
    expect(redact(input)).toBe(expected);
  });
});

describe("SlimenvError", () => {
  it("keeps code, one-line message, hint, detail and cause, redacted", () => {
    const cause = new Error("socket hang up");
    const err = new SlimenvError(
      "IO_ERROR",
      "cannot reach https://me:pw@example.com/simple/\n  twice",
      {
        hint: "check --index-url https://me:pw@example.com",
        detail: "GET https://me:pw@example.com/",
        cause,
      },
    );
    expect(err.code).toBe("IO_ERROR");
    expect(err.message).toBe("cannot reach https://me:***@example.com/simple/ twice");
    expect(err.hint).toBe("check --index-url https://me:***@example.com");
    expect(err.detail).toBe("GET https://me:***@example.com/");
    expect(err.cause).toBe(cause);
    expect(JSON.stringify(err)).not.toContain("pw");
    expect(err.toJSON()).toEqual({
      code: "IO_ERROR",
      message: "cannot reach https://me:***@example.com/simple/ twice",
      hint: "check --index-url https://me:***@example.com",
      detail: "GET https://me:***@example.com/",
    });
  });

  it("is recognised by isSlimenvError, by code too", () => {
    const err = new SlimenvError("INVALID_VERSION", "bad");
    expect(isSlimenvError(err)).toBe(true);
    expect(isSlimenvError(err, "INVALID_VERSION")).toBe(true);
    expect(isSlimenvError(err, "INVALID_MARKER")).toBe(false);
    expect(isSlimenvError(new Error("x"))).toBe(false);
    expect(err.toJSON()).toEqual({ code: "INVALID_VERSION", message: "bad" });
  });

  it("points at a column", () => {
    expect(pointAt("name>=1.0;;", 10)).toBe("name>=1.0;;\n          ^");
  });
});
