import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordingReporter } from "../../src/base/index.ts";
import {
  fetchProjectFiles,
  parseProjectPage,
  parseSimpleHtml,
  parseSimpleJson,
  SIMPLE_ACCEPT,
} from "../../src/index/simple.ts";
import { thrown } from "../helpers/errors.ts";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import { buildSdist, buildWheel, sha256Hex } from "../helpers/wheels.ts";
import { rejection, shown, testClient } from "./index-fixtures.ts";

const PAGE = "https://user:s3cret@example.org/simple/demo/";
const H = "a".repeat(64);
const M = "b".repeat(64);

function json(files: unknown[], apiVersion = "1.1"): string {
  return JSON.stringify({ meta: { "api-version": apiVersion }, name: "demo", files });
}

function opts(reporter = new RecordingReporter()) {
  return { project: "Demo", pageUrl: "https://example.org/simple/demo/", index: "idx", reporter };
}

describe("parseSimpleJson (PEP 691)", () => {
  it("reads every field, resolving URLs against the page", () => {
    const files = parseSimpleJson(
      json([
        {
          filename: "demo-1.0-py3-none-any.whl",
          url: "../../files/demo-1.0-py3-none-any.whl",
          hashes: { sha256: H.toUpperCase() },
          "requires-python": ">=3.8",
          "core-metadata": { sha256: M },
          "dist-info-metadata": true,
          yanked: false,
          size: 1234,
          "upload-time": "2024-01-02T03:04:05.123456Z",
        },
        {
          filename: "demo-0.9.tar.gz",
          url: "https://cdn.example.org/demo-0.9.tar.gz",
          hashes: {},
          yanked: "broken build",
          "dist-info-metadata": { sha256: M },
        },
        {
          filename: "Demo-0.8.tar.gz",
          url: `demo-0.8.tar.gz#sha256=${H}`,
          hashes: {},
          yanked: true,
        },
      ]),
      opts(),
    );
    expect(files).toHaveLength(3);
    const [wheel, sdist, old] = files;
    expect(wheel).toMatchObject({
      filename: "demo-1.0-py3-none-any.whl",
      url: "https://example.org/files/demo-1.0-py3-none-any.whl",
      kind: "wheel",
      name: "demo",
      hashes: { sha256: H },
      requiresPython: ">=3.8",
      coreMetadata: { sha256: M },
      size: 1234,
      uploadTime: "2024-01-02T03:04:05.123456Z",
      index: "idx",
    });
    expect(wheel?.version.toString()).toBe("1.0");
    expect(wheel?.wheel?.tags.map(String)).toEqual(["py3-none-any"]);
    expect(wheel?.yanked).toBeUndefined();
    expect(sdist).toMatchObject({
      kind: "sdist",
      yanked: "broken build",
      coreMetadata: { sha256: M },
      hashes: {},
    });
    expect(sdist?.wheel).toBeUndefined();
    expect(old).toMatchObject({
      url: "https://example.org/simple/demo/demo-0.8.tar.gz",
      hashes: { sha256: H },
      yanked: true,
    });
    expect(old?.coreMetadata).toBeUndefined();
  });

  it("prefers core-metadata over dist-info-metadata (PEP 714), either may be false", () => {
    const [a, b] = parseSimpleJson(
      json([
        {
          filename: "demo-1.0.tar.gz",
          url: "a",
          hashes: {},
          "core-metadata": false,
          "dist-info-metadata": true,
        },
        { filename: "demo-1.1.tar.gz", url: "b", hashes: {}, "dist-info-metadata": true },
      ]),
      opts(),
    );
    expect(a?.coreMetadata).toBe(false);
    expect(b?.coreMetadata).toBe(true);
  });

  it("treats an empty yanked reason as yanked without a reason", () => {
    const [f] = parseSimpleJson(
      json([{ filename: "demo-1.0.tar.gz", url: "a", hashes: {}, yanked: "" }]),
      opts(),
    );
    expect(f?.yanked).toBe(true);
  });

  it("skips files that are not wheels or sdists, or belong to another project", () => {
    const reporter = new RecordingReporter();
    const files = parseSimpleJson(
      json(
        [
          "demo-1.0.win32.exe",
          "demo-1.0-py2.7.egg",
          "demo-1.0.tar.bz2",
          "demo-not_a_version.tar.gz",
          "demo-1.0-x.whl",
          "other-1.0-py3-none-any.whl",
          "demo_extra-1.0.tar.gz",
          "demo-2.0-py3-none-any.whl",
        ].map((filename) => ({ filename, url: filename, hashes: {} })),
      ),
      opts(reporter),
    );
    expect(files.map((f) => f.filename)).toEqual(["demo-2.0-py3-none-any.whl"]);
    const debug = reporter.messages("debug");
    expect(debug).toHaveLength(7);
    expect(debug.join("\n")).toContain("skipping demo-1.0.win32.exe: not a wheel or sdist");
    expect(debug.join("\n")).toContain("skipping other-1.0-py3-none-any.whl: it belongs to other");
  });

  it("warns on a newer minor API version and refuses another major", () => {
    const reporter = new RecordingReporter();
    parseSimpleJson(json([], "1.99"), opts(reporter));
    expect(reporter.messages("warn")).toEqual([
      expect.stringContaining("uses simple API version 1.99, newer than 1.4"),
    ]);
    const none = new RecordingReporter();
    parseSimpleJson(json([], "1.0"), opts(none));
    expect(none.messages("warn")).toEqual([]);
    const err = thrown(() => parseSimpleJson(json([], "2.0"), opts()));
    expect(err.code).toBe("INDEX_ERROR");
    expect(err.message).toBe(
      "unsupported simple API version 2.0 at https://example.org/simple/demo/ (slimenv reads 1.x)",
    );
  });

  const malformed: [string, string, string][] = [
    ["not JSON", "{", "not valid JSON"],
    ["an array", "[]", "the document must be a JSON object"],
    ["no meta", JSON.stringify({ files: [] }), "meta.api-version is missing"],
    ["bad api version", json([], "one"), 'unreadable API version "one"'],
    [
      "files not array",
      JSON.stringify({ meta: { "api-version": "1.0" }, files: {} }),
      "files must be an array",
    ],
    ["file not object", json([1]), "files[0] must be an object"],
    ["no filename", json([{ url: "x", hashes: {} }]), "files[0].filename must be a file name"],
    [
      "filename with /",
      json([{ filename: "a/demo-1.0.tar.gz", url: "x", hashes: {} }]),
      "files[0].filename",
    ],
    [
      "no url",
      json([{ filename: "demo-1.0.tar.gz", hashes: {} }]),
      "files[0].url must be a string",
    ],
    [
      "bad hashes",
      json([{ filename: "demo-1.0.tar.gz", url: "x", hashes: [] }]),
      "files[0].hashes must be a dictionary",
    ],
    [
      "hash not string",
      json([{ filename: "demo-1.0.tar.gz", url: "x", hashes: { sha256: 1 } }]),
      "files[0].hashes.sha256 must be a string",
    ],
    [
      "requires-python number",
      json([{ filename: "demo-1.0.tar.gz", url: "x", hashes: {}, "requires-python": 3 }]),
      "files[0].requires-python must be a string",
    ],
    [
      "yanked number",
      json([{ filename: "demo-1.0.tar.gz", url: "x", hashes: {}, yanked: 1 }]),
      "files[0].yanked must be a boolean or a string",
    ],
    [
      "core-metadata string",
      json([{ filename: "demo-1.0.tar.gz", url: "x", hashes: {}, "core-metadata": "yes" }]),
      "files[0].core-metadata must be a boolean or a dictionary",
    ],
    [
      "negative size",
      json([{ filename: "demo-1.0.tar.gz", url: "x", hashes: {}, size: -1 }]),
      "files[0].size must be a non-negative integer",
    ],
    [
      "fractional size",
      json([{ filename: "demo-1.0.tar.gz", url: "x", hashes: {}, size: 1.5 }]),
      "files[0].size",
    ],
    [
      "bad upload-time",
      json([{ filename: "demo-1.0.tar.gz", url: "x", hashes: {}, "upload-time": "yesterday" }]),
      "files[0].upload-time must be an ISO 8601",
    ],
  ];
  it.each(malformed)("INDEX_ERROR for a malformed page: %s", (_label, text, why) => {
    const err = thrown(() => parseSimpleJson(text, { ...opts(), pageUrl: PAGE }));
    expect(err.code).toBe("INDEX_ERROR");
    expect(err.message).toContain(why);
    expect(err.message).toContain("example.org/simple/demo/");
    expect(shown(err)).not.toContain("s3cret");
  });
});

