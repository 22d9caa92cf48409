import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordingReporter } from "../../src/base/index.ts";
import { HttpClient } from "../../src/index/http.ts";
import { IndexSet } from "../../src/index/indexes.ts";
import { PAGE_CACHE_FORMAT, PageCache, type PageSource } from "../../src/index/page-cache.ts";
import { CompactPage } from "../../src/index/page-compact.ts";
import type { DistributionFile } from "../../src/index/project.ts";
import { ProjectListing } from "../../src/index/project-listing.ts";
import { encodeProjectPage, fetchProjectPage, parseProjectPage } from "../../src/index/simple.ts";
import { targetFromSpec } from "../../src/python/target-spec.ts";
import { FileSelector, wholeFiles } from "../../src/resolve/file-selection.ts";
import { type IndexEntry, type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import { tempDir } from "../helpers/tmp.ts";

const PAGE_URL = "https://example.org/simple/demo-pkg/";
const H = "a".repeat(64);

function file(filename: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    filename,
    url: `https://files.example.org/packages/ab/cd/${filename}`,
    hashes: { sha256: H },
    ...extra,
  };
}

/** A JSON page with most of what pages hold: every field, odd URLs, files to skip. */
function richJsonPage(): string {
  const files = [
    file("demo_pkg-1.0.tar.gz", { "requires-python": ">=3.8", size: 10 }),
    file("demo_pkg-1.0-py3-none-any.whl", {
      "requires-python": ">=3.8",
      "core-metadata": { sha256: "b".repeat(64) },
      "upload-time": "2024-05-06T07:08:09.000000Z",
      size: 0,
    }),
    file("demo_pkg-1.0.0-1build-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", {
      yanked: "broken build",
    }),
    file("demo_pkg-2.0-py2.py3-none-any.whl", { yanked: true, "dist-info-metadata": true }),
    file("demo_pkg-2.0.zip", { "core-metadata": false }),
    { filename: "demo_pkg-3.0rc1-py3-none-any.whl", url: "../../files/demo_pkg-3.0rc1.whl" },
    { filename: "demo_pkg-3.0rc1.tar.gz", url: "https://mirror.example.org/dir/" },
    { filename: "demo_pkg-3.0rc1-2-py3-none-any.whl", url: "https://u:p@example.org/f.whl#x" },
    file("demo_pkg-0.9.exe"),
    file("other-1.0-py3-none-any.whl"),
    file("demo_pkg-1.0-py3-none.whl"),
  ];
  return JSON.stringify({ meta: { "api-version": "1.1" }, name: "demo-pkg", files });
}

function richHtmlPage(): string {
  return `<html><body>
<a href="https://files.example.org/demo_pkg-1.0.tar.gz#sha256=${H}" data-requires-python="&gt;=3.8">x</a>
<a href="/files/demo_pkg-1.0-py3-none-any.whl" data-yanked="">x</a>
<a href="demo_pkg-2.0-py3-none-any.whl" data-core-metadata="sha256=${H}">x</a>
<a href="other-1.0.tar.gz">x</a>
</body></html>`;
}

const bytes = (text: string) => new TextEncoder().encode(text);

function options(reporter = new RecordingReporter()) {
  return { project: "Demo.Pkg", pageUrl: PAGE_URL, index: "https://example.org/simple/", reporter };
}

function byUrl(files: readonly DistributionFile[]): DistributionFile[] {
  return [...files].sort((a, b) => (a.url + a.filename < b.url + b.filename ? -1 : 1));
}

/** The compact page of `text`; `asText`: read back from its bytes, as from the cache. */
function compact(text: string, contentType: string, asText = false): CompactPage {
  const encoded = encodeProjectPage(bytes(text), contentType, options());
  const { header, blob } = encoded;
  return new CompactPage(
    asText ? { header, blob } : encoded,
    "demo-pkg",
    "https://example.org/simple/",
  );
}

