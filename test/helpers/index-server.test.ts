/**
 * Tests of the in-process test index: content negotiation, the fields of both page formats,
 * ranges, .metadata files, auth, caching headers and 304s, injected faults, the request log —
 * with plain fetch — and pip itself installing from it (JSON index and flat links page).
 */
import { execFile } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type IndexProjects, type IndexServer, startIndexServer } from "./index-server.ts";
import { tempDir } from "./tmp.ts";
import { buildSdist, buildWheel, sha256Hex } from "./wheels.ts";

const PYTHON = process.env.SLIMENV_TEST_PYTHON ?? "python3";
const PIP_ACCEPT =
  "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";
const JSON_V1 = "application/vnd.pypi.simple.v1+json";

const a1 = buildWheel({ name: "alpha", version: "1.0" });
const a2 = buildWheel({ name: "alpha", version: "2.0", requiresPython: ">=3.8,<4" });
const a2sdist = buildSdist({ name: "alpha", version: "2.0" });
const local = buildWheel({ name: "alpha", version: "2.0+cpu" });
const b1 = buildWheel({ name: "Beta.Pkg", version: "1.0", requiresDist: ["alpha>=1"] });

const projects: IndexProjects = {
  alpha: [
    { file: a1, uploadTime: "2024-01-02T03:04:05.000000Z" },
    { file: a2, yanked: "broken <build>", requiresPython: ">=3.8,<4" },
    { file: a2sdist, yanked: true },
    { file: local },
  ],
  "Beta.Pkg": [{ file: b1, serveMetadata: false }],
};

const servers: IndexServer[] = [];
async function start(options: Partial<Parameters<typeof startIndexServer>[0]> = {}) {
  const s = await startIndexServer({ projects, ...options });
  servers.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

let index: IndexServer;
beforeAll(async () => {
  index = await start();
});
afterEach(() => {
  index.setFaults([]);
});

async function getJson(url: string, accept = PIP_ACCEPT) {
  const res = await fetch(url, { headers: { accept } });
  return { res, body: (await res.json()) as Record<string, unknown> };
}

async function bytesOf(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

interface JsonFile {
  filename: string;
  url: string;
  hashes: Record<string, string>;
  "requires-python"?: string;
  "core-metadata"?: Record<string, string>;
  "dist-info-metadata"?: Record<string, string>;
  yanked: boolean | string;
  size: number;
  "upload-time"?: string;
}

/** Anchors of an HTML page: href and data-* attributes, HTML entities decoded. */
function anchors(html: string): { text: string; attrs: Record<string, string> }[] {
  const decode = (s: string) =>
    s
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, "&");
  return [...html.matchAll(/<a ([^>]*)>([^<]*)<\/a>/g)].map((m) => {
    const attrs: Record<string, string> = {};
    for (const at of (m[1] ?? "").matchAll(/([a-z-]+)="([^"]*)"/g)) {
      attrs[at[1] ?? ""] = decode(at[2] ?? "");
    }
    return { text: decode(m[2] ?? ""), attrs };
  });
}

