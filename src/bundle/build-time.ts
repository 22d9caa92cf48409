/**
 * The one timestamp a bundle or an image records: SOURCE_DATE_EPOCH when set, else the env's
 * build time — never the clock, so the same env gives the same bytes.
 */
import { SlimenvError } from "../base/index.ts";

/** Seconds since the epoch of SOURCE_DATE_EPOCH, else of the env's build time (floored; at
 * most `max`, whose `hint` a too-big SOURCE_DATE_EPOCH is told). */
export function buildTime(
  env: NodeJS.ProcessEnv,
  envCreatedAt: string,
  limit: { max: number; hint: string } = {
    max: Number.MAX_SAFE_INTEGER,
    hint: "unset it or fix it",
  },
): number {
  const sde = env.SOURCE_DATE_EPOCH;
  if (sde !== undefined && sde !== "") {
    if (!/^\d+$/.test(sde) || Number(sde) > limit.max) {
      throw new SlimenvError(
        "INVALID_OPTION",
        `SOURCE_DATE_EPOCH=${sde} is not a number of seconds`,
        {
          hint: limit.hint,
        },
      );
    }
    return Number(sde);
  }
  const t = Date.parse(envCreatedAt);
  return Number.isNaN(t) ? 0 : Math.min(Math.max(Math.floor(t / 1000), 0), limit.max);
}