describe("compact project pages", () => {
  it("hold the same files as the whole parse (JSON and HTML)", () => {
    for (const [text, type] of [
      [richJsonPage(), "application/vnd.pypi.simple.v1+json"],
      [richHtmlPage(), "text/html"],
    ] as const) {
      const eager = parseProjectPage(bytes(text), type, options());
      const page = compact(text, type);
      expect(eager.length).toBe(type === "text/html" ? 3 : 8);
      expect(byUrl(new ProjectListing([page]).all())).toEqual(byUrl(eager));
      expect(byUrl(new ProjectListing([compact(text, type, true)]).all())).toEqual(byUrl(eager));
      expect(page.skipped).toBe(type === "text/html" ? 1 : 3);
    }
  });

  it("lead the file selection to the same choice as whole files do", () => {
    const target = targetFromSpec({ pythonVersion: "3.12", platform: "manylinux_2_17_x86_64" });
    const eager = parseProjectPage(bytes(richJsonPage()), "application/json", options());
    const selector = new FileSelector(target);
    const listed = selector.choose("demo-pkg", compact(richJsonPage(), "application/json").groups);
    const whole = selector.select("demo-pkg", eager);
    expect(listed.map(wholeFiles)).toEqual(whole);
    // 1.0 and 1.0.0 are one version; its best wheel is the py3 one (the cp312 one is yanked).
    expect(whole.map((v) => v.version.toString())).toEqual(["1.0", "2.0", "3.0rc1"]);
    expect(whole[0]?.wheels.map((f) => f.filename)).toEqual(["demo_pkg-1.0-py3-none-any.whl"]);
  });

  it("refuse what is not a compact page", () => {
    const good = encodeProjectPage(bytes(richJsonPage()), "application/json", options());
    const cases = [
      { header: Buffer.from("not json"), blob: good.blob },
      { header: good.header, blob: good.blob.subarray(1) },
      {
        header: Buffer.from(
          '{"api":null,"name":null,"skipped":0,"t":[],"rp":[],"g":[1],"o":[0,0]}',
        ),
        blob: Buffer.alloc(0),
      },
    ];
    for (const encoded of cases) {
      expect(() => new CompactPage(encoded, "demo-pkg", "i")).toThrow(/not a compact page/);
    }
  });
});

