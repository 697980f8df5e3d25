// Where the reservation script finds the rate limits (`ts:rate-limits`, docs/flow-control.md): class limits written
// by every worker at start-up from the job definitions it loads, queue limits through the API. Read once per
// reservation call; a change applies from the next one.
import type { Redis } from 'ioredis';
import { assertLimit, classLimitField, queueLimitField } from '../jobs/concurrency.js';
import { assertWindow, parseRateValue, rateValue } from '../jobs/rate.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { Keys } from '../protocol/keys.js';
import { assertQueueName } from '../protocol/names.js';
import { releaseRateParked } from './rate-release.js';

type LimitContext = { readonly redis: Redis; readonly keys: Keys };

/** Writes the rate limits of the job classes a worker runs and removes those its definitions no longer have. */
export async function publishClassRates(ctx: LimitContext, jobs: JobRegistry): Promise<void> {
  if (jobs.names.length === 0) return;
  const multi = ctx.redis.multi();
  for (const name of jobs.names) {
    const rate = jobs.resolve(name)?.rate;
    const keyed = rate?.key !== undefined;
    if (rate)
      multi.hset(ctx.keys.rateLimits, classLimitField(name, keyed), rateValue(rate.limit, rate.windowMs));
    multi.hdel(ctx.keys.rateLimits, classLimitField(name, !keyed));
    if (!rate) multi.hdel(ctx.keys.rateLimits, classLimitField(name, true));
  }
  await multi.exec();
}

/** At most `limit` jobs of `queue` start in any window of `windowMs`, across every resque-ts worker. */
export async function limitQueueRate(
  ctx: LimitContext,
  queue: string,
  limit: number,
  windowMs: number,
): Promise<void> {
  assertQueueName(queue);
  assertLimit(limit, 'limit', `Queue ${queue}`);
  assertWindow(windowMs, 'windowMs', `Queue ${queue}`);
  await ctx.redis.hset(ctx.keys.rateLimits, queueLimitField(queue), rateValue(limit, windowMs));
}

/**
 * Removes a queue's rate limit; false when it had none. Its parked jobs go back to the queue at once: with no
 * definition, only a block a job asked for (`RateLimited`) still holds them.
 */
export async function unlimitQueueRate(ctx: LimitContext, queue: string): Promise<boolean> {
  assertQueueName(queue);
  const field = queueLimitField(queue);
  const removed = (await ctx.redis.hdel(ctx.keys.rateLimits, field)) === 1;
  if (removed) {
    await ctx.redis.zadd(ctx.keys.rateParkedDue, 0, field);
    await releaseRateParked(ctx.redis, ctx.keys, undefined);
  }
  return removed;
}

export interface RateLimitState {
  /** `class:<Class>`, `key:<Class>` (per key), `queue:<name>`. */
  readonly name: string;
  readonly limit: number;
  readonly windowMs: number;
}

/** The rate limits defined now. */
export async function rateDefinitions(ctx: LimitContext): Promise<RateLimitState[]> {
  const fields = await ctx.redis.hgetall(ctx.keys.rateLimits);
  return Object.entries(fields)
    .map(([name, value]) => ({ name, ...parseRateValue(value) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The member of a rate log whose score is minus the number of starts its groups add up to (limits/rate.lua: the
 * starts of one reservation call are one member, `<token>` or `<token> <count>`).
 */
export const RATE_LOG_COUNT = 'starts';

/**
 * Starts in a rate log's current window, from the score of its count member and the members scored at or before the
 * window's start (groups left in the log until a reservation trims it; `blocked` is no start).
 */
export function startsInWindow(countScore: string | null, expired: readonly string[]): number {
  let starts = countScore === null ? 0 : -Number(countScore);
  for (const member of expired) {
    if (member === 'blocked') continue;
    const size = / (\d+)$/.exec(member);
    starts -= size ? Number(size[1]) : 1;
  }
  return Math.max(0, starts);
}

/** One rate limit's use: starts in its log (the current window, as last trimmed) and jobs waiting parked. */
export async function rateUsage(
  ctx: LimitContext,
  limit: string,
): Promise<{ starts: number; parked: number }> {
  const [count, parked] = await Promise.all([
    ctx.redis.zscore(ctx.keys.rateLog(limit), RATE_LOG_COUNT),
    ctx.redis.llen(ctx.keys.rateParked(limit)),
  ]);
  return { starts: startsInWindow(count, []), parked };
}
