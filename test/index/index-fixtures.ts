/** Shared bits of the index-client tests (simple pages, find-links, metadata, IndexSet). */
import { isSlimenvError, type SlimenvError } from "../../src/base/index.ts";
import { HttpClient } from "../../src/index/http.ts";

/** An HTTP client that sees no netrc, no proxy variables and does not retry. */
export function testClient(): HttpClient {
  return new HttpClient({ netrc: false, env: {}, retries: 0, retryBaseMs: 1, timeoutMs: 10_000 });
}

/** The SlimenvError a promise rejects with (fails when it resolves or rejects otherwise). */
export async function rejection(promise: Promise<unknown>): Promise<SlimenvError> {
  try {
    await promise;
  } catch (err) {
    if (isSlimenvError(err)) return err;
    throw new Error(`expected a SlimenvError, got ${String(err)}`, { cause: err });
  }
  throw new Error("expected a SlimenvError, got none");
}

/** Everything a SlimenvError shows a person, for "no credentials leaked" checks. */
export function shown(err: SlimenvError): string {
  return [err.message, err.hint ?? "", err.detail ?? ""].join("\n");
}
