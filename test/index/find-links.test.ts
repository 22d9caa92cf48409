import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordingReporter } from "../../src/base/index.ts";
import { isRemoteSource, listFindLinks } from "../../src/index/find-links.ts";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import { buildSdist, buildWheel, writeWheelDir } from "../helpers/wheels.ts";
import { rejection, shown, testClient } from "./index-fixtures.ts";

const client = testClient();
afterAll(() => client.close());

const a1 = buildWheel({ name: "alpha", version: "1.0" });
const a2 = buildWheel({ name: "alpha", version: "2.0", tags: "cp311-cp311-manylinux_2_17_x86_64" });
const b1 = buildSdist({ name: "Beta_Pkg", version: "0.3" });

describe("find-links folders", () => {
  let dir: string;
  beforeAll(() => {
    dir = writeWheelDir([a1, a2, b1]);
    for (const junk of [
      "alpha-1.0.win32.exe",
      "alpha-1.0-py2.7.egg",
      "README.txt",
      "not a wheel.whl",
      "alpha-1.0-x.whl",
    ]) {
      writeFileSync(path.join(dir, junk), "junk");
    }
    mkdirSync(path.join(dir, "alpha-9.0-py3-none-any.whl"));
  });

  it("lists wheels and sdists, skipping everything else", async () => {
    const reporter = new RecordingReporter();
    const files = await listFindLinks(dir, { client, reporter });
    expect(files.map((f) => [f.filename, f.kind, f.name, f.version.toString()])).toEqual([
      [a1.filename, "wheel", "alpha", "1.0"],
      [a2.filename, "wheel", "alpha", "2.0"],
      [b1.filename, "sdist", "beta-pkg", "0.3"],
    ]);
    const [first] = files;
    expect(first).toMatchObject({
      url: pathToFileURL(path.join(dir, a1.filename)).href,
      size: a1.bytes.length,
      hashes: {},
      index: dir,
    });
    expect(first?.wheel?.tags.map(String)).toEqual(["py3-none-any"]);
    expect(reporter.messages("debug")).toHaveLength(5);
  });

  it("takes a file: URL or a single file too", async () => {
    const viaUrl = await listFindLinks(pathToFileURL(dir).href, { client });
    expect(viaUrl).toHaveLength(3);
    const single = await listFindLinks(path.join(dir, b1.filename), { client });
    expect(single.map((f) => f.filename)).toEqual([b1.filename]);
    expect(await listFindLinks(path.join(dir, "README.txt"), { client })).toEqual([]);
  });

  it("IO_ERROR for a folder that does not exist", async () => {
    const err = await rejection(listFindLinks(path.join(dir, "missing"), { client }));
    expect(err.code).toBe("IO_ERROR");
    expect(err.message).toContain("find-links location");
    expect(err.hint).toContain("--find-links");
  });
});

describe("flat find-links pages", () => {
  let server: IndexServer;
  beforeAll(async () => {
    server = await startIndexServer({
      projects: {
        alpha: [{ file: a1 }, { file: a2, yanked: "bad", requiresPython: ">=3.11" }],
        Beta_Pkg: [{ file: { filename: b1.filename, bytes: b1.bytes } }],
      },
    });
  });
  afterAll(() => server.close());

  it("lists every file of every project with hashes from the fragments", async () => {
    const files = await listFindLinks(server.linksUrl, { client });
    expect(files.map((f) => [f.filename, f.name])).toEqual([
      [a1.filename, "alpha"],
      [a2.filename, "alpha"],
      [b1.filename, "beta-pkg"],
    ]);
    expect(files[0]).toMatchObject({
      url: `${server.filesUrl}${a1.filename}`,
      hashes: { sha256: a1.sha256 },
      index: server.linksUrl,
    });
    expect(files[1]).toMatchObject({ yanked: "bad", requiresPython: ">=3.11" });
    expect(isRemoteSource(server.linksUrl)).toBe(true);
    expect(isRemoteSource("/tmp/x")).toBe(false);
  });

  it("INDEX_ERROR for a page that is not there, without credentials", async () => {
    const url = `${server.origin.replace("http://", "http://u:hush@")}/nothing/`;
    const err = await rejection(listFindLinks(url, { client }));
    expect(err.code).toBe("INDEX_ERROR");
    expect(err.message).toBe(`find-links page ${server.origin}/nothing/ answered HTTP 404`);
    expect(shown(err)).not.toContain("hush");
  });
});