describe("PageCache", () => {
  const source: PageSource = {
    body: "1".repeat(64),
    url: PAGE_URL,
    contentType: "application/json",
    project: "demo-pkg",
  };
  const key = "ab".repeat(32);
  const encoded = () => encodeProjectPage(bytes(richJsonPage()), "application/json", options());

  function entry(cache: PageCache): string {
    return cache.entryPath(key);
  }

  it("answers only for the body, URL, content type and project it was made from", async () => {
    const cache = new PageCache(tempDir("page-cache-"));
    expect((await cache.read(key, source, "i")).page).toBeUndefined();
    await cache.write(key, source, encoded());
    const hit = await cache.read(key, source, "i");
    expect(hit.page?.groups.length).toBe(4); // 1.0, 1.0.0, 2.0, 3.0rc1
    for (const change of [
      { body: "2".repeat(64) },
      { url: "https://example.org/simple/other/" },
      { contentType: "text/html" },
      { project: "other" },
    ]) {
      expect(await cache.read(key, { ...source, ...change }, "i")).toEqual({
        page: undefined,
        why: "changed",
      });
    }
    expect(fs.existsSync(entry(cache))).toBe(true);
  });

  it("ignores and removes a damaged entry: flipped byte, truncated, foreign format", async () => {
    const dir = tempDir("page-cache-");
    const cache = new PageCache(dir);
    expect(cache.dir).toBe(path.join(dir, `pages${PAGE_CACHE_FORMAT}`));
    const damages: ((data: Buffer) => Buffer)[] = [
      (data) => {
        const copy = Buffer.from(data);
        copy[copy.length - 5] = (copy[copy.length - 5] as number) ^ 0x20;
        return copy;
      },
      (data) => data.subarray(0, data.length - 1),
      (data) => Buffer.concat([data, Buffer.from("x")]),
      (data) =>
        Buffer.from(
          data.toString("latin1").replace(/^slimenv-page \d+/, "slimenv-page 0"),
          "latin1",
        ),
      () => Buffer.from("garbage"),
    ];
    for (const damage of damages) {
      await cache.write(key, source, encoded());
      fs.writeFileSync(entry(cache), damage(fs.readFileSync(entry(cache))));
      expect(await cache.read(key, source, "i")).toEqual({ page: undefined, why: "damaged" });
      expect(fs.existsSync(entry(cache))).toBe(false);
    }
  });

  it("reads a version's details from the entry when asked, whatever happens to its name", async () => {
    const cache = new PageCache(tempDir("page-cache-"));
    await cache.write(key, source, encoded());
    const expected = new ProjectListing([compact(richJsonPage(), "application/json")]).all();
    const files = () => new ProjectListing([page]).all();
    const hit = await cache.read(key, source, "https://example.org/simple/");
    const page = hit.page as CompactPage;
    // Another run replaces the entry (a new page), then the cache is cleaned: this page still
    // reads the entry it was opened on.
    await cache.write(key, { ...source, body: "2".repeat(64) }, encoded());
    fs.rmSync(entry(cache));
    expect(files()).toEqual(expected);
  });

  it("does not hold the details in memory: they are read from the open entry", async () => {
    const cache = new PageCache(tempDir("page-cache-"));
    await cache.write(key, source, encoded());
    const page = (await cache.read(key, source, "i")).page as CompactPage;
    // Changed in place after it was opened and checked (nothing slimenv does; it shows
    // where the details come from): the change shows when they are read.
    const fd = fs.openSync(entry(cache), "r+");
    const size = fs.fstatSync(fd).size;
    fs.writeSync(fd, Buffer.alloc(200, "#"), 0, 200, size - 200);
    fs.closeSync(fd);
    expect(() => new ProjectListing([page]).all()).toThrow(/not a compact page/);
  });

  it("keeps whole entries when processes write it at once", async () => {
    const dir = tempDir("page-cache-");
    const cache = new PageCache(dir);
    // Each writer writes its own version of the page (a different body) many times.
    const writers = 4;
    const sources = Array.from({ length: writers }, (_, i) => ({
      ...source,
      body: String(i).repeat(64),
    }));
    const script = `
      import { PageCache } from ${JSON.stringify(path.resolve("src/index/page-cache.ts"))};
      import { encodeProjectPage } from ${JSON.stringify(path.resolve("src/index/simple.ts"))};
      const [dir, key, n, source] = process.argv.slice(1);
      const page = JSON.parse(${JSON.stringify(richJsonPage())});
      page.files = page.files.slice(0, 2 + Number(n));
      const encoded = encodeProjectPage(new TextEncoder().encode(JSON.stringify(page)),
        "application/json", { project: "demo-pkg", pageUrl: ${JSON.stringify(PAGE_URL)}, index: "i" });
      const cache = new PageCache(dir);
      for (let i = 0; i < 60; i++) await cache.write(key, JSON.parse(source), encoded);
    `;
    const children = sources.map(
      (s, i) =>
        new Promise<number | null>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            ["--input-type=module", "-e", script, dir, key, String(i), JSON.stringify(s)],
            { stdio: ["ignore", "ignore", "inherit"] },
          );
          child.on("error", reject);
          child.on("exit", resolve);
        }),
    );
    let running = true;
    const done = Promise.all(children).finally(() => {
      running = false;
    });
    const seen = new Set<string>();
    while (running) {
      for (const [i, s] of sources.entries()) {
        const read = await cache.read(key, s, "i");
        expect(read.page === undefined ? read.why : "hit").not.toBe("damaged");
        if (read.page !== undefined) {
          seen.add(String(i));
          // writer i wrote the first 2 + i files of the page
          expect(new ProjectListing([read.page]).size).toBe(2 + i);
        }
      }
    }
    expect(await done).toEqual([0, 0, 0, 0]);
    expect(seen.size).toBeGreaterThan(0);
    const hits = await Promise.all(sources.map((s) => cache.read(key, s, "i")));
    expect(hits.filter((h) => h.page !== undefined)).toHaveLength(1);
    // Nothing but the one entry is left (no temp files).
    expect(fs.readdirSync(path.dirname(entry(cache)))).toEqual([key]);
  }, 60_000);
});

