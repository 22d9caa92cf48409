/**
 * The one worker pool: run an async function over a list with a bounded number in flight.
 */

/**
 * Run `fn` over `items` with at most `limit` (at least 1) in flight; results keep the input
 * order. After a failure no new item is started; once the ones in flight have settled, the
 * first failure is thrown.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const width = Math.max(1, Math.min(limit, items.length));
  const settled = await Promise.allSettled(Array.from({ length: width }, worker));
  const rejected = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (rejected !== undefined) throw rejected.reason;
  return results;
}
