/**
 * fetchWheel: get the wheel a lock names into the store — or nothing at all when the store
 * already has a wheel with that sha256. The wheel is downloaded to a temp file in the store's
 * own tmp/ (download.ts), checked against the lock, and imported from that file.
 */
import { type Reporter, silentReporter, stripCredentials } from "../base/index.ts";
import type { HttpClient } from "../index/http.ts";
import { type WheelFileRef, withDownloadedWheel } from "./download.ts";
import { storePaths } from "./paths.ts";
import type { Store } from "./store.ts";
import type { StoredWheel } from "./types.ts";
import type { ImportOptions } from "./wheel-import.ts";

/**
 * Download (unless the store has it), verify, import. The URL the store remembers for
 * repair is `file.url` without credentials.
 */
export async function fetchWheel(
  store: Store,
  client: HttpClient,
  file: WheelFileRef,
  reporter: Reporter = silentReporter,
  accept?: ImportOptions["accept"],
): Promise<StoredWheel> {
  const url = stripCredentials(file.url);
  const known = store.findWheel(file.sha256);
  if (known !== undefined) {
    store.rememberUrl(file.sha256, url);
    return known;
  }
  return withDownloadedWheel(storePaths(store.root), client, file, reporter, (wheel) =>
    store.importWheel(
      // hashed while it was downloaded (and checked against the lock): not hashed again
      { path: wheel.path, digest: { sha256: wheel.sha256, size: wheel.size } },
      {
        filename: file.filename,
        sha256: file.sha256,
        url,
        ...(accept === undefined ? {} : { accept }),
      },
    ),
  );
}
