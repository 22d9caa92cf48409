import { describe, expect, it } from "vitest";
import {
  assertValidName,
  canonicalizeName,
  isValidName,
  normalizeExtra,
} from "../../src/standards/names.ts";
import { thrown } from "../helpers/errors.ts";

describe("canonicalizeName (PEP 503)", () => {
  it.each([
    ["Django", "django"],
    ["oslo.concurrency", "oslo-concurrency"],
    ["requests", "requests"],
    ["Foo__Bar", "foo-bar"],
    ["foo-._bar", "foo-bar"],
    ["A.B-C_D", "a-b-c-d"],
    ["zope.interface", "zope-interface"],
    ["ZOPE_INTERFACE", "zope-interface"],
    ["-leading", "-leading"],
    ["trailing_.", "trailing-"],
    ["", ""],
  ])("%s → %s", (name, expected) => {
    expect(canonicalizeName(name)).toBe(expected);
  });
});

describe("normalizeExtra (PEP 685)", () => {
  it("normalizes extras like names, so spellings compare equal", () => {
    expect(normalizeExtra("Security")).toBe("security");
    expect(normalizeExtra("Foo.Bar")).toBe(normalizeExtra("foo_bar"));
    expect(normalizeExtra("Foo.Bar")).toBe("foo-bar");
    expect(normalizeExtra("tests--all")).toBe("tests-all");
  });
});

describe("isValidName / assertValidName", () => {
  it.each(["a", "A", "0", "aa", "A.B-C_D", "foo_bar", "foo..bar", "x1", "1x", "a-b"])(
    "%s is valid",
    (name) => {
      expect(isValidName(name)).toBe(true);
      expect(assertValidName(name)).toBe(name);
    },
  );

  it.each(["", "-a", "a-", "_a", "a_", ".a", "a.", "a b", "é", "foo!", "foo/bar", "a\n", " a"])(
    "%j is invalid and throws INVALID_NAME",
    (name) => {
      expect(isValidName(name)).toBe(false);
      const err = thrown(() => assertValidName(name));
      expect(err.code).toBe("INVALID_NAME");
      expect(err.message).toContain(JSON.stringify(name));
    },
  );
});
