// Where the reservation script finds the limits (`ts:limits`, docs/flow-control.md): class limits are written by
// every worker at start-up from the job definitions it loads, queue limits through the API. Both are read once per
// reservation call; a change applies from the next one, and a sweep lets parked jobs back where a limit now has room.
import type { Redis } from 'ioredis';
import { assertLimit, classLimitField, queueLimitField } from '../jobs/concurrency.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { Keys } from '../protocol/keys.js';
import { assertQueueName } from '../protocol/names.js';
import { publishClassRates } from './rate-definitions.js';
import { sweepLimits } from './sweep.js';

type LimitContext = { readonly redis: Redis; readonly keys: Keys };

/**
 * Writes the concurrency and rate limits of the job classes a worker runs, and removes those its definitions no
 * longer have, then sweeps. In a fleet running two releases with different limits, the worker that started last wins.
 */
export async function publishClassLimits(ctx: LimitContext, jobs: JobRegistry): Promise<void> {
  const multi = ctx.redis.multi();
  let changes = 0;
  for (const name of jobs.names) {
    const concurrency = jobs.resolve(name)?.concurrency;
    const keyed = concurrency?.key !== undefined;
    if (concurrency) multi.hset(ctx.keys.limits, classLimitField(name, keyed), concurrency.limit);
    multi.hdel(ctx.keys.limits, classLimitField(name, !keyed));
    if (!concurrency) multi.hdel(ctx.keys.limits, classLimitField(name, true));
    changes++;
  }
  if (changes > 0) await multi.exec();
  await publishClassRates(ctx, jobs);
  await sweepLimits(ctx.redis, ctx.keys);
}

/** At most `limit` jobs of `queue` run at once across every resque-ts worker. */
export async function limitQueue(ctx: LimitContext, queue: string, limit: number): Promise<void> {
  assertQueueName(queue);
  assertLimit(limit, 'limit', `Queue ${queue}`);
  await ctx.redis.hset(ctx.keys.limits, queueLimitField(queue), limit);
  await sweepLimits(ctx.redis, ctx.keys);
}

/** Removes a queue's limit; its parked jobs go back to the queue. False when it had none. */
export async function unlimitQueue(ctx: LimitContext, queue: string): Promise<boolean> {
  assertQueueName(queue);
  const removed = (await ctx.redis.hdel(ctx.keys.limits, queueLimitField(queue))) === 1;
  await sweepLimits(ctx.redis, ctx.keys);
  return removed;
}

export interface LimitState {
  /** `class:<Class>`, `key:<Class>` (per key), `queue:<name>`. */
  readonly name: string;
  readonly limit: number;
}

/** The limits defined now. */
export async function limitDefinitions(ctx: LimitContext): Promise<LimitState[]> {
  const fields = await ctx.redis.hgetall(ctx.keys.limits);
  return Object.entries(fields)
    .map(([name, value]) => ({ name, limit: Number(value) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** One limit's use: how many jobs hold its tokens and how many wait parked (`limit` as reserve.lua names it). */
export async function limitUsage(
  ctx: LimitContext,
  limit: string,
): Promise<{ running: number; parked: number }> {
  const [running, parked] = await Promise.all([
    ctx.redis.scard(ctx.keys.limitHolders(limit)),
    ctx.redis.llen(ctx.keys.parked(limit)),
  ]);
  return { running, parked };
}
