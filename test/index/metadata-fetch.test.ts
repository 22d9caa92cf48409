import fs, { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { bufferSource, readZipDirectory, readZipEntry } from "../../src/archive/zip-read.ts";
import { listFindLinks } from "../../src/index/find-links.ts";
import { HttpClient } from "../../src/index/http.ts";
import { MetadataCache } from "../../src/index/metadata-cache.ts";
import { fetchMetadataWithSource } from "../../src/index/metadata-fetch.ts";
import type { DistributionFile } from "../../src/index/project.ts";
import { fetchProjectFiles } from "../../src/index/simple.ts";
import { CredentialStore } from "../../src/index/source-url.ts";
import type { IndexEntry, IndexServer, IndexServerOptions } from "../helpers/index-server.ts";
import { startIndexServer } from "../helpers/index-server.ts";
import { Rng } from "../helpers/random.ts";
import { tempDir } from "../helpers/tmp.ts";
import { buildSdist, buildWheel, sha256Hex, writeWheelDir, zipEntries } from "../helpers/wheels.ts";
import { rejection, shown, testClient } from "./index-fixtures.ts";
import { zip64 } from "./zip64.ts";

const client = testClient();
const servers: IndexServer[] = [];

async function serve(
  name: string,
  entries: IndexEntry[],
  options: Partial<IndexServerOptions> = {},
): Promise<{ server: IndexServer; files: DistributionFile[] }> {
  const server = await startIndexServer({ projects: { [name]: entries }, ...options });
  servers.push(server);
  const files = await fetchProjectFiles(client, server.urlWithAuth, name);
  if (files === undefined) throw new Error("project missing");
  server.requests.length = 0;
  return { server, files };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(() => client.close());

function randomBytes(seed: number, n: number): Uint8Array {
  const rng = new Rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(256);
  return out;
}

/** The byte ranges the server was asked for on `path`, as [start, end] inclusive. */
function fetchedRanges(server: IndexServer, path: string, size: number): [number, number][] {
  return server.requests
    .filter((r) => r.path === path)
    .map((r) => {
      const m = /^bytes=(\d*)-(\d*)$/.exec(r.headers.range ?? "");
      if (m === null) return [0, size - 1];
      if (m[1] === "") return [Math.max(0, size - Number(m[2])), size - 1];
      return [Number(m[1]), m[2] === "" ? size - 1 : Math.min(size - 1, Number(m[2]))];
    });
}

const total = (ranges: [number, number][]) => ranges.reduce((n, [a, b]) => n + b - a + 1, 0);

describe("PEP 658 metadata files", () => {
  it.each([["json"], ["html"]] as const)("reads the .metadata file (%s page)", async (format) => {
    const wheel = buildWheel({ name: "meta-pkg", version: "1.2", requiresDist: ["dep>=1"] });
    const { server, files } = await serve("meta-pkg", [{ file: wheel }], { formats: [format] });
    const [file] = files;
    if (file === undefined) throw new Error("no file");
    expect(file.coreMetadata).toEqual({
      sha256: sha256Hex(new TextEncoder().encode(wheel.metadata)),
    });
    const got = await fetchMetadataWithSource(file, { client });
    expect(got.source).toBe("metadata-file");
    expect(got.metadata.name).toBe("meta-pkg");
    expect(got.metadata.requiresDist).toEqual(["dep>=1"]);
    expect(server.requests.map((r) => r.path)).toEqual([`/files/${wheel.filename}.metadata`]);
  });

  it("a hashed .metadata file in the HTTP cache is used without asking the index again", async () => {
    const wheel = buildWheel({ name: "meta-pkg", version: "1.2", requiresDist: ["dep>=1"] });
    const { server, files } = await serve("meta-pkg", [{ file: wheel }]);
    const file = files[0] as DistributionFile;
    const cacheDir = mkdtempSync(path.join(os.tmpdir(), "slimenv-meta-cache-"));
    const cached = new HttpClient({ netrc: false, env: {}, retries: 0, cacheDir });
    try {
      await fetchMetadataWithSource(file, { client: cached });
      server.requests.length = 0;
      const again = await fetchMetadataWithSource(file, { client: cached });
      expect(again.metadata.requiresDist).toEqual(["dep>=1"]);
      expect(server.requests).toEqual([]);
      // A cached copy that no longer matches its hash is fetched again.
      const other = { ...file, coreMetadata: { sha256: "0".repeat(64) } };
      const err = await rejection(fetchMetadataWithSource(other, { client: cached }));
      expect(err.code).toBe("HASH_MISMATCH");
      expect(server.requests.map((r) => r.path)).toEqual([`/files/${wheel.filename}.metadata`]);
    } finally {
      await cached.close();
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it("HASH_MISMATCH when the metadata file does not match its declared hash", async () => {
    const wheel = buildWheel({ name: "meta-pkg", version: "1.2" });
    const { server, files } = await serve("meta-pkg", [{ file: wheel }]);
    server.setFaults([{ path: `/files/${wheel.filename}.metadata`, corrupt: 5 }]);
    const err = await rejection(fetchMetadataWithSource(files[0] as DistributionFile, { client }));
    expect(err.code).toBe("HASH_MISMATCH");
    expect(err.message).toBe(
      `${server.filesUrl}${wheel.filename}.metadata does not match its sha256 hash from the index`,
    );
  });

  it("falls back to the wheel when the offered metadata file is missing", async () => {
    const wheel = buildWheel({ name: "meta-pkg", version: "1.2" });
    const { server, files } = await serve("meta-pkg", [{ file: wheel }]);
    server.setFaults([{ path: `/files/${wheel.filename}.metadata`, status: 404 }]);
    const got = await fetchMetadataWithSource(files[0] as DistributionFile, { client });
    expect(got.source).toBe("range");
    expect(got.metadata.version).toBe("1.2");
  });

  it("METADATA_MISMATCH when the metadata file names another version", async () => {
    const wheel = buildWheel({
      name: "meta-pkg",
      version: "1.0",
      tamper: { filename: "meta_pkg-2.0-py3-none-any.whl" },
    });
    const { files } = await serve("meta-pkg", [{ file: wheel }]);
    const err = await rejection(fetchMetadataWithSource(files[0] as DistributionFile, { client }));
    expect(err.code).toBe("METADATA_MISMATCH");
    expect(err.message).toBe(
      "the metadata of meta_pkg-2.0-py3-none-any.whl is for meta-pkg 1.0, not meta-pkg 2.0",
    );
  });
});

describe("the metadata cache", () => {
  it("keeps what range requests read, and answers from it with no request the next time", async () => {
    const wheel = buildWheel({ name: "kept", version: "1.0", requiresDist: ["dep>=2"] });
    const { server, files } = await serve("kept", [{ file: wheel, serveMetadata: false }]);
    const file = files[0] as DistributionFile;
    const metadataCache = new MetadataCache(tempDir("metadata-cache-"));
    const first = await fetchMetadataWithSource(file, { client, metadataCache });
    expect(first.source).toBe("range");
    expect(server.requests.length).toBeGreaterThan(0);
    server.requests.length = 0;
    const again = await fetchMetadataWithSource(file, { client, metadataCache });
    expect(again).toEqual({ metadata: first.metadata, source: "cache" });
    expect(server.requests).toEqual([]);
    // Without the cache, the index is asked again.
    expect((await fetchMetadataWithSource(file, { client })).source).toBe("range");
  });

  it("keeps an sdist's PKG-INFO read from a download", async () => {
    const sdist = buildSdist({ name: "src-kept", version: "0.5", requiresDist: ["six"] });
    const { server, files } = await serve("src-kept", [
      { file: { filename: sdist.filename, bytes: sdist.bytes } },
    ]);
    const metadataCache = new MetadataCache(tempDir("metadata-cache-"));
    const file = files[0] as DistributionFile;
    expect((await fetchMetadataWithSource(file, { client, metadataCache })).source).toBe(
      "download",
    );
    server.requests.length = 0;
    const again = await fetchMetadataWithSource(file, { client, metadataCache });
    expect([again.source, again.metadata.requiresDist, server.requests.length]).toEqual([
      "cache",
      ["six"],
      0,
    ]);
  });

  it("ignores and removes a damaged entry, ignores one for another URL, keeps nothing without a sha256", async () => {
    const wheel = buildWheel({ name: "kept", version: "1.0" });
    const { files } = await serve("kept", [{ file: wheel, serveMetadata: false }]);
    const file = files[0] as DistributionFile;
    const metadataCache = new MetadataCache(tempDir("metadata-cache-"));
    await fetchMetadataWithSource(file, { client, metadataCache });
    const entry = metadataCache.entryPath(file) as string;
    expect(entry).toContain(file.hashes.sha256 as string);

    const moved = { ...file, url: `${file.url}?elsewhere` };
    expect(await metadataCache.read(moved)).toBeUndefined();
    expect(fs.existsSync(entry)).toBe(true);

    const data = fs.readFileSync(entry);
    data[data.length - 2] = (data[data.length - 2] as number) ^ 1;
    fs.writeFileSync(entry, data);
    expect(await metadataCache.read(file)).toBeUndefined();
    expect(fs.existsSync(entry)).toBe(false);
    // Read again from the index, and kept again.
    expect((await fetchMetadataWithSource(file, { client, metadataCache })).source).toBe("range");
    expect((await fetchMetadataWithSource(file, { client, metadataCache })).source).toBe("cache");

    const unhashed = { ...file, hashes: { md5: "0".repeat(32) } };
    expect(metadataCache.entryPath(unhashed)).toBeUndefined();
    await metadataCache.write(unhashed, new Uint8Array([1, 2, 3]));
    expect(await metadataCache.read(unhashed)).toBeUndefined();
  });
});

describe("range requests on remote wheels", () => {
  it("reads METADATA of a small wheel with one suffix range", async () => {
    const wheel = buildWheel({ name: "ranged", version: "3.0", requiresPython: ">=3.9" });
    const { server, files } = await serve("ranged", [{ file: wheel, serveMetadata: false }]);
    const file = files[0] as DistributionFile;
    expect(file.coreMetadata).toBeUndefined();
    const got = await fetchMetadataWithSource(file, { client });
    expect(got.source).toBe("range");
    expect(got.metadata.requiresPython).toBe(">=3.9");
    expect(server.requests.map((r) => [r.path, r.headers.range, r.status])).toEqual([
      [`/files/${wheel.filename}`, "bytes=-65536", 206],
    ]);
  });

  it("fetches only small ranges of a large wheel (several MB, incompressible)", async () => {
    const big = randomBytes(42, 6 * 1024 * 1024);
    const wheel = buildWheel({
      name: "bigpkg",
      version: "1.0",
      files: { "bigpkg/__init__.py": "", "bigpkg/blob.bin": big, "bigpkg/z.py": "x = 1\n" },
      requiresDist: ["numpy>=1.20"],
    });
    expect(wheel.bytes.length).toBeGreaterThan(6_000_000);
    const { server, files } = await serve("bigpkg", [{ file: wheel, serveMetadata: false }]);
    const got = await fetchMetadataWithSource(files[0] as DistributionFile, { client });
    expect(got.source).toBe("range");
    expect(got.metadata.requiresDist).toEqual(["numpy>=1.20"]);
    const ranges = fetchedRanges(server, `/files/${wheel.filename}`, wheel.bytes.length);
    expect(server.requests.every((r) => r.headers.range !== undefined)).toBe(true);
    expect(total(ranges)).toBeLessThanOrEqual(65536);
  });

  it("reads a central directory larger than the first tail with more ranges", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 2000; i++) {
      files[`manyfiles/sub_package_${i % 10}/module_number_${String(i).padStart(5, "0")}.py`] =
        `x = ${i}\n`;
    }
    const wheel = buildWheel({ name: "manyfiles", version: "0.1", files });
    const { server, files: listed } = await serve("manyfiles", [
      { file: wheel, serveMetadata: false },
    ]);
    const got = await fetchMetadataWithSource(listed[0] as DistributionFile, { client });
    expect(got.source).toBe("range");
    expect(got.metadata.name).toBe("manyfiles");
    const ranges = fetchedRanges(server, `/files/${wheel.filename}`, wheel.bytes.length);
    expect(ranges.length).toBe(3);
    expect(total(ranges)).toBeLessThan(wheel.bytes.length);
  });

  it("reads a ZIP64 wheel", async () => {
    const plain = buildWheel({ name: "zsixtyfour", version: "2.0", requiresDist: ["a", "b"] });
    const bytes = zip64([
      ["zsixtyfour/__init__.py", new TextEncoder().encode("")],
      ["zsixtyfour/blob.bin", randomBytes(7, 200_000)],
      [`${plain.distInfo}/METADATA`, new TextEncoder().encode(plain.metadata)],
      [`${plain.distInfo}/WHEEL`, new TextEncoder().encode("Wheel-Version: 1.0\n")],
    ]);
    const file = { filename: plain.filename, bytes };
    const { server, files } = await serve("zsixtyfour", [{ file, serveMetadata: false }]);
    const got = await fetchMetadataWithSource(files[0] as DistributionFile, { client });
    expect(got.source).toBe("range");
    expect(got.metadata.requiresDist).toEqual(["a", "b"]);
    expect(total(fetchedRanges(server, `/files/${plain.filename}`, bytes.length))).toBeLessThan(
      bytes.length,
    );
    // the same archive read from memory
    const dir = await readZipDirectory(bufferSource(bytes), "mem");
    expect(dir.entries.map((e) => [e.name, e.size])).toEqual([
      ["zsixtyfour/__init__.py", 0],
      ["zsixtyfour/blob.bin", 200_000],
      [`${plain.distInfo}/METADATA`, plain.metadata.length],
      [`${plain.distInfo}/WHEEL`, 19],
    ]);
  });

  it("downloads the whole wheel from a server without range support, checking its hash", async () => {
    const wheel = buildWheel({ name: "norange", version: "1.0" });
    const { server, files } = await serve("norange", [{ file: wheel, serveMetadata: false }], {
      ranges: false,
    });
    const got = await fetchMetadataWithSource(files[0] as DistributionFile, { client });
    expect(got.source).toBe("download");
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.status).toBe(200);

    server.requests.length = 0;
    server.setFaults([{ path: `/files/${wheel.filename}`, corrupt: 10 }]);
    const err = await rejection(fetchMetadataWithSource(files[0] as DistributionFile, { client }));
    expect(err.code).toBe("HASH_MISMATCH");
    expect(err.detail).toMatch(/^expected sha256=[0-9a-f]{64}\n {5}got sha256=[0-9a-f]{64}$/);
  });

  it("a corrupt METADATA through ranges falls back to a full download and its hash check", async () => {
    const wheel = buildWheel({ name: "corrupt", version: "1.0", level: 0 });
    const at = Buffer.from(wheel.bytes).indexOf("Summary: test package");
    expect(at).toBeGreaterThan(0);
    const { server, files } = await serve("corrupt", [{ file: wheel, serveMetadata: false }], {
      faults: [],
    });
    server.setFaults([{ path: `/files/${wheel.filename}`, corrupt: at }]);
    const err = await rejection(fetchMetadataWithSource(files[0] as DistributionFile, { client }));
    expect(err.code).toBe("HASH_MISMATCH");
    const paths = server.requests.map((r) => r.headers.range ?? "whole");
    expect(paths).toEqual(["bytes=-65536", "whole"]);
  });

  it("without a declared hash, a corrupt METADATA fails its CRC check", async () => {
    const wheel = buildWheel({ name: "corrupt", version: "1.0", level: 0 });
    const at = Buffer.from(wheel.bytes).indexOf("Summary: test package");
    const { server, files } = await serve("corrupt", [
      { file: wheel, serveMetadata: false, hashes: {} },
    ]);
    server.setFaults([{ path: `/files/${wheel.filename}`, corrupt: at }]);
    const err = await rejection(fetchMetadataWithSource(files[0] as DistributionFile, { client }));
    expect(err.code).toBe("INDEX_ERROR");
    expect(err.message).toContain("fails its CRC-32 check");
  });

  it("METADATA_MISMATCH through ranges", async () => {
    const wheel = buildWheel({
      name: "mism",
      version: "1.0",
      tamper: { filename: "other-1.0-py3-none-any.whl" },
    });
    const { files } = await serve("other", [{ file: wheel, serveMetadata: false }]);
    const err = await rejection(fetchMetadataWithSource(files[0] as DistributionFile, { client }));
    expect(err.code).toBe("METADATA_MISMATCH");
    expect(err.message).toContain("is for mism 1.0, not other 1.0");
  });

  it("INDEX_ERROR for a wheel without METADATA or one that is not a zip", async () => {
    const noMeta = zipEntries([["nometa/__init__.py", new Uint8Array(0), 0o644]]);
    const junk = randomBytes(3, 5000);
    const { files } = await serve("nometa", [
      { file: { filename: "nometa-1.0-py3-none-any.whl", bytes: noMeta } },
      { file: { filename: "nometa-2.0-py3-none-any.whl", bytes: junk } },
    ]);
    const a = await rejection(fetchMetadataWithSource(files[0] as DistributionFile, { client }));
    expect(a.code).toBe("INDEX_ERROR");
    expect(a.message).toContain("has no <name>-<version>.dist-info/METADATA");
    const b = await rejection(fetchMetadataWithSource(files[1] as DistributionFile, { client }));
    expect(b.code).toBe("INDEX_ERROR");
    expect(b.message).toContain("no end-of-central-directory record");
  });
});

describe("sdists and local files", () => {
  it("downloads an sdist and reads PKG-INFO, checking the hash", async () => {
    const sdist = buildSdist({ name: "src-only", version: "0.5", requiresDist: ["six"] });
    const { server, files } = await serve("src-only", [
      { file: { filename: sdist.filename, bytes: sdist.bytes } },
    ]);
    const got = await fetchMetadataWithSource(files[0] as DistributionFile, { client });
    expect(got.source).toBe("download");
    expect(got.metadata.requiresDist).toEqual(["six"]);
    expect(server.requests.map((r) => r.headers.range)).toEqual([undefined]);

    server.setFaults([{ path: `/files/${sdist.filename}`, corrupt: true }]);
    const err = await rejection(fetchMetadataWithSource(files[0] as DistributionFile, { client }));
    expect(err.code).toBe("HASH_MISMATCH");
  });

  it("reads local wheels and sdists (tar.gz and zip) from disk", async () => {
    const wheel = buildWheel({ name: "local-pkg", version: "1.0", requiresDist: ["x"] });
    const sdist = buildSdist({ name: "local-pkg", version: "0.9", requiresDist: ["y"] });
    const zipSdist = {
      filename: "local_pkg-0.8.zip",
      bytes: zipEntries([
        [
          "local_pkg-0.8/PKG-INFO",
          new TextEncoder().encode(
            "Metadata-Version: 2.1\nName: local-pkg\nVersion: 0.8\nRequires-Dist: z\n",
          ),
          0o644,
        ],
        ["local_pkg-0.8/setup.py", new Uint8Array(0), 0o644],
      ]),
    };
    const dir = writeWheelDir([wheel, sdist, zipSdist]);
    const files = await listFindLinks(dir, { client });
    const got = await Promise.all(files.map((f) => fetchMetadataWithSource(f, { client })));
    expect(got.map((g) => [g.source, g.metadata.version, g.metadata.requiresDist])).toEqual([
      ["local", "0.8", ["z"]],
      ["local", "0.9", ["y"]],
      ["local", "1.0", ["x"]],
    ]);
  });
});

describe("credentials", () => {
  it("puts the index credentials back for file requests, and never shows them", async () => {
    const wheel = buildWheel({ name: "private", version: "1.0" });
    const { server, files } = await serve("private", [{ file: wheel, serveMetadata: false }], {
      auth: { user: "carol", password: "t0psecret" },
    });
    const credentials = new CredentialStore();
    credentials.add(server.urlWithAuth);
    const file = files[0] as DistributionFile;
    expect(file.url).not.toContain("t0psecret");
    const got = await fetchMetadataWithSource(file, { client, credentials });
    expect(got.metadata.name).toBe("private");

    const denied = await rejection(fetchMetadataWithSource(file, { client }));
    expect(denied.code).toBe("HTTP_ERROR");

    server.setFaults([{ path: `/files/${wheel.filename}`, corrupt: 100 }]);
    const err = await rejection(
      fetchMetadataWithSource(
        { ...file, hashes: { sha256: "0".repeat(64) } },
        { client, credentials, rangeRequests: false },
      ),
    );
    expect(err.code).toBe("HASH_MISMATCH");
    expect(shown(err)).not.toContain("t0psecret");
    expect(shown(err)).not.toContain("carol");
  });
});

describe("zip reader", () => {
  const wheel = buildWheel({ name: "zr", version: "1.0" });

  it("reads entries from memory, with an archive comment", async () => {
    const comment = new TextEncoder().encode("a comment");
    const withComment = new Uint8Array(wheel.bytes.length + comment.length);
    withComment.set(wheel.bytes);
    withComment.set(comment, wheel.bytes.length);
    new DataView(withComment.buffer).setUint16(wheel.bytes.length - 2, comment.length, true);
    const source = bufferSource(withComment);
    const dir = await readZipDirectory(source, "mem");
    const meta = dir.entries.find((e) => e.name.endsWith("/METADATA"));
    if (meta === undefined) throw new Error("no METADATA");
    const data = await readZipEntry(source, dir, meta, "mem");
    expect(new TextDecoder().decode(data)).toBe(wheel.metadata);
  });

  it("refuses truncated, encrypted and oversized entries", async () => {
    const truncated = await rejection(
      readZipDirectory(bufferSource(wheel.bytes.subarray(0, wheel.bytes.length - 5)), "t.whl"),
    );
    expect(truncated.code).toBe("INDEX_ERROR");
    const tiny = await rejection(readZipDirectory(bufferSource(new Uint8Array(3)), "t.whl"));
    expect(tiny.message).toContain("too small");

    const dir = await readZipDirectory(bufferSource(wheel.bytes), "w");
    const entry = dir.entries[0];
    if (entry === undefined) throw new Error("empty");
    const encrypted = await rejection(
      readZipEntry(bufferSource(wheel.bytes), dir, { ...entry, flags: entry.flags | 1 }, "w"),
    );
    expect(encrypted.message).toContain("is encrypted");
    const big = await rejection(readZipEntry(bufferSource(wheel.bytes), dir, entry, "w", 2));
    expect(big.message).toContain("too large");
    const method = await rejection(
      readZipEntry(bufferSource(wheel.bytes), dir, { ...entry, method: 12 }, "w"),
    );
    expect(method.message).toContain("compression method 12");
    const crc = await rejection(
      readZipEntry(
        bufferSource(wheel.bytes),
        dir,
        { ...entry, crc32: (entry.crc32 + 1) >>> 0 },
        "w",
      ),
    );
    expect(crc.message).toContain("CRC-32");
  });
});
