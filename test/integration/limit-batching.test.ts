// How the reservation script keeps limits exact while it batches their bookkeeping (docs/flow-control.md, Cost): a
// slot finished and refilled in one call with a job of the same limits keeps its token and its hold as they are;
// limits defined or removed while a job runs free exactly what it took; a rate limit's starts of one call are one
// group of its log, and the window still counts every start.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
import { defineJob } from '../../src/jobs/define.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import { publishClassLimits } from '../../src/limits/definitions.js';
import { startsInWindow } from '../../src/limits/rate-definitions.js';
import { releaseRateParked } from '../../src/limits/rate-release.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { Fetcher, type FetchReply } from '../../src/worker/fetch/fetcher.js';
import { QueuePatterns } from '../../src/worker/queue-patterns.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});

const config = { failureBackend: 'redis' as const, release: 'test', onTermTimeout: 'requeue' as const };
const logger = createLogger('silent');
const T0 = 1_800_000_000_000;

const Batch = defineJob({ className: 'Batch', queue: 'q', concurrency: { limit: 2 }, perform: () => {} });
const Paced = defineJob({
  className: 'Paced',
  queue: 'q',
  rate: { limit: 3, windowMs: 1000 },
  perform: () => {},
});
const Plain = defineJob({ className: 'Plain', queue: 'q', perform: () => {} });

async function setup() {
  const keys = new Keys(uniqueNamespace('batching'));
  const resque = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace });
  await publishClassLimits({ redis, keys }, new JobRegistry([Batch, Paced, Plain]));
  const clock = { now: T0 };
  const fetcher = new Fetcher(
    redis,
    keys,
    new QueuePatterns(['q']),
    config,
    logger,
    () => {},
    async () => clock.now,
  );
  return { keys, resque, clock, fetcher };
}

const classesOf = (reply: FetchReply) => reply.reservations.map((r) => r.payload?.class);

async function settleAll(reply: FetchReply) {
  for (const r of reply.reservations) await r.ack({ kind: 'performed' });
}

/** The holds, without the field that keeps the hash out of the listpack encoding. */
async function holds(keys: Keys) {
  const all = await redis.hgetall(keys.limitHolds);
  delete all['~hashtable'];
  return all;
}

