import type { Redis } from 'ioredis';
import type { Keys } from '../protocol/keys.js';
import { defineScript, runScript } from '../redis/scripts.js';

const RATE_RELEASE = defineScript(new URL('./rate_release.lua', import.meta.url));

/** Rate limits one call looks at, at most; the caller calls again while a call uses them all. */
export const RATE_RELEASE_BATCH = 100;

export interface RateReleaseReport {
  /** Rate limits that were due. */
  seen: number;
  /** Parked jobs moved back to the head of their queue. */
  returned: number;
}

/**
 * Lets back the parked jobs of the rate limits that have room at `nowMs` (rate_release.lua); `undefined` decides by
 * the Redis clock.
 */
export async function releaseRateParked(
  redis: Redis,
  keys: Keys,
  nowMs: number | undefined,
  batch = RATE_RELEASE_BATCH,
): Promise<RateReleaseReport> {
  const [seen, returned] = await runScript<[number, number]>(
    redis,
    RATE_RELEASE,
    [keys.rateParkedDue],
    [keys.rateSpec, keys.announce, keys.limitSpec, nowMs === undefined ? '' : nowMs, batch],
  );
  return { seen: Number(seen), returned: Number(returned) };
}

/** When the next rate limit with parked jobs may have room (epoch ms), if any has parked jobs. */
export async function nextRateDueMs(redis: Redis, keys: Keys): Promise<number | undefined> {
  const first = await redis.zrange(keys.rateParkedDue, 0, 0, 'WITHSCORES');
  return first[1] === undefined ? undefined : Number(first[1]);
}
