/**
 * A small package world for the lock tests, served by the in-process index:
 *   app 1.0      -> lib>=1, plat ; py3 wheel
 *   lib 1.0, 1.1 (py3 wheels + sdists), 2.0 (yanked)
 *   plat 1.0     wheels for cp311 manylinux_2_28_aarch64, cp311 manylinux_2_17_x86_64,
 *                cp312 macosx_11_0_arm64, and an sdist
 *   sdistonly 1.0  an sdist only (PKG-INFO Metadata-Version 2.1)
 *   sdist22 1.0    an sdist only (PKG-INFO Metadata-Version 2.2, static)
 *   maconly 1.0    macOS wheels only
 *   newpy 1.0      requires Python >=3.12 (index data-requires-python)
 *   extra-user 1.0 -> lib[fast] ; lib declares extra "fast" -> plat
 *   pure 1.0     -> lib ; py3 wheel
 *   legacy 0.1   -> an unreadable Requires-Dist, and pure
 *   mixed 1.0 (sdist only, Metadata-Version 2.1), 2.0 (wheel) -> lib>=5 (no such version)
 */
import { gunzipSync, gzipSync } from "node:zlib";
import { HttpClient } from "../../src/index/http.ts";
import type { IndexEntry, IndexProjects } from "../helpers/index-server.ts";
import { type BuiltSdist, type BuiltWheel, buildSdist, buildWheel } from "../helpers/wheels.ts";

export const UPLOAD_TIME = "2024-03-04T05:06:07.000000Z";

export function entry(file: BuiltWheel | BuiltSdist, more: Partial<IndexEntry> = {}): IndexEntry {
  return {
    file: { filename: file.filename, bytes: file.bytes, metadata: file.metadata },
    uploadTime: UPLOAD_TIME,
    ...more,
  };
}

/** An sdist whose PKG-INFO says Metadata-Version `version` (same length as "2.1"). */
export function sdistWithMetadataVersion(
  spec: Parameters<typeof buildSdist>[0],
  version: string,
): BuiltSdist {
  const built = buildSdist(spec);
  const tar = Buffer.from(gunzipSync(built.bytes)).toString("latin1");
  const patched = tar.replace("Metadata-Version: 2.1", `Metadata-Version: ${version}`);
  const bytes = new Uint8Array(gzipSync(Buffer.from(patched, "latin1"), { level: 9 }));
  const metadata = built.metadata.replace("Metadata-Version: 2.1", `Metadata-Version: ${version}`);
  return { ...built, bytes, metadata };
}

export interface World {
  projects: IndexProjects;
  /** Every wheel built, by filename. */
  wheels: Map<string, BuiltWheel>;
}

export function world(): World {
  const wheels = new Map<string, BuiltWheel>();
  const wheel = (spec: Parameters<typeof buildWheel>[0]) => {
    const w = buildWheel(spec);
    wheels.set(w.filename, w);
    return w;
  };
  const lib = (version: string) => [
    entry(
      wheel({
        name: "lib",
        version,
        extras: ["fast"],
        requiresDist: ['plat; extra == "fast"'],
      }),
    ),
    entry(buildSdist({ name: "lib", version })),
  ];
  const projects: IndexProjects = {
    app: [entry(wheel({ name: "app", version: "1.0", requiresDist: ["lib>=1", "plat"] }))],
    lib: [
      ...lib("1.0"),
      ...lib("1.1"),
      entry(wheel({ name: "lib", version: "2.0" }), { yanked: "broken release" }),
    ],
    plat: [
      entry(wheel({ name: "plat", version: "1.0", tags: "cp311-cp311-manylinux_2_28_aarch64" })),
      entry(wheel({ name: "plat", version: "1.0", tags: "cp311-cp311-manylinux_2_17_x86_64" })),
      entry(wheel({ name: "plat", version: "1.0", tags: "cp312-cp312-macosx_11_0_arm64" })),
      entry(buildSdist({ name: "plat", version: "1.0" })),
    ],
    sdistonly: [entry(buildSdist({ name: "sdistonly", version: "1.0", requiresDist: ["lib"] }))],
    sdist22: [
      entry(
        sdistWithMetadataVersion(
          { name: "sdist22", version: "1.0", requiresDist: ["lib<1.1"] },
          "2.2",
        ),
      ),
    ],
    maconly: [
      entry(wheel({ name: "maconly", version: "1.0", tags: "cp312-cp312-macosx_11_0_arm64" })),
      entry(wheel({ name: "maconly", version: "1.0", tags: "cp311-cp311-macosx_11_0_arm64" })),
    ],
    newpy: [
      entry(wheel({ name: "newpy", version: "1.0", requiresPython: ">=3.12" }), {
        requiresPython: ">=3.12",
      }),
    ],
    legacy: [
      entry(wheel({ name: "legacy", version: "0.1", requiresDist: ["lib>=1.0,<1.1',", "pure"] })),
    ],
    mixed: [
      entry(buildSdist({ name: "mixed", version: "1.0" })),
      entry(wheel({ name: "mixed", version: "2.0", requiresDist: ["lib>=5"] })),
    ],
    pure: [entry(wheel({ name: "pure", version: "1.0", requiresDist: ["lib"] }))],
    "extra-user": [
      entry(wheel({ name: "extra-user", version: "1.0", requiresDist: ["lib[fast]"] })),
    ],
  };
  return { projects, wheels };
}

/** An HTTP client for tests: no netrc, no proxies, no cache, one quick retry. */
export function testClient(): HttpClient {
  return new HttpClient({ netrc: false, env: {}, retries: 1, retryBaseMs: 1, timeoutMs: 10_000 });
}