describe("parseSimpleHtml (PEP 503)", () => {
  const html = `<!DOCTYPE html><html><head>
    <meta name="pypi:repository-version" content="1.1">
    <title>Links for demo</title></head><body>
    <a href="../../files/demo-1.0-py3-none-any.whl#sha256=${H}" data-requires-python="&gt;=3.8,&lt;4,!=3.9.*"
       data-core-metadata="sha256=${M}" data-dist-info-metadata="true">demo-1.0-py3-none-any.whl</a><br/>
    <a href="https://cdn.example.org/demo-0.9.tar.gz#md5=0123456789abcdef0123456789abcdef" data-yanked="">demo-0.9.tar.gz</a>
    <a href="demo-0.8.tar.gz" data-yanked="bad &amp; broken" data-dist-info-metadata="true">demo-0.8.tar.gz</a>
    <a href="demo-0.7.tar.gz#egg=demo" data-core-metadata="garbage">demo-0.7.tar.gz</a>
    <a href="demo-0.6.ZIP">not an sdist</a>
    <a>no href</a>
    <a href="setup.exe">setup.exe</a>
  </body></html>`;

  it("reads hrefs, hash fragments, escaped requires-python, yanked and core metadata", () => {
    const reporter = new RecordingReporter();
    const files = parseSimpleHtml(html, opts(reporter));
    expect(files.map((f) => f.filename)).toEqual([
      "demo-1.0-py3-none-any.whl",
      "demo-0.9.tar.gz",
      "demo-0.8.tar.gz",
      "demo-0.7.tar.gz",
    ]);
    const [a, b, c, d] = files;
    expect(a).toMatchObject({
      url: "https://example.org/files/demo-1.0-py3-none-any.whl",
      hashes: { sha256: H },
      requiresPython: ">=3.8,<4,!=3.9.*",
      coreMetadata: { sha256: M },
    });
    expect(a?.yanked).toBeUndefined();
    expect(b).toMatchObject({
      url: "https://cdn.example.org/demo-0.9.tar.gz",
      hashes: { md5: "0123456789abcdef0123456789abcdef" },
      yanked: true,
    });
    expect(b?.coreMetadata).toBeUndefined();
    expect(c).toMatchObject({
      url: "https://example.org/simple/demo/demo-0.8.tar.gz",
      yanked: "bad & broken",
      coreMetadata: true,
      hashes: {},
    });
    expect(d).toMatchObject({ hashes: {}, coreMetadata: false });
    expect(reporter.messages("debug").join("\n")).toContain("unreadable data-core-metadata");
  });

  it("resolves against <base href> when the page has one", () => {
    const [f] = parseSimpleHtml(
      `<html><head><base href="https://mirror.example.net/pkgs/"></head><body>
       <a href="demo-1.0.tar.gz">x</a></body></html>`,
      opts(),
    );
    expect(f?.url).toBe("https://mirror.example.net/pkgs/demo-1.0.tar.gz");
  });

  it("checks pypi:repository-version", () => {
    const page = (v: string) =>
      `<html><head><meta name="pypi:repository-version" content="${v}"></head><body></body></html>`;
    const reporter = new RecordingReporter();
    expect(parseSimpleHtml(page("1.7"), opts(reporter))).toEqual([]);
    expect(reporter.messages("warn")).toHaveLength(1);
    const err = thrown(() => parseSimpleHtml(page("2.0"), { ...opts(), pageUrl: PAGE }));
    expect(err.code).toBe("INDEX_ERROR");
    expect(shown(err)).not.toContain("s3cret");
  });
});

