/**
 * Getting every chosen wheel into the store: local files imported straight from disk,
 * URLs downloaded (a bounded number at once) and verified against the lock's sha256 —
 * nothing at all for wheels the store already holds. Progress goes to the reporter in bytes.
 */
import { readFile } from "node:fs/promises";
import { mapLimit, type Reporter, SlimenvError, silentReporter } from "../base/index.ts";
import type { HttpClient } from "../index/http.ts";
import { stripCredentials } from "../index/source-url.ts";
import { parseWheelFile } from "../standards/wheel-file.ts";
import { fetchWheel } from "../store/fetch.ts";
import type { Store } from "../store/store.ts";
import type { StoredWheel } from "../store/types.ts";
import type { WheelFacts } from "../store/wheel-import.ts";
import type { WheelChoice } from "./lock-plan.ts";

export interface FetchWheelsOptions {
  reporter?: Reporter;
  /** Downloads in flight at once (default 8). */
  concurrency?: number;
  /** Puts an index's credentials back into a URL (the lock holds none). */
  withCredentials?: (url: string) => string;
  /**
   * The caller's own refusals (e.g. the WHEEL file's tags against the target): run before a
   * new wheel's bytes are written, and on a wheel the store already holds.
   */
  accept?: (facts: WheelFacts) => void;
}

/** The facts of a stored wheel, its WHEEL file read from the store. */
async function storedFacts(store: Store, wheel: StoredWheel): Promise<WheelFacts> {
  const file = wheel.files.find((f) => /^[^/]+\.dist-info\/WHEEL$/.test(f.path));
  let wheelTags: string[] = [];
  if (file !== undefined) {
    try {
      wheelTags = parseWheelFile(
        await readFile(store.objectPath(file.hash, file.exec), "utf8"),
      ).tags;
    } catch {
      // it parsed when the wheel was imported; a damaged object is verify's business
    }
  }
  return {
    filename: wheel.filename,
    tags: wheel.tags,
    wheelTags,
    rootIsPurelib: wheel.rootIsPurelib,
  };
}

async function fetchOne(
  store: Store,
  client: HttpClient,
  choice: WheelChoice,
  options: FetchWheelsOptions,
  reporter: Reporter,
): Promise<StoredWheel> {
  const wheel = await fetchOrImport(store, client, choice, options, reporter);
  if (options.accept !== undefined) {
    options.accept(await storedFacts(store, wheel));
  }
  return wheel;
}

async function fetchOrImport(
  store: Store,
  client: HttpClient,
  choice: WheelChoice,
  options: FetchWheelsOptions,
  reporter: Reporter,
): Promise<StoredWheel> {
  const accept = options.accept === undefined ? {} : { accept: options.accept };
  if (choice.sha256 !== undefined) {
    const known = store.findWheel(choice.sha256);
    if (known !== undefined) {
      if (choice.url !== undefined) store.rememberUrl(known.sha256, stripCredentials(choice.url));
      return known;
    }
  }
  const sha = choice.sha256 === undefined ? {} : { sha256: choice.sha256 };
  if (choice.path !== undefined) {
    return store.importWheel(
      { path: choice.path },
      { filename: choice.filename, ...sha, ...accept },
    );
  }
  if (choice.url === undefined || choice.sha256 === undefined) {
    throw new SlimenvError("INTERNAL", `no source for ${choice.filename}`);
  }
  const url = options.withCredentials?.(choice.url) ?? choice.url;
  return fetchWheel(
    store,
    client,
    {
      url,
      filename: choice.filename,
      sha256: choice.sha256,
      ...(choice.size === undefined ? {} : { size: choice.size }),
    },
    reporter,
    options.accept,
  );
}

/** Fetch and import every choice; the stored wheels come back in the order of `choices`. */
export async function fetchWheels(
  store: Store,
  client: HttpClient,
  choices: readonly WheelChoice[],
  options: FetchWheelsOptions = {},
): Promise<StoredWheel[]> {
  const reporter = options.reporter ?? silentReporter;
  const known = choices.every((c) => c.size !== undefined);
  const total = choices.reduce((sum, c) => sum + (c.size ?? 0), 0);
  const task = known
    ? reporter.task(`fetch ${choices.length} wheels`, total, "B")
    : reporter.task(`fetch ${choices.length} wheels`, choices.length, "wheels");
  try {
    return await mapLimit(choices, options.concurrency ?? 8, async (choice) => {
      const stored = await fetchOne(store, client, choice, options, reporter);
      task.advance(known ? (choice.size ?? 0) : 1);
      return stored;
    });
  } finally {
    task.done();
  }
}
