import path from "node:path";
import { describe, expect, it } from "vitest";
import { cacheDir, slimenvHome } from "../../src/base/index.ts";

describe("slimenv home", () => {
  it("prefers SLIMENV_HOME, then XDG_CACHE_HOME, then ~/.cache", () => {
    expect(slimenvHome({ SLIMENV_HOME: "/x/y", XDG_CACHE_HOME: "/c", HOME: "/h" })).toBe("/x/y");
    expect(slimenvHome({ XDG_CACHE_HOME: "/c", HOME: "/h" })).toBe("/c/slimenv");
    expect(slimenvHome({ HOME: "/h" })).toBe("/h/.cache/slimenv");
    // A relative XDG_CACHE_HOME is invalid per the XDG spec and ignored.
    expect(slimenvHome({ XDG_CACHE_HOME: "rel", HOME: "/h" })).toBe("/h/.cache/slimenv");
    expect(cacheDir("probes", { SLIMENV_HOME: "/x" })).toBe(path.join("/x", "probes"));
  });
});