describe("parseProjectPage: format by Content-Type", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const jsonPage = json([{ filename: "demo-1.0.tar.gz", url: "x", hashes: {} }]);
  const htmlPage = '<a href="demo-2.0.tar.gz">demo-2.0.tar.gz</a>';

  it.each([
    ["application/vnd.pypi.simple.v1+json", jsonPage, "1.0"],
    ["application/vnd.pypi.simple.latest+json", jsonPage, "1.0"],
    ["application/json; charset=utf-8", jsonPage, "1.0"],
    ["application/vnd.pypi.simple.v1+html", htmlPage, "2.0"],
    ["text/html; charset=utf-8", htmlPage, "2.0"],
    [undefined, jsonPage, "1.0"],
    [undefined, htmlPage, "2.0"],
  ])("%s", (type, body, version) => {
    const files = parseProjectPage(enc(body), type, opts());
    expect(files.map((f) => f.version.toString())).toEqual([version]);
  });

  it("refuses other content types and bytes that are not text", () => {
    const err = thrown(() =>
      parseProjectPage(enc(htmlPage), "application/pdf", { ...opts(), pageUrl: PAGE }),
    );
    expect(err.code).toBe("INDEX_ERROR");
    expect(err.message).toContain('unexpected content type "application/pdf"');
    expect(shown(err)).not.toContain("s3cret");
    const bad = thrown(() =>
      parseProjectPage(new Uint8Array([0xff, 0xfe, 0x80]), "text/html", opts()),
    );
    expect(bad.code).toBe("INDEX_ERROR");
  });
});