describe("simple pages", () => {
  it("PEP 691 JSON: files, hashes, yanked, requires-python, core-metadata, size, upload-time", async () => {
    const { res, body } = await getJson(`${index.url}alpha/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(JSON_V1);
    expect(res.headers.get("vary")).toBe("Accept");
    expect(body.meta).toEqual({ "api-version": "1.1" });
    expect(body.name).toBe("alpha");
    expect(body.versions).toEqual(["1.0", "2.0", "2.0+cpu"]);
    const files = body.files as JsonFile[];
    expect(files.map((f) => f.filename)).toEqual([
      a1.filename,
      a2.filename,
      a2sdist.filename,
      local.filename,
    ]);
    const [f1, f2, f3, f4] = files;
    expect(f1).toEqual({
      filename: a1.filename,
      url: `${index.filesUrl}${a1.filename}`,
      hashes: { sha256: a1.sha256 },
      "core-metadata": { sha256: sha256Hex(new TextEncoder().encode(a1.metadata)) },
      "dist-info-metadata": { sha256: sha256Hex(new TextEncoder().encode(a1.metadata)) },
      yanked: false,
      size: a1.bytes.length,
      "upload-time": "2024-01-02T03:04:05.000000Z",
    });
    expect(f2?.yanked).toBe("broken <build>");
    expect(f2?.["requires-python"]).toBe(">=3.8,<4");
    expect(f3?.yanked).toBe(true);
    expect(f3?.["core-metadata"]).toEqual({
      sha256: sha256Hex(new TextEncoder().encode(a2sdist.metadata)),
    });
    expect(f4?.url).toBe(`${index.filesUrl}alpha-2.0%2Bcpu-py3-none-any.whl`);
    const fetched = await fetch(f4?.url ?? "");
    expect(sha256Hex(await bytesOf(fetched))).toBe(local.sha256);
  });

  it("PEP 503 HTML: fragments, escaped data-requires-python, data-yanked, metadata attributes", async () => {
    const res = await fetch(`${index.url}alpha/`, { headers: { accept: "text/html" } });
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await res.text();
    expect(html).toContain('<meta name="pypi:repository-version" content="1.1">');
    expect(html).toContain('data-requires-python="&gt;=3.8,&lt;4"');
    expect(html).toContain('data-yanked="broken &lt;build&gt;"');
    const links = anchors(html);
    expect(links.map((l) => l.text)).toEqual([
      a1.filename,
      a2.filename,
      a2sdist.filename,
      local.filename,
    ]);
    const metaHash = `sha256=${sha256Hex(new TextEncoder().encode(a1.metadata))}`;
    expect(links[0]?.attrs).toEqual({
      href: `${index.filesUrl}${a1.filename}#sha256=${a1.sha256}`,
      "data-dist-info-metadata": metaHash,
      "data-core-metadata": metaHash,
    });
    expect(links[1]?.attrs["data-requires-python"]).toBe(">=3.8,<4");
    expect(links[1]?.attrs["data-yanked"]).toBe("broken <build>");
    expect(links[2]?.attrs["data-yanked"]).toBe("");
    const beta = anchors(await (await fetch(`${index.url}beta-pkg/`)).text());
    expect(beta[0]?.attrs).toEqual({ href: `${index.filesUrl}${b1.filename}#sha256=${b1.sha256}` });
  });

  it("negotiates by Accept with q-values, as PyPI does", async () => {
    const type = async (accept?: string) => {
      const res = await fetch(
        `${index.url}alpha/`,
        accept === undefined ? {} : { headers: { accept } },
      );
      await res.arrayBuffer();
      return res.status === 200 ? res.headers.get("content-type") : res.status;
    };
    const html = "text/html; charset=utf-8";
    expect(await type(PIP_ACCEPT)).toBe(JSON_V1);
    expect(await type(undefined)).toBe(html);
    expect(await type("*/*")).toBe(html);
    expect(await type("text/html")).toBe(html);
    expect(await type("application/vnd.pypi.simple.v1+html")).toBe(
      "application/vnd.pypi.simple.v1+html",
    );
    expect(await type("application/vnd.pypi.simple.latest+json")).toBe(JSON_V1);
    expect(await type(`${JSON_V1};q=0.1, text/html`)).toBe(html);
    expect(await type(`text/html;q=0.5, ${JSON_V1}`)).toBe(JSON_V1);
    expect(await type(`text/html, ${JSON_V1}`)).toBe(html);
    expect(await type(`${JSON_V1};q=0, text/html;q=0.2`)).toBe(html);
    expect(await type("application/json")).toBe(406);
    expect(await type(`${JSON_V1};q=0`)).toBe(406);
  });

  it("a one-format index answers in its format whatever Accept says", async () => {
    const htmlOnly = await start({ formats: ["html"] });
    const jsonOnly = await start({ formats: ["json"] });
    const h = await fetch(`${htmlOnly.url}alpha/`, { headers: { accept: JSON_V1 } });
    expect(h.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(h.headers.get("vary")).toBeNull();
    expect(anchors(await h.text())).toHaveLength(4);
    const j = await fetch(`${jsonOnly.url}alpha/`, { headers: { accept: "text/html" } });
    expect(j.headers.get("content-type")).toBe(JSON_V1);
    expect(((await j.json()) as { files: unknown[] }).files).toHaveLength(4);
  });

  it("the project list, 404 for unknown names, redirects to the normalized URL", async () => {
    const { body } = await getJson(index.url);
    expect(body.projects).toEqual([{ name: "alpha" }, { name: "beta-pkg" }]);
    const html = await (await fetch(index.url, { headers: { accept: "text/html" } })).text();
    expect(anchors(html)).toEqual([
      { text: "alpha", attrs: { href: "alpha/" } },
      { text: "beta-pkg", attrs: { href: "beta-pkg/" } },
    ]);
    const missing = await fetch(`${index.url}nope/`);
    expect(missing.status).toBe(404);
    for (const p of ["Beta.Pkg/", "beta_pkg/", "beta-pkg"]) {
      const r = await fetch(`${index.url}${p}`, { redirect: "manual" });
      expect(r.status).toBe(301);
      expect(r.headers.get("location")).toBe("/simple/beta-pkg/");
    }
    const followed = await getJson(`${index.url}Beta_Pkg`);
    expect(followed.body.name).toBe("beta-pkg");
  });

  it("relative file URLs resolve against the page", async () => {
    const rel = await start({ relativeUrls: true });
    const page = `${rel.url}alpha/`;
    const { body } = await getJson(page);
    const url = (body.files as JsonFile[])[0]?.url ?? "";
    expect(url).toBe(`../../files/${a1.filename}`);
    const res = await fetch(new URL(url, page));
    expect(sha256Hex(await bytesOf(res))).toBe(a1.sha256);
    const links = anchors(await (await fetch(rel.linksUrl)).text());
    const resolved = new URL(links[0]?.attrs.href ?? "", rel.linksUrl);
    expect(resolved.href).toBe(`${rel.filesUrl}${a1.filename}#sha256=${a1.sha256}`);
  });

  it("the flat find-links page lists every file with its hash", async () => {
    const res = await fetch(index.linksUrl);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const links = anchors(await res.text());
    expect(links.map((l) => l.text)).toEqual([
      a1.filename,
      a2.filename,
      a2sdist.filename,
      local.filename,
      b1.filename,
    ]);
    expect(links[4]?.attrs.href).toBe(`${index.filesUrl}${b1.filename}#sha256=${b1.sha256}`);
  });
});