describe("project pages through the page cache", () => {
  const entries = (versions: string[]): IndexEntry[] =>
    versions.map((v) => ({
      file: { filename: `demo_pkg-${v}-py3-none-any.whl`, bytes: bytes(`wheel ${v}`) },
      requiresPython: ">=3.8",
    }));
  let server: IndexServer;
  const client = (cacheDir: string) =>
    new HttpClient({ cacheDir, netrc: false, env: {}, retries: 0, timeoutMs: 10_000 });

  beforeAll(async () => {
    // As PyPI: no Cache-Control, no validators.
    server = await startIndexServer({
      projects: { "demo-pkg": entries(["1.0", "1.1"]) },
      formats: ["json"],
      cacheControl: { pages: "" },
      faults: [{ path: /^\/simple\//, headers: { etag: null, "last-modified": null } }],
    });
  });
  afterAll(() => server.close());

  async function fetchPage(cacheDir: string, reporter = new RecordingReporter()) {
    const c = client(cacheDir);
    try {
      const cache = new PageCache(cacheDir);
      const page = await fetchProjectPage(c, server.url, "Demo.Pkg", reporter, cache);
      return { page, log: reporter.events.map((e) => e.label).join("\n") };
    } finally {
      await c.close();
    }
  }

  function pageEntries(cacheDir: string): string[] {
    const dir = path.join(cacheDir, `pages${PAGE_CACHE_FORMAT}`);
    return fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true }) as string[]) : [];
  }

  it("reads an unchanged page from the cache, and a changed one again", async () => {
    const cacheDir = tempDir("page-cache-");
    server.setProjects({ "demo-pkg": entries(["1.0", "1.1"]) });
    const first = await fetchPage(cacheDir);
    expect(first.log).not.toMatch(/read from the page cache/);
    const again = await fetchPage(cacheDir);
    expect(again.log).toMatch(/unchanged, read from the page cache/);
    expect(byUrl(new ProjectListing([again.page as CompactPage]).all())).toEqual(
      byUrl(new ProjectListing([first.page as CompactPage]).all()),
    );

    server.setProjects({ "demo-pkg": entries(["1.0", "1.1", "1.2"]) });
    const changed = await fetchPage(cacheDir);
    expect(changed.log).not.toMatch(/read from the page cache/);
    const versions = (p: CompactPage | undefined) =>
      new ProjectListing(p === undefined ? [] : [p]).all().map((f) => f.version.toString());
    expect(versions(changed.page)).toEqual(["1.0", "1.1", "1.2"]);
    const after = await fetchPage(cacheDir);
    expect(after.log).toMatch(/read from the page cache/);
    expect(versions(after.page)).toEqual(["1.0", "1.1", "1.2"]);
    expect(pageEntries(cacheDir).filter((f) => path.basename(f).length === 64)).toHaveLength(1);
  });

  it("replaces a damaged entry", async () => {
    const cacheDir = tempDir("page-cache-");
    server.setProjects({ "demo-pkg": entries(["1.0"]) });
    await fetchPage(cacheDir);
    const [sub, name] = pageEntries(cacheDir).sort();
    const file = path.join(
      cacheDir,
      `pages${PAGE_CACHE_FORMAT}`,
      sub as string,
      path.basename(name as string),
    );
    const data = fs.readFileSync(file);
    data[data.length - 3] = (data[data.length - 3] as number) ^ 1;
    fs.writeFileSync(file, data);
    const damaged = await fetchPage(cacheDir);
    expect(damaged.log).toMatch(/ignoring a damaged page cache entry/);
    expect(new ProjectListing([damaged.page as CompactPage]).all()[0]?.url).toBe(
      `${server.filesUrl}demo_pkg-1.0-py3-none-any.whl`,
    );
    expect((await fetchPage(cacheDir)).log).toMatch(/read from the page cache/);
  });

  it("keeps nothing of a page the HTTP cache may not keep (sent with credentials)", async () => {
    const auth = await startIndexServer({
      projects: { "demo-pkg": entries(["1.0"]) },
      auth: { user: "u", password: "pw" },
      cacheControl: { pages: "" },
    });
    try {
      const cacheDir = tempDir("page-cache-");
      const c = client(cacheDir);
      const page = await fetchProjectPage(
        c,
        auth.urlWithAuth,
        "demo-pkg",
        undefined,
        new PageCache(cacheDir),
      );
      await c.close();
      expect(page?.groups).toHaveLength(1);
      expect(pageEntries(cacheDir)).toEqual([]);
    } finally {
      await auth.close();
    }
  });

  it("an IndexSet answers alike with and without the page cache", async () => {
    const cacheDir = tempDir("page-cache-");
    server.setProjects({ "demo-pkg": entries(["1.0", "2.0"]) });
    const lists: DistributionFile[][] = [];
    for (const pageCache of [false, true, true]) {
      const c = client(cacheDir);
      lists.push(
        await new IndexSet({ client: c, indexUrls: [server.url], pageCache }).files("demo-pkg"),
      );
      await c.close();
    }
    expect(lists[1]).toEqual(lists[0]);
    expect(lists[2]).toEqual(lists[0]);
    expect(pageEntries(cacheDir).length).toBeGreaterThan(0);
  });
});
