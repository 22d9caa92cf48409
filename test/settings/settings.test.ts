import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveSettings } from "../../src/settings/index.ts";
import { thrown } from "../helpers/errors.ts";

let root: string;
let project: string;
let home: string;

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), "slimenv-settings-"));
  project = path.join(root, "proj");
  home = path.join(root, "home");
  mkdirSync(path.join(project, "sub"), { recursive: true });
  mkdirSync(path.join(home, ".config", "slimenv"), { recursive: true });
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const write = (file: string, text: string) => writeFileSync(file, text);

describe("resolveSettings precedence", () => {
  it("flags > env > slimenv.toml > [tool.slimenv] > user config", () => {
    write(
      path.join(home, ".config/slimenv/slimenv.toml"),
      'index-url = "https://user/simple"\nretries = 9\nconcurrency = 1\nresolution = "lowest"\n',
    );
    write(
      path.join(project, "pyproject.toml"),
      '[project]\nname = "x"\n[tool.slimenv]\nindex-url = "https://pyproject/simple"\nretries = 7\nconcurrency = 2\n',
    );
    write(
      path.join(project, "slimenv.toml"),
      'index-url = "https://slimenv-toml/simple"\nretries = 5\n',
    );
    const env = { HOME: home, SLIMENV_INDEX_URL: "https://env/simple", SLIMENV_OFFLINE: "yes" };
    const r = resolveSettings({
      flags: { "index-url": "https://flag/simple", offline: undefined },
      env,
      cwd: path.join(project, "sub"),
    });
    expect(r.projectDir).toBe(project);
    expect(r.values).toEqual({
      "index-url": "https://flag/simple",
      offline: true,
      retries: 5,
      concurrency: 2,
      resolution: "lowest",
    });
    expect(r.sources["index-url"]).toEqual({ kind: "flag", name: "index-url" });
    expect(r.sources.offline).toEqual({ kind: "env", name: "SLIMENV_OFFLINE" });
    expect(r.sources.retries).toEqual({
      kind: "file",
      path: path.join(project, "slimenv.toml"),
      key: "retries",
    });
    expect(r.sources.concurrency).toMatchObject({ key: "tool.slimenv.concurrency" });
    expect(r.files).toEqual([
      path.join(project, "slimenv.toml"),
      path.join(project, "pyproject.toml"),
      path.join(home, ".config/slimenv/slimenv.toml"),
    ]);
  });

  it("parses env lists, booleans and integers; SLIMENV_NO_CONFIG skips files", () => {
    write(path.join(project, "slimenv.toml"), "retries = 5\n");
    const r = resolveSettings({
      env: {
        HOME: home,
        SLIMENV_EXTRA_INDEX_URL: " https://a/simple  https://b/simple ",
        SLIMENV_OFFLINE: "0",
        SLIMENV_TIMEOUT: "12",
        SLIMENV_NO_CONFIG: "1",
      },
      cwd: project,
    });
    expect(r.values).toEqual({
      "extra-index-url": ["https://a/simple", "https://b/simple"],
      offline: false,
      timeout: 12,
    });
    expect(r.files).toEqual([]);
  });

  it("takes a list whole from the highest source", () => {
    write(path.join(project, "slimenv.toml"), 'find-links = ["./wheels", "./more"]\n');
    const r = resolveSettings({ env: { HOME: home, SLIMENV_FIND_LINKS: "/x" }, cwd: project });
    expect(r.values["find-links"]).toEqual(["/x"]);
    const r2 = resolveSettings({ env: { HOME: home }, cwd: project });
    expect(r2.values["find-links"]).toEqual(["./wheels", "./more"]);
  });
});

describe("resolveSettings errors name the source", () => {
  it.each([
    [{ SLIMENV_OFFLINE: "maybe" }, "environment variable SLIMENV_OFFLINE: expected true or false"],
    [{ SLIMENV_RETRIES: "-1" }, "environment variable SLIMENV_RETRIES: expected a whole number"],
    [
      { SLIMENV_RESOLUTION: "newest" },
      'unknown value "newest" (one of: highest, lowest, lowest-direct)',
    ],
  ])("%j", (env, message) => {
    const err = thrown(() => resolveSettings({ env: { HOME: home, ...env }, cwd: project }));
    expect(err.code).toBe("INVALID_CONFIG");
    expect(err.message).toContain(message);
  });

  it("rejects unknown keys, wrong types and bad TOML in files", () => {
    write(path.join(project, "slimenv.toml"), 'index_url = "x"\n');
    let err = thrown(() => resolveSettings({ env: { HOME: home }, cwd: project }));
    expect(err.message).toBe(`${path.join(project, "slimenv.toml")}: unknown setting index_url`);
    expect(err.hint).toContain("index-url");

    write(path.join(project, "slimenv.toml"), "offline = 1\n");
    err = thrown(() => resolveSettings({ env: { HOME: home }, cwd: project }));
    expect(err.message).toContain("slimenv.toml: offline: expected true or false, got 1");

    write(path.join(project, "slimenv.toml"), "offline = \n");
    err = thrown(() => resolveSettings({ env: { HOME: home }, cwd: project }));
    expect(err.code).toBe("INVALID_CONFIG");
    expect(err.message).toContain("is not valid TOML");

    rmSync(path.join(project, "slimenv.toml"));
    write(path.join(project, "pyproject.toml"), '[tool]\nslimenv = "x"\n');
    err = thrown(() => resolveSettings({ env: { HOME: home }, cwd: project }));
    expect(err.message).toContain("tool.slimenv must be a table");
  });

  it("rejects a bad flag value the same way", () => {
    const err = thrown(() =>
      resolveSettings({ flags: { "index-strategy": "best" }, env: { HOME: home }, cwd: project }),
    );
    expect(err.message).toContain("option --index-strategy: unknown value");
  });
});
