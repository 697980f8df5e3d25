// The promoter lease: of many workers' promoters only the holder wakes at due times, so a delayed job costs the same
// whatever the size of the fleet; when the holder stops (or dies and its lease expires) another takes over.
import { afterAll, describe, expect, it } from 'vitest';
import { defineJob, Keys, Resque } from '../../src/index.js';
import { createLogger } from '../../src/logging/logger.js';
import { Promoter } from '../../src/scheduler/promoter.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';

const Archive = defineJob({
  className: 'Archive',
  queue: 'file_serve',
  perform: async (_ctx, _n: number) => {},
});
const redis = rawRedis();
afterAll(() => redis.disconnect());

/** A promoter with an injected clock (`clock.now`) that counts its passes. */
function promoter(resque: Resque, keys: Keys, id: string, clock: { now: number }, ttlMs = 60_000) {
  let passes = 0;
  const instance = new Promoter({
    redis: resque.redis,
    keys,
    strictPayloads: false,
    logger: createLogger('silent'),
    maxSleepMs: 100,
    now: async () => {
      passes++;
      return clock.now;
    },
    lease: { id, ttlMs },
  });
  return { instance, passes: () => passes };
}

describe('the promoter lease', () => {
  it('lets one promoter of many do the passes, and another take over when it stops', async () => {
    const namespace = uniqueNamespace('lease');
    const keys = new Keys(namespace);
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const clock = { now: Date.now() };
    const fleet = ['a', 'b', 'c', 'd'].map((id) => promoter(resque, keys, id, clock));
    for (const p of fleet) p.instance.start();
    await waitFor(async () => (await redis.get(keys.promoterLease)) !== null, 5000, 'a lease holder');
    await new Promise((resolve) => setTimeout(resolve, 600));
    const holder = (await redis.get(keys.promoterLease))!;
    const byId = new Map(['a', 'b', 'c', 'd'].map((id, i) => [id, fleet[i]!]));
    // Only the holder reads the clock, i.e. runs passes.
    for (const [id, p] of byId) if (id !== holder) expect(p.passes(), id).toBe(0);
    expect(byId.get(holder)!.passes()).toBeGreaterThan(0);

    await resque.enqueueAt(clock.now + 50, Archive, 1);
    clock.now += 1000;
    await waitFor(async () => (await redis.llen(keys.queue('file_serve'))) === 1, 5000, 'the job promoted');

    await byId.get(holder)!.instance.stop();
    await waitFor(
      async () => {
        const next = await redis.get(keys.promoterLease);
        return next !== null && next !== holder;
      },
      5000,
      'another holder',
    );
    await resque.enqueueAt(clock.now + 50, Archive, 2);
    clock.now += 1000;
    await waitFor(
      async () => (await redis.llen(keys.queue('file_serve'))) === 2,
      5000,
      'the second job promoted',
    );
    for (const [id, p] of byId) if (id !== holder) await p.instance.stop();
    await resque.close();
  });

  it('a holder that dies without handing over loses the lease when it expires', async () => {
    const namespace = uniqueNamespace('lease-expiry');
    const keys = new Keys(namespace);
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const clock = { now: Date.now() };
    // What a holder killed with kill -9 leaves: its id on the lease, with the rest of its time to run.
    await redis.set(keys.promoterLease, 'dead-worker', 'PX', 300);
    const survivor = promoter(resque, keys, 'survivor', clock, 60_000);
    survivor.instance.start();
    await waitFor(
      async () => (await redis.get(keys.promoterLease)) === 'survivor',
      5000,
      'the survivor holding it',
    );
    await survivor.instance.stop();
    expect(await redis.exists(keys.promoterLease)).toBe(0);
    await resque.close();
  });
});