describe("files", () => {
  it("serves whole files, byte ranges (206), suffix ranges and 416", async () => {
    const url = `${index.filesUrl}${a1.filename}`;
    const n = a1.bytes.length;
    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("accept-ranges")).toBe("bytes");
    expect(whole.headers.get("content-length")).toBe(String(n));
    expect(sha256Hex(await bytesOf(whole))).toBe(a1.sha256);
    const range = async (spec: string) => {
      const r = await fetch(url, { headers: { range: spec } });
      return { status: r.status, cr: r.headers.get("content-range"), body: await bytesOf(r) };
    };
    const first = await range("bytes=0-9");
    expect(first.status).toBe(206);
    expect(first.cr).toBe(`bytes 0-9/${n}`);
    expect(first.body).toEqual(a1.bytes.subarray(0, 10));
    const open = await range(`bytes=${n - 5}-`);
    expect(open.cr).toBe(`bytes ${n - 5}-${n - 1}/${n}`);
    expect(open.body).toEqual(a1.bytes.subarray(n - 5));
    const suffix = await range("bytes=-22");
    expect(suffix.status).toBe(206);
    expect(suffix.cr).toBe(`bytes ${n - 22}-${n - 1}/${n}`);
    expect(Buffer.from(suffix.body.subarray(0, 4)).toString("hex")).toBe("504b0506");
    expect((await range(`bytes=-${n + 100}`)).body).toEqual(a1.bytes);
    expect((await range(`bytes=10-${n + 100}`)).cr).toBe(`bytes 10-${n - 1}/${n}`);
    const past = await range(`bytes=${n}-`);
    expect(past.status).toBe(416);
    expect(past.cr).toBe(`bytes */${n}`);
    expect((await range("bytes=-0")).status).toBe(416);
    expect((await range("bytes=0-1,5-6")).status).toBe(200);
    expect((await range("lines=1-2")).status).toBe(200);
  });

  it("answers HEAD with the length and no body", async () => {
    const res = await fetch(`${index.filesUrl}${a1.filename}`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(a1.bytes.length));
    expect((await bytesOf(res)).length).toBe(0);
    const post = await fetch(`${index.filesUrl}${a1.filename}`, { method: "POST" });
    expect(post.status).toBe(405);
  });

  it("ignores Range when ranges are off", async () => {
    const noRanges = await start({ ranges: false });
    const res = await fetch(`${noRanges.filesUrl}${a1.filename}`, {
      headers: { range: "bytes=0-9" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("accept-ranges")).toBe("none");
    expect(sha256Hex(await bytesOf(res))).toBe(a1.sha256);
  });

  it("serves PEP 658 .metadata files where offered, with the advertised hash", async () => {
    const res = await fetch(`${index.filesUrl}${a1.filename}.metadata`);
    expect(res.status).toBe(200);
    const body = await bytesOf(res);
    expect(new TextDecoder().decode(body)).toBe(a1.metadata);
    const { body: page } = await getJson(`${index.url}alpha/`);
    expect((page.files as JsonFile[])[0]?.["core-metadata"]?.sha256).toBe(sha256Hex(body));
    const sdistMeta = await fetch(`${index.filesUrl}${a2sdist.filename}.metadata`);
    expect(await sdistMeta.text()).toBe(a2sdist.metadata);
    expect((await fetch(`${index.filesUrl}${b1.filename}.metadata`)).status).toBe(404);
    expect((await fetch(`${index.filesUrl}nothing.whl`)).status).toBe(404);
    const ranged = await fetch(`${index.filesUrl}${a1.filename}.metadata`, {
      headers: { range: "bytes=0-7" },
    });
    expect(await ranged.text()).toBe("Metadata");
  });

  it("advertises overridden hashes (for wrong-hash tests)", async () => {
    const wrong = await start({
      projects: {
        alpha: [{ file: a1, hashes: { sha256: "0".repeat(64) } }],
        beta: [{ file: b1, hashes: {} }],
      },
    });
    const { body } = await getJson(`${wrong.url}alpha/`);
    expect((body.files as JsonFile[])[0]?.hashes).toEqual({ sha256: "0".repeat(64) });
    const html = await (await fetch(`${wrong.url}beta/`)).text();
    expect(anchors(html)[0]?.attrs.href).toBe(`${wrong.filesUrl}${b1.filename}`);
  });
});

describe("auth", () => {
  it("requires Basic auth on every path when configured", async () => {
    const secured = await start({ auth: { user: "me", password: "p@ss:word" } });
    const none = await fetch(`${secured.url}alpha/`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Basic realm="slimenv-test-index"');
    const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;
    const bad = await fetch(`${secured.filesUrl}${a1.filename}`, {
      headers: { authorization: basic("me", "nope") },
    });
    expect(bad.status).toBe(401);
    const good = await fetch(`${secured.filesUrl}${a1.filename}`, {
      headers: { authorization: basic("me", "p@ss:word") },
    });
    expect(good.status).toBe(200);
    const withAuth = new URL(secured.urlWithAuth);
    expect(decodeURIComponent(withAuth.username)).toBe("me");
    expect(decodeURIComponent(withAuth.password)).toBe("p@ss:word");
    expect(withAuth.host).toBe(new URL(secured.url).host);
    expect(secured.requests.map((r) => r.status)).toEqual([401, 401, 200]);
    expect(index.urlWithAuth).toBe(index.url);
  });
});

describe("caching headers", () => {
  it("ETag, Last-Modified, Cache-Control and 304s; setProjects changes them", async () => {
    const s = await start();
    const page = `${s.url}alpha/`;
    const first = await fetch(page, { headers: { accept: JSON_V1 } });
    await first.arrayBuffer();
    const etag = first.headers.get("etag") ?? "";
    const lastModified = first.headers.get("last-modified") ?? "";
    expect(etag).toMatch(/^"[0-9a-f]{24}"$/);
    expect(lastModified).toBe("Wed, 01 Jan 2020 12:00:00 GMT");
    expect(first.headers.get("cache-control")).toBe("max-age=600, public");
    const html = await fetch(page, { headers: { accept: "text/html" } });
    await html.arrayBuffer();
    expect(html.headers.get("etag")).not.toBe(etag);

    const cond = async (headers: Record<string, string>) => {
      const r = await fetch(page, { headers: { accept: JSON_V1, ...headers } });
      return { status: r.status, body: await bytesOf(r), etag: r.headers.get("etag") };
    };
    const hit = await cond({ "if-none-match": etag });
    expect(hit.status).toBe(304);
    expect(hit.body.length).toBe(0);
    expect(hit.etag).toBe(etag);
    expect((await cond({ "if-none-match": `"other", W/${etag}` })).status).toBe(304);
    expect((await cond({ "if-none-match": '"other"' })).status).toBe(200);
    expect((await cond({ "if-modified-since": lastModified })).status).toBe(304);
    expect((await cond({ "if-modified-since": "Tue, 31 Dec 2019 12:00:00 GMT" })).status).toBe(200);
    expect(
      (await cond({ "if-none-match": '"other"', "if-modified-since": lastModified })).status,
    ).toBe(200);

    const file = await fetch(`${s.filesUrl}${a1.filename}`);
    await file.arrayBuffer();
    expect(file.headers.get("cache-control")).toBe("max-age=365000000, immutable, public");
    const fileEtag = file.headers.get("etag") ?? "";
    const file304 = await fetch(`${s.filesUrl}${a1.filename}`, {
      headers: { "if-none-match": fileEtag },
    });
    expect(file304.status).toBe(304);

    s.setProjects({ alpha: [{ file: a1 }] });
    const changed = await cond({ "if-none-match": etag });
    expect(changed.status).toBe(200);
    expect(changed.etag).not.toBe(etag);
    expect((await cond({ "if-modified-since": lastModified })).status).toBe(200);
    expect(s.requests.filter((r) => r.status === 304)).toHaveLength(4);
  });

  it("Cache-Control can be changed or left out", async () => {
    const s = await start({ cacheControl: { pages: "", files: "no-store" } });
    const p = await fetch(`${s.url}alpha/`);
    await p.arrayBuffer();
    expect(p.headers.get("cache-control")).toBeNull();
    const f = await fetch(`${s.filesUrl}${a1.filename}`);
    await f.arrayBuffer();
    expect(f.headers.get("cache-control")).toBe("no-store");
  });
});

describe("faults", () => {
  it("status codes for the first N matching requests, then the real answer", async () => {
    index.requests.length = 0;
    const page = `${index.url}alpha/`;
    index.setFaults([{ path: "/simple/alpha/", status: 500, times: 2 }]);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await fetch(page);
      await r.arrayBuffer();
      statuses.push(r.status);
    }
    expect(statuses).toEqual([500, 500, 200]);
    expect(index.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ["GET", "/simple/alpha/", 500],
      ["GET", "/simple/alpha/", 500],
      ["GET", "/simple/alpha/", 200],
    ]);
  });

  it("faults in sequence, by pattern and method, with header overrides", async () => {
    index.setFaults([
      { path: /\.whl$/, method: "HEAD", status: 503, times: 1, headers: { "retry-after": "1" } },
      { path: /\.whl$/, status: 429, times: 1 },
      { path: /\.whl$/, times: 1, headers: { etag: null, "x-test": "yes" } },
    ]);
    const url = `${index.filesUrl}${a1.filename}`;
    const r1 = await fetch(url);
    await r1.arrayBuffer();
    expect(r1.status).toBe(429);
    const r2 = await fetch(url, { method: "HEAD" });
    expect(r2.status).toBe(503);
    expect(r2.headers.get("retry-after")).toBe("1");
    const r3 = await fetch(url);
    expect(sha256Hex(await bytesOf(r3))).toBe(a1.sha256);
    expect(r3.headers.get("etag")).toBeNull();
    expect(r3.headers.get("x-test")).toBe("yes");
    const r4 = await fetch(url);
    await r4.arrayBuffer();
    expect(r4.headers.get("etag")).not.toBeNull();
  });

  it("truncated bodies and connection resets fail the read; the next request is fine", async () => {
    const url = `${index.filesUrl}${a1.filename}`;
    index.setFaults([
      { path: `/files/${a1.filename}`, truncate: 100, times: 1 },
      { path: `/files/${a1.filename}`, reset: 50, times: 1 },
    ]);
    const truncated = await fetch(url);
    expect(truncated.headers.get("content-length")).toBe(String(a1.bytes.length));
    await expect(truncated.arrayBuffer()).rejects.toThrow();
    await expect(fetch(url).then((r) => r.arrayBuffer())).rejects.toThrow();
    const ok = await fetch(url);
    expect(sha256Hex(await bytesOf(ok))).toBe(a1.sha256);
  });

  it("delays before the answer and before the body", async () => {
    // Only lower bounds: an injected delay cannot make a request faster, whatever the load.
    // (How fast an undelayed request is depends on the machine: not asserted.)
    const url = `${index.url}alpha/`;
    index.setFaults([{ path: "/simple/alpha/", delayMs: 300, times: 1 }]);
    let t = performance.now();
    await (await fetch(url)).arrayBuffer();
    expect(performance.now() - t).toBeGreaterThanOrEqual(280);
    index.setFaults([{ path: "/simple/alpha/", bodyDelayMs: 300, times: 1 }]);
    t = performance.now();
    const res = await fetch(url);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(performance.now() - t).toBeGreaterThanOrEqual(280);
  });

  it("corrupts one byte: same length, wrong hash", async () => {
    const url = `${index.filesUrl}${a1.filename}`;
    index.setFaults([
      { path: /\.whl$/, corrupt: true, times: 1 },
      { path: /\.whl$/, corrupt: 0, times: 1 },
    ]);
    const bad = await bytesOf(await fetch(url));
    expect(bad.length).toBe(a1.bytes.length);
    const diffs = [...bad].flatMap((b, i) => (b === a1.bytes[i] ? [] : [i]));
    expect(diffs).toEqual([Math.floor(a1.bytes.length / 2)]);
    const first = await bytesOf(await fetch(url));
    expect(first[0]).toBe((a1.bytes[0] ?? 0) ^ 0xff);
    expect(sha256Hex(await bytesOf(await fetch(url)))).toBe(a1.sha256);
  });

  it("setFaults resets use counts; the log keeps request headers", async () => {
    index.requests.length = 0;
    const plan = [{ path: "/simple/", status: 502, times: 1 }];
    index.setFaults(plan);
    expect((await fetch(index.url)).status).toBe(502);
    expect((await fetch(index.url)).status).toBe(200);
    index.setFaults(plan);
    expect((await fetch(index.url, { headers: { accept: JSON_V1, "x-probe": "1" } })).status).toBe(
      502,
    );
    const last = index.requests.at(-1);
    expect(last?.headers.accept).toBe(JSON_V1);
    expect(last?.headers["x-probe"]).toBe("1");
    expect(last?.url).toBe("/simple/");
  });
});

