import { describe, expect, it } from "vitest";
import * as slimenv from "../src/index.ts";

describe("the library's public API (src/index.ts)", () => {
  it("exports one function per stage and the standards' value types", () => {
    for (const name of [
      "Version",
      "SpecifierSet",
      "Requirement",
      "Marker",
      "Tag",
      "canonicalizeName",
      "parseWheelFilename",
      "readPylock",
      "SlimenvError",
      "resolveSettings",
      "resolveTarget",
      "targetFromSpec",
      "runLock",
      "install",
      "buildSdist",
      "sync",
      "checkEnv",
      "installSlim",
      "sizeReport",
      "buildRuntime",
      "Store",
    ]) {
      expect(typeof (slimenv as Record<string, unknown>)[name], name).toBe("function");
    }
  });

  it("runs the README example", () => {
    expect(new slimenv.SpecifierSet(">=1.0,!=1.3.*").contains("1.3.2")).toBe(false);
    const req = new slimenv.Requirement('requests[socks]>=2.31; python_version >= "3.8"');
    expect(req.marker?.toString()).toBe('python_version >= "3.8"');
  });
});