describe('limit bookkeeping batched per reservation call', () => {
  it('a slot refilled with a job of the same limits keeps its token and hold; the count stays exact', async () => {
    const { keys, resque, fetcher } = await setup();
    for (let i = 0; i < 4; i++) await resque.enqueue(Batch);
    const first = await fetcher.reserve(['s1', 's2']);
    expect(classesOf(first)).toEqual(['Batch', 'Batch']);
    const before = await holds(keys);
    expect(Object.values(before)).toEqual(['class:Batch', 'class:Batch']);
    const holders = (await redis.smembers(keys.limitHolders('class:Batch'))).sort();

    // Both end and both slots are refilled in one call: the two tokens pass to the next two jobs.
    await settleAll(first);
    const second = await fetcher.reserve(['s1', 's2']);
    expect(classesOf(second)).toEqual(['Batch', 'Batch']);
    expect(await holds(keys)).toEqual(before);
    expect((await redis.smembers(keys.limitHolders('class:Batch'))).sort()).toEqual(holders);
    expect(await resque.limitUsage('class:Batch')).toEqual({ running: 2, parked: 0 });

    // The limit is still full: a third slot parks the next job, and one end lets it back to that slot.
    await resque.enqueue(Batch);
    expect(classesOf(await fetcher.reserve(['s3']))).toEqual([]);
    expect(await resque.limitUsage('class:Batch')).toEqual({ running: 2, parked: 1 });
    await second.reservations[0]!.ack({ kind: 'performed' });
    expect(classesOf(await fetcher.reserve(['s3']))).toEqual(['Batch']);
    expect(await resque.limitUsage('class:Batch')).toEqual({ running: 2, parked: 0 });
    await resque.close();
  });

  it('a slot refilled with a job of other limits moves its token; an end with nothing refilled frees it', async () => {
    const { keys, resque, fetcher } = await setup();
    await resque.enqueue(Batch);
    await resque.enqueue(Plain);
    const first = await fetcher.reserve(['s1']);
    expect(classesOf(first)).toEqual(['Batch']);
    await settleAll(first);
    const second = await fetcher.reserve(['s1']);
    expect(classesOf(second)).toEqual(['Plain']);
    expect(await holds(keys)).toEqual({});
    expect(await redis.exists(keys.limitHolds)).toBe(0);
    expect(await redis.scard(keys.limitHolders('class:Batch'))).toBe(0);
    await settleAll(second);
    await fetcher.reserve([]);
    await resque.close();
  });

  it('a limit defined or removed while a job runs: its end frees exactly the tokens it took', async () => {
    const { keys, resque, fetcher } = await setup();
    for (let i = 0; i < 4; i++) await resque.enqueue(Plain);
    // Taken before the queue had a limit: it holds no token, and its end frees none.
    const untracked = await fetcher.reserve(['s1']);
    await resque.limitQueue('q', 1);
    const tracked = await fetcher.reserve(['s2', 's3']);
    expect(classesOf(tracked)).toEqual(['Plain']);
    await settleAll(untracked);
    expect(classesOf(await fetcher.reserve(['s1']))).toEqual([]);
    expect(await resque.limitUsage('queue:q')).toEqual({ running: 1, parked: 2 });

    // Removed while its job runs: the job's end still frees its token.
    await resque.unlimitQueue('q');
    await settleAll(tracked);
    expect(classesOf(await fetcher.reserve(['s2']))).toEqual(['Plain']);
    expect(await redis.scard(keys.limitHolders('queue:q'))).toBe(0);
    expect(await holds(keys)).toEqual({});
    await resque.close();
  });

  it('counts the starts of one call as one group of the rate log, and every start in the window', async () => {
    const { keys, resque, clock, fetcher } = await setup();
    for (let i = 0; i < 6; i++) await resque.enqueue(Paced);
    const log = keys.rateLog('class:Paced');

    const first = await fetcher.reserve(['a', 'b']);
    expect(classesOf(first)).toEqual(['Paced', 'Paced']);
    const groups = await redis.zrangebyscore(log, 0, '+inf', 'WITHSCORES');
    expect(groups).toHaveLength(2);
    expect(groups[0]).toMatch(/^\S+ 2$/);
    expect(groups[1]).toBe(String(T0));
    expect(await redis.zscore(log, 'starts')).toBe('-2');

    // Half a window on, one more fits; the others are parked until the first group leaves the window.
    clock.now = T0 + 500;
    expect(classesOf(await fetcher.reserve(['c', 'd']))).toEqual(['Paced']);
    expect(await resque.rateUsage('class:Paced')).toEqual({ starts: 3, parked: 3 });
    expect(await redis.zscore(keys.rateParkedDue, 'class:Paced')).toBe(String(T0 + 1000));
    expect((await releaseRateParked(redis, keys, T0 + 999)).returned).toBe(0);

    // At T0 + 1000 both starts of the first call leave together: room for two.
    clock.now = T0 + 1000;
    expect((await releaseRateParked(redis, keys, clock.now)).returned).toBe(2);
    expect(classesOf(await fetcher.reserve(['e', 'f', 'g']))).toEqual(['Paced', 'Paced']);
    expect(await redis.zscore(log, 'starts')).toBe('-3');
    expect(await redis.zscore(keys.rateParkedDue, 'class:Paced')).toBe(String(T0 + 1500));
    await resque.close();
  });

  it('reads the starts in a window from the log count less the groups that left it', () => {
    expect(startsInWindow(null, [])).toBe(0);
    expect(startsInWindow('-7', [])).toBe(7);
    expect(startsInWindow('-7', ['0123456789abcdef 4', 'blocked', 'fedcba9876543210'])).toBe(2);
    expect(startsInWindow('-1', ['0123456789abcdef 4'])).toBe(0);
  });
});