describe("pip against the index", () => {
  it("installs through content negotiation and from the flat links page", async () => {
    // pip honours what the pages say: gamma 2.0 is yanked and gamma 1.5 needs Python 4, so
    // a correct index (JSON or HTML) makes pip take gamma 1.0.
    const gamma = [
      { file: buildWheel({ name: "gamma", version: "1.0" }) },
      { file: buildWheel({ name: "gamma", version: "1.5" }), requiresPython: ">=4" },
      { file: buildWheel({ name: "gamma", version: "2.0" }), yanked: "bad" as const },
    ];
    const s = await start({ projects: { ...projects, gamma } });
    const htmlOnly = await start({ projects: { ...projects, gamma }, formats: ["html"] });
    const exec = promisify(execFile);
    // Only this index: no pip configuration from the machine (PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS…).
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PIP_"))),
      PIP_CONFIG_FILE: "/dev/null",
      PIP_DISABLE_PIP_VERSION_CHECK: "1",
      PIP_NO_CACHE_DIR: "1",
      PIP_ROOT_USER_ACTION: "ignore",
      PYTHONDONTWRITEBYTECODE: "1",
    };
    const t1 = tempDir("slimenv-pip-index-");
    const t2 = tempDir("slimenv-pip-links-");
    try {
      const pip = (args: string[]) =>
        exec(
          PYTHON,
          ["-m", "pip", "install", "-q", "--no-compile", "--only-binary", ":all:", ...args],
          {
            env,
          },
        );
      await Promise.all([
        pip(["--index-url", s.url, "--target", t1, "beta.pkg", "gamma"]),
        pip([
          "--no-index",
          "--find-links",
          htmlOnly.linksUrl,
          "--target",
          t2,
          "Beta_Pkg",
          "alpha<2",
          "gamma",
        ]),
      ]);
      const installed = (dir: string, name: string) =>
        readdirSync(dir)
          .map((d) => new RegExp(`^${name}-(.+)\\.dist-info$`).exec(d)?.[1])
          .filter((v) => v !== undefined);
      // alpha 2.0 is yanked, so the highest alpha pip takes from the index is 2.0+cpu.
      expect(installed(t1, "alpha")).toEqual(["2.0+cpu"]);
      expect(installed(t1, "beta_pkg")).toEqual(["1.0"]);
      expect(installed(t2, "alpha")).toEqual(["1.0"]);
      expect(s.requests.some((r) => r.path === "/simple/beta-pkg/" && r.status === 200)).toBe(true);
      const pagesAsked = s.requests.filter((r) => r.path.startsWith("/simple/"));
      expect(pagesAsked.every((r) => r.headers.accept?.includes(JSON_V1))).toBe(true);
      expect(installed(t1, "gamma")).toEqual(["1.0"]);
      expect(installed(t2, "gamma")).toEqual(["1.0"]);
      const paths = (server: IndexServer) => server.requests.map((r) => r.path);
      // PEP 658: pip takes alpha's metadata file (checking its advertised hash), and has to
      // download beta's wheel, whose metadata file is not offered.
      expect(paths(s)).toContain(`/files/${local.filename}.metadata`);
      expect(paths(htmlOnly)).toContain(`/files/${a1.filename}.metadata`);
      expect(paths(s).filter((p) => p.startsWith("/files/beta"))).toEqual([
        `/files/${b1.filename}`,
      ]);
      expect(htmlOnly.requests.some((r) => r.path === "/links/")).toBe(true);
    } finally {
      rmSync(t1, { recursive: true, force: true });
      rmSync(t2, { recursive: true, force: true });
    }
  });
});
