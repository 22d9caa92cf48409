/**
 * The index client against the real PyPI (run by `npm run test:e2e`, not by `npm test`):
 * JSON and HTML project pages of requests and numpy, a numpy wheel's PEP 658 metadata file,
 * and METADATA read out of a remote wheel with HTTP range requests.
 */
import { afterAll, describe, expect, it } from "vitest";
import { RecordingReporter } from "../../src/base/index.ts";
import { HttpClient } from "../../src/index/http.ts";
import { IndexSet } from "../../src/index/indexes.ts";
import { fetchMetadataWithSource } from "../../src/index/metadata-fetch.ts";
import type { DistributionFile } from "../../src/index/project.ts";
import { parseProjectPage } from "../../src/index/simple.ts";

const client = new HttpClient();
const reporter = new RecordingReporter();
const pypi = new IndexSet({ client, reporter });
afterAll(() => client.close());

function pick(files: DistributionFile[], test: (f: DistributionFile) => boolean): DistributionFile {
  const found = files.filter(test).at(-1);
  if (found === undefined) throw new Error("no such file on PyPI");
  return found;
}

describe("PyPI project pages", () => {
  it("requests (JSON)", async () => {
    const files = await pypi.files("Requests");
    expect(files.length).toBeGreaterThan(100);
    const f = pick(files, (x) => x.filename === "requests-2.31.0-py3-none-any.whl");
    expect(f).toMatchObject({
      kind: "wheel",
      name: "requests",
      url: expect.stringMatching(/^https:\/\/files\.pythonhosted\.org\//),
      hashes: { sha256: "58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f" },
      requiresPython: ">=3.7",
    });
    // JSON pages (PEP 691/700) also give size, upload-time and core-metadata; some mirrors
    // answer with HTML whatever the Accept header says.
    if (f.size !== undefined) {
      expect(f.uploadTime).toMatch(/^2023-05-22T/);
      expect(f.coreMetadata).toEqual({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    }
    expect(files.some((x) => x.kind === "sdist")).toBe(true);
    // requests 2.32.0 was yanked with a reason
    const yanked = files.find((x) => x.version.toString() === "2.32.0");
    expect(yanked?.yanked).toBeTruthy();
  });

  it("requests (HTML)", async () => {
    const response = await client.get("https://pypi.org/simple/requests/", {
      accept: "text/html",
    });
    const files = parseProjectPage(response.body, response.headers["content-type"], {
      project: "requests",
      pageUrl: response.url,
      index: "https://pypi.org/simple/",
    });
    const f = pick(files, (x) => x.filename === "requests-2.31.0-py3-none-any.whl");
    expect(f.hashes.sha256).toBe(
      "58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f",
    );
    expect(f.requiresPython).toBe(">=3.7");
  });

  it("numpy (JSON)", async () => {
    const files = await pypi.files("numpy");
    expect(files.length).toBeGreaterThan(1000);
    expect(files.every((f) => f.name === "numpy")).toBe(true);
    expect(files.filter((f) => f.kind === "wheel").length).toBeGreaterThan(1000);
  });
});

describe("PyPI metadata", () => {
  it("a numpy wheel through its PEP 658 metadata file", async () => {
    const files = await pypi.files("numpy");
    const f = pick(
      files,
      (x) =>
        x.filename === "numpy-2.0.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    );
    // PyPI offers the metadata file of every wheel since 2023; a mirror may not advertise it.
    const got = await fetchMetadataWithSource(
      {
        ...f,
        coreMetadata:
          f.coreMetadata === undefined || f.coreMetadata === false ? true : f.coreMetadata,
      },
      { client },
    );
    expect(got.source).toBe("metadata-file");
    expect(got.metadata.name).toBe("numpy");
    expect(got.metadata.version).toBe(f.version.toString());
  });

  it("a numpy wheel through HTTP range requests (metadata file ignored)", async () => {
    const files = await pypi.files("numpy");
    const f = pick(
      files,
      (x) =>
        x.filename === "numpy-2.0.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    );
    const got = await fetchMetadataWithSource({ ...f, coreMetadata: false }, { client });
    expect(got.source).toBe("range");
    expect(got.metadata.name).toBe("numpy");
    expect(got.metadata.version).toBe("2.0.0");
    expect(got.metadata.requiresPython).toBe(">=3.9");
  });
});
