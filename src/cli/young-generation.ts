/**
 * A cap on V8's young generation for this process. V8 doubles its semi-spaces up to 32 MB
 * each while a run allocates quickly (reading project pages, resolving), and keeps them:
 * ~55 MB of the peak RSS of a warm `lock` or `install` (226 vs 167 MiB for the web set of
 * docs/benchmarks.md), for no measurable gain in CPU here. `--max-semi-space-size` would cap
 * it, but only as a command-line flag (`node dist/slimenv.js` and `npx slimenv` pass none, and
 * `#!/usr/bin/env -S node --…` is not portable); `--semi-space-growth-factor` is read each time
 * the young generation grows, so setting it to 1 at run time stops the growth where it is.
 * This lets it grow to `capMb` (both semi-spaces) first, then stops it, after the first
 * garbage collection that finds it there.
 */
import { PerformanceObserver } from "node:perf_hooks";
import v8 from "node:v8";

/** Young generation (both semi-spaces) at which growth stops: 2 × 4 MB semi-spaces. */
export const YOUNG_GENERATION_CAP_MB = 8;

function youngGenerationBytes(): number {
  const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
  return space?.space_size ?? 0;
}

/**
 * Stop the young generation's growth once it is `capMb` or more (checked after each garbage
 * collection until then). `SLIMENV_YOUNG_GENERATION_MB=0` leaves V8's default.
 */
export function capYoungGeneration(
  capMb: number = YOUNG_GENERATION_CAP_MB,
  env: NodeJS.ProcessEnv = process.env,
): void {
  const fromEnv = env.SLIMENV_YOUNG_GENERATION_MB;
  const mb = fromEnv !== undefined && /^\d+$/.test(fromEnv) ? Number(fromEnv) : capMb;
  if (mb === 0) return;
  const cap = mb * 1024 * 1024;
  const stop = () => v8.setFlagsFromString("--semi-space-growth-factor=1");
  if (youngGenerationBytes() >= cap) {
    stop();
    return;
  }
  const observer = new PerformanceObserver(() => {
    if (youngGenerationBytes() < cap) return;
    stop();
    observer.disconnect();
  });
  observer.observe({ entryTypes: ["gc"] });
}
