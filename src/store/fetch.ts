/**
 * fetchWheel: download a wheel the lock names, check its sha256 (and size), import it —
 * or nothing at all when the store already has a wheel with that sha256.
 *
 * The HttpClient returns whole bodies, so a wheel is held in memory while it is checked and
 * imported (import itself streams each file to disk). Streaming the download to a temp file
 * waits on a streaming HttpClient.get.
 */
import { createHash } from "node:crypto";
import { type Reporter, SlimenvError, silentReporter } from "../base/index.ts";
import type { HttpClient } from "../index/http.ts";
import type { Store } from "./store.ts";
import type { StoredWheel } from "./types.ts";

export interface WheelFileRef {
  url: string;
  filename: string;
  /** Hex sha256 from the lock. */
  sha256: string;
  size?: number;
}

/** Download `file.url` and check it is the file the lock names. Returns its bytes. */
export async function downloadWheel(
  client: HttpClient,
  file: WheelFileRef,
  reporter: Reporter = silentReporter,
): Promise<Uint8Array> {
  const task = reporter.task(`download ${file.filename}`, file.size, "B");
  try {
    const response = await client.get(file.url, {
      cache: "no-store",
      ...(file.size === undefined ? {} : { maxBytes: file.size }),
    });
    if (response.status !== 200) {
      throw new SlimenvError(
        "HTTP_ERROR",
        `GET ${response.url}: HTTP ${response.status} for ${file.filename}`,
      );
    }
    const body = response.body;
    task.advance(body.length);
    if (file.size !== undefined && body.length !== file.size) {
      throw new SlimenvError(
        "HASH_MISMATCH",
        `${file.filename}: downloaded ${body.length} bytes, the lock says ${file.size}`,
      );
    }
    const sha256 = createHash("sha256").update(body).digest("hex");
    if (sha256 !== file.sha256.toLowerCase()) {
      throw new SlimenvError(
        "HASH_MISMATCH",
        `${file.filename} from ${response.url}: sha256 is ${sha256}, the lock expects ${file.sha256.toLowerCase()}`,
        { hint: "the index serves another file than the one locked; re-lock, or check the index" },
      );
    }
    return body;
  } finally {
    task.done();
  }
}

/** Download (unless the store has it), verify, import. */
export async function fetchWheel(
  store: Store,
  client: HttpClient,
  file: WheelFileRef,
  reporter: Reporter = silentReporter,
): Promise<StoredWheel> {
  const known = store.findWheel(file.sha256);
  if (known !== undefined) {
    store.rememberUrl(file.sha256, file.url);
    return known;
  }
  const bytes = await downloadWheel(client, file, reporter);
  return store.importWheel(
    { bytes },
    { filename: file.filename, sha256: file.sha256, url: file.url },
  );
}