describe("fetchProjectFiles against a local index", () => {
  const wheel = buildWheel({ name: "Demo.Pkg", version: "1.0", requiresPython: ">=3.8" });
  const wheel2 = buildWheel({ name: "Demo.Pkg", version: "2.0rc1" });
  const sdist = buildSdist({ name: "Demo.Pkg", version: "1.0" });
  const projects = {
    "Demo.Pkg": [
      { file: wheel, requiresPython: ">=3.8,<4", uploadTime: "2024-05-06T07:08:09.000000Z" },
      { file: wheel2, yanked: "oops" as const },
      { file: { filename: sdist.filename, bytes: sdist.bytes }, yanked: true as const },
    ],
  };
  const client = testClient();
  let both: IndexServer;
  let htmlOnly: IndexServer;
  let relative: IndexServer;

  beforeAll(async () => {
    both = await startIndexServer({ projects });
    htmlOnly = await startIndexServer({ projects, formats: ["html"] });
    relative = await startIndexServer({ projects, formats: ["json"], relativeUrls: true });
  });
  afterAll(async () => {
    await client.close();
    await Promise.all([both.close(), htmlOnly.close(), relative.close()]);
  });

  it("asks for JSON first and reads it, with size and upload-time", async () => {
    both.requests.length = 0;
    const files = await fetchProjectFiles(client, both.url, "demo_pkg");
    expect(both.requests.map((r) => r.path)).toEqual(["/simple/demo-pkg/"]);
    expect(both.requests[0]?.headers.accept).toBe(SIMPLE_ACCEPT);
    expect(files?.map((f) => [f.filename, f.version.toString(), f.yanked])).toEqual([
      [wheel.filename, "1.0", undefined],
      [wheel2.filename, "2.0rc1", "oops"],
      [sdist.filename, "1.0", true],
    ]);
    const [w] = files ?? [];
    expect(w).toMatchObject({
      url: `${both.filesUrl}${wheel.filename}`,
      hashes: { sha256: wheel.sha256 },
      requiresPython: ">=3.8,<4",
      size: wheel.bytes.length,
      uploadTime: "2024-05-06T07:08:09.000000Z",
      coreMetadata: { sha256: sha256Hex(new TextEncoder().encode(wheel.metadata)) },
      index: both.url,
    });
    expect(files?.[2]?.coreMetadata).toBeUndefined();
  });

  it("reads the HTML an HTML-only index answers with (escaped requires-python)", async () => {
    const files = await fetchProjectFiles(client, htmlOnly.url, "Demo.Pkg");
    expect(files?.map((f) => f.filename)).toEqual([
      wheel.filename,
      wheel2.filename,
      sdist.filename,
    ]);
    const [w, w2, s] = files ?? [];
    expect(w).toMatchObject({
      requiresPython: ">=3.8,<4",
      hashes: { sha256: wheel.sha256 },
      coreMetadata: { sha256: sha256Hex(new TextEncoder().encode(wheel.metadata)) },
    });
    expect(w?.size).toBeUndefined();
    expect(w2?.yanked).toBe("oops");
    expect(s?.yanked).toBe(true);
  });

  it("resolves relative file URLs against the page", async () => {
    const files = await fetchProjectFiles(client, relative.url, "demo-pkg");
    expect(files?.[0]?.url).toBe(`${relative.filesUrl}${wheel.filename}`);
  });

  it("follows redirects and resolves relative links against the final URL", async () => {
    relative.setFaults([
      {
        path: "/mirror/demo-pkg/",
        status: 301,
        headers: { location: "/simple/demo-pkg/" },
      },
    ]);
    const files = await fetchProjectFiles(client, `${relative.origin}/mirror/`, "Demo_Pkg");
    expect(files?.[0]?.url).toBe(`${relative.filesUrl}${wheel.filename}`);
    expect(files?.[0]?.index).toBe(`${relative.origin}/mirror/`);
    expect(relative.requests.slice(-2).map((r) => [r.path, r.status])).toEqual([
      ["/mirror/demo-pkg/", 301],
      ["/simple/demo-pkg/", 200],
    ]);
  });

  it("accepts an index URL without the trailing slash", async () => {
    const files = await fetchProjectFiles(client, both.url.replace(/\/$/, ""), "demo-pkg");
    expect(files).toHaveLength(3);
  });

  it("gives undefined for a project the index does not have", async () => {
    expect(await fetchProjectFiles(client, both.url, "nope")).toBeUndefined();
  });

  it("reports a malformed page as INDEX_ERROR naming the URL", async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/vnd.pypi.simple.v1+json" });
      res.end('{"meta": {"api-version": "1.1"}, "files": [{"filename": 3}]}');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const err = await rejection(
        fetchProjectFiles(client, `http://bob:hunter2@127.0.0.1:${port}/simple/`, "demo"),
      );
      expect(err.code).toBe("INDEX_ERROR");
      expect(err.message).toBe(
        `malformed project page http://127.0.0.1:${port}/simple/demo/: files[0].filename must be a file name`,
      );
      expect(shown(err)).not.toContain("hunter2");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("reports a page of another content type as INDEX_ERROR", async () => {
    const server = await startIndexServer({
      projects,
      faults: [{ path: "/simple/demo-pkg/", headers: { "content-type": "image/png" } }],
    });
    try {
      const err = await rejection(fetchProjectFiles(client, server.url, "demo-pkg"));
      expect(err.code).toBe("INDEX_ERROR");
      expect(err.message).toContain('unexpected content type "image/png"');
    } finally {
      await server.close();
    }
  });
});

describe("auth-protected index", () => {
  const wheel = buildWheel({ name: "secret-pkg", version: "1.0" });
  let server: IndexServer;
  const client = testClient();
  beforeAll(async () => {
    server = await startIndexServer({
      projects: { "secret-pkg": [{ file: wheel }] },
      auth: { user: "alice", password: "pa55word" },
    });
  });
  afterAll(async () => {
    await client.close();
    await server.close();
  });

  it("sends URL credentials and keeps them out of the files' URLs", async () => {
    const files = await fetchProjectFiles(client, server.urlWithAuth, "secret-pkg");
    expect(files?.map((f) => f.url)).toEqual([`${server.filesUrl}${wheel.filename}`]);
    expect(files?.[0]?.index).toBe(server.url);
    expect(JSON.stringify(files)).not.toContain("pa55word");
    expect(server.requests.at(-1)?.headers.authorization).toMatch(/^Basic /);
  });

  it("fails without credentials, and the error shows no password", async () => {
    const noAuth = await rejection(fetchProjectFiles(client, server.url, "secret-pkg"));
    expect(noAuth.code).toBe("HTTP_ERROR");
    const wrong = await rejection(
      fetchProjectFiles(client, server.urlWithAuth.replace("pa55word", "wr0ng"), "secret-pkg"),
    );
    expect(wrong.code).toBe("HTTP_ERROR");
    expect(shown(wrong)).not.toContain("wr0ng");
  });
});
