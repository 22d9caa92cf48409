import { afterAll, afterEach, describe, expect, it } from "vitest";
import { DEFAULT_INDEX_URL, IndexSet } from "../../src/index/indexes.ts";
import type { IndexServer, IndexServerOptions } from "../helpers/index-server.ts";
import { startIndexServer } from "../helpers/index-server.ts";
import { buildWheel, writeWheelDir } from "../helpers/wheels.ts";
import { rejection, shown, testClient } from "./index-fixtures.ts";

const client = testClient();
const servers: IndexServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(() => client.close());

async function start(options: IndexServerOptions): Promise<IndexServer> {
  const s = await startIndexServer(options);
  servers.push(s);
  return s;
}

const internal1 = buildWheel({ name: "corp-utils", version: "1.0" });
const attacker99 = buildWheel({
  name: "corp-utils",
  version: "99.0",
  requiresDist: ["evil"],
});
const shared = buildWheel({ name: "shared", version: "1.0" });
const shared2 = buildWheel({ name: "shared", version: "2.0" });
const publicOnly = buildWheel({ name: "public-only", version: "3.0" });

const projectPaths = (s: IndexServer) =>
  s.requests.filter((r) => r.path.startsWith("/simple/")).map((r) => r.path);

describe("IndexSet", () => {
  it("first-index: a name comes from the first index that has it (no dependency confusion)", async () => {
    const primary = await start({ projects: { "corp-utils": [{ file: internal1 }] } });
    const extra = await start({
      projects: { "corp-utils": [{ file: attacker99 }], "public-only": [{ file: publicOnly }] },
    });
    const set = new IndexSet({ client, indexUrls: [primary.url, extra.url] });
    expect(set.strategy).toBe("first-index");
    const files = await set.files("Corp_Utils");
    expect(files.map((f) => [f.version.toString(), f.index])).toEqual([["1.0", primary.url]]);
    expect(projectPaths(extra)).toEqual([]);

    // A name the primary lacks comes from the next index.
    const pub = await set.files("public-only");
    expect(pub.map((f) => [f.version.toString(), f.index])).toEqual([["3.0", extra.url]]);
    expect(projectPaths(primary)).toEqual(["/simple/corp-utils/", "/simple/public-only/"]);
  });

  it("unsafe-best-match: merges every index", async () => {
    const primary = await start({ projects: { shared: [{ file: shared }] } });
    const extra = await start({ projects: { shared: [{ file: shared2 }] } });
    const set = new IndexSet({
      client,
      indexUrls: [primary.url, extra.url],
      strategy: "unsafe-best-match",
    });
    const files = await set.files("shared");
    expect(files.map((f) => [f.version.toString(), f.index])).toEqual([
      ["1.0", primary.url],
      ["2.0", extra.url],
    ]);
  });

  it("adds find-links files in either strategy, and gives [] for unknown names", async () => {
    const primary = await start({ projects: { shared: [{ file: shared }] } });
    const dir = writeWheelDir([shared2, publicOnly]);
    const set = new IndexSet({ client, indexUrls: [primary.url], findLinks: [dir] });
    const files = await set.files("shared");
    expect(files.map((f) => [f.version.toString(), f.index])).toEqual([
      ["1.0", primary.url],
      ["2.0", dir],
    ]);
    expect((await set.files("public-only")).map((f) => f.index)).toEqual([dir]);
    expect(await set.files("nobody-has-this")).toEqual([]);
  });

  it("works with find-links alone (no index)", async () => {
    const dir = writeWheelDir([shared, shared2]);
    const set = new IndexSet({ client, indexUrls: [], findLinks: [dir] });
    const files = await set.files("shared");
    expect(files.map((f) => f.version.toString())).toEqual(["1.0", "2.0"]);
    const meta = await set.metadata(files[1] as (typeof files)[number]);
    expect(meta.version).toBe("2.0");
  });

  it("remembers each project and each file's metadata", async () => {
    const primary = await start({ projects: { shared: [{ file: shared, serveMetadata: false }] } });
    const set = new IndexSet({ client, indexUrls: [primary.url] });
    const [a, b] = await Promise.all([set.files("shared"), set.files("SHARED")]);
    expect(a).toBe(b);
    expect(projectPaths(primary)).toEqual(["/simple/shared/"]);
    const file = a[0];
    if (file === undefined) throw new Error("no file");
    const [m1, m2] = await Promise.all([set.metadata(file), set.metadata(file)]);
    expect(m1).toBe(m2);
    expect(primary.requests.filter((r) => r.path.startsWith("/files/"))).toHaveLength(1);
  });

  it("an index error is an error, not a missing project, and is not remembered", async () => {
    const primary = await start({
      projects: { shared: [{ file: shared }] },
      faults: [{ path: "/simple/shared/", status: 503, times: 1 }],
    });
    const extra = await start({ projects: { shared: [{ file: shared2 }] } });
    const set = new IndexSet({ client, indexUrls: [primary.url, extra.url] });
    const err = await rejection(set.files("shared"));
    expect(err.code).toBe("HTTP_ERROR");
    expect(projectPaths(extra)).toEqual([]);
    expect((await set.files("shared")).map((f) => f.index)).toEqual([primary.url]);
  });

  it("authenticated index: credentials used for pages and files, never stored or shown", async () => {
    const primary = await start({
      projects: { shared: [{ file: shared, serveMetadata: false }] },
      auth: { user: "dave", password: "n0tshown" },
    });
    const set = new IndexSet({ client, indexUrls: [primary.urlWithAuth] });
    expect(set.indexUrls).toEqual([primary.url]);
    const files = await set.files("shared");
    expect(JSON.stringify(files)).not.toContain("n0tshown");
    const file = files[0];
    if (file === undefined) throw new Error("no file");
    expect((await set.metadata(file)).name).toBe("shared");

    primary.setFaults([{ path: `/files/${shared.filename}`, corrupt: 40 }]);
    const err = await rejection(
      new IndexSet({ client, indexUrls: [primary.urlWithAuth], rangeRequests: false }).metadata(
        file,
      ),
    );
    expect(err.code).toBe("HASH_MISMATCH");
    expect(shown(err)).not.toContain("n0tshown");
  });

  it("refuses index URLs that are not http(s) or file URLs", () => {
    expect(() => new IndexSet({ client, indexUrls: ["ftp://x/simple/"] })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION" }),
    );
    expect(() => new IndexSet({ client, indexUrls: ["not a url"] })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION" }),
    );
    expect(new IndexSet({ client }).indexUrls).toEqual([DEFAULT_INDEX_URL]);
  });
});
